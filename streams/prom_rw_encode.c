/* Remote-write request writer; see prom_rw_encode.h. Field numbers as in
 * prom_rw_wire.h: WriteRequest.timeseries = 1; TimeSeries.labels = 1,
 * .samples = 2; Label.name = 1, .value = 2; Sample.value = 1 (double),
 * .timestamp = 2 (int64 ms). */
#include "streams/prom_rw_encode.h"

#include <snappy-c.h>
#include <stdlib.h>
#include <string.h>

enum { WIRE_VARINT = 0, WIRE_I64 = 1, WIRE_LEN = 2 };

void vg_rw_request_init(vg_rw_request *rq)
{
    memset(rq, 0, sizeof(*rq));
}

void vg_rw_request_reset(vg_rw_request *rq)
{
    rq->len = 0;
    rq->series = 0;
    rq->failed = 0;
}

void vg_rw_request_release(vg_rw_request *rq)
{
    free(rq->buf);
    vg_rw_request_init(rq);
}

static size_t varint_len(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

static void put_varint(vg_rw_request *rq, uint64_t v)
{
    do {
        rq->buf[rq->len++] = (uint8_t)((v & 0x7f) | (v >= 0x80 ? 0x80 : 0));
        v >>= 7;
    } while (v != 0);
}

static void put_tag(vg_rw_request *rq, uint32_t field, int wire)
{
    put_varint(rq, (uint64_t)field << 3 | (uint64_t)wire);
}

static void put_bytes(vg_rw_request *rq, uint32_t field, const void *p, size_t n)
{
    put_tag(rq, field, WIRE_LEN);
    put_varint(rq, n);
    memcpy(rq->buf + rq->len, p, n);
    rq->len += n;
}

static size_t label_len(const vg_label *l)
{
    return 1 + varint_len(l->name_len) + l->name_len + 1 + varint_len(l->value_len) +
           l->value_len;
}

/* Writes one Label message (field 1 of a TimeSeries); returns its size
 * with tag and length. rq NULL only counts. */
static size_t label_put(vg_rw_request *rq, const vg_label *l)
{
    size_t len = label_len(l);
    if (rq != NULL) {
        put_tag(rq, 1, WIRE_LEN);
        put_varint(rq, len);
        put_bytes(rq, 1, l->name, l->name_len);
        put_bytes(rq, 2, l->value, l->value_len);
    }
    return 1 + varint_len(len) + len;
}

static int by_name(const void *a, const void *b)
{
    const vg_label *x = a, *y = b;
    size_t n = x->name_len < y->name_len ? x->name_len : y->name_len;
    int c = memcmp(x->name, y->name, n);
    return c != 0 ? c : (x->name_len > y->name_len) - (x->name_len < y->name_len);
}

static int reserve(vg_rw_request *rq, size_t more)
{
    if (rq->len + more <= rq->cap)
        return 0;
    size_t cap = rq->cap ? rq->cap : 4096;
    while (cap < rq->len + more)
        cap *= 2;
    uint8_t *grown = realloc(rq->buf, cap);
    if (grown == NULL)
        return -1;
    rq->buf = grown;
    rq->cap = cap;
    return 0;
}

void vg_rw_labels_sort(vg_label *labels, size_t n)
{
    qsort(labels, n, sizeof(*labels), by_name);
}

/* The sample message (field 2 of a TimeSeries) and its size. */
static size_t sample_len(int64_t ts_ms)
{
    return 1 + 8 + 1 + varint_len((uint64_t)ts_ms);
}

static void sample_put(vg_rw_request *rq, double value, int64_t ts_ms)
{
    put_tag(rq, 2, WIRE_LEN);
    put_varint(rq, sample_len(ts_ms));
    put_tag(rq, 1, WIRE_I64);
    uint64_t bits;
    memcpy(&bits, &value, sizeof(bits));
    for (int i = 0; i < 8; i++)  /* little-endian, whatever the host */
        rq->buf[rq->len++] = (uint8_t)(bits >> (8 * i));
    put_tag(rq, 2, WIRE_VARINT);
    put_varint(rq, (uint64_t)ts_ms);
    rq->series++;
}

/* Reserves a TimeSeries of `series` bytes and writes its header; 0 when
 * the request is (now) failed. */
static int series_open(vg_rw_request *rq, size_t series)
{
    if (rq->failed || reserve(rq, 1 + varint_len(series) + series) != 0) {
        rq->failed = 1;
        return 0;
    }
    put_tag(rq, 1, WIRE_LEN);
    put_varint(rq, series);
    return 1;
}

void vg_rw_request_add(vg_rw_request *rq, const vg_label *labels, size_t n, double value,
                       int64_t ts_ms)
{
    size_t sample = sample_len(ts_ms);
    size_t series = 1 + varint_len(sample) + sample;
    for (size_t i = 0; i < n; i++)
        series += label_put(NULL, &labels[i]);
    if (!series_open(rq, series))
        return;
    for (size_t i = 0; i < n; i++)
        label_put(rq, &labels[i]);
    sample_put(rq, value, ts_ms);
}

size_t vg_rw_labels_size(const vg_label *labels, size_t n, size_t name_at)
{
    size_t len = 0;
    for (size_t i = 0; i < n; i++)
        len += i == name_at ? 0 : label_put(NULL, &labels[i]);
    return len;
}

vg_rw_encoded vg_rw_labels_encode(uint8_t *out, const vg_label *labels, size_t n,
                                  size_t name_at)
{
    /* A request over the caller's buffer, sized by vg_rw_labels_size. */
    vg_rw_request view = {.buf = out, .cap = vg_rw_labels_size(labels, n, name_at)};
    vg_rw_encoded enc = {out, view.cap, view.cap};
    for (size_t i = 0; i < n; i++) {
        if (i == name_at)
            enc.name_at = view.len;
        else
            label_put(&view, &labels[i]);
    }
    return enc;
}

void vg_rw_request_add_encoded(vg_rw_request *rq, const vg_rw_encoded *enc, const char *name,
                               size_t name_len, double value, int64_t ts_ms)
{
    vg_label metric_name = {"__name__", 8, name, name_len};
    size_t sample = sample_len(ts_ms);
    if (!series_open(rq, enc->len + label_put(NULL, &metric_name) + 1 + varint_len(sample) +
                             sample))
        return;
    if (enc->name_at > 0)  /* memcpy from NULL is undefined, even of 0 bytes */
        memcpy(rq->buf + rq->len, enc->bytes, enc->name_at);
    rq->len += enc->name_at;
    label_put(rq, &metric_name);
    if (enc->len > enc->name_at)
        memcpy(rq->buf + rq->len, enc->bytes + enc->name_at, enc->len - enc->name_at);
    rq->len += enc->len - enc->name_at;
    sample_put(rq, value, ts_ms);
}

char *vg_rw_request_compress(const vg_rw_request *rq, size_t *len)
{
    if (rq->failed)
        return NULL;
    size_t cap = snappy_max_compressed_length(rq->len);
    char *out = malloc(cap > 0 ? cap : 1);
    if (out == NULL)
        return NULL;
    *len = cap;
    if (snappy_compress((const char *)rq->buf, rq->len, out, len) != SNAPPY_OK) {
        free(out);
        return NULL;
    }
    return out;
}
