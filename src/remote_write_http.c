/* POST /api/v1/write over libmicrohttpd; see remote_write_http.h.
 *
 * One internal polling thread: requests are forwarded one at a time, which
 * is what the forwarding half expects, and Prometheus sends a shard's next
 * request only after the answer to its last one anyway. A body is collected
 * up to max_bytes (beyond, the rest is read and dropped, and the answer is
 * 413) and handed over once complete. */
#include "src/remote_write_http.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/http_daemon.h"
#include "core/log.h"

#ifdef VIGIL_HAVE_MHD
#include <microhttpd.h>

#define WRITE_PATH  "/api/v1/write"
#define CONN_MAX    256u
#define CONN_IDLE_S 30u

struct vg_rw_http {
    vg_rw_receiver    *rx;
    struct MHD_Daemon *daemon;
    uint16_t           port;
};

/* A request's body as it arrives. */
typedef struct upload {
    char  *buf;
    size_t len, cap;
    int    too_large;
} upload;

static enum MHD_Result answer(struct MHD_Connection *conn, unsigned status, const char *text)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(text), (void *)text,
                                                             MHD_RESPMEM_MUST_COPY);
    if (r == NULL)
        return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
    enum MHD_Result rc = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return rc;
}

static void append(upload *up, const char *data, size_t n, size_t max)
{
    if (up->too_large || up->len + n > max) {
        up->too_large = 1;
        return;
    }
    if (up->len + n > up->cap) {
        size_t cap = up->cap ? up->cap : 65536;
        while (cap < up->len + n)
            cap *= 2;
        char *grown = realloc(up->buf, cap);
        if (grown == NULL) {
            up->too_large = 1;  /* answered 413: the sender splits or drops it */
            return;
        }
        up->buf = grown;
        up->cap = cap;
    }
    memcpy(up->buf + up->len, data, n);
    up->len += n;
}

static enum MHD_Result forward(vg_rw_http *srv, struct MHD_Connection *conn, upload *up)
{
    char why[256], text[300];
    int status = up->too_large ? 413
                               : vg_rw_receiver_accept(srv->rx, up->buf ? up->buf : "", up->len,
                                                       why, sizeof(why));
    if (up->too_large)
        snprintf(why, sizeof(why), "request body over remote_write.max_bytes");
    snprintf(text, sizeof(text), "%s\n", status == 204 ? "" : why);
    return answer(conn, (unsigned)status, status == 204 ? "" : text);
}

/* MHD calls this when the headers are in, with each piece of the body,
 * then once more with none: the answer goes out on that last call. */
static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
                              const char *method, const char *version,
                              const char *upload_data, size_t *upload_size, void **req_cls)
{
    vg_rw_http *srv = cls;
    (void)version;
    if (*req_cls == NULL) {
        upload *up = calloc(1, sizeof(*up));
        if (up == NULL)
            return MHD_NO;
        *req_cls = up;
        return MHD_YES;
    }
    upload *up = *req_cls;
    if (*upload_size != 0) {
        append(up, upload_data, *upload_size,
               (size_t)vg_rw_receiver_params(srv->rx)->max_bytes);
        *upload_size = 0;
        return MHD_YES;
    }
    if (strcmp(url, WRITE_PATH) != 0)
        return answer(conn, MHD_HTTP_NOT_FOUND, "not found: POST " WRITE_PATH "\n");
    if (strcmp(method, MHD_HTTP_METHOD_POST) != 0)
        return answer(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed: POST\n");
    return forward(srv, conn, up);
}

static void completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                      enum MHD_RequestTerminationCode why)
{
    (void)cls;
    (void)conn;
    (void)why;
    upload *up = *req_cls;
    if (up != NULL)
        free(up->buf);
    free(up);
    *req_cls = NULL;
}

vg_rw_http *vg_rw_http_start(vg_rw_receiver *rx, vg_error *err)
{
    const char *listen = vg_rw_receiver_params(rx)->listen;
    vg_rw_http *srv = calloc(1, sizeof(*srv));
    if (srv == NULL) {
        vg_error_set(err, VG_ENOMEM, "remote-write receiver");
        return NULL;
    }
    srv->rx = rx;
    vg_http_daemon_opts o = {listen, "remote-write", handle, srv, completed, CONN_MAX, 0,
                             CONN_IDLE_S};
    srv->daemon = vg_http_daemon_start(&o, &srv->port, err);
    if (srv->daemon == NULL) {
        free(srv);
        return NULL;
    }
    vg_info("serving POST %s on %s (port %u), to topic %s", WRITE_PATH, listen,
            (unsigned)srv->port, vg_rw_receiver_params(rx)->topic);
    return srv;
}

void vg_rw_http_stop(vg_rw_http *srv)
{
    if (srv == NULL)
        return;
    if (srv->daemon != NULL)
        MHD_stop_daemon(srv->daemon);
    free(srv);
}

uint16_t vg_rw_http_port(const vg_rw_http *srv)
{
    return srv->port;
}

#else /* no libmicrohttpd */

vg_rw_http *vg_rw_http_start(vg_rw_receiver *rx, vg_error *err)
{
    (void)rx;
    vg_error_set(err, VG_ESTATE, "vigil was built without libmicrohttpd: no remote-write");
    return NULL;
}

void vg_rw_http_stop(vg_rw_http *srv)
{
    (void)srv;  /* vg_rw_http_start never made one */
}

uint16_t vg_rw_http_port(const vg_rw_http *srv)
{
    (void)srv;
    return 0;
}

#endif
