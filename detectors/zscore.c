/* The z-score detector: how many standard deviations a point lies from the
 * mean of the window before it, scored by the two-sided normal tail.
 *
 * Per series it keeps the mean and the sum of squared deviations (m2) of
 * the window's values, updated in O(1) per point with Welford's update
 * extended to removal (the value vg_window_oldest() is about to drop). The
 * incremental update rounds a little every step, so every `recompute`
 * pushes (default: the window length) both are recomputed from the window
 * with the SIMD kernels (kernels.h), at an amortised cost of a few adds
 * per point. The sums therefore never drift, whatever the stream's length.
 * Welford rather than sum and sum of squares: the latter cancels
 * catastrophically when the mean is large compared to the spread.
 *
 * Robust mode scores against the median and the MAD (times 1.4826, the
 * standard deviation for normal data) instead, from a sorted copy of the
 * window's values kept after the fixed state (sorted.h): a burst of
 * outliers then cannot inflate the spread it is measured against.
 *
 * The standard deviation is floored (absolute, relative to |mean|, and
 * relative to the range the series has shown over 28 days, range.h) so a
 * flat series does not turn a rounding-sized change into an alert, and a
 * mostly-zero series whose window holds only zeros does not turn its
 * usual blip into z = 1e10. The
 * score is the two-sided normal tail (normal_tail.h), taken in log space so
 * |z| = 40 and |z| = 60 still get different scores. */
#include <math.h>
#include <stddef.h>
#include <stdio.h>

#include "detectors/detector.h"
#include "detectors/kernels.h"
#include "detectors/normal_tail.h"
#include "detectors/range.h"
#include "detectors/sorted.h"

#define MAD_TO_STD 1.482602218505602   /* 1 / Phi^-1(3/4) */

typedef struct zscore_params {
    uint32_t warmup;         /* points seen before the first score */
    uint32_t recompute;      /* pushes between exact recomputes; 0: window length */
    double   min_std;        /* absolute floor on the standard deviation */
    double   rel_std_floor;  /* floor as a fraction of |mean| */
    double   range_floor;    /* floor as a fraction of the 28-day range */
    double   k;              /* band = mean +- k * std */
    int      robust;         /* median and MAD instead of mean and std */
    uint32_t window_cap;     /* the pipeline's window length */
    uint32_t period;         /* resolved recompute period, >= 1 */
    double   inv_cap;        /* 1 / window_cap and 1 / (window_cap - 1): a full */
    double   inv_cap_m1;     /* window, the usual case, needs no division */
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
    {"range_floor", VG_CONF_DOUBLE, offsetof(zscore_params, range_floor), 0.01, 0, 1, NULL,
     "floor on the standard deviation as a fraction of the range of the last 28 days"},
    {"k", VG_CONF_DOUBLE, offsetof(zscore_params, k), 3, 0, 1000, NULL,
     "half-width of the reported band, in standard deviations"},
    {"robust", VG_CONF_BOOL, offsetof(zscore_params, robust), 0, 0, 1, NULL,
     "use the median and MAD of the window instead of its mean and standard deviation"},
};

/* mean is kept relative to `shift` (the mean at the last recompute, or
 * the first value), so the incremental updates round at the scale of the
 * series' spread, not of its level: a series at 1e6 with unit noise keeps
 * ~10 more digits. */
typedef struct zscore_state {
    uint64_t seen;             /* points scored since init */
    uint32_t n;                /* values mean and m2 cover; mirrors the window */
    uint32_t since_recompute;  /* incremental updates since the last recompute */
    double   shift;
    double   mean;             /* of the values minus shift */
    double   m2;               /* sum of squared deviations from the mean */
    vg_range long_run;         /* the last 28 days' extremes, for the floor */
    /* robust: followed by a robust_tail and a vg_sorted of window_cap values
     * (kept out of the header, so the default mode does not pay for them) */
} zscore_state;

typedef struct robust_tail {
    uint32_t nonfinite;        /* non-finite values in the window */
    uint32_t pad_;
} robust_tail;

static robust_tail *robust_of(zscore_state *st)
{
    return (robust_tail *)(void *)(st + 1);
}

static vg_sorted *sorted_of(zscore_state *st)
{
    return (vg_sorted *)(void *)(robust_of(st) + 1);
}

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
    p->inv_cap = 1.0 / window_cap;
    p->inv_cap_m1 = window_cap > 1 ? 1.0 / (window_cap - 1) : 0.0;
    return 0;
}

static size_t zscore_state_size(const void *params)
{
    const zscore_params *p = params;
    return sizeof(zscore_state) +
           (p->robust ? sizeof(robust_tail) + vg_sorted_bytes(p->window_cap) : 0);
}

static void zscore_init(void *state, const void *params, uint64_t seed)
{
    const zscore_params *p = params;
    zscore_state *st = state;
    (void)seed;   /* no random choices */
    *st = (zscore_state){0};
    vg_range_init(&st->long_run, VG_RANGE_DAY_MS, VG_RANGE_MAX_BUCKETS);
    if (p->robust) {
        *robust_of(st) = (robust_tail){0};
        vg_sorted_init(sorted_of(st), p->window_cap);
    }
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

/* Mean and standard deviation of the window; 0 until there are two. */
static int moment_stats(zscore_state *st, const zscore_params *p, const vg_window *w,
                        double *center, double *spread)
{
    /* One test for all three: NaN or inf in any makes the sum non-finite
     * (an overflowing sum of finite parts only costs a recompute). */
    if (st->n != w->len || st->since_recompute >= p->period ||
        !isfinite(st->shift + st->mean + st->m2))
        recompute(st, w);
    if (st->n < 2 || !isfinite(st->shift + st->mean + st->m2))
        return 0;
    *center = st->shift + st->mean;
    double inv = st->n == p->window_cap ? p->inv_cap_m1 : 1.0 / (st->n - 1);
    *spread = sqrt((st->m2 > 0.0 ? st->m2 : 0.0) * inv);
    return 1;
}

/* Moves mean and m2 to the window after the pipeline pushes finite value
 * into w. */
static void moment_update(zscore_state *st, const zscore_params *p, const vg_window *w,
                          double value)
{
    if (st->n == 0)
        st->shift = value;
    double x = value - st->shift;
    if (vg_window_full(w)) {
        double old = vg_window_oldest(w) - st->shift;
        double inv = st->n == p->window_cap ? p->inv_cap : 1.0 / st->n;
        double mean = st->mean + (x - old) * inv;
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

/* Median and scaled MAD of the window's finite values; 0 until there are
 * two. The sorted copy is rebuilt whenever it is out of step with the
 * window: after load (it is not saved) or if it ever drifted. */
static int robust_stats(zscore_state *st, const vg_window *w, double *center, double *spread)
{
    vg_sorted *s = sorted_of(st);
    robust_tail *rt = robust_of(st);
    if ((uint64_t)s->len + rt->nonfinite != w->len)
        rt->nonfinite = vg_sorted_rebuild(s, vg_window_raw(w), w->len);
    if (s->len < 2)
        return 0;
    *center = vg_sorted_median(s);
    *spread = MAD_TO_STD * vg_sorted_mad(s, *center);
    return 1;
}

static void robust_update(zscore_state *st, const vg_window *w, double value)
{
    vg_sorted *s = sorted_of(st);
    robust_tail *rt = robust_of(st);
    if (vg_window_full(w)) {
        double old = vg_window_oldest(w);
        int gone = isfinite(old) ? vg_sorted_remove(s, old) == 0 : rt->nonfinite > 0;
        if (!gone) {
            /* Out of step: robust_stats rebuilds it next time. */
            s->len = 0;
            rt->nonfinite = 0;
            return;
        }
        if (!isfinite(old))
            rt->nonfinite--;
    }
    if (isfinite(value))
        vg_sorted_insert(s, value);
    else
        rt->nonfinite++;
}

/* Moves the state to the window after the pipeline pushes value into w. */
static void update(zscore_state *st, const zscore_params *p, const vg_window *w, int64_t ts,
                   double value)
{
    if (isfinite(value))
        vg_range_push(&st->long_run, ts, value);
    if (p->robust)
        robust_update(st, w, value);
    else if (isfinite(value))
        moment_update(st, p, w, value);
    else
        st->since_recompute = p->period;   /* resync from the window next time */
    st->seen++;
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
    why->expected = why->lower = why->upper = NAN;
    if (!isfinite(value)) {
        set_detail(why, "not a finite value");
        update(st, p, w, ts_ms, value);
        return 0.0;
    }
    double center, spread, score = 0.0;
    int ready = p->robust ? robust_stats(st, w, &center, &spread)
                          : moment_stats(st, p, w, &center, &spread);
    if (st->seen < p->warmup || !ready) {
        set_detail(why, "warming up");
    } else {
        double lo, hi;
        double floor = max2(p->min_std, p->rel_std_floor * fabs(center));
        if (vg_range_get(&st->long_run, &lo, &hi))
            floor = max2(floor, p->range_floor * (hi - lo));
        spread = max2(spread, floor);
        double dev = value - center;
        double z = spread > 0.0 ? dev / spread : (dev == 0.0 ? 0.0 : copysign(INFINITY, dev));
        score = vg_normal_tail_score(fabs(z));
        why->expected = center;
        why->lower = center - p->k * spread;
        why->upper = center + p->k * spread;
        format_z(why, z);
    }
    update(st, p, w, ts_ms, value);
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
    vg_writer_f64(out, st->m2);
    return vg_range_save(&st->long_run, out);
}

static int zscore_load(void *state, const void *params, vg_reader *in, vg_error *err)
{
    const zscore_params *p = params;
    zscore_state st = {0};
    vg_reader_u64(in, &st.seen);
    vg_reader_u32(in, &st.n);
    vg_reader_u32(in, &st.since_recompute);
    vg_reader_f64(in, &st.shift);
    vg_reader_f64(in, &st.mean);
    if (vg_reader_f64(in, &st.m2) != 0)
        return vg_error_set(err, VG_EPARSE, "zscore: state truncated");
    vg_range_init(&st.long_run, VG_RANGE_DAY_MS, VG_RANGE_MAX_BUCKETS);
    if (vg_range_load(&st.long_run, in, err) != VG_OK)
        return VG_EPARSE;
    if (st.since_recompute > p->period)
        return vg_error_set(err, VG_EPARSE, "zscore: %u updates since recompute, period is %u",
                            st.since_recompute, p->period);
    if (st.n > p->window_cap)
        return vg_error_set(err, VG_EPARSE, "zscore: %u values in a window of %u",
                            st.n, p->window_cap);
    *(zscore_state *)state = st;
    if (p->robust) {  /* not saved: rebuilt from the window on first use */
        *robust_of(state) = (robust_tail){0};
        vg_sorted_init(sorted_of(state), p->window_cap);
    }
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
    .fields      = zscore_fields,
    .n_fields    = VG_CONF_COUNT(zscore_fields),
};
