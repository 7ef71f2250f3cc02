/* Prometheus remote-write 1.0 -> points: a snappy-compressed (block format)
 * WriteRequest, as Prometheus POSTs it and as remote-write-to-Kafka bridges
 * forward it. Decoded with the wire reader of protowire.h:
 *
 *   WriteRequest { repeated TimeSeries timeseries = 1; metadata = 3 (skipped) }
 *   TimeSeries   { repeated Label labels = 1; repeated Sample samples = 2; }
 *   Label        { string name = 1; string value = 2; }
 *   Sample       { double value = 1; int64 timestamp = 2; }   (ms)
 *
 * `__name__` names the series, the other labels are its labels. Remote-write
 * 1.0 carries no type with the samples (metadata comes in other requests,
 * if at all), so the type is read from the name by Prometheus' conventions:
 * `_total`, `_count` and `_sum` are cumulative counters and become
 * per-second rates (parse_model.h; for a histogram or summary, _count is
 * its observations per second; no mean, as _sum and _count of one family
 * may travel in different requests), `_bucket` series are not emitted, and
 * everything else is a gauge taken as it is. NaN samples (staleness
 * markers) are skipped. A malformed series is reported and the series
 * decoded before it are kept; a message that is not snappy is an error. */
#include <math.h>
#include <snappy-c.h>
#include <stdlib.h>
#include <string.h>

#include "streams/parse_model.h"
#include "streams/protowire.h"

/* Largest uncompressed request, as a multiple of max_bytes (remote-write
 * requests compress about 5-10x). */
#define EXPANSION 16

typedef struct series {
    const char *name;
    size_t      name_len;
    vg_label    labels[VG_MAX_LABELS];
    size_t      n;
} series;

static int malformed(vg_parser *ps, const char *what)
{
    return vg__parse_fail(ps, "protobuf", SIZE_MAX, "malformed %s", what);
}

static int has_suffix(const series *s, const char *suffix)
{
    size_t n = strlen(suffix);
    return s->name_len > n && memcmp(s->name + s->name_len - n, suffix, n) == 0;
}

/* Label { string name = 1; string value = 2; } */
static int label(vg_parser *ps, series *s, vg_pb l)
{
    vg_pb kv[3] = {{0}, {0}, {0}};
    uint32_t f;
    int w, rc;
    uint64_t x;
    while ((rc = vg_pb_next(&l, &f, &w)) == 1)
        if ((f == 1 || f == 2 ? vg_pb_take(&l, w, VG_PB_LEN, &x, &kv[f]) : vg_pb_skip(&l, w)) < 0)
            return malformed(ps, "label");
    if (rc < 0)
        return malformed(ps, "label");
    const char *name = (const char *)kv[1].p, *value = (const char *)kv[2].p;
    size_t nl = (size_t)(kv[1].end - kv[1].p), vl = (size_t)(kv[2].end - kv[2].p);
    if (nl == 8 && memcmp(name, "__name__", 8) == 0) {
        s->name = value;
        s->name_len = vl;
        return 0;
    }
    if (s->n == VG_MAX_LABELS)
        return vg__parse_fail(ps, "key", SIZE_MAX, "more than %d labels", VG_MAX_LABELS);
    s->labels[s->n++] = (vg_label){name, nl, value, vl};
    return 0;
}

typedef struct walk {
    vg_parser *ps;
    series    *s;
    int        counter;
} walk;

/* Sample { double value = 1; int64 timestamp = 2; }; 1 stops the walk. */
static int sample(void *arg, vg_pb smp)
{
    const walk *k = arg;
    vg_parser *ps = k->ps;
    uint64_t v = 0, ts = 0;
    uint32_t f;
    int w, rc;
    while ((rc = vg_pb_next(&smp, &f, &w)) == 1)
        if ((f == 1   ? vg_pb_take(&smp, w, VG_PB_I64, &v, NULL)
             : f == 2 ? vg_pb_take(&smp, w, VG_PB_VARINT, &ts, NULL)
                      : vg_pb_skip(&smp, w)) < 0)
            return -1;
    if (rc < 0)
        return -1;
    double value;
    memcpy(&value, &v, sizeof(value));
    if (isnan(value))
        return 0;  /* a staleness marker */
    if ((int64_t)ts < 0 || (int64_t)ts > VG__MAX_EPOCH_MS)
        vg__parse_fail(ps, "timestamp", SIZE_MAX, "sample time out of range");
    else if (k->counter)
        vg__model_counter(ps, k->s->name, k->s->name_len, k->s->labels, k->s->n, (int64_t)ts,
                          value);
    else
        vg__parse_emit(ps, k->s->name, k->s->name_len, k->s->labels, k->s->n, (int64_t)ts,
                       value);
    return ps->nomem;
}

static int label_of(void *arg, vg_pb l)
{
    walk *k = arg;
    return label(k->ps, k->s, l) != 0 ? 1 : 0;
}

/* TimeSeries, in two passes: the labels, then the samples (field order is
 * not promised). 1 stops the walk. */
static int timeseries(void *arg, vg_pb t)
{
    vg_parser *ps = arg;
    series s = {.name = "", .name_len = 0, .n = 0};
    walk k = {ps, &s, 0};
    int rc = vg_pb_each(t, 1, label_of, &k);
    if (rc == 0 && has_suffix(&s, "_bucket"))
        return 0;
    k.counter = has_suffix(&s, "_total") || has_suffix(&s, "_count") || has_suffix(&s, "_sum");
    if (rc == 0)
        rc = vg_pb_each(t, 2, sample, &k);
    if (rc < 0)
        malformed(ps, "time series");
    return ps->nomem;
}

static void parse_prom_rw(vg_parser *ps)
{
    size_t ulen;
    if (snappy_uncompressed_length(ps->msg, ps->len, &ulen) != SNAPPY_OK) {
        vg__parse_fail(ps, "snappy", 0, "not a snappy block");
        return;
    }
    if (ulen > (size_t)ps->p.max_bytes * EXPANSION) {
        vg__parse_fail(ps, "too_large", SIZE_MAX, "uncompressed size %zu over %d x max_bytes",
                       ulen, EXPANSION);
        return;
    }
    char *buf = malloc(ulen > 0 ? ulen : 1);
    if (buf == NULL) {
        ps->nomem = 1;
        return;
    }
    if (snappy_uncompress(ps->msg, ps->len, buf, &ulen) != SNAPPY_OK)
        vg__parse_fail(ps, "snappy", SIZE_MAX, "corrupt snappy block");
    else if (vg_pb_each(vg_pb_init(buf, ulen), 1, timeseries, ps) < 0)
        malformed(ps, "write request");
    free(buf);
}

static const vg_conf_field rw_fields[] = {VG__PARSE_FIELD_RATE_SERIES};

const vg_parser_ops vg_prom_rw_parser_ops = {
    .name      = "prometheus-remote-write",
    .fields    = rw_fields,
    .n_fields  = VG_CONF_COUNT(rw_fields),
    .configure = vg__model_configure,
    .parse     = parse_prom_rw,
};
