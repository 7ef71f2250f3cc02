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
 *  - training: the first `training` values (712: 2.5 days of 5-minute
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
 * defaults (training 712 floats, max_period 178 = the longest season the
 * search can find in 712 points) both take 2,848 bytes: daily and weekly
 * seasons at steps up to an hour are the calendar's (on by default), and
 * its 3 KiB are what the point season gave up (docs/quality.md, "Missing
 * daily peaks"; calendar off: 360 / 1,440 fit the same budget).
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
#include "detectors/seasonal_model.h"

/* explain_bands(): the calendar's CUSUM made the score. */
#define VG_CAL_SUSTAINED (VG_CAL_WEEKLY + 1)

static const vg_conf_field seasonal_fields[] = {
    {"period", VG_CONF_UINT32, offsetof(seasonal_params, period), 0, 0, MAX_PERIOD, NULL,
     "season length in points; 0 finds it from the training buffer"},
    {"max_period", VG_CONF_UINT32, offsetof(seasonal_params, max_period), 178, 2, MAX_PERIOD,
     NULL, "longest season a series can hold (fixes the bytes per series)"},
    {"training", VG_CONF_UINT32, offsetof(seasonal_params, training), 712, MIN_TRAINING, MAX_TRAINING,
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
    {"calendar", VG_CONF_BOOL, offsetof(seasonal_params, calendar), 1, 0, 1, NULL,
     "also learn a time-of-day and day-of-week season on clock buckets; it scores when found"},
    {"calendar_gain", VG_CONF_DOUBLE, offsetof(seasonal_params, calendar_gain), 0.9, 0, 100, NULL,
     "calendar: it scores a series only while its forecasts' mean |error| is under this share "
     "of the point model's (Holt-Winters'); 0: whenever it has found a season"},
    {"calendar_horizon", VG_CONF_DOUBLE, offsetof(seasonal_params, calendar_horizon), 60, 0, 1440,
     NULL, "calendar: minutes ahead its forecasts and the point model's are compared at "
     "(calendar_gain) as well as one step ahead; 0: one step only"},
    {"band_prior", VG_CONF_DOUBLE, offsetof(seasonal_params, band_prior), 3, 0, 1000, NULL,
     "calendar: days of visits a bucket's band is widened toward the mean band by, against its "
     "own; 0: off"},
    /* 14: of 10-15 the best alone on NAB held out (70.02); 12-15 are all
     * at least main's held out, 10 is below (docs/quality.md, "branch
     * q-peak8"). */
    {"sustain", VG_CONF_DOUBLE, offsetof(seasonal_params, sustain), 14, 0, 300, NULL,
     "calendar: a deviation from its season sustained enough to be this rare (decades of "
     "tail, by a CUSUM) scores while its evidence grows; 0: off"},
};

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
    p->cal.alpha = p->alpha;
    p->cal.dev_gamma = p->dev_gamma;
    p->cal.clamp = p->clamp * p->delta;
    p->cal.band_prior = p->band_prior;
    p->cal.horizon = (int64_t)(p->calendar_horizon * 60000.0);
    return 0;
}

/* The calendar, when enabled, sits after the training / season block. */
static size_t model_bytes(const seasonal_params *p)
{
    return sizeof(seasonal_state) + vg__seasonal_region_bytes(p);
}

static size_t seasonal_state_size(const void *params)
{
    const seasonal_params *p = params;
    return model_bytes(p) + (p->calendar ? sizeof(vg_calendar) : 0);
}

static vg_calendar *calendar_of(seasonal_state *st, const seasonal_params *p)
{
    return p->calendar ? (vg_calendar *)((char *)st + model_bytes(p)) : NULL;
}

static void seasonal_init(void *state, const void *params, uint64_t seed)
{
    seasonal_state *st = state;
    (void)seed;  /* no random choices */
    memset(state, 0, seasonal_state_size(params));
    vg_range_init(&st->long_run, VG_RANGE_DAY_MS, VG_RANGE_MAX_BUCKETS);
    vg_calendar *cal = calendar_of(st, params);
    if (cal != NULL)
        vg_calendar_init(cal);
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
 * "daily +2.0 bands" (the calendar's season, `cal`), "sustained -2.0
 * bands" (the calendar's CUSUM), by hand: printf would cost more than the
 * whole model step. */
static void explain_bands(const seasonal_state *st, uint32_t cal, double bands, vg_explain *why)
{
    if (!(fabs(bands) < 1e6)) {
        snprintf(why->detail, sizeof(why->detail), "%s %+.3g bands",
                 st->period ? "season" : "no season", bands);
        return;
    }
    char *out = why->detail;
    if (cal == VG_CAL_SUSTAINED) {
        out = put_text(out, "sustained ", 10);
    } else if (cal != VG_CAL_NONE) {
        out = cal == VG_CAL_DAILY ? put_text(out, "daily ", 6) : put_text(out, "weekly ", 7);
    } else if (st->mode == MODE_TRAINING) {
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

/* A residual in band half-widths: the band floored, since a flat series
 * has no band (only rounding-sized changes are normal, or changes small
 * against the range of the last 28 days). Bounded by 1e12. */
static double in_bands(const seasonal_state *st, const seasonal_params *p, double expected,
                       double band, double resid)
{
    double floor = 1e-9 * fabs(expected), lo, hi;
    if (vg_range_get(&st->long_run, &lo, &hi) && p->range_floor * p->z_per_band * (hi - lo) > floor)
        floor = p->range_floor * p->z_per_band * (hi - lo);
    double w = band > floor ? band : floor;
    double bands = w > 0.0 ? resid / w : (resid == 0.0 ? 0.0 : copysign(1e12, resid));
    return fabs(bands) > 1e12 ? copysign(1e12, bands) : bands;
}

static void explain_band(const seasonal_state *st, uint32_t cal, double expected, double band,
                         double bands, vg_explain *why)
{
    why->expected = expected;
    why->lower = expected - band;
    why->upper = expected + band;
    explain_bands(st, cal, bands, why);
}

/* Scores a residual against a band and explains it; cal names the
 * calendar's season when the band is the calendar's. */
static double judge(const seasonal_state *st, const seasonal_params *p, uint32_t cal,
                    double expected, double band, double resid, vg_explain *why)
{
    double bands = in_bands(st, p, expected, band, resid);
    explain_band(st, cal, expected, band, bands, why);
    return band_score(p, fabs(bands));
}

static double not_scored(vg_explain *why, const char *detail)
{
    why->expected = why->lower = why->upper = NAN;
    snprintf(why->detail, sizeof(why->detail), "%s", detail);
    return 0.0;
}

/* ---- the ops ------------------------------------------------------------- */

/* Starts the series (again) at this point. */
static double first_point(seasonal_state *st, const seasonal_params *p, int64_t ts_ms,
                          double value, vg_explain *why, const char *detail)
{
    /* The model starts over; the range and the calendar are kept. */
    vg_range long_run = st->long_run;
    memset(st, 0, model_bytes(p));
    st->long_run = long_run;
    st->last_ts = ts_ms;
    st->level = value;
    st->seen = 1;
    vg__seasonal_buffer_value(st, p, 1, value);
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
    uint64_t k = vg__seasonal_steps_to(st, ts_ms);
    if (k == 0) {
        /* Same slot as the last point: judged by its forecast, not learnt. */
        if (st->seen < WARMUP)
            return not_scored(why, "warming up");
        return judge(st, p, VG_CAL_NONE, st->last_expected, st->last_band,
                     value - st->last_expected, why);
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
        vg__seasonal_hw_step(st, p, st->period != 0, k, value, p->dev_gamma, 1, &o);
        if (out_of_range(st, &o))
            return first_point(st, p, ts_ms, value, why, "restarted: out of range");
        st->last_expected = o.expected;
        st->last_band = o.band;
        return judge(st, p, VG_CAL_NONE, o.expected, o.band, o.resid, why);
    }

    /* Training: the level + trend model scores while the buffer fills. The
     * deviation is a plain mean of the first residuals. */
    int warm = st->seen >= WARMUP;
    if (!warm)
        st->seen++;
    vg__seasonal_hw_step(st, p, 0, k, value, warm ? p->dev_gamma : 1.0 / (st->seen - 1), warm, &o);
    if (out_of_range(st, &o))
        return first_point(st, p, ts_ms, value, why, "restarted: out of range");
    st->last_expected = o.expected;
    st->last_band = o.band;
    double score = warm ? judge(st, p, VG_CAL_NONE, o.expected, o.band, o.resid, why)
                        : not_scored(why, "warming up");
    vg__seasonal_buffer_value(st, p, k, value);
    if (st->n == p->training || (p->span_ms > 0.0 && st->step > 0 && st->n >= MIN_TRAINING &&
                                 st->n >= 2 * p->period &&
                                 (double)st->n * (double)st->step >= p->span_ms))
        vg__seasonal_finish_training(st, p);
    return score;
}

/* Opens the calendar's next checkpoint at ts (its point learnt by both
 * models) when it wants one: the point model's forecast that far ahead. */
static void open_checkpoint(const seasonal_state *st, vg_calendar *cal, const seasonal_params *p,
                            int64_t ts_ms)
{
    int64_t ahead = vg_calendar_opens(cal, &p->cal, ts_ms);
    if (ahead > 0 && st->step > 0) {
        uint64_t k = (uint64_t)((ahead + st->step / 2) / st->step);
        vg_calendar_checkpoint(cal, ts_ms, ahead, vg__seasonal_ahead(st, k > 1 ? k : 1));
    }
}

/* The calendar's turn, after the Holt-Winters model scored the point
 * (`score`, `why`): its forecasts and the model's are compared one step
 * ahead (vg_calendar_compare) and `calendar_horizon` ahead (a checkpoint
 * settled, vg_calendar_settle). Once it has found a season, and while it
 * forecasts better than the model by `calendar_gain`, it scores the point
 * instead, unless the model has a season of its own with a narrower band;
 * and a deviation from its season sustained long enough to reach
 * `sustain` decades (its CUSUM, calendar.h) scores when that is higher and
 * the CUSUM has grown, whichever model scored the point alone. Then it
 * learns the point. */
static double calendar_point(seasonal_state *st, const seasonal_params *p, vg_calendar *cal,
                             int64_t ts_ms, double value, double score, vg_explain *why)
{
    vg_calendar_fc fc;
    uint32_t season = vg_calendar_season(cal);
    int forecast = st->seen >= WARMUP && vg_calendar_forecast(cal, &p->cal, ts_ms, &fc);
    if (forecast) {
        vg_calendar_compare(cal, ts_ms, value, fc.expected, st->last_expected);
        vg_calendar_settle(cal, &p->cal, ts_ms, value);
    }
    if (forecast && vg_calendar_scores(cal, ts_ms) &&
        vg_calendar_earns(cal, &p->cal, p->calendar_gain)) {
        double band = p->delta * fc.dev, resid = value - fc.expected;
        double bands = in_bands(st, p, fc.expected, band, resid);
        if (st->period == 0 || band < st->last_band)
            score = judge(st, p, season, fc.expected, band, resid, why);
        /* Scored while the evidence grows, not while it stays at its cap:
         * a long run of capped scores would teach the ensemble's
         * calibration that the detector routinely claims that much, and
         * mute it on the series for days after. */
        double before = vg_calendar_sustained(cal);
        double u = vg_calendar_sustain(cal, bands * p->z_per_band);
        if (p->sustain > 0.0 && u >= p->sustain && u > before &&
            vg_score_from_surprise(u) > score) {
            score = vg_score_from_surprise(u);
            explain_band(st, VG_CAL_SUSTAINED, fc.expected, band, bands, why);
        }
    } else {
        vg_calendar_sustain_reset(cal);
    }
    vg_calendar_learn(cal, &p->cal, st->step, ts_ms, value);
    if (st->seen >= WARMUP)
        open_checkpoint(st, cal, p, ts_ms);
    return score;
}

static double seasonal_score(void *state, const void *params, const vg_window *w,
                             int64_t ts_ms, double value, vg_explain *why)
{
    seasonal_state *st = state;
    (void)w;  /* the model keeps its own history */
    if (!isfinite(value))
        return not_scored(why, "not a finite value");
    int later = ts_ms > st->last_ts || st->seen == 0;
    double score = score_point(st, params, ts_ms, value, why);
    vg_calendar *cal = calendar_of(st, params);
    if (cal != NULL && later)
        score = calendar_point(st, params, cal, ts_ms, value, score, why);
    /* Learnt after the score, so a spike does not widen its own floor. */
    vg_range_push(&st->long_run, ts_ms, value);
    return score;
}

static int seasonal_save(const void *state, const void *params, vg_writer *out)
{
    const seasonal_state *st = state;
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
        vg_writer_f32s(out, (const float *)st->region, st->n);
    } else {
        vg_writer_f64s(out, st->region, (size_t)st->period * 2);
    }
    const vg_calendar *cal = calendar_of((seasonal_state *)st, params);
    if (cal != NULL)
        vg_calendar_save(cal, out);
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
        vg_reader_f32s(in, vg__seasonal_train_buf(st), st->n);
    } else {
        vg_reader_f64s(in, st->region, (size_t)st->period * 2);
    }
    if (in->failed || st->step < 0)
        goto out_short;
    vg_calendar *cal = calendar_of(st, p);
    if (cal != NULL && vg_calendar_load(cal, in, err) != VG_OK)
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

