/* Per-series counter -> per-second rate conversion.
 *
 * collectd can send DERIVE and COUNTER values as raw counters (StoreRates
 * false, and always in its Command format); detectors want rates. This keeps
 * the previous (time, counter) of each series in a fixed-capacity table keyed
 * by the series key hash, so memory is bounded whatever the input: when the
 * probe window of a hash is full, the least recently updated entry is
 * replaced (that series then restarts as if new).
 *
 * Rules: the first sample of a series gives no rate; a counter that goes
 * down (reset, restart, wrap) restarts the series from the new value and
 * gives no rate, so no negative rate is ever emitted; a sample not newer
 * than the previous one is ignored. Not thread-safe (one per parser). */
#ifndef VG_STREAMS_COUNTER_RATE_H
#define VG_STREAMS_COUNTER_RATE_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

typedef struct vg_counter_rate vg_counter_rate;

/* Returns a new table holding up to `cap` series (rounded up to a power of
 * two, at least 16), or NULL with err set. Free with vg_counter_rate_free(). */
vg_counter_rate *vg_counter_rate_new(size_t cap, vg_error *err);
void vg_counter_rate_free(vg_counter_rate *cr);

/* Records counter value v of series `key_hash` at time t_s (seconds).
 * Returns 1 and sets *rate (>= 0, per second) when the previous sample of
 * the series allows it, 0 when no rate can be given (first sample, reset,
 * not newer, or v not finite). */
int vg_counter_rate_update(vg_counter_rate *cr, uint64_t key_hash, double t_s, double v,
                           double *rate);

/* Number of series currently tracked (for tests and self-metrics). */
size_t vg_counter_rate_count(const vg_counter_rate *cr);

#endif
