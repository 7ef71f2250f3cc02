/* The HTTP half of the Prometheus remote-write receiver: POST /api/v1/write
 * on remote_write.listen, each body handed to the forwarding half
 * (streams/remote_write_source.h), which decides the status. Its own
 * libmicrohttpd daemon, so that a request waiting for Kafka never delays a
 * /metrics scrape or a probe. */
#ifndef VG_SRC_REMOTE_WRITE_HTTP_H
#define VG_SRC_REMOTE_WRITE_HTTP_H

#include <stdint.h>

#include "core/error.h"
#include "streams/remote_write_source.h"

typedef struct vg_rw_http vg_rw_http;

/* Starts serving rx (borrowed: must outlive the server). Returns a new
 * server or NULL with err set (VG_EIO when the address cannot be bound,
 * VG_ESTATE when built without libmicrohttpd). */
vg_rw_http *vg_rw_http_start(vg_rw_receiver *rx, vg_error *err);

/* The port bound (the system's choice for port 0). */
uint16_t vg_rw_http_port(const vg_rw_http *srv);

/* Stops listening, finishes the request in hand, frees; NULL does nothing. */
void vg_rw_http_stop(vg_rw_http *srv);

#endif
