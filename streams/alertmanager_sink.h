/* The Alertmanager sink's counters, for tests and self-metrics. The sink
 * itself is the ops table vg_alertmanager_sink_ops (type "alertmanager");
 * see alertmanager_sink.c for its config and delivery rules. */
#ifndef VG_STREAMS_ALERTMANAGER_SINK_H
#define VG_STREAMS_ALERTMANAGER_SINK_H

#include <stdint.h>

#include "streams/stream.h"

extern const vg_sink_ops vg_alertmanager_sink_ops;

typedef struct vg_alertmanager_stats {
    uint64_t posted;   /* alerts Alertmanager accepted (2xx), re-posts included */
    uint64_t failed;   /* alerts given up: rejected (4xx), or not encodable */
    uint64_t dropped;  /* alerts discarded unsent: queue full, or still queued at close */
    uint64_t retries;  /* posts repeated after a network error or a 5xx */
} vg_alertmanager_stats;

/* Reads the counters of a sink (the `self` its open returned). Any thread. */
void vg_alertmanager_sink_stats(const void *self, vg_alertmanager_stats *out);

/* Waits until every queued alert is posted (or failed for good) and none
 * is in flight: 0, or VG_ETIMEOUT after timeout_ms. flush() does not wait
 * (see alertmanager_sink.c); tests and tools that need the posts out do. */
int vg_alertmanager_sink_drain(void *self, int timeout_ms);

#endif
