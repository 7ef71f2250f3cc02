/* The labels the remote-write output writes a scored series with, and a
 * bounded cache of their encoding per series key: a point's five samples
 * (and every later point of the series) reuse the bytes instead of
 * splitting the key and encoding its labels again.
 *
 * Bound: two generations of at most max_series entries each. Lookups fill
 * the current generation (an entry found in the previous one is copied
 * forward); when it is full the previous one is freed and the current one
 * becomes previous. So a working set of up to max_series series always
 * hits, and memory never exceeds 2 x max_series entries of (key +
 * encoded labels + 48 bytes) plus 4 to 8 x max_series slot pointers, whatever
 * the number of series. One thread only (the output's encoder). */
#ifndef VG_STREAMS_RW_LABEL_CACHE_H
#define VG_STREAMS_RW_LABEL_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "core/series_key.h"
#include "streams/prom_rw_encode.h"

#define VG_RW_SCORE_LABELS (VG_MAX_LABELS + 2)

/* The labels of series `key` as written: its own (an input label called
 * `metric` left out), metric="<name>" and __name__ (empty value, set per
 * sample), sorted by name; *name_at is the index of __name__. Views point
 * into key and scratch[scratch_cap]. Returns the count, -1 when the key
 * does not split. */
int vg_rw_score_labels(const char *key, size_t key_len, vg_label *labels, char *scratch,
                       size_t scratch_cap, size_t *name_at);

typedef struct vg_rw_label_cache vg_rw_label_cache;

/* A cache of max_series entries per generation (>= 1); NULL when out of
 * memory. */
vg_rw_label_cache *vg_rw_label_cache_new(size_t max_series);
void               vg_rw_label_cache_free(vg_rw_label_cache *c);

/* The encoded labels of series `key` (without __name__, see
 * vg_rw_request_add_encoded), cached or encoded now; valid until the next
 * call. NULL when the key does not split or out of memory. */
const vg_rw_encoded *vg_rw_label_cache_get(vg_rw_label_cache *c, const char *key,
                                           size_t key_len);

/* Appends a scored point's samples to rq: for each k < n with v[k] not
 * NaN, one TimeSeries of the series' labels (vg_rw_score_labels) with
 * __name__=names[k], value v[k] at ts_ms. Labels come from the cache c, or
 * are split and encoded for every sample when c is NULL (or the cache is
 * out of memory): the same bytes either way. A key that does not split
 * adds nothing (keys come from the parsers: always canonical). */
void vg_rw_score_encode(vg_rw_request *rq, vg_rw_label_cache *c, const char *key,
                        size_t key_len, const char *const *names, const double *v, size_t n,
                        int64_t ts_ms);

#endif
