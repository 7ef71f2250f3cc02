/* Typed metric models -> the series a user alerts on (see parse_model.h). */
#include "streams/parse_model.h"

#include <math.h>
#include <string.h>

int vg__model_configure(vg_parser *ps, vg_error *err)
{
    ps->rates = vg_counter_rate_new(ps->p.rate_series, err);
    return ps->rates != NULL ? VG_OK : VG_ENOMEM;
}

int vg__model_counter(vg_parser *ps, const char *name, size_t name_len,
                      const vg_label *labels, size_t n, int64_t ts_ms, double counter)
{
    return vg__parse_emit_rate(ps, name, name_len, labels, n, (double)ts_ms / 1000.0, counter);
}

/* name + suffix into buf[VG__KEY_MAX]; returns the length or -1 (recorded). */
static int suffixed(vg_parser *ps, char *buf, const char *name, size_t name_len,
                    const char *suffix)
{
    size_t sl = strlen(suffix);
    if (name_len + sl >= VG__KEY_MAX)
        return vg__parse_fail(ps, "key", SIZE_MAX, "name \"%.*s\" too long",
                              (int)(name_len < 40 ? name_len : 40), name);
    memcpy(buf, name, name_len);
    memcpy(buf + name_len, suffix, sl);
    return (int)(name_len + sl);
}

int vg__model_emit_suffixed(vg_parser *ps, const char *name, size_t name_len,
                            const char *suffix, const vg_label *labels, size_t n,
                            int64_t ts_ms, double value)
{
    char buf[VG__KEY_MAX];
    int len = suffixed(ps, buf, name, name_len, suffix);
    if (len < 0)
        return -1;
    return vg__parse_emit(ps, buf, (size_t)len, labels, n, ts_ms, value);
}

/* The per-second rate of the cumulative <name><suffix>{labels}, without
 * emitting it. Returns 1 with *rate set, 0 when there is none yet. */
static int rate_of(vg_parser *ps, const char *name, size_t name_len, const char *suffix,
                   const vg_label *labels, size_t n, int64_t ts_ms, double v, double *rate)
{
    char buf[VG__KEY_MAX], key[VG__KEY_MAX];
    int len = suffixed(ps, buf, name, name_len, suffix);
    if (len < 0)
        return 0;
    int klen = vg_series_key_build(key, sizeof(key), buf, (size_t)len, labels, n);
    if (klen < 0)
        return 0;  /* the emitted series of the same labels reports it */
    return vg_counter_rate_update(ps->rates, vg_hash64(key, (size_t)klen, 0),
                                  (double)ts_ms / 1000.0, v, rate);
}

void vg__model_cumulative(vg_parser *ps, const char *name, size_t name_len,
                          const vg_label *labels, size_t n, int64_t ts_ms, double count,
                          double sum)
{
    double per_s, sum_per_s;
    /* Both baselines move on every sample, so the mean is there from the
     * second sample on. A sum may fall (negative observations): then that
     * interval has no mean. */
    int have_sum = !isnan(sum) &&
                   rate_of(ps, name, name_len, "_sum", labels, n, ts_ms, sum, &sum_per_s);
    if (!rate_of(ps, name, name_len, "_count", labels, n, ts_ms, count, &per_s))
        return;
    if (vg__model_emit_suffixed(ps, name, name_len, "_count", labels, n, ts_ms, per_s) == 0 &&
        have_sum && per_s > 0)
        vg__model_emit_suffixed(ps, name, name_len, "_mean", labels, n, ts_ms,
                                sum_per_s / per_s);
}

/* Whether [start_ms, ts_ms) is an interval; records an error if not. */
static int interval_ok(vg_parser *ps, const char *name, size_t name_len, int64_t start_ms,
                       int64_t ts_ms)
{
    if (ts_ms > start_ms)
        return 1;
    vg__parse_fail(ps, "timestamp", SIZE_MAX, "\"%.*s\": interval start not before its end",
                   (int)(name_len < 40 ? name_len : 40), name);
    return 0;
}

int vg__model_delta_rate(vg_parser *ps, const char *name, size_t name_len,
                         const vg_label *labels, size_t n, int64_t start_ms, int64_t ts_ms,
                         double delta)
{
    if (!interval_ok(ps, name, name_len, start_ms, ts_ms))
        return -1;
    return vg__parse_emit(ps, name, name_len, labels, n, ts_ms,
                          delta * 1000.0 / (double)(ts_ms - start_ms));
}

void vg__model_delta(vg_parser *ps, const char *name, size_t name_len, const vg_label *labels,
                     size_t n, int64_t start_ms, int64_t ts_ms, double count, double sum)
{
    if (!interval_ok(ps, name, name_len, start_ms, ts_ms))
        return;
    double per_s = count * 1000.0 / (double)(ts_ms - start_ms);
    if (vg__model_emit_suffixed(ps, name, name_len, "_count", labels, n, ts_ms, per_s) == 0 &&
        !isnan(sum) && count > 0)
        vg__model_emit_suffixed(ps, name, name_len, "_mean", labels, n, ts_ms, sum / count);
}
