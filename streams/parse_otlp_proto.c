/* OTLP metrics in protobuf (the Collector's Kafka exporter default
 * `otlp_proto`): an ExportMetricsServiceRequest, decoded field by field
 * with the wire reader of protowire.h into the model of parse_otlp.h,
 * which says which series come out. Field numbers are those of
 * opentelemetry/proto/metrics/v1/metrics.proto and common/v1/common.proto
 * (v1.0 and later); unknown fields are skipped. Data points flagged "no
 * recorded value" are skipped. A malformed submessage is reported and the
 * points decoded before it are kept. */
#include <math.h>
#include <string.h>

#include "streams/parse_otlp.h"
#include "streams/protowire.h"

/* Where a data point type keeps its fields (they differ by type). */
typedef struct layout {
    uint32_t attrs, count, sum, quantiles, flags;
} layout;

static const layout number_layout = {7, 0, 0, 0, 8};
static const layout histogram_layout = {9, 4, 5, 0, 10};
static const layout exp_histogram_layout = {1, 4, 5, 0, 10};
static const layout summary_layout = {7, 4, 5, 6, 8};

static int malformed(vg_parser *ps, const char *what)
{
    return vg__parse_fail(ps, "protobuf", SIZE_MAX, "malformed %s", what);
}

/* KeyValue { string key = 1; AnyValue value = 2; } */
static int attribute(vg_parser *ps, vg__otlp_attrs *a, vg_pb kv)
{
    vg_pb key = {0}, any = {0}, v = {0};
    uint32_t f;
    int w, rc;
    uint64_t x;
    while ((rc = vg_pb_next(&kv, &f, &w)) == 1)
        if ((f == 1 ? vg_pb_take(&kv, w, VG_PB_LEN, &x, &key)
                    : f == 2 ? vg_pb_take(&kv, w, VG_PB_LEN, &x, &any) : vg_pb_skip(&kv, w)) < 0)
            return malformed(ps, "attribute");
    if (rc < 0)
        return malformed(ps, "attribute");
    const char *k = (const char *)key.p;
    size_t kl = (size_t)(key.end - key.p);
    /* AnyValue: the last value field wins, as protobuf's oneof does. */
    int kind = 0;
    uint64_t num = 0;
    while ((rc = vg_pb_next(&any, &f, &w)) == 1) {
        int want = f == 1 ? VG_PB_LEN : f == 2 || f == 3 ? VG_PB_VARINT : f == 4 ? VG_PB_I64 : -1;
        int got = want < 0 ? vg_pb_skip(&any, w) : vg_pb_take(&any, w, want, &num, &v);
        if (got < 0)
            return malformed(ps, "attribute value");
        kind = got == 1 ? (int)f : kind;
    }
    if (rc < 0)
        return malformed(ps, "attribute value");
    double d;
    switch (kind) {
    case 1: return vg__otlp_attr_str(ps, a, k, kl, (const char *)v.p, (size_t)(v.end - v.p));
    case 2: return vg__otlp_attr_bool(ps, a, k, kl, num != 0);
    case 3: return vg__otlp_attr_int(ps, a, k, kl, (int64_t)num);
    case 4:
        memcpy(&d, &num, sizeof(d));
        return vg__otlp_attr_double(ps, a, k, kl, d);
    default: return 0;  /* arrays, maps, bytes, unset: not a label */
    }
}

/* ValueAtQuantile { double quantile = 1; double value = 2; } */
static int quantile(vg_parser *ps, vg__otlp_point *p, vg_pb q)
{
    if (p->n_quantiles == VG__OTLP_MAX_QUANTILES)
        return vg__parse_fail(ps, "too_large", SIZE_MAX, "more than %d quantiles",
                              VG__OTLP_MAX_QUANTILES);
    uint64_t x[3] = {0, 0, 0};
    uint32_t f;
    int w, rc;
    while ((rc = vg_pb_next(&q, &f, &w)) == 1)
        if ((f == 1 || f == 2 ? vg_pb_take(&q, w, VG_PB_I64, &x[f], NULL) : vg_pb_skip(&q, w)) < 0)
            return malformed(ps, "quantile");
    if (rc < 0)
        return malformed(ps, "quantile");
    memcpy(&p->quantile[p->n_quantiles], &x[1], sizeof(double));
    memcpy(&p->qvalue[p->n_quantiles], &x[2], sizeof(double));
    p->n_quantiles++;
    return 0;
}

/* One field of a data point; 0, or -1 (recorded). */
static int point_field(vg_parser *ps, const layout *l, vg_pb *dp, uint32_t f, int w,
                       vg__otlp_attrs *a, vg__otlp_point *p, uint64_t *flags)
{
    uint64_t x = 0;
    vg_pb sub;
    int rc;
    if (f == l->attrs) {
        if ((rc = vg_pb_take(dp, w, VG_PB_LEN, &x, &sub)) == 1)
            return attribute(ps, a, sub);
    } else if (f == 2 || f == 3) {
        rc = vg_pb_take(dp, w, VG_PB_I64, f == 2 ? &p->start_ns : &p->time_ns, NULL);
    } else if (l == &number_layout && (f == 4 || f == 6)) {
        if ((rc = vg_pb_take(dp, w, VG_PB_I64, &x, NULL)) == 1) {
            if (f == 4)
                memcpy(&p->value, &x, sizeof(double));
            else
                p->value = (double)(int64_t)x;
        }
    } else if (f == l->count || f == l->sum) {
        if ((rc = vg_pb_take(dp, w, VG_PB_I64, &x, NULL)) == 1 && f == l->count)
            p->count = (double)x;
        else if (rc == 1)
            memcpy(&p->sum, &x, sizeof(double));
    } else if (f == l->quantiles) {
        if ((rc = vg_pb_take(dp, w, VG_PB_LEN, &x, &sub)) == 1)
            return quantile(ps, p, sub);
    } else if (f == l->flags) {
        rc = vg_pb_take(dp, w, VG_PB_VARINT, flags, NULL);
    } else {
        rc = vg_pb_skip(dp, w);
    }
    return rc < 0 ? malformed(ps, "data point") : 0;
}

/* The state of a walk down the request. */
typedef struct walk {
    vg_parser      *ps;
    vg__otlp_attrs *a;
    const char     *name;  /* of the metric */
    size_t          name_len;
    const layout   *l;
    vg__otlp_point *p;
} walk;

/* One data point; returns 1 (stop) when out of memory. */
static int data_point(void *arg, vg_pb dp)
{
    const walk *k = arg;
    vg_parser *ps = k->ps;
    vg__otlp_attrs *a = k->a;
    vg__otlp_point *p = k->p;
    const layout *l = k->l;
    size_t n0 = a->n, used0 = a->used;
    uint64_t flags = 0;
    uint32_t f;
    int w, rc;
    p->start_ns = p->time_ns = 0;
    p->value = p->count = 0;
    p->sum = l == &summary_layout ? 0 : NAN;
    p->n_quantiles = 0;
    while ((rc = vg_pb_next(&dp, &f, &w)) == 1)
        if (point_field(ps, l, &dp, f, w, a, p, &flags) != 0)
            break;
    if (rc < 0)
        malformed(ps, "data point");
    else if (rc == 0 && !(flags & 1))  /* 1: FLAG_NO_RECORDED_VALUE */
        vg__otlp_emit(ps, k->name, k->name_len, a->l, a->n, p);
    a->n = n0;
    a->used = used0;
    return ps->nomem;
}

/* Gauge, Sum, Histogram, ExponentialHistogram or Summary: data points = 1,
 * temporality = 2, is_monotonic = 3. Two passes: the points may come
 * before the fields that say how to read them. */
static void metric_data(vg_parser *ps, const char *name, size_t name_len, int type, vg_pb data,
                        vg__otlp_attrs *a)
{
    static const layout *const layouts[] = {
        [VG__OTLP_GAUGE] = &number_layout, [VG__OTLP_SUM] = &number_layout,
        [VG__OTLP_HISTOGRAM] = &histogram_layout,
        [VG__OTLP_EXP_HISTOGRAM] = &exp_histogram_layout, [VG__OTLP_SUMMARY] = &summary_layout};
    vg__otlp_point p = {.type = type};
    vg_pb r = data;
    uint32_t f;
    int w, rc;
    uint64_t x;
    while ((rc = vg_pb_next(&r, &f, &w)) == 1) {
        rc = f == 2 || f == 3 ? vg_pb_take(&r, w, VG_PB_VARINT, &x, NULL) : vg_pb_skip(&r, w);
        if (rc < 0)
            break;
        if (rc == 1 && f == 2)
            p.temporality = (int)x;
        else if (rc == 1)
            p.monotonic = x != 0;
    }
    if (rc < 0) {
        malformed(ps, "metric data");
        return;
    }
    walk k = {ps, a, name, name_len, layouts[type], &p};
    if (vg_pb_each(data, 1, data_point, &k) < 0)
        malformed(ps, "metric data");
}

/* Metric { string name = 1; oneof data { 5, 7, 9, 10, 11 } } */
static int metric(void *arg, vg_pb m)
{
    const walk *k = arg;
    vg_parser *ps = k->ps;
    vg_pb name = {0}, data = {0}, sub;
    int type = 0, w, rc;
    uint32_t f;
    uint64_t x;
    while ((rc = vg_pb_next(&m, &f, &w)) == 1) {
        int known = f == 1 || f == VG__OTLP_GAUGE || f == VG__OTLP_SUM ||
                    f == VG__OTLP_HISTOGRAM || f == VG__OTLP_EXP_HISTOGRAM ||
                    f == VG__OTLP_SUMMARY;
        if ((rc = known ? vg_pb_take(&m, w, VG_PB_LEN, &x, &sub) : vg_pb_skip(&m, w)) < 0)
            break;
        if (rc == 1 && f == 1)
            name = sub;
        else if (rc == 1)
            data = sub, type = (int)f;
    }
    const char *text = name.p != NULL ? (const char *)name.p : "";
    size_t len = (size_t)(name.end - name.p);
    if (rc < 0)
        malformed(ps, "metric");
    else if (type == 0)
        vg__parse_fail(ps, "missing_field", SIZE_MAX, "metric \"%.*s\": no data",
                       (int)(len < 40 ? len : 40), text);
    else
        metric_data(ps, text, len, type, data, k->a);
    return ps->nomem;
}

/* ScopeMetrics { repeated Metric metrics = 2; } */
static int scope_metrics(void *arg, vg_pb sm)
{
    const walk *k = arg;
    if (vg_pb_each(sm, 2, metric, arg) < 0)
        malformed(k->ps, "scope metrics");
    return k->ps->nomem;
}

/* Resource { repeated KeyValue attributes = 1; } */
static int resource_attr(void *arg, vg_pb kv)
{
    const walk *k = arg;
    return attribute(k->ps, k->a, kv) != 0;
}

static int resource(void *arg, vg_pb r)
{
    const walk *k = arg;
    if (vg_pb_each(r, 1, resource_attr, arg) < 0)
        malformed(k->ps, "resource");
    return 0;
}

/* ResourceMetrics { Resource resource = 1; repeated ScopeMetrics = 2; } */
static int resource_metrics(void *arg, vg_pb rm)
{
    vg_parser *ps = arg;
    vg__otlp_attrs a = {.n = 0};
    walk k = {.ps = ps, .a = &a};
    int rc = vg_pb_each(rm, 1, resource, &k);
    if (rc == 0)
        rc = vg_pb_each(rm, 2, scope_metrics, &k);
    if (rc < 0)
        malformed(ps, "resource metrics");
    return ps->nomem;
}

static void parse_otlp_proto(vg_parser *ps)
{
    if (vg_pb_each(vg_pb_init(ps->msg, ps->len), 1, resource_metrics, ps) < 0)
        malformed(ps, "request");
}

static const vg_conf_field otlp_proto_fields[] = {VG__PARSE_FIELD_RATE_SERIES};

const vg_parser_ops vg_otlp_proto_parser_ops = {
    .name      = "otlp-proto",
    .fields    = otlp_proto_fields,
    .n_fields  = VG_CONF_COUNT(otlp_proto_fields),
    .configure = vg__model_configure,
    .parse     = parse_otlp_proto,
};
