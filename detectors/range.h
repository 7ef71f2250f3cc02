/* The range a series has shown over one timescale measured in time, not in
 * points: the minimum and maximum of the last `n` completed buckets of
 * `bucket_ms` each, plus the bucket in progress (a sliding window of
 * n to n + 1 buckets). A few of these at hour, day and month scales give a
 * detector a long memory in fixed bytes whatever the sampling rate: a
 * 28-day range costs the same at 1-second and at 1-hour steps.
 *
 * Buckets are numbered floor(ts / bucket_ms) from the epoch, so the same
 * points always land in the same buckets (replay stays deterministic). A
 * point older than the bucket in progress is folded into it: late points
 * never reopen history. A gap longer than the window empties it.
 *
 * Extremes are floats relative to a double anchor (the first value pushed),
 * rounded outwards: half the bytes of doubles, and the error is relative
 * to the distance from the anchor, not to the magnitude, so a series at
 * 1e9 +- 1 keeps a width of 2 (floats of the raw values would be 64 apart).
 * Cost: O(1) per push and read, O(n) when a bucket closes. */
#ifndef VG_DETECTORS_RANGE_H
#define VG_DETECTORS_RANGE_H

#include <stdint.h>

#include "core/codec.h"
#include "core/error.h"

#define VG_RANGE_MAX_BUCKETS 28
#define VG_RANGE_DAY_MS      86400000   /* 28 buckets of a day: a 4-week memory */

/* Narrow fields where the values allow (bucket_ms at most a day, n and
 * head at most 28): three ranges sit in every series' block. */
typedef struct vg_range {
    int64_t  current;   /* number of the bucket in progress; INT64_MIN: none yet */
    double   anchor;    /* extremes are kept as float offsets from it */
    uint32_t bucket_ms; /* <= UINT32_MAX (vg_range_init checks) */
    uint16_t n;         /* completed buckets kept, <= VG_RANGE_MAX_BUCKETS */
    uint16_t head;      /* slot of the bucket in progress in lo/hi */
    /* What every point reads and writes, on one cache line with the
     * above: the completed buckets' extremes and the bucket in progress
     * (written to its slot when it closes). */
    float    done_lo, done_hi;
    float    now_lo, now_hi;
    float    lo[VG_RANGE_MAX_BUCKETS + 1];
    float    hi[VG_RANGE_MAX_BUCKETS + 1];   /* +inf / -inf: empty bucket */
} vg_range;

/* Makes r an empty range of n (1..VG_RANGE_MAX_BUCKETS) buckets of
 * bucket_ms (1..UINT32_MAX) each. */
void vg_range_init(vg_range *r, int64_t bucket_ms, uint32_t n);

/* Adds finite x at ts_ms. */
void vg_range_push(vg_range *r, int64_t ts_ms, double x);

/* The minimum and maximum over the window; 0 (and lo, hi untouched) when
 * it holds no point yet, else 1. */
int vg_range_get(const vg_range *r, double *lo, double *hi);

/* Buckets of the window that hold points (the one in progress included):
 * how much history the range rests on. */
uint32_t vg_range_filled(const vg_range *r);

/* Saves r exactly; load reads it into a range init()'ed with the same
 * bucket_ms and n and returns 0, or VG_EPARSE (err set) when the input is
 * truncated or does not fit. */
int vg_range_save(const vg_range *r, vg_writer *out);
int vg_range_load(vg_range *r, vg_reader *in, vg_error *err);

#endif
