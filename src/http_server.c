/* /metrics, /healthz and /readyz over libmicrohttpd; see http_server.h.
 *
 * One internal polling thread serves every connection: a scrape is a few
 * kilobytes rendered from atomics, so there is nothing to gain from more.
 * The connection timeout only counts idle time, so a client that trickles
 * a byte now and then keeps its connection: what keeps slow clients from
 * locking the scraper and the probes out is the limits. CONN_MAX in all
 * (cheap under epoll), at most CONN_PER_IP from one address (a trickling
 * client holds at most half), closed after CONN_IDLE_S silent seconds. Readiness is a flag plus a reason under a mutex that is
 * held only to copy the reason. */
#include "src/http_server.h"

#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/log.h"
#include "src/feedback_http.h"

#ifdef VIGIL_HAVE_MHD
#include <microhttpd.h>
#endif

#define CONN_MAX 128u
#define CONN_PER_IP 64u
#define CONN_IDLE_S 5u

static const vg_conf_field http_fields[] = {
    {"listen", VG_CONF_STRING, offsetof(vg_http_params, listen), 0, 0,
     sizeof(((vg_http_params *)0)->listen), "127.0.0.1:9464",
     "address and port of /metrics, /healthz, /readyz; port 0 picks a free one"},
    {"feedback_token_file", VG_CONF_STRING, offsetof(vg_http_params, feedback_token_file), 0, 0,
     sizeof(((vg_http_params *)0)->feedback_token_file), "",
     "file holding the bearer token of POST /feedback; empty: no /feedback"},
};

/* A resolved listen address. */
typedef struct listen_addr {
    struct sockaddr_storage ss;
    socklen_t               len;
} listen_addr;

/* Splits "host:port" or "[host]:port" and resolves it without any lookup
 * beyond the text itself ("localhost" is 127.0.0.1). Returns NULL or why not. */
static const char *parse_listen(const char *text, listen_addr *out)
{
    char host[64];
    const char *colon = strrchr(text, ':');
    if (colon == NULL)
        return "must be host:port";
    size_t hlen = (size_t)(colon - text);
    const char *h = text;
    if (hlen >= 2 && text[0] == '[' && text[hlen - 1] == ']') {
        h++;
        hlen -= 2;
    }
    if (hlen == 0 || hlen >= sizeof(host))
        return "needs a host before the port (0.0.0.0 for every interface)";
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    const char *port = colon + 1;
    if (*port == '\0' || strlen(port) > 5 || strspn(port, "0123456789") != strlen(port) ||
        atoi(port) > 65535)
        return "port must be a number from 0 to 65535";
    if (strcmp(host, "localhost") == 0)
        snprintf(host, sizeof(host), "127.0.0.1");

    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
    if (getaddrinfo(host, port, &hints, &res) != 0 || res == NULL)
        return "host must be a numeric IPv4 or IPv6 address or localhost";
    memcpy(&out->ss, res->ai_addr, res->ai_addrlen);
    out->len = res->ai_addrlen;
    freeaddrinfo(res);
    return NULL;
}

void vg_http_describe(FILE *out)
{
    vg_conf_describe(http_fields, VG_CONF_COUNT(http_fields), "metrics", out);
}

int vg_http_configure(const vg_conf_doc *doc, const json_t *obj, vg_http_params *prm,
                      vg_error *err)
{
    int rc = vg_conf_apply(doc, obj, "metrics", http_fields, VG_CONF_COUNT(http_fields),
                           NULL, prm, err);
    if (rc != VG_OK)
        return rc;
    listen_addr a;
    const char *why = parse_listen(prm->listen, &a);
    if (why == NULL)
        return VG_OK;
    char where[64];
    vg_conf_where(doc, obj, "listen", 0, where, sizeof(where));
    return vg_error_set_at(err, VG_ECONFIG, where, "metrics.listen: \"%s\" %s",
                           prm->listen, why);
}

struct vg_http_server {
    const vg_metrics  *reg;
    pthread_mutex_t    lock;         /* ready and reason */
    int                ready;
    char               reason[128];
    uint16_t           port;
    vg_feedback_inbox *feedback;     /* NULL: no /feedback */
#ifdef VIGIL_HAVE_MHD
    struct MHD_Daemon *daemon;
#endif
};

uint16_t vg_http_port(const vg_http_server *srv)
{
    return srv->port;
}

vg_feedback_inbox *vg_http_feedback(vg_http_server *srv)
{
    return srv != NULL ? srv->feedback : NULL;
}

void vg_http_set_ready(vg_http_server *srv, const char *not_ready_reason)
{
    pthread_mutex_lock(&srv->lock);
    srv->ready = not_ready_reason == NULL;
    snprintf(srv->reason, sizeof(srv->reason), "%s",
             not_ready_reason != NULL ? not_ready_reason : "");
    pthread_mutex_unlock(&srv->lock);
}

#ifdef VIGIL_HAVE_MHD

/* Copies the readiness into reason (empty when ready); returns ready. */
static int get_ready(vg_http_server *srv, char *reason, size_t cap)
{
    pthread_mutex_lock(&srv->lock);
    int ready = srv->ready;
    snprintf(reason, cap, "%s", srv->reason);
    pthread_mutex_unlock(&srv->lock);
    return ready;
}

static vg_http_server *server_new(const vg_metrics *reg, vg_error *err)
{
    vg_http_server *srv = calloc(1, sizeof(*srv));
    if (srv == NULL)
        goto out_nomem;
    if (pthread_mutex_init(&srv->lock, NULL) != 0)
        goto out_free_srv;
    srv->reg = reg;
    vg_http_set_ready(srv, "starting");
    return srv;

out_free_srv:
    free(srv);
out_nomem:
    vg_error_set(err, VG_ENOMEM, "http server");
    return NULL;
}

static void server_free(vg_http_server *srv)
{
    vg_feedback_inbox_free(srv->feedback);
    pthread_mutex_destroy(&srv->lock);
    free(srv);
}

/* A response with a copied text body. */
static enum MHD_Result reply_text(struct MHD_Connection *conn, unsigned status,
                                  const char *body)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), (void *)body,
                                                             MHD_RESPMEM_MUST_COPY);
    if (r == NULL)
        return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
    if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
    if (status == MHD_HTTP_UNAUTHORIZED)
        MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
    enum MHD_Result rc = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return rc;
}

static enum MHD_Result reply_metrics(vg_http_server *srv, struct MHD_Connection *conn)
{
    vg_error err = {0};
    size_t len = 0;
    char *text = vg_metrics_render(srv->reg, &len, &err);
    if (text == NULL)
        return reply_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot render metrics\n");
    struct MHD_Response *r = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
    if (r == NULL) {
        free(text);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                            "text/plain; version=0.0.4; charset=utf-8");
    enum MHD_Result rc = MHD_queue_response(conn, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return rc;
}

static enum MHD_Result reply_ready(vg_http_server *srv, struct MHD_Connection *conn)
{
    char reason[128], body[160];
    if (get_ready(srv, reason, sizeof(reason)))
        return reply_text(conn, MHD_HTTP_OK, "ready\n");
    snprintf(body, sizeof(body), "not ready: %s\n", reason);
    return reply_text(conn, MHD_HTTP_SERVICE_UNAVAILABLE, body);
}

/* The request context of every request but a POST /feedback. */
static int plain_request;

/* The body of a POST /feedback, gathered over MHD's calls. */
typedef struct post_body {
    char   buf[VG_FEEDBACK_BODY_MAX];
    size_t len;
    int    too_big;
} post_body;

static int is_feedback(vg_http_server *srv, const char *url, const char *method)
{
    return srv->feedback != NULL && strcmp(url, "/feedback") == 0 &&
           strcmp(method, MHD_HTTP_METHOD_POST) == 0;
}

static enum MHD_Result reply_feedback(vg_http_server *srv, struct MHD_Connection *conn,
                                      const post_body *body)
{
    char text[256];
    if (body->too_big)
        return reply_text(conn, MHD_HTTP_CONTENT_TOO_LARGE, "body too large\n");
    const char *auth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                   MHD_HTTP_HEADER_AUTHORIZATION);
    unsigned status = vg_feedback_inbox_post(srv->feedback, auth, body->buf, body->len, text,
                                             sizeof(text));
    return reply_text(conn, status, text);
}

/* MHD calls this first when the headers are in (we note the request: a
 * POST /feedback gets a body buffer), then with any body, then once more
 * with none: we answer on that last call. */
static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
                              const char *method, const char *version,
                              const char *upload_data, size_t *upload_size, void **req_cls)
{
    vg_http_server *srv = cls;
    (void)version;
    if (*req_cls == NULL) {
        *req_cls = is_feedback(srv, url, method) ? calloc(1, sizeof(post_body))
                                                 : &plain_request;
        return *req_cls != NULL ? MHD_YES : MHD_NO;
    }
    post_body *body = *req_cls != &plain_request ? *req_cls : NULL;
    if (*upload_size != 0) {  /* a body: kept for /feedback, ignored elsewhere */
        if (body != NULL && body->len + *upload_size <= sizeof(body->buf)) {
            memcpy(body->buf + body->len, upload_data, *upload_size);
            body->len += *upload_size;
        } else if (body != NULL) {
            body->too_big = 1;
        }
        *upload_size = 0;
        return MHD_YES;
    }
    if (body != NULL)
        return reply_feedback(srv, conn, body);
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
        return reply_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n");
    if (strcmp(url, "/metrics") == 0)
        return reply_metrics(srv, conn);
    if (strcmp(url, "/healthz") == 0)
        return reply_text(conn, MHD_HTTP_OK, "ok\n");
    if (strcmp(url, "/readyz") == 0)
        return reply_ready(srv, conn);
    return reply_text(conn, MHD_HTTP_NOT_FOUND, "not found: try /metrics, /healthz, /readyz\n");
}

/* Frees a POST /feedback's body buffer when its request ends. */
static void request_done(void *cls, struct MHD_Connection *conn, void **req_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    (void)toe;
    if (*req_cls != NULL && *req_cls != &plain_request)
        free(*req_cls);
    *req_cls = NULL;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    char line[256];
    (void)cls;
    vsnprintf(line, sizeof(line), fmt, ap);
    line[strcspn(line, "\n")] = '\0';
    vg_warn("http: %s", line);
}

vg_http_server *vg_http_start(const vg_http_params *prm, const vg_metrics *reg,
                              vg_error *err)
{
    listen_addr a;
    const char *why = parse_listen(prm->listen, &a);
    if (why != NULL) {
        vg_error_set_at(err, VG_ECONFIG, "metrics.listen", "\"%s\" %s", prm->listen, why);
        return NULL;
    }
    vg_http_server *srv = server_new(reg, err);
    if (srv == NULL)
        return NULL;
    if (prm->feedback_token_file[0] != '\0' &&
        (srv->feedback = vg_feedback_inbox_open(prm->feedback_token_file, err)) == NULL)
        goto out_free_srv;
    unsigned flags = MHD_USE_AUTO | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
    if (a.ss.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    errno = 0;
    srv->daemon = MHD_start_daemon(flags, 0, NULL, NULL, handle, srv,
                                   MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,  /* first */
                                   MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&a.ss,
                                   MHD_OPTION_CONNECTION_LIMIT, CONN_MAX,
                                   MHD_OPTION_PER_IP_CONNECTION_LIMIT, CONN_PER_IP,
                                   MHD_OPTION_CONNECTION_TIMEOUT, CONN_IDLE_S,
                                   MHD_OPTION_NOTIFY_COMPLETED, request_done, NULL,
                                   MHD_OPTION_END);
    if (srv->daemon == NULL) {
        vg_error_set_at(err, VG_EIO, prm->listen, "cannot serve /metrics here: %s",
                        errno != 0 ? strerror(errno) : "libmicrohttpd refused");
        goto out_free_srv;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(srv->daemon,
                                                           MHD_DAEMON_INFO_BIND_PORT);
    if (info == NULL || info->port == 0) {
        vg_error_set_at(err, VG_EIO, prm->listen, "cannot tell which port was bound");
        goto out_stop_daemon;
    }
    srv->port = info->port;
    vg_info("serving /metrics, /healthz, /readyz on %s (port %u)", prm->listen,
            (unsigned)srv->port);
    return srv;

out_stop_daemon:
    MHD_stop_daemon(srv->daemon);
out_free_srv:
    server_free(srv);
    return NULL;
}

void vg_http_stop(vg_http_server *srv)
{
    if (srv == NULL)
        return;
    MHD_stop_daemon(srv->daemon);
    server_free(srv);
}

#else /* no libmicrohttpd */

vg_http_server *vg_http_start(const vg_http_params *prm, const vg_metrics *reg,
                              vg_error *err)
{
    (void)prm;
    (void)reg;
    vg_error_set(err, VG_ESTATE, "vigil was built without libmicrohttpd: no /metrics");
    return NULL;
}

void vg_http_stop(vg_http_server *srv)
{
    (void)srv;  /* vg_http_start never made one */
}

#endif
