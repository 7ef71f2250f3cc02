/* The synthetic metrics of `vigil demo`: a fleet of hosts whose CPU,
 * latency, request and error rates follow a daily cycle with noise, with a
 * few anomalies injected at known points (a spike, a level shift, a slow
 * drift, an error burst), produced as JSON messages to a Kafka topic by a
 * background thread. Seeded: every run produces the same stream. */
#ifndef VG_STREAMS_DEMO_PRODUCER_H
#define VG_STREAMS_DEMO_PRODUCER_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

/* One injected anomaly, for the end-of-demo report. */
typedef struct vg_demo_anomaly {
    const char *series;    /* canonical key */
    const char *kind;      /* "spike", "level shift", ... */
    int64_t     start_ms;  /* first anomalous point */
    int64_t     end_ms;    /* last anomalous point (drifts never end) */
} vg_demo_anomaly;

typedef struct vg_demo_producer vg_demo_producer;

/* Starts producing `steps` points per series (5 minutes apart, ending now)
 * to `topic` on the embedded broker, once that broker runs, paced over about
 * `seconds`. Returns a new producer (free with vg_demo_producer_stop), or
 * NULL with err set. */
vg_demo_producer *vg_demo_producer_start(const char *topic, int steps, double seconds,
                                         vg_error *err);

/* 1 once every message has been acknowledged by the broker. */
int vg_demo_producer_done(const vg_demo_producer *dp);
uint64_t vg_demo_producer_sent(const vg_demo_producer *dp);
size_t vg_demo_series_count(void);

/* The injected anomalies (borrowed, static). */
const vg_demo_anomaly *vg_demo_anomalies(size_t *n);

/* Joins the thread and frees; NULL does nothing. */
void vg_demo_producer_stop(vg_demo_producer *dp);

#endif
