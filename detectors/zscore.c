/* The z-score detector: how many standard deviations a point lies from the
 * mean of the window before it, scored by the two-sided normal tail.
 *
 * Per series it keeps the mean and the sum of squared deviations (m2) of
 * the window's values, updated in O(1) per point with Welford's update
 * extended to removal (the value vg_window_oldest() is about to drop). The
 * incremental update rounds a little every step, so every `recompute`
 * pushes (default: the window length) both are recomputed exactly from the
 * window with the SIMD kernels, at an amortised cost of one add per point.
 * Welford rather than sum and sum of squares: the latter cancels
 * catastrophically when the mean is large compared to the spread.
 *
 * The standard deviation is floored (absolute and relative to |mean|) so a
 * flat series does not turn a rounding-sized change into an alert. The
 * score is the two-sided normal tail (normal_tail.h), taken in log space so
 * |z| = 40 and |z| = 60 still get different scores. */
#include <math.h>
#include <stddef.h>
#include <stdio.h>

#include "detectors/detector.h"
#include "detectors/kernels.h"
#include "detectors/normal_tail.h"

typedef struct zscore_params {
    uint32_t warmup;         /* points seen before the first score */
    uint32_t recompute;      /* pushes between exact recomputes; 0: window length */
    double   min_std;        /* absolute floor on the standard deviation */
    double   rel_std_floor;  /* floor as a fraction of |mean| */
    double   k;              /* band = mean +- k * std */
    uint32_t window_cap;     /* the pipeline's window length */
    uint32_t period;         /* resolved recompute period, >= 1 */
} zscore_params;

static const vg_conf_field zscore_fields[] = {
    {"warmup", VG_CONF_UINT32, offsetof(zscore_params, warmup), 30, 2, 1e9, NULL,
     "points a series must have seen before it is scored"},
    {"recompute", VG_CONF_UINT32, offsetof(zscore_params, recompute), 0, 0, 1e9, NULL,
     "points between exact recomputes of mean and variance; 0: the window length"},
    {"min_std", VG_CONF_DOUBLE, offsetof(zscore_params, min_std), 1e-9, 0, 1e300, NULL,
     "absolute floor on the standard deviation"},
    {"rel_std_floor", VG_CONF_DOUBLE, offsetof(zscore_params, rel_std_floor), 1e-3, 0, 1, NULL,
     "floor on the standard deviation as a fraction of |mean|"},
    {"k", VG_CONF_DOUBLE, offsetof(zscore_params, k), 3, 0, 1000, NULL,
     "half-width of the reported band, in standard deviations"},
};

/* mean is kept relative to `shift` (the mean at the last recompute), so
 * the incremental updates round at the scale of the series' spread, not of
 * its level: a series at 1e6 with unit noise keeps ~10 more digits. */
typedef struct zscore_state {
    uint64_t seen;             /* points scored since init */
    uint32_t n;                /* values mean and m2 cover; mirrors the window */
    uint32_t since_recompute;  /* incremental updates since the last recompute */
    double   shift;
    double   mean;             /* of the values minus shift */
    double   m2;               /* sum of squared deviations from the mean */
} zscore_state;

static int zscore_configure(void *params, const vg_conf_doc *doc, const json_t *cfg,
                            uint32_t window_cap, vg_error *err)
{
    zscore_params *p = params;
    int rc = vg_conf_apply(doc, cfg, "detectors.zscore", zscore_fields,
                           VG_CONF_COUNT(zscore_fields), NULL, p, err);
    if (rc != 0)
        return rc;
    if (window_cap == 0)
        return vg_error_set(err, VG_ECONFIG, "zscore: window length must be at least 1");
    p->window_cap = window_cap;
    p->period = p->recompute != 0 ? p->recompute : window_cap;
    return 0;
}

static size_t zscore_state_size(const void *params)
{
    (void)params;
    return sizeof(zscore_state);
}

static void zscore_init(void *state, const void *params, uint64_t seed)
{
    (void)params;
    (void)seed;   /* no random choices */
    *(zscore_state *)state = (zscore_state){0};
}

/* Mean and m2 of the window's values (ring order does not matter), to
 * rounding, by the corrected two-pass method of kernels.h. */
static void recompute(zscore_state *st, const vg_window *w)
{
    const vg_kernels *k = vg_kernels_get();
    const double *x = vg_window_raw(w);
    uint32_t n = w->len;
    double d = 0.0, q = 0.0;
    st->shift = n > 0 ? k->sum(x, n) / n : 0.0;
    k->dev_sums(x, n, st->shift, &d, &q);
    st->n = n;
    st->mean = n > 0 ? d / n : 0.0;
    st->m2 = n > 0 ? q - d * d / n : 0.0;
    st->since_recompute = 0;
}

/* Moves mean and m2 to the window after the pipeline pushes x into w. */
static void update(zscore_state *st, const vg_window *w, double value)
{
    if (st->n == 0)
        st->shift = value;
    double x = value - st->shift;
    if (vg_window_full(w)) {
        double old = vg_window_oldest(w) - st->shift;
        double mean = st->mean + (x - old) / st->n;
        st->m2 += (x - old) * (x - mean + old - st->mean);
        st->mean = mean;
    } else {
        st->n++;
        double d = x - st->mean;
        st->mean += d / st->n;
        st->m2 += d * (x - st->mean);
    }
    st->since_recompute++;
}

/* fmax without its NaN handling, which costs a library call per use. */
static inline double max2(double a, double b)
{
    return a > b ? a : b;
}

static void set_detail(vg_explain *why, const char *text)
{
    snprintf(why->detail, sizeof(why->detail), "%s", text);
}

/* "z=%+.1f" without printf's cost (it would dominate score()); printf
 * only for the rare |z| >= 1e6, as "z=%+.3g". */
static void format_z(vg_explain *why, double z)
{
    double az = fabs(z);
    if (!(az < 1e6)) {
        snprintf(why->detail, sizeof(why->detail), "z=%+.3g", z);
        return;
    }
    long tenths = (long)(az * 10.0 + 0.5);
    char digits[12];
    int n = 0;
    do {
        digits[n++] = (char)('0' + tenths % 10);
        tenths /= 10;
    } while (tenths > 0 || n < 2);
    char *out = why->detail;
    *out++ = 'z';
    *out++ = '=';
    *out++ = signbit(z) ? '-' : '+';
    while (n > 1)
        *out++ = digits[--n];
    *out++ = '.';
    *out++ = digits[0];
    *out = '\0';
}

static double zscore_score(void *state, const void *params, const vg_window *w,
                           int64_t ts_ms, double value, vg_explain *why)
{
    zscore_state *st = state;
    const zscore_params *p = params;
    (void)ts_ms;

    why->expected = why->lower = why->upper = NAN;
    /* One test for all three: NaN or inf in any makes the sum non-finite
     * (an overflowing sum of finite parts only costs a recompute). */
    if (st->n != w->len || st->since_recompute >= p->period ||
        !isfinite(st->shift + st->mean + st->m2))
        recompute(st, w);

    if (!isfinite(value)) {
        /* The pipeline still pushes it: resync from the window next time. */
        st->since_recompute = p->period;
        st->seen++;
        set_detail(why, "not a finite value");
        return 0.0;
    }

    double score = 0.0;
    if (st->seen < p->warmup || st->n < 2 || !isfinite(st->shift + st->mean + st->m2)) {
        set_detail(why, "warming up");
    } else {
        double mean = st->shift + st->mean;
        double std = sqrt(max2(st->m2, 0.0) / (st->n - 1));
        std = max2(std, max2(p->min_std, p->rel_std_floor * fabs(mean)));
        double dev = (value - st->shift) - st->mean;
        double z = std > 0.0 ? dev / std : (dev == 0.0 ? 0.0 : copysign(INFINITY, dev));
        score = vg_normal_tail_score(fabs(z));
        why->expected = mean;
        why->lower = mean - p->k * std;
        why->upper = mean + p->k * std;
        format_z(why, z);
    }
    update(st, w, value);
    st->seen++;
    return score;
}

static int zscore_save(const void *state, const void *params, vg_writer *out)
{
    const zscore_state *st = state;
    (void)params;
    vg_writer_u64(out, st->seen);
    vg_writer_u32(out, st->n);
    vg_writer_u32(out, st->since_recompute);
    vg_writer_f64(out, st->shift);
    vg_writer_f64(out, st->mean);
    return vg_writer_f64(out, st->m2);
}

static int zscore_load(void *state, const void *params, vg_reader *in, vg_error *err)
{
    const zscore_params *p = params;
    zscore_state st;
    vg_reader_u64(in, &st.seen);
    vg_reader_u32(in, &st.n);
    vg_reader_u32(in, &st.since_recompute);
    vg_reader_f64(in, &st.shift);
    vg_reader_f64(in, &st.mean);
    if (vg_reader_f64(in, &st.m2) != 0)
        return vg_error_set(err, VG_EPARSE, "zscore: state truncated");
    if (st.since_recompute > p->period)
        return vg_error_set(err, VG_EPARSE, "zscore: %u updates since recompute, period is %u",
                            st.since_recompute, p->period);
    if (st.n > p->window_cap)
        return vg_error_set(err, VG_EPARSE, "zscore: %u values in a window of %u",
                            st.n, p->window_cap);
    *(zscore_state *)state = st;
    return 0;
}

const vg_detector_ops vg_zscore_ops = {
    .name        = "zscore",
    .params_size = sizeof(zscore_params),
    .configure   = zscore_configure,
    .state_size  = zscore_state_size,
    .init        = zscore_init,
    .score       = zscore_score,
    .save        = zscore_save,
    .load        = zscore_load,
};
