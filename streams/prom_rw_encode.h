/* Writing Prometheus remote-write 1.0 requests (the scores output): a
 * WriteRequest built one single-sample TimeSeries at a time, then
 * snappy-compressed (block format), as Prometheus' receiver and
 * VictoriaMetrics' /api/v1/write read it. */
#ifndef VG_STREAMS_PROM_RW_ENCODE_H
#define VG_STREAMS_PROM_RW_ENCODE_H

#include <stddef.h>
#include <stdint.h>

#include "core/series_key.h"

typedef struct vg_rw_request {
    uint8_t *buf;
    size_t   len, cap;
    size_t   series;
    int      failed;  /* out of memory: the request is unusable */
} vg_rw_request;

void vg_rw_request_init(vg_rw_request *rq);
void vg_rw_request_reset(vg_rw_request *rq);
void vg_rw_request_release(vg_rw_request *rq);

/* Sorts labels[n] by name, as the protocol requires of a TimeSeries. */
void vg_rw_labels_sort(vg_label *labels, size_t n);

/* Appends TimeSeries {labels, one sample}: labels[n] (sorted by name, see
 * vg_rw_labels_sort; `__name__` among them), value at ts_ms. */
void vg_rw_request_add(vg_rw_request *rq, const vg_label *labels, size_t n, double value,
                       int64_t ts_ms);

/* A series' labels encoded once (Label messages, in order) with the place
 * where its `__name__` label goes, so that the samples of several metric
 * names share them: see vg_rw_request_add_encoded. */
typedef struct vg_rw_encoded {
    const uint8_t *bytes;
    size_t         len;
    size_t         name_at;  /* offset in bytes of the __name__ label */
} vg_rw_encoded;

/* Bytes of labels[n] encoded without labels[name_at] (the `__name__` one;
 * name_at >= n: none, the name goes last). */
size_t vg_rw_labels_size(const vg_label *labels, size_t n, size_t name_at);

/* Encodes them into out[vg_rw_labels_size(...)]; the result points there. */
vg_rw_encoded vg_rw_labels_encode(uint8_t *out, const vg_label *labels, size_t n,
                                  size_t name_at);

/* The same bytes as vg_rw_request_add with the encoded labels and
 * __name__=name[name_len] in its place. */
void vg_rw_request_add_encoded(vg_rw_request *rq, const vg_rw_encoded *enc, const char *name,
                               size_t name_len, double value, int64_t ts_ms);

/* The request snappy-compressed into a new buffer (*len its size; free it),
 * or NULL when out of memory. */
char *vg_rw_request_compress(const vg_rw_request *rq, size_t *len);

#endif
