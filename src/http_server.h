/* The embedded HTTP server for operators and Prometheus: GET /metrics (the
 * self-metrics registry, text format 0.0.4), /healthz (200 "ok" while the
 * process runs) and /readyz (200 once the owner says it is ready, else 503
 * with the reason), and POST /feedback when a token file is set
 * (src/feedback_http.h).
 *
 * libmicrohttpd answers from its own thread, one connection at a time;
 * rendering reads the registry's atomics and never waits for the scoring
 * thread. It listens on 127.0.0.1:9464 unless the config says otherwise:
 *   "metrics": {"listen": "127.0.0.1:9464"}   (port 0 = any free port)
 * Built without libmicrohttpd (VIGIL_HAVE_MHD unset), vg_http_start fails
 * with VG_ESTATE saying so. */
#ifndef VG_SRC_HTTP_SERVER_H
#define VG_SRC_HTTP_SERVER_H

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>

#include "core/config_table.h"
#include "core/error.h"
#include "core/metrics.h"

typedef struct vg_http_params {
    char listen[64];  /* "host:port" or "[v6-host]:port"; numeric host or "localhost" */
    char feedback_token_file[1024];  /* "": no POST /feedback (src/feedback_http.h) */
} vg_http_params;

/* Fills prm from the "metrics" object (NULL-able: defaults), checking that
 * "listen" is a numeric address and a port, or fails with err naming the
 * key and its position in the config file. doc is NULL-able. */
/* Prints the reference of the "metrics" keys. */
void vg_http_describe(FILE *out);

int vg_http_configure(const vg_conf_doc *doc, const json_t *obj, vg_http_params *prm,
                      vg_error *err);

typedef struct vg_http_server vg_http_server;

/* Starts serving reg (borrowed: must outlive the server). The server starts
 * not ready ("starting"). Returns a new server, or NULL with err set
 * (VG_EIO when the address cannot be bound). Stop it with vg_http_stop(). */
vg_http_server *vg_http_start(const vg_http_params *prm, const vg_metrics *reg,
                              vg_error *err);

/* The queue of POST /feedback (src/feedback_http.h), NULL when it is off
 * (or srv is NULL): the run loop applies it between batches. */
struct vg_feedback_inbox *vg_http_feedback(vg_http_server *srv);

/* The port actually bound (the one chosen by the system for port 0). */
uint16_t vg_http_port(const vg_http_server *srv);

/* Sets readiness: NULL means ready (/readyz answers 200), otherwise the
 * reason it is not ("partitions not assigned"; copied, cut at 127 bytes)
 * that /readyz answers with 503. Any thread. */
void vg_http_set_ready(vg_http_server *srv, const char *not_ready_reason);

/* Stops listening, waits for the server thread to finish the request in
 * hand, and frees srv. NULL does nothing. */
void vg_http_stop(vg_http_server *srv);

#endif
