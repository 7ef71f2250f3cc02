/* The Prometheus remote-write receiver's forwarding half: a request body
 * (remote-write 1.0, snappy-compressed WriteRequest) is split into one
 * request per series (streams/prom_rw_split.h) and produced to a Kafka topic
 * keyed by series, so a group of `vigil run` members shares the series and
 * each keeps a series' whole state. The topic is read like any other, with
 * "format": "prometheus-remote-write".
 *
 * The answer is the remote-write protocol's: 204 once every piece of the
 * request is acknowledged by Kafka (durable: the scoring consumer commits
 * its offsets only after the events they cause are durable), 400 for a
 * body that is not a remote-write request (Prometheus drops it), 413 for
 * one over max_bytes, 503 when Kafka did not acknowledge in time (Prometheus
 * retries with backoff; a retried request may be produced twice, never
 * lost). The HTTP side is src/remote_write_http.c.
 *
 * Config (the "remote_write" object of vigil.json; absent: no receiver):
 *   {"listen": "127.0.0.1:9201", "brokers": "127.0.0.1:9092" | "embedded",
 *    "topic": "prometheus", "max_bytes": 8388608, "timeout_ms": 10000,
 *    "kafka": {librdkafka producer properties}}
 *
 * Threads: one at a time (the HTTP server's thread). */
#ifndef VG_STREAMS_REMOTE_WRITE_SOURCE_H
#define VG_STREAMS_REMOTE_WRITE_SOURCE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config_table.h"
#include "core/error.h"
#include "streams/stream.h"

typedef struct vg_rw_params {
    char          listen[64];
    char          brokers[512];
    char          topic[256];
    int64_t       max_bytes;
    int64_t       timeout_ms;
    const json_t *kafka;  /* borrowed from the config: read while opening only */
} vg_rw_params;

typedef struct vg_rw_receiver vg_rw_receiver;

/* Returns a new receiver for cfg (the "remote_write" object), its producer
 * connected to brokers ("embedded": the broker running in this process), or
 * NULL with err naming the key. */
vg_rw_receiver *vg_rw_receiver_new(const vg_conf_doc *doc, const json_t *cfg, vg_error *err);
/* Flushes (bounded) and frees; NULL does nothing. */
void vg_rw_receiver_free(vg_rw_receiver *rx);

const vg_rw_params *vg_rw_receiver_params(const vg_rw_receiver *rx);

/* Forwards one request body. Returns the HTTP status to answer (204, 400,
 * 413, 503) and, unless 204, why into why[cap]. */
int vg_rw_receiver_accept(vg_rw_receiver *rx, const void *body, size_t len, char *why,
                          size_t cap);

/* The receiver in the source registry: its config table and check. */
extern const vg_source_ops vg_rw_source_ops;

#endif
