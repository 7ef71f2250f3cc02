/* OTLP metrics in JSON (the Collector's Kafka exporter `otlp_json`, OTLP/HTTP
 * JSON): an ExportMetricsServiceRequest in the proto3 JSON mapping,
 *
 *   {"resourceMetrics":[{"resource":{"attributes":[...]},
 *     "scopeMetrics":[{"metrics":[{"name":"...","sum":{"dataPoints":[...],
 *       "aggregationTemporality":2,"isMonotonic":true}}]}]}]}
 *
 * read with jansson (the nesting is too deep for the node array) into the
 * model of parse_otlp.h, which says which series come out. 64-bit integers
 * are decimal strings in that mapping; plain numbers are taken too, and the
 * temporality may be its enum name. Attribute values that are not strings
 * (int, double, bool) become their text; arrays and maps are skipped. A bad
 * metric or data point is reported and the rest of the message is kept. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "streams/parse_otlp.h"

/* An unsigned 64-bit integer: a JSON integer or its decimal text. */
static int u64_of(const json_t *v, uint64_t *out)
{
    if (json_is_integer(v) && json_integer_value(v) >= 0) {
        *out = (uint64_t)json_integer_value(v);
        return 0;
    }
    const char *s = json_string_value(v);
    if (s == NULL || s[0] < '0' || s[0] > '9')
        return -1;
    char *end;
    errno = 0;
    unsigned long long x = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0')
        return -1;
    *out = x;
    return 0;
}

/* A number: JSON number, or text of an int64 or of a double. */
static int num_of(const json_t *v, double *out)
{
    if (json_is_number(v)) {
        *out = json_number_value(v);
        return 0;
    }
    const char *s = json_string_value(v);
    return s != NULL && vg__parse_number(s, strlen(s), out) == 0 ? 0 : -1;
}

static int add_attr(vg_parser *ps, vg__otlp_attrs *a, const char *key, const json_t *value)
{
    const json_t *sv = json_object_get(value, "stringValue");
    const json_t *iv = json_object_get(value, "intValue");
    const json_t *dv = json_object_get(value, "doubleValue");
    const json_t *bv = json_object_get(value, "boolValue");
    size_t kl = strlen(key);
    if (json_is_string(sv) || json_is_string(iv))  /* int64 is text in proto3 JSON */
        return vg__otlp_attr_str(ps, a, key, kl, json_string_value(json_is_string(sv) ? sv : iv),
                                 json_string_length(json_is_string(sv) ? sv : iv));
    if (json_is_integer(iv))
        return vg__otlp_attr_int(ps, a, key, kl, json_integer_value(iv));
    if (json_is_number(dv))
        return vg__otlp_attr_double(ps, a, key, kl, json_number_value(dv));
    if (json_is_boolean(bv))
        return vg__otlp_attr_bool(ps, a, key, kl, json_is_true(bv));
    return 0;  /* arrays, maps, bytes: not a label */
}

static int read_attrs(vg_parser *ps, vg__otlp_attrs *a, const json_t *list)
{
    size_t i;
    const json_t *kv;
    if (list == NULL)
        return 0;
    if (!json_is_array(list))
        return vg__parse_fail(ps, "type", SIZE_MAX, "\"attributes\" is not an array");
    json_array_foreach(list, i, kv) {
        const char *key = json_string_value(json_object_get(kv, "key"));
        if (key == NULL)
            return vg__parse_fail(ps, "missing_field", SIZE_MAX, "attribute without a \"key\"");
        if (add_attr(ps, a, key, json_object_get(kv, "value")) != 0)
            return -1;
    }
    return 0;
}

static int temporality(const json_t *t)
{
    const char *s = json_string_value(t);
    if (s != NULL)
        return strcmp(s, "AGGREGATION_TEMPORALITY_DELTA") == 0        ? VG__OTLP_DELTA
               : strcmp(s, "AGGREGATION_TEMPORALITY_CUMULATIVE") == 0 ? VG__OTLP_CUMULATIVE
                                                                      : VG__OTLP_UNSPECIFIED;
    return json_is_integer(t) ? (int)json_integer_value(t) : VG__OTLP_UNSPECIFIED;
}

static int quantiles(vg_parser *ps, const json_t *list, vg__otlp_point *p)
{
    size_t i;
    const json_t *q;
    json_array_foreach(list, i, q) {
        if (p->n_quantiles == VG__OTLP_MAX_QUANTILES)
            return vg__parse_fail(ps, "too_large", SIZE_MAX, "more than %d quantiles",
                                  VG__OTLP_MAX_QUANTILES);
        double *qq = &p->quantile[p->n_quantiles], *qv = &p->qvalue[p->n_quantiles];
        *qq = 0;  /* proto3 JSON leaves zero values out */
        const json_t *x = json_object_get(q, "quantile");
        if ((x != NULL && num_of(x, qq) != 0) || num_of(json_object_get(q, "value"), qv) != 0)
            return vg__parse_fail(ps, "value", SIZE_MAX, "a quantile without a number");
        p->n_quantiles++;
    }
    return 0;
}

/* The value fields of a data point by the metric's type. */
static int point_values(vg_parser *ps, const json_t *dp, vg__otlp_point *p)
{
    const json_t *x;
    if (p->type == VG__OTLP_GAUGE || p->type == VG__OTLP_SUM) {
        if ((x = json_object_get(dp, "asDouble")) == NULL)
            x = json_object_get(dp, "asInt");
        if (x == NULL)  /* proto3 JSON leaves a zero out */
            return (p->value = 0, 0);
        if (num_of(x, &p->value) != 0)
            return vg__parse_fail(ps, "value", SIZE_MAX, "a data point value is not a number");
        return 0;
    }
    p->count = 0;
    p->sum = NAN;
    if (((x = json_object_get(dp, "count")) != NULL && num_of(x, &p->count) != 0) ||
        ((x = json_object_get(dp, "sum")) != NULL && num_of(x, &p->sum) != 0))
        return vg__parse_fail(ps, "value", SIZE_MAX, "\"count\" or \"sum\" is not a number");
    if (p->type == VG__OTLP_SUMMARY) {
        p->n_quantiles = 0;
        if (isnan(p->sum))
            p->sum = 0;
        return quantiles(ps, json_object_get(dp, "quantileValues"), p);
    }
    return 0;
}

static void data_points(vg_parser *ps, const char *name, const json_t *data, vg__otlp_attrs *a,
                        vg__otlp_point *p)
{
    const json_t *dps = json_object_get(data, "dataPoints"), *dp;
    size_t i, n0 = a->n, used0 = a->used;
    if (!json_is_array(dps)) {
        vg__parse_fail(ps, "missing_field", SIZE_MAX, "\"%.40s\": no \"dataPoints\" array", name);
        return;
    }
    json_array_foreach(dps, i, dp) {
        a->n = n0;
        a->used = used0;
        const json_t *start = json_object_get(dp, "startTimeUnixNano");
        p->start_ns = 0;
        if (read_attrs(ps, a, json_object_get(dp, "attributes")) != 0 ||
            point_values(ps, dp, p) != 0)
            continue;
        if (u64_of(json_object_get(dp, "timeUnixNano"), &p->time_ns) != 0 ||
            (start != NULL && u64_of(start, &p->start_ns) != 0)) {
            vg__parse_fail(ps, "timestamp", SIZE_MAX, "\"%.40s\": no time in ns", name);
            continue;
        }
        vg__otlp_emit(ps, name, strlen(name), a->l, a->n, p);
    }
    a->n = n0;
    a->used = used0;
}

static void one_metric(vg_parser *ps, const json_t *m, vg__otlp_attrs *a)
{
    static const struct {
        const char *key;
        int         type;
    } types[] = {{"gauge", VG__OTLP_GAUGE}, {"sum", VG__OTLP_SUM},
                 {"histogram", VG__OTLP_HISTOGRAM},
                 {"exponentialHistogram", VG__OTLP_EXP_HISTOGRAM},
                 {"summary", VG__OTLP_SUMMARY}};
    const char *name = json_string_value(json_object_get(m, "name"));
    if (name == NULL) {
        vg__parse_fail(ps, "missing_field", SIZE_MAX, "a metric without a \"name\"");
        return;
    }
    for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++) {
        const json_t *data = json_object_get(m, types[t].key);
        if (data == NULL)
            continue;
        vg__otlp_point p = {.type = types[t].type,
                            .temporality = temporality(json_object_get(data,
                                                                       "aggregationTemporality")),
                            .monotonic = json_is_true(json_object_get(data, "isMonotonic"))};
        data_points(ps, name, data, a, &p);
        return;
    }
    vg__parse_fail(ps, "missing_field", SIZE_MAX, "\"%.40s\": no gauge, sum, histogram or summary",
                   name);
}

static void resource(vg_parser *ps, const json_t *rm)
{
    vg__otlp_attrs a = {.n = 0};
    const json_t *sms = json_object_get(rm, "scopeMetrics"), *sm, *m;
    size_t i, k;
    if (read_attrs(ps, &a, json_object_get(json_object_get(rm, "resource"), "attributes")) != 0)
        return;
    if (!json_is_array(sms)) {
        vg__parse_fail(ps, "missing_field", SIZE_MAX, "no \"scopeMetrics\" array");
        return;
    }
    json_array_foreach(sms, i, sm) {
        const json_t *ms = json_object_get(sm, "metrics");
        json_array_foreach(ms, k, m)
            one_metric(ps, m, &a);
    }
}

static void parse_otlp_json(vg_parser *ps)
{
    json_error_t jerr;
    json_t *root = json_loadb(ps->msg, ps->len, 0, &jerr);
    if (root == NULL) {
        size_t pos = jerr.position > 0 ? (size_t)jerr.position - 1 : 0;
        vg__parse_fail(ps, "json", pos, "%s", jerr.text);
        return;
    }
    const json_t *rms = json_object_get(root, "resourceMetrics"), *rm;
    size_t i;
    if (!json_is_array(rms))
        vg__parse_fail(ps, "missing_field", SIZE_MAX, "no \"resourceMetrics\" array");
    json_array_foreach(rms, i, rm)
        resource(ps, rm);
    json_decref(root);
}

static const vg_conf_field otlp_json_fields[] = {VG__PARSE_FIELD_RATE_SERIES};

const vg_parser_ops vg_otlp_json_parser_ops = {
    .name      = "otlp-json",
    .fields    = otlp_json_fields,
    .n_fields  = VG_CONF_COUNT(otlp_json_fields),
    .configure = vg__model_configure,
    .parse     = parse_otlp_json,
};
