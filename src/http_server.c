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
#include "core/vigil_metrics.h"
#include "core/listen_addr.h"
#include "src/feedback_http.h"
#include "src/http_daemon.h"

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

void vg_http_describe(FILE *out)
{
    vg_conf_describe(http_fields, VG_CONF_COUNT(http_fields), "metrics", out);
}

int vg_http_configure(const vg_conf_doc *doc, const json_t *obj, vg_http_params *prm,
                      vg_error *err)
{
    int rc = vg_conf_apply(doc, obj, "metrics", http_fields, VG_CONF_COUNT(http_fields),
                           NULL, prm, err);
    return rc == VG_OK ? vg_listen_check(doc, obj, "metrics", prm->listen, err) : rc;
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
    vg_metric_process_refresh();
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

vg_http_server *vg_http_start(const vg_http_params *prm, const vg_metrics *reg,
                              vg_error *err)
{
    vg_http_server *srv = server_new(reg, err);
    if (srv == NULL)
        return NULL;
    if (prm->feedback_token_file[0] != '\0' &&
        (srv->feedback = vg_feedback_inbox_open(prm->feedback_token_file, err)) == NULL) {
        server_free(srv);
        return NULL;
    }
    vg_http_daemon_opts o = {prm->listen, "/metrics", handle, srv, request_done,
                             CONN_MAX, CONN_PER_IP, CONN_IDLE_S};
    srv->daemon = vg_http_daemon_start(&o, &srv->port, err);
    if (srv->daemon == NULL) {
        server_free(srv);
        return NULL;
    }
    vg_metrics_set(vg_metric_with(VG_M_BUILD_INFO, (const char *const[]){VIGIL_VERSION}), 1);
    vg_info("serving /metrics, /healthz, /readyz on %s (port %u)", prm->listen,
            (unsigned)srv->port);
    return srv;
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
