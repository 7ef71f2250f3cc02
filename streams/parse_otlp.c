/* The OTLP metrics model -> series (see parse_otlp.h). */
#include "streams/parse_otlp.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

int vg__otlp_attr_str(vg_parser *ps, vg__otlp_attrs *a, const char *key, size_t key_len,
                      const char *s, size_t len)
{
    if (a->n == VG_MAX_LABELS)
        return vg__parse_fail(ps, "key", SIZE_MAX, "more than %d attributes", VG_MAX_LABELS);
    a->l[a->n++] = (vg_label){key, key_len, s, len};
    return 0;
}

/* A formatted value, copied into scratch. */
static int attr_text(vg_parser *ps, vg__otlp_attrs *a, const char *key, size_t key_len,
                     const char *buf, int len)
{
    if (len < 0 || a->used + (size_t)len > sizeof(ps->scratch))
        return vg__parse_fail(ps, "too_large", SIZE_MAX, "attributes too long");
    char *text = memcpy(ps->scratch + a->used, buf, (size_t)len);
    a->used += (size_t)len;
    return vg__otlp_attr_str(ps, a, key, key_len, text, (size_t)len);
}

int vg__otlp_attr_int(vg_parser *ps, vg__otlp_attrs *a, const char *key, size_t key_len,
                      int64_t v)
{
    char buf[24];
    return attr_text(ps, a, key, key_len, buf, snprintf(buf, sizeof(buf), "%lld", (long long)v));
}

int vg__otlp_attr_double(vg_parser *ps, vg__otlp_attrs *a, const char *key, size_t key_len,
                         double v)
{
    char buf[32];
    return attr_text(ps, a, key, key_len, buf, snprintf(buf, sizeof(buf), "%.17g", v));
}

int vg__otlp_attr_bool(vg_parser *ps, vg__otlp_attrs *a, const char *key, size_t key_len,
                       int v)
{
    return attr_text(ps, a, key, key_len, v ? "true" : "false", v ? 4 : 5);
}

/* ns since the epoch -> ms, rounded; 0: the message time. */
static int time_ms(vg_parser *ps, uint64_t ns, int64_t *ms)
{
    if (ns == 0)
        return vg__parse_msg_ts(ps, SIZE_MAX, ms);
    uint64_t v = (ns + 500000) / 1000000;
    if (v > (uint64_t)VG__MAX_EPOCH_MS)
        return vg__parse_fail(ps, "timestamp", SIZE_MAX, "time beyond year 9999");
    *ms = (int64_t)v;
    return 0;
}

/* Labels of the point without duplicates: a later name replaces an
 * earlier one, so point attributes win over resource attributes. */
static size_t dedup(const vg_label *in, size_t n, vg_label *out)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        size_t k = 0;
        while (k < m && !(out[k].name_len == in[i].name_len &&
                          memcmp(out[k].name, in[i].name, in[i].name_len) == 0))
            k++;
        out[k] = in[i];
        m += k == m;
    }
    return m;
}

static void quantiles(vg_parser *ps, const char *name, size_t name_len, vg_label *labels,
                      size_t n, int64_t ts_ms, const vg__otlp_point *p)
{
    if (n == VG_MAX_LABELS) {
        vg__parse_fail(ps, "key", SIZE_MAX, "more than %d labels", VG_MAX_LABELS);
        return;
    }
    for (size_t q = 0; q < p->n_quantiles; q++) {
        char text[32];
        int len = snprintf(text, sizeof(text), "%.17g", p->quantile[q]);
        labels[n] = (vg_label){"quantile", 8, text, (size_t)len};
        vg__parse_emit(ps, name, name_len, labels, n + 1, ts_ms, p->qvalue[q]);
    }
}

void vg__otlp_emit(vg_parser *ps, const char *name, size_t name_len, const vg_label *in,
                   size_t n_in, const vg__otlp_point *p)
{
    vg_label labels[VG_MAX_LABELS + 1];
    size_t n = dedup(in, n_in, labels);
    int64_t ts_ms, start_ms = 0;
    if (time_ms(ps, p->time_ns, &ts_ms) != 0)
        return;
    int delta = p->temporality == VG__OTLP_DELTA;
    if (delta && (p->start_ns == 0 || time_ms(ps, p->start_ns, &start_ms) != 0)) {
        vg__parse_fail(ps, "timestamp", SIZE_MAX, "\"%.*s\": a delta point without its start",
                       (int)(name_len < 40 ? name_len : 40), name);
        return;
    }
    switch (p->type) {
    case VG__OTLP_SUM:
        if (p->monotonic && delta)
            vg__model_delta_rate(ps, name, name_len, labels, n, start_ms, ts_ms, p->value);
        else if (p->monotonic)
            vg__model_counter(ps, name, name_len, labels, n, ts_ms, p->value);
        else
            vg__parse_emit(ps, name, name_len, labels, n, ts_ms, p->value);
        break;
    case VG__OTLP_HISTOGRAM:
    case VG__OTLP_EXP_HISTOGRAM:
        if (delta)
            vg__model_delta(ps, name, name_len, labels, n, start_ms, ts_ms, p->count, p->sum);
        else
            vg__model_cumulative(ps, name, name_len, labels, n, ts_ms, p->count, p->sum);
        break;
    case VG__OTLP_SUMMARY:
        quantiles(ps, name, name_len, labels, n, ts_ms, p);
        vg__model_cumulative(ps, name, name_len, labels, n, ts_ms, p->count, p->sum);
        break;
    default:
        vg__parse_emit(ps, name, name_len, labels, n, ts_ms, p->value);
        break;
    }
}
