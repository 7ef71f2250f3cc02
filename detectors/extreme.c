/* The new-extreme detector: a value far beyond the range the series has
 * shown over hours, a day and a month is anomalous, however long ago the
 * short windows of the other detectors adapted to it. This is the
 * "spatial anomaly" rule of NAB's HTM detector, measured in time rather
 * than in points, with the magnitude kept.
 *
 * Three bucketed ranges (range.h) are defined: the last hour in 5-minute
 * buckets, the last day in hours, the last 28 days in days. A series keeps
 * only the `horizons` longest ones, those scored (about 0.5 KiB each
 * whatever the sampling rate; 0.5 KiB with the default 28 days alone). For
 * each of them, a point beyond the range [lo, hi] by more than `tolerance`
 * of its width R is a new extreme, with excess e = distance / R - tolerance.
 * Its surprise is
 *     u = -log10(rate) + per_range * e
 * where rate is the share of the series' points so far that were new
 * extremes on that horizon (so a trending series, which makes new highs
 * all the time, is not surprised by one more), and per_range the decades
 * of surprise per range width beyond (so a spike 40 times the previous
 * maximum outranks every smaller one by tens of decades: the magnitude is
 * kept up to the ensemble). The score is vg_score_from_surprise of the
 * largest u over the horizons; 0 inside every range.
 *
 * R is floored at rel_floor times the range's largest |value| and at
 * min_range, so a near-flat series (a disk at 500.0 +- 0.1 GB) is judged
 * on a sensible scale, not on its rounding noise. */
#include <math.h>
#include <stddef.h>
#include <stdio.h>

#include "detectors/detector.h"
#include "detectors/range.h"

#define LEVELS 3
#define RATE_SPAN 100000.0   /* the rate is the plain mean up to this many points */

/* Hour, day, month: bucket length and count. Fixed, not configured: the
 * timescales are the operator's (what the series did this hour, today,
 * this month), not a property of one data set. */
static const struct level {
    int64_t     bucket_ms;
    uint32_t    n;
    const char *name;
} levels[LEVELS] = {
    {300000, 12, "1h"},
    {3600000, 24, "1d"},
    {VG_RANGE_DAY_MS, VG_RANGE_MAX_BUCKETS, "28d"},
};

typedef struct extreme_params {
    uint32_t warmup;     /* points before the first score */
    uint32_t horizons;   /* the longest horizons scored, 1..LEVELS */
    double   tolerance;  /* share of the range beyond it that is still normal */
    double   per_range;  /* decades of surprise per range width beyond */
    double   rel_floor;  /* floor on the range, share of its largest |value| */
    double   min_range;  /* absolute floor on the range */
} extreme_params;

static const vg_conf_field extreme_fields[] = {
    {"warmup", VG_CONF_UINT32, offsetof(extreme_params, warmup), 200, 2, 1e9, NULL,
     "points a series must have seen before it is scored"},
    {"horizons", VG_CONF_UINT32, offsetof(extreme_params, horizons), 1, 1, LEVELS, NULL,
     "how many of the ranges (28 days, 1 day, 1 hour, longest first) are scored"},
    {"tolerance", VG_CONF_DOUBLE, offsetof(extreme_params, tolerance), 0.05, 0, 10, NULL,
     "share of a range's width beyond it that is still normal"},
    {"per_range", VG_CONF_DOUBLE, offsetof(extreme_params, per_range), 10, 0, 1e6, NULL,
     "decades of surprise per range width beyond the range"},
    {"rel_floor", VG_CONF_DOUBLE, offsetof(extreme_params, rel_floor), 0.01, 0, 1, NULL,
     "floor on a range's width as a share of its largest absolute value"},
    {"min_range", VG_CONF_DOUBLE, offsetof(extreme_params, min_range), 1e-9, 0, 1e300, NULL,
     "absolute floor on a range's width"},
};

/* A horizon's range and the share of points that were new extremes on it. */
typedef struct horizon {
    double   rate;
    vg_range range;
} horizon;

/* horizon[j] is levels[LEVELS - horizons + j]: the longest last. */
typedef struct extreme_state {
    uint64_t seen;
    horizon  horizon[];
} extreme_state;

static const struct level *level_of(const extreme_params *p, uint32_t j)
{
    return &levels[LEVELS - p->horizons + j];
}

static int extreme_configure(void *params, const vg_conf_doc *doc, const json_t *cfg,
                             uint32_t window_cap, vg_error *err)
{
    (void)window_cap;   /* the ranges are measured in time */
    return vg_conf_apply(doc, cfg, "detectors.extreme", extreme_fields,
                         VG_CONF_COUNT(extreme_fields), NULL, params, err);
}

static size_t extreme_state_size(const void *params)
{
    const extreme_params *p = params;
    return sizeof(extreme_state) + p->horizons * sizeof(horizon);
}

static void extreme_init(void *state, const void *params, uint64_t seed)
{
    extreme_state *st = state;
    const extreme_params *p = params;
    (void)seed;   /* no random choices */
    st->seen = 0;
    for (uint32_t j = 0; j < p->horizons; j++) {
        st->horizon[j].rate = 0.0;
        vg_range_init(&st->horizon[j].range, level_of(p, j)->bucket_ms, level_of(p, j)->n);
    }
}

/* How far value lies beyond r, in floored widths past the tolerance; 0
 * inside. Fills lo and hi (NaN while r is empty). */
static double excess(const vg_range *r, const extreme_params *p, double value, double *lo,
                     double *hi)
{
    *lo = *hi = NAN;
    if (!vg_range_get(r, lo, hi))
        return 0.0;
    double big = fabs(*lo) > fabs(*hi) ? fabs(*lo) : fabs(*hi);
    double width = *hi - *lo;
    width = width > p->rel_floor * big ? width : p->rel_floor * big;
    width = width > p->min_range ? width : p->min_range;
    double d = value > *hi ? value - *hi : value < *lo ? *lo - value : 0.0;
    double e = d / width - p->tolerance;
    return e > 0.0 ? e : 0.0;
}

static double extreme_score(void *state, const void *params, const vg_window *w,
                            int64_t ts_ms, double value, vg_explain *why)
{
    extreme_state *st = state;
    const extreme_params *p = params;
    (void)w;   /* the ranges keep their own history */

    why->expected = why->lower = why->upper = NAN;
    why->detail[0] = '\0';
    if (!isfinite(value))
        return 0.0;
    double best = 0.0, best_e = 0.0;
    const char *best_name = NULL;
    double a = 1.0 / (st->seen < RATE_SPAN ? (double)st->seen + 1.0 : RATE_SPAN);
    for (uint32_t j = 0; j < p->horizons; j++) {
        horizon *h = &st->horizon[j];
        double lo, hi;
        double e = excess(&h->range, p, value, &lo, &hi);
        h->rate += a * ((e > 0.0 ? 1.0 : 0.0) - h->rate);
        if (j == p->horizons - 1) {
            why->lower = lo;
            why->upper = hi;
        }
        /* The rate includes this point, so it is never 0. */
        double u = e > 0.0 ? -log10(h->rate) + p->per_range * e : 0.0;
        if (u > best) {
            best = u;
            best_e = e;
            best_name = level_of(p, j)->name;
        }
    }
    for (uint32_t j = 0; j < p->horizons; j++)
        vg_range_push(&st->horizon[j].range, ts_ms, value);
    st->seen++;
    if (st->seen <= p->warmup || best_name == NULL)
        return 0.0;
    /* Rare (a new extreme), so printf's cost does not matter. */
    snprintf(why->detail, sizeof(why->detail), "beyond %s range by %.2f", best_name,
             best_e + p->tolerance);
    return vg_score_from_surprise(best);
}

static int extreme_save(const void *state, const void *params, vg_writer *out)
{
    const extreme_state *st = state;
    const extreme_params *p = params;
    vg_writer_u64(out, st->seen);
    for (uint32_t j = 0; j < p->horizons; j++) {
        vg_writer_f64(out, st->horizon[j].rate);
        vg_range_save(&st->horizon[j].range, out);
    }
    return out->failed ? VG_ENOMEM : VG_OK;
}

static int extreme_load(void *state, const void *params, vg_reader *in, vg_error *err)
{
    extreme_state *st = state;
    const extreme_params *p = params;
    extreme_init(st, params, 0);
    vg_reader_u64(in, &st->seen);
    for (uint32_t j = 0; j < p->horizons; j++) {
        horizon *h = &st->horizon[j];
        vg_reader_f64(in, &h->rate);
        if (vg_range_load(&h->range, in, err) != VG_OK)
            goto out_reset;
        if (!(h->rate >= 0.0 && h->rate <= 1.0)) {
            vg_error_set(err, VG_EPARSE, "extreme: rate %g out of [0, 1]", h->rate);
            goto out_reset;
        }
    }
    return VG_OK;

out_reset:
    extreme_init(st, params, 0);
    return VG_EPARSE;
}

const vg_detector_ops vg_extreme_ops = {
    .name        = "extreme",
    .params_size = sizeof(extreme_params),
    .configure   = extreme_configure,
    .state_size  = extreme_state_size,
    .init        = extreme_init,
    .score       = extreme_score,
    .save        = extreme_save,
    .load        = extreme_load,
    .fields      = extreme_fields,
    .n_fields    = VG_CONF_COUNT(extreme_fields),
};
