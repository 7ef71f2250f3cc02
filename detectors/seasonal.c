/* The seasonal detector: additive Holt-Winters with Brutlag confidence
 * bands, scored by how far a point falls outside its band.
 *
 * Per series it keeps a level, a trend, and for each slot of the season a
 * seasonal offset and a deviation (Brutlag's smoothed |residual|). The
 * forecast of a point is level + trend + seasonal[slot], its band is
 * forecast +- delta * deviation[slot], where a slot's deviation is lifted to
 * the mean of its 5 nearest slots when that is larger (see band_dev).
 *
 * Life of a series:
 *  - training: the first `training` values (1440: 5 days of 5-minute
 *    points), or fewer once they span `training_days` (28: 4 weeks of
 *    hourly points, enough for a weekly season), are buffered as floats
 *    while a plain level + trend model with one deviation scores them, so
 *    a new series is watched from its 32nd point on. When training ends the
 *    season length is the configured one or vg_period_find()'s, snapped to
 *    an hour, a day or a week of steps when it is within 4% of one (the
 *    autocorrelation places a long season over few cycles only to a point
 *    or two). The season's first values come from per-cycle averages, then
 *    the buffer is replayed through the model.
 *  - running: one Holt-Winters step per point. No season found: the level +
 *    trend model goes on alone.
 * The training buffer and the seasonal arrays never live at the same time,
 * so they share one block: a series costs the larger of the two. With the
 * defaults (training 1440 floats, max_period 360 = the longest season the
 * search can find in 1440 points) both take 5760 bytes.
 *
 * Time: the step between points is the median of the first 15 positive
 * gaps (until then every point counts as one step, whatever its time). A
 * point k steps after the previous one advances the season by k slots; the
 * level follows the trend over the missing steps (at most one
 * season of them; past that the trend is too stale and is dropped). A
 * point at or before the previous timestamp is scored against the previous
 * forecast and not learnt, so replays and duplicates cannot shift the phase.
 *
 * Learning anomalies: each update sees the point clipped to `clamp` bands
 * around the forecast (Huber-style), so a spike moves the model by at most
 * alpha * clamp band widths, while a lasting change is still followed as
 * the deviations widen by up to (clamp * delta - 1) * dev_gamma per cycle.
 *
 * Score: u = |residual| / band half-width, read as a normal deviate
 * z = u * delta / sqrt(pi / 2) (the band's half-width is that many standard
 * deviations, since E|e| = sigma * sqrt(2 / pi)); the score is the
 * two-sided normal tail of z (normal_tail.h), 1 - p as for zscore: about
 * 0.98 on the band's edge with the default delta, and in log space far
 * outside. The band is floored at range_floor standard deviations of the
 * range the series has shown over 28 days (range.h): on a mostly-zero
 * series the band of zeros has no width, and its usual blip is not a
 * 1e12-band event. */
#include <float.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "detectors/detector.h"
#include "detectors/normal_tail.h"
#include "detectors/period.h"
#include "detectors/range.h"

#define MIN_TRAINING   64
#define MAX_TRAINING   4096
#define MAX_PERIOD     2048
#define WARMUP         32  /* points before the first score */
#define STEP_SAMPLES   15  /* gaps whose median is the step; odd */
#define NO_SEASON_AGE  32  /* missing steps the trend is followed without a season */
#define SNAP_SHARE     25  /* snap to a calendar season within 1/25 (4%) */
#define DEV_SPREAD     2   /* neighbours on each side pooled into a band */

enum { MODE_TRAINING = 0, MODE_RUNNING = 1 };

typedef struct seasonal_params {
    uint32_t period;      /* 0: found from the training buffer */
    uint32_t max_period;  /* sizes the seasonal arrays */
    uint32_t training;    /* points buffered before the season search */
    double   training_days;  /* ...or fewer, once they span this long */
    double   alpha, beta, gamma;
    double   delta;       /* band half-width in deviations */
    double   dev_gamma;   /* smoothing of the deviations */
    double   clamp;       /* updates see the point clipped to this many bands; 0: off */
    double   range_floor; /* floor on the deviation, share of the 28-day range */
    double   z_per_band;  /* derived: delta / sqrt(pi / 2) */
    double   span_ms;     /* derived: training_days in ms; 0: off */
} seasonal_params;

static const vg_conf_field seasonal_fields[] = {
    {"period", VG_CONF_UINT32, offsetof(seasonal_params, period), 0, 0, MAX_PERIOD, NULL,
     "season length in points; 0 finds it from the training buffer"},
    {"max_period", VG_CONF_UINT32, offsetof(seasonal_params, max_period), 360, 2, MAX_PERIOD,
     NULL, "longest season a series can hold (fixes the bytes per series)"},
    {"training", VG_CONF_UINT32, offsetof(seasonal_params, training), 1440, MIN_TRAINING, MAX_TRAINING,
     NULL, "points buffered before the season search: a season needs 4 cycles in it"},
    {"training_days", VG_CONF_DOUBLE, offsetof(seasonal_params, training_days), 28, 0, 3650,
     NULL, "training also ends once it spans this many days (and 64 points); 0: off"},
    {"alpha", VG_CONF_DOUBLE, offsetof(seasonal_params, alpha), 0.2, 1e-4, 1, NULL,
     "level smoothing"},
    {"beta", VG_CONF_DOUBLE, offsetof(seasonal_params, beta), 0.01, 0, 1, NULL,
     "trend smoothing"},
    {"gamma", VG_CONF_DOUBLE, offsetof(seasonal_params, gamma), 0.1, 0, 1, NULL,
     "seasonal smoothing (each slot is updated once per season)"},
    {"delta", VG_CONF_DOUBLE, offsetof(seasonal_params, delta), 3, 0.5, 20, NULL,
     "band half-width in deviations (Brutlag: 2 to 3)"},
    {"dev_gamma", VG_CONF_DOUBLE, offsetof(seasonal_params, dev_gamma), 0.07, 1e-4, 1, NULL,
     "deviation smoothing"},
    {"clamp", VG_CONF_DOUBLE, offsetof(seasonal_params, clamp), 2, 0, 1000, NULL,
     "updates see the point clipped to this many band widths; 0: no clipping"},
    {"range_floor", VG_CONF_DOUBLE, offsetof(seasonal_params, range_floor), 0.01, 0, 1, NULL,
     "floor on the band's standard deviation as a fraction of the range of the last 28 days"},
};

typedef struct seasonal_state {
    /* What every point reads, in the first 64 bytes. */
    int64_t  last_ts;
    int64_t  step;                  /* ms between points; 0 until measured */
    double   level, trend;
    double   last_expected, last_band;
    uint32_t mode;
    uint32_t period;                /* 0: no season */
    uint32_t phase;                 /* slot of the last point */
    uint32_t n;                     /* training: values buffered */
    double   dev;                   /* the deviation without a season */
    uint32_t n_gaps;
    uint32_t seen;                  /* points, saturating at WARMUP */
    int64_t  gaps[STEP_SAMPLES];    /* the first positive gaps */
    vg_range long_run;              /* the last 28 days' extremes, for the floor */
    /* training: float values[training]; running: {seasonal, deviation}
     * per slot. Doubles, for alignment. */
    double   region[];
} seasonal_state;

/* Bytes of the shared training / season block. */
static size_t region_bytes(const seasonal_params *p)
{
    size_t season = (size_t)p->max_period * 2 * sizeof(double);
    size_t train = (size_t)p->training * sizeof(float);
    size_t bytes = season > train ? season : train;
    return (bytes + sizeof(double) - 1) / sizeof(double) * sizeof(double);
}

static float *train_buf(seasonal_state *st)
{
    return (float *)st->region;
}

static int field_error(const vg_conf_doc *doc, const json_t *cfg, const char *key,
                       vg_error *err, const char *msg)
{
    char where[64];
    vg_conf_where(doc, cfg, key, 0, where, sizeof(where));
    return vg_error_set_at(err, VG_ECONFIG, where, "detectors.seasonal.%s: %s", key, msg);
}

static int seasonal_configure(void *params, const vg_conf_doc *doc, const json_t *cfg,
                              uint32_t window_cap, vg_error *err)
{
    seasonal_params *p = params;
    (void)window_cap;  /* the model keeps its own history */
    int rc = vg_conf_apply(doc, cfg, "detectors.seasonal", seasonal_fields,
                           VG_CONF_COUNT(seasonal_fields), NULL, p, err);
    if (rc != 0)
        return rc;
    if (p->period == 1)
        return field_error(doc, cfg, "period", err, "must be 0 (found) or at least 2");
    if (p->period > p->max_period)
        return field_error(doc, cfg, "period", err, "must not exceed max_period");
    if (p->period > 0 && p->training < 2 * p->period)
        return field_error(doc, cfg, "training", err, "must hold two seasons of the period");
    p->z_per_band = p->delta / sqrt(M_PI / 2.0);
    p->span_ms = p->training_days * 86400000.0;
    return 0;
}

static size_t seasonal_state_size(const void *params)
{
    return sizeof(seasonal_state) + region_bytes(params);
}

static void seasonal_init(void *state, const void *params, uint64_t seed)
{
    seasonal_state *st = state;
    (void)seed;  /* no random choices */
    memset(state, 0, seasonal_state_size(params));
    vg_range_init(&st->long_run, VG_RANGE_DAY_MS, VG_RANGE_MAX_BUCKETS);
}

/* ---- time ---------------------------------------------------------------- */

static int64_t median_gap(int64_t *g, size_t n)
{
    for (size_t i = 1; i < n; i++)  /* insertion sort: 15 values, once */
        for (size_t j = i; j > 0 && g[j - 1] > g[j]; j--) {
            int64_t t = g[j - 1];
            g[j - 1] = g[j];
            g[j] = t;
        }
    return g[n / 2];
}

/* Steps from the last point to ts: 0 for a point at, before or too close
 * after it (it shares the last slot). Learns the step from the first gaps;
 * until then every point is one step, so a series whose timestamps never
 * move is still taken in arrival order. */
static uint64_t steps_to(seasonal_state *st, int64_t ts)
{
    if (ts <= st->last_ts)
        return st->step == 0 ? 1 : 0;
    uint64_t dt = (uint64_t)ts - (uint64_t)st->last_ts;  /* no signed overflow */
    if (st->step == 0) {
        if (dt <= (uint64_t)INT64_MAX)
            st->gaps[st->n_gaps++] = (int64_t)dt;
        if (st->n_gaps == STEP_SAMPLES)
            st->step = median_gap(st->gaps, STEP_SAMPLES);
        return 1;
    }
    uint64_t step = (uint64_t)st->step;
    if (dt == step)
        return 1;
    return dt / step + (dt % step >= step - step / 2 ? 1 : 0);  /* round, no overflow */
}

/* Follows the trend over `missing` steps without points. */
static void age(seasonal_state *st, uint64_t missing)
{
    uint64_t horizon = st->period ? st->period : NO_SEASON_AGE;
    st->level += st->trend * (double)(missing < horizon ? missing : horizon);
    if (missing > horizon)
        st->trend = 0.0;
}

/* ---- model --------------------------------------------------------------- */

typedef struct hw_out {
    double expected, band, resid;
} hw_out;

/* The deviation a slot's band uses: its own, or the mean over it and its
 * DEV_SPREAD neighbours on each side when that is larger. A slot's own
 * deviation rests on one residual per season, so some slots run well below
 * the noise; the neighbours' mean lifts those, while a slot that is really
 * noisier than its neighbours (a nightly job) keeps its own. */
static double band_dev(const seasonal_state *st, uint32_t phase)
{
    const double *slots = st->region;
    uint32_t period = st->period;
    double sum = slots[2 * phase + 1];
    for (uint32_t j = 1; j <= DEV_SPREAD; j++) {
        uint32_t up = phase + j >= period ? phase + j - period : phase + j;
        uint32_t down = phase >= j ? phase - j : phase + period - j;
        sum += slots[2 * up + 1] + slots[2 * down + 1];
    }
    double mean = sum / (2 * DEV_SPREAD + 1);
    return mean > slots[2 * phase + 1] ? mean : slots[2 * phase + 1];
}

/* One Holt-Winters step for value y, `k` >= 1 steps after the last point,
 * in the slot st->phase, or without a season when !seasonal (st->dev is
 * the deviation). dev_rate smooths the deviation; clip enables the clamp. */
static void hw_step(seasonal_state *st, const seasonal_params *p, int seasonal, uint64_t k,
                    double y, double dev_rate, int clip, hw_out *o)
{
    if (k > 1)
        age(st, k - 1);
    double *slot = seasonal ? st->region + 2 * st->phase : NULL;
    double s = slot ? slot[0] : 0.0;
    double *dev = slot ? &slot[1] : &st->dev;
    double fc = st->level + st->trend + s;
    double w = p->delta * (slot ? band_dev(st, st->phase) : st->dev);
    double e = y - fc;
    o->expected = fc;
    o->band = w;
    o->resid = e;

    double lim = p->clamp * w;
    if (clip && lim > 0.0 && fabs(e) > lim)
        e = copysign(lim, e);
    double yc = fc + e;
    double prev = st->level;
    st->level = p->alpha * (yc - s) + (1.0 - p->alpha) * (prev + st->trend);
    st->trend = p->beta * (st->level - prev) + (1.0 - p->beta) * st->trend;
    if (slot)
        slot[0] = p->gamma * (yc - st->level) + (1.0 - p->gamma) * s;
    *dev += dev_rate * (fabs(e) - *dev);
}

/* ---- scores and explanations ---------------------------------------------- */

/* u: |residual| in band half-widths. A half-width is delta deviations and
 * a deviation estimates E|e| = sigma * sqrt(2 / pi), so |e| / sigma is
 * u * z_per_band; the score is its two-sided normal tail, like zscore's:
 * 1 - p with p honest on normal residuals, which is what the ensemble's
 * calibration and the alert threshold assume of every detector. */
static double band_score(const seasonal_params *p, double u)
{
    return vg_normal_tail_score(u * p->z_per_band);
}

/* Appends v's decimal digits. */
static char *put_uint(char *out, uint32_t v)
{
    char digits[10];
    int n = 0;
    do {
        digits[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v > 0);
    while (n > 0)
        *out++ = digits[--n];
    return out;
}

/* Appends v as "+3.1" (one decimal, sign always), |v| < 1e6. */
static char *put_tenths(char *out, double v)
{
    uint32_t tenths = (uint32_t)(fabs(v) * 10.0 + 0.5);
    *out++ = signbit(v) ? '-' : '+';
    out = put_uint(out, tenths / 10);
    *out++ = '.';
    *out++ = (char)('0' + tenths % 10);
    return out;
}

static char *put_text(char *out, const char *text, size_t len)
{
    memcpy(out, text, len);
    return out + len;
}

/* "P=288 +3.1 bands", "no season -0.4 bands", "training +5.0 bands",
 * by hand: printf would cost more than the whole model step. */
static void explain_bands(const seasonal_state *st, double bands, vg_explain *why)
{
    if (!(fabs(bands) < 1e6)) {
        snprintf(why->detail, sizeof(why->detail), "%s %+.3g bands",
                 st->period ? "season" : "no season", bands);
        return;
    }
    char *out = why->detail;
    if (st->mode == MODE_TRAINING) {
        out = put_text(out, "training ", 9);
    } else if (st->period == 0) {
        out = put_text(out, "no season ", 10);
    } else {
        out = put_text(out, "P=", 2);
        out = put_uint(out, st->period);
        *out++ = ' ';
    }
    out = put_tenths(out, bands);
    memcpy(out, " bands", 7);
}

/* Scores a residual against a band and explains it. */
static double judge(const seasonal_state *st, const seasonal_params *p, double expected,
                    double band, double resid, vg_explain *why)
{
    /* A flat series has no band: only rounding-sized changes are normal,
     * or changes small against the range of the last 28 days. */
    double floor = 1e-9 * fabs(expected), lo, hi;
    if (vg_range_get(&st->long_run, &lo, &hi) && p->range_floor * p->z_per_band * (hi - lo) > floor)
        floor = p->range_floor * p->z_per_band * (hi - lo);
    double w = band > floor ? band : floor;
    double bands = w > 0.0 ? resid / w : (resid == 0.0 ? 0.0 : copysign(1e12, resid));
    if (fabs(bands) > 1e12)
        bands = copysign(1e12, bands);
    why->expected = expected;
    why->lower = expected - band;
    why->upper = expected + band;
    explain_bands(st, bands, why);
    return band_score(p, fabs(bands));
}

static double not_scored(vg_explain *why, const char *detail)
{
    why->expected = why->lower = why->upper = NAN;
    snprintf(why->detail, sizeof(why->detail), "%s", detail);
    return 0.0;
}

/* ---- training ------------------------------------------------------------ */

/* Snaps a found season to an hour, day or week of steps when it is within
 * 1/SNAP_SHARE of one. The measured step may be off by a little jitter
 * (299998 ms for 5 minutes), so a calendar season is any whole number of
 * steps within 1% of it. */
static uint32_t snap_to_calendar(uint32_t period, int64_t step, uint32_t max_period)
{
    static const double calendar_ms[] = {3600000.0, 86400000.0, 604800000.0};
    if (period == 0 || step <= 0)
        return period;
    for (size_t i = 0; i < sizeof(calendar_ms) / sizeof(calendar_ms[0]); i++) {
        double steps = calendar_ms[i] / (double)step;
        double cal = floor(steps + 0.5);
        if (cal < 2.0 || cal > max_period || fabs(steps - cal) > 0.01 * cal)
            continue;
        if (fabs(cal - period) <= 1.0 + floor(cal / SNAP_SHARE))
            return (uint32_t)cal;
    }
    return period;
}

static double cycle_mean(const float *x, uint32_t c, uint32_t period)
{
    double sum = 0.0;
    for (uint32_t f = 0; f < period; f++)
        sum += x[c * period + f];
    return sum / period;
}

/* Starts the season from x[0..n): per-cycle means give the level and
 * trend, the mean offset of each slot from its cycle's mean the seasonal
 * values, the mean absolute in-sample error every deviation; then x is
 * replayed through the model. */
static void start_season(seasonal_state *st, const seasonal_params *p, const float *x,
                         uint32_t n, uint32_t period)
{
    double *slots = st->region;
    uint32_t cycles = n / period;
    double first = 0.0, last = 0.0;
    memset(slots, 0, (size_t)period * 2 * sizeof(double));
    for (uint32_t c = 0; c < cycles; c++) {
        double mean = cycle_mean(x, c, period);
        for (uint32_t f = 0; f < period; f++)
            slots[2 * f] += (x[c * period + f] - mean) / cycles;
        if (c == 0)
            first = mean;
        last = mean;
    }
    double abs_err = 0.0;
    for (uint32_t c = 0; c < cycles; c++) {
        double mean = cycle_mean(x, c, period);
        for (uint32_t f = 0; f < period; f++)
            abs_err += fabs(x[c * period + f] - mean - slots[2 * f]);
    }
    /* In-sample errors run low: the profile was fitted to them. */
    abs_err /= (double)cycles * period;
    abs_err *= sqrt((double)cycles / (cycles - 1));
    for (uint32_t f = 0; f < period; f++)
        slots[2 * f + 1] = abs_err;

    st->trend = (last - first) / ((double)(cycles - 1) * period);
    st->level = first - st->trend * (period + 1) / 2.0;  /* just before x[0] */
    st->period = period;
    st->phase = period - 1;
    hw_out o = {0};
    for (uint32_t i = 0; i < n; i++) {
        st->phase = st->phase + 1 == period ? 0 : st->phase + 1;
        hw_step(st, p, 1, 1, x[i], p->dev_gamma, 1, &o);
    }
    st->last_expected = o.expected;
    st->last_band = o.band;
}

/* Ends training: finds the season and starts it, or goes on without one.
 * Not inlined: its scratch (~110 KiB of stack) must not weigh on score(). */
static __attribute__((noinline)) void finish_training(seasonal_state *st,
                                                      const seasonal_params *p)
{
    float x[MAX_TRAINING];
    double work[3 * MAX_TRAINING];
    uint32_t n = st->n;
    vg_assert(n <= MAX_TRAINING && vg_period_work_len(n) <= 3 * MAX_TRAINING);
    memcpy(x, train_buf(st), n * sizeof(float));

    uint32_t period = p->period;
    if (period == 0) {
        for (uint32_t i = 0; i < n; i++)
            work[i] = x[i];
        vg_period_result r;
        vg_period_find_inplace(work, n, 2, p->max_period, &r);
        period = snap_to_calendar((uint32_t)r.period, st->step, p->max_period);
    }
    st->mode = MODE_RUNNING;
    st->n = 0;
    if (period == 0 || n < 2 * period) {
        memset(st->region, 0, region_bytes(p));
        return;  /* the level + trend model goes on */
    }
    start_season(st, p, x, n, period);
}

/* y as a float, saturated (a double past FLT_MAX does not convert). */
static float to_float(double y)
{
    return y > FLT_MAX ? FLT_MAX : y < -FLT_MAX ? -FLT_MAX : (float)y;
}

/* Buffers y, `k` steps after the last buffered value, filling the missing
 * steps linearly so buffer index and season slot stay aligned. */
static void buffer_value(seasonal_state *st, const seasonal_params *p, uint64_t k, double y)
{
    float *buf = train_buf(st);
    if (st->n > 0 && k > 1) {
        double from = buf[st->n - 1];
        for (uint64_t j = 1; j < k && st->n < p->training; j++)
            buf[st->n++] = to_float(from + (y - from) * (double)j / (double)k);
    }
    if (st->n < p->training)
        buf[st->n++] = to_float(y);
}

/* ---- the ops ------------------------------------------------------------- */

/* Starts the series (again) at this point. */
static double first_point(seasonal_state *st, const seasonal_params *p, int64_t ts_ms,
                          double value, vg_explain *why, const char *detail)
{
    seasonal_init(st, p, 0);
    st->last_ts = ts_ms;
    st->level = value;
    st->seen = 1;
    buffer_value(st, p, 1, value);
    return not_scored(why, detail);
}

/* Values near DBL_MAX (or a corrupt load) can overflow the model; it then
 * starts over rather than forecasting NaN for ever. */
static int out_of_range(const seasonal_state *st, const hw_out *o)
{
    return !isfinite(st->level) || !isfinite(st->trend) || !isfinite(o->expected) ||
           !isfinite(o->band);
}

/* Scores and learns one finite value. */
static double score_point(seasonal_state *st, const seasonal_params *p, int64_t ts_ms,
                          double value, vg_explain *why)
{
    if (st->seen == 0)
        return first_point(st, p, ts_ms, value, why, "warming up");
    uint64_t k = steps_to(st, ts_ms);
    if (k == 0) {
        /* Same slot as the last point: judged by its forecast, not learnt. */
        if (st->seen < WARMUP)
            return not_scored(why, "warming up");
        return judge(st, p, st->last_expected, st->last_band, value - st->last_expected, why);
    }
    if (ts_ms > st->last_ts)
        st->last_ts = ts_ms;

    hw_out o;
    if (st->mode == MODE_RUNNING) {
        if (st->period) {
            uint32_t ahead = k == 1 ? 1 : (uint32_t)(k % st->period);
            st->phase = st->phase + ahead >= st->period ? st->phase + ahead - st->period
                                                         : st->phase + ahead;
        }
        hw_step(st, p, st->period != 0, k, value, p->dev_gamma, 1, &o);
        if (out_of_range(st, &o))
            return first_point(st, p, ts_ms, value, why, "restarted: out of range");
        st->last_expected = o.expected;
        st->last_band = o.band;
        return judge(st, p, o.expected, o.band, o.resid, why);
    }

    /* Training: the level + trend model scores while the buffer fills. The
     * deviation is a plain mean of the first residuals. */
    int warm = st->seen >= WARMUP;
    if (!warm)
        st->seen++;
    hw_step(st, p, 0, k, value, warm ? p->dev_gamma : 1.0 / (st->seen - 1), warm, &o);
    if (out_of_range(st, &o))
        return first_point(st, p, ts_ms, value, why, "restarted: out of range");
    st->last_expected = o.expected;
    st->last_band = o.band;
    double score = warm ? judge(st, p, o.expected, o.band, o.resid, why)
                        : not_scored(why, "warming up");
    buffer_value(st, p, k, value);
    if (st->n == p->training || (p->span_ms > 0.0 && st->step > 0 && st->n >= MIN_TRAINING &&
                                 st->n >= 2 * p->period &&
                                 (double)st->n * (double)st->step >= p->span_ms))
        finish_training(st, p);
    return score;
}

static double seasonal_score(void *state, const void *params, const vg_window *w,
                             int64_t ts_ms, double value, vg_explain *why)
{
    seasonal_state *st = state;
    (void)w;  /* the model keeps its own history */
    if (!isfinite(value))
        return not_scored(why, "not a finite value");
    /* A restart (first_point) must not forget the range: kept aside. */
    vg_range long_run = st->long_run;
    double score = score_point(st, params, ts_ms, value, why);
    st->long_run = long_run;
    /* Learnt after the score, so a spike does not widen its own floor. */
    vg_range_push(&st->long_run, ts_ms, value);
    return score;
}

static int seasonal_save(const void *state, const void *params, vg_writer *out)
{
    const seasonal_state *st = state;
    (void)params;  /* the block sizes are in the state */
    vg_writer_u32(out, st->mode);
    vg_writer_u32(out, st->period);
    vg_writer_u32(out, st->phase);
    vg_writer_u32(out, st->n);
    vg_writer_u32(out, st->n_gaps);
    vg_writer_u32(out, st->seen);
    vg_writer_i64(out, st->last_ts);
    vg_writer_i64(out, st->step);
    for (uint32_t i = 0; i < st->n_gaps; i++)
        vg_writer_i64(out, st->gaps[i]);
    vg_writer_f64(out, st->level);
    vg_writer_f64(out, st->trend);
    vg_writer_f64(out, st->dev);
    vg_writer_f64(out, st->last_expected);
    vg_writer_f64(out, st->last_band);
    vg_range_save(&st->long_run, out);
    if (st->mode == MODE_TRAINING) {
        const float *buf = (const float *)st->region;
        for (uint32_t i = 0; i < st->n; i++) {
            uint32_t bits;
            memcpy(&bits, &buf[i], sizeof(bits));
            vg_writer_u32(out, bits);
        }
    } else {
        vg_writer_f64s(out, st->region, (size_t)st->period * 2);
    }
    return out->failed ? VG_ENOMEM : VG_OK;
}

static int seasonal_load(void *state, const void *params, vg_reader *in, vg_error *err)
{
    seasonal_state *st = state;
    const seasonal_params *p = params;
    vg_reader_u32(in, &st->mode);
    vg_reader_u32(in, &st->period);
    vg_reader_u32(in, &st->phase);
    vg_reader_u32(in, &st->n);
    vg_reader_u32(in, &st->n_gaps);
    vg_reader_u32(in, &st->seen);
    if (in->failed)
        goto out_short;
    if (st->mode > MODE_RUNNING || st->period == 1 || st->period > p->max_period ||
        st->phase >= (st->period ? st->period : 1) || st->n > p->training ||
        (st->mode == MODE_TRAINING && st->period != 0) || st->n_gaps > STEP_SAMPLES ||
        st->seen > WARMUP) {
        seasonal_init(state, params, 0);
        return vg_error_set(err, VG_EPARSE, "seasonal: saved state does not fit these params "
                            "(mode %u, period %u, max_period %u)",
                            st->mode, st->period, p->max_period);
    }
    vg_reader_i64(in, &st->last_ts);
    vg_reader_i64(in, &st->step);
    for (uint32_t i = 0; i < st->n_gaps; i++)
        vg_reader_i64(in, &st->gaps[i]);
    vg_reader_f64(in, &st->level);
    vg_reader_f64(in, &st->trend);
    vg_reader_f64(in, &st->dev);
    vg_reader_f64(in, &st->last_expected);
    vg_reader_f64(in, &st->last_band);
    vg_range_init(&st->long_run, VG_RANGE_DAY_MS, VG_RANGE_MAX_BUCKETS);
    if (vg_range_load(&st->long_run, in, err) != VG_OK)
        goto out_short;
    if (st->mode == MODE_TRAINING) {
        float *buf = train_buf(st);
        for (uint32_t i = 0; i < st->n; i++) {
            uint32_t bits;
            vg_reader_u32(in, &bits);
            memcpy(&buf[i], &bits, sizeof(bits));
        }
    } else {
        vg_reader_f64s(in, st->region, (size_t)st->period * 2);
    }
    if (in->failed || st->step < 0)
        goto out_short;
    return VG_OK;

out_short:
    seasonal_init(state, params, 0);
    return vg_error_set(err, VG_EPARSE, "seasonal: saved state is truncated or corrupt");
}

const vg_detector_ops vg_seasonal_ops = {
    .name        = "seasonal",
    .params_size = sizeof(seasonal_params),
    .configure   = seasonal_configure,
    .state_size  = seasonal_state_size,
    .init        = seasonal_init,
    .score       = seasonal_score,
    .save        = seasonal_save,
    .load        = seasonal_load,
    .fields      = seasonal_fields,
    .n_fields    = VG_CONF_COUNT(seasonal_fields),
};
