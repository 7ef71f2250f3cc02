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
#include "streams/prom_rw_wire.h"

/* Largest uncompressed request, as a multiple of max_bytes (remote-write
 * requests compress about 5-10x). */
#define EXPANSION 16

static int malformed(vg_parser *ps, const char *what)
{
    return vg__parse_fail(ps, "protobuf", SIZE_MAX, "malformed %s", what);
}

static int has_suffix(const vg__prom_rw_series *s, const char *suffix)
{
    size_t n = strlen(suffix);
    return s->name_len > n && memcmp(s->name + s->name_len - n, suffix, n) == 0;
}

typedef struct walk {
    vg_parser          *ps;
    vg__prom_rw_series *s;
    int                 counter;
} walk;

/* One sample; 1 stops the walk. */
static int sample(void *arg, vg_pb smp)
{
    const walk *k = arg;
    vg_parser *ps = k->ps;
    double value;
    int64_t ts;
    if (vg__prom_rw_sample(smp, &value, &ts) != 0)
        return -1;
    if (isnan(value))
        return 0;  /* a staleness marker */
    if (ts < 0 || ts > VG__MAX_EPOCH_MS)
        vg__parse_fail(ps, "timestamp", SIZE_MAX, "sample time out of range");
    else if (k->counter)
        vg__model_counter(ps, k->s->name, k->s->name_len, k->s->labels, k->s->n, ts, value);
    else
        vg__parse_emit(ps, k->s->name, k->s->name_len, k->s->labels, k->s->n, ts, value);
    return ps->nomem;
}

/* TimeSeries, in two passes: the labels, then the samples (field order is
 * not promised). 1 stops the walk. */
static int timeseries(void *arg, vg_pb t)
{
    vg_parser *ps = arg;
    vg__prom_rw_series s;
    walk k = {ps, &s, 0};
    int rc = vg__prom_rw_series_labels(t, &s);
    if (rc == VG__RW_TOO_MANY_LABELS)
        vg__parse_fail(ps, "key", SIZE_MAX, "more than %d labels", VG_MAX_LABELS);
    else if (rc != 0)
        malformed(ps, "label");
    if (rc != 0 || has_suffix(&s, "_bucket"))
        return ps->nomem;
    k.counter = has_suffix(&s, "_total") || has_suffix(&s, "_count") || has_suffix(&s, "_sum");
    if (vg_pb_each(t, 2, sample, &k) < 0)
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
