/* Clock-bucket season and its predictive season test; see calendar.h. */
#include "detectors/calendar.h"

#include <float.h>
#include <math.h>
#include <string.h>

#define MINUTE_MS 60000
#define HOUR_MS   3600000
#define DAY_MS    86400000
#define WEEK_MS   (7 * (int64_t)DAY_MS)

/* Per bucket-visit learning rates (a day bucket is visited once a day, an
 * hour-of-week bucket once a week): about ten days, five weeks of memory. */
#define DAY_RATE  0.1
#define WEEK_RATE 0.2

void vg_calendar_init(vg_calendar *c)
{
    memset(c, 0, sizeof(*c));
}

/* x mod m in [0, m), for negative timestamps too. */
static int64_t floor_mod(int64_t x, int64_t m)
{
    int64_t r = x % m;
    return r < 0 ? r + m : r;
}

static uint32_t day_bucket(const vg_calendar *c, int64_t ts)
{
    return (uint32_t)(floor_mod(ts, DAY_MS) / (int64_t)c->width);
}

/* The day profile's mean: a constant offset in it is no season. */
static double day_mean(const vg_calendar *c)
{
    return (double)c->day_sum * (double)c->width / DAY_MS;
}

/* The mean band over the day's buckets: the prior of each bucket's. */
static double band_mean(const vg_calendar *c)
{
    return (double)c->band_sum * (double)c->width / DAY_MS;
}

static float sum_of(const float *a)
{
    double sum = 0.0;
    for (size_t i = 0; i < VG_CAL_DAY_BUCKETS; i++)
        sum += a[i];
    return (float)sum;
}

static uint32_t week_bucket(int64_t ts)
{
    return (uint32_t)(floor_mod(ts, WEEK_MS) / HOUR_MS);
}

/* The narrowest bucket of 5 to 60 minutes (each divides a day) that the
 * step fills; 0 when the step is longer than an hour. */
static int64_t bucket_width(int64_t step)
{
    static const int64_t minutes[] = {5, 10, 15, 20, 30, 60};
    for (size_t i = 0; i < sizeof(minutes) / sizeof(minutes[0]); i++)
        if (step <= minutes[i] * MINUTE_MS)
            return minutes[i] * MINUTE_MS;
    return 0;
}

static double week_part(const vg_calendar *c, uint32_t h)
{
    return c->season == VG_CAL_WEEKLY ? c->week[h] : 0.0;
}

/* A band of one visit is one day's noise in that bucket: at 1-hour steps
 * a single |error|, under a tenth of the true deviation one time in
 * sixteen (normal errors), and a normal point then scores 1 - 1e-7. The
 * mean of three visits is that far off about one time in 900, and two
 * more days cost little next to the two the season test already waits. Counted in days, not points: a visit's points share that day's
 * noise. */
int vg_calendar_scores(const vg_calendar *c, int64_t ts_ms)
{
    if (c->step == 0 || c->season == VG_CAL_NONE || ts_ms < c->start)
        return 0;
    /* Whole days seen; the first day teaches the profile, not the band. */
    return (ts_ms - c->start) / DAY_MS - 1 >= VG_CAL_BAND_VISITS;
}

/* Bucket b's band at ts, widened toward the mean band by the prior's
 * `band_prior` days against the bucket's own visits (whole days from the
 * second on, up to the about 1 / DAY_RATE its average remembers, so the
 * prior keeps a share for good: at 5-minute steps a visit is one point,
 * and an average of ten |errors| is still narrow by chance in a few of 288
 * buckets). Never narrowed: a bucket wider than the mean (a daily peak)
 * keeps its own band. 3 days was chosen by cross-validation over 0, 3 and
 * 10 (docs/quality.md, "branch q-nab"). */
static double band_of(const vg_calendar *c, const vg_calendar_params *p, int64_t ts, uint32_t b)
{
    double own = c->band[b], mean = band_mean(c);
    if (own >= mean)
        return own;
    double n = (double)((ts - c->start) / DAY_MS) - 1.0;
    n = n < 0.0 ? 0.0 : n > 1.0 / DAY_RATE ? 1.0 / DAY_RATE : n;
    return p->band_prior > 0.0 ? own + p->band_prior / (n + p->band_prior) * (mean - own) : own;
}

/* The scoring forecast for ts, from what has been learnt so far. */
static double expected_at(const vg_calendar *c, int64_t ts)
{
    return c->fast + c->day[day_bucket(c, ts)] + week_part(c, week_bucket(ts));
}

int vg_calendar_forecast(const vg_calendar *c, const vg_calendar_params *p, int64_t ts_ms,
                         vg_calendar_fc *fc)
{
    if (c->step == 0)
        return 0;
    uint32_t b = day_bucket(c, ts_ms);
    fc->expected = expected_at(c, ts_ms);
    double band = band_of(c, p, ts_ms, b);
    fc->dev = band > 0.0 ? band : c->dev;
    return 1;
}

static float to_float(double y)
{
    return y > FLT_MAX ? FLT_MAX : y < -FLT_MAX ? -FLT_MAX : (float)y;
}

static double clip(double e, double lim)
{
    return lim > 0.0 && fabs(e) > lim ? copysign(lim, e) : e;
}

/* Rate of an average over `span` ms of samples `every` ms apart, faster
 * while less than that has been seen (a running mean over what there is). */
static double rate_every(int64_t every, int64_t elapsed, int64_t span)
{
    double r = (double)every / (double)span;
    double early = (double)every / (double)(elapsed + every);
    return early > r ? early : r;
}

/* The same for an average over points. */
static double rate(const vg_calendar *c, int64_t elapsed, int64_t span)
{
    return rate_every(c->step, elapsed, span);
}

/* About how many points a bucket of `width` ms in a cycle of `cycle` ms
 * has learnt, this one included: whole cycles seen times the points a
 * visit holds, plus those of this visit so far. */
static double visits(const vg_calendar *c, int64_t elapsed, int64_t ts, int64_t cycle,
                     int64_t width)
{
    double per_visit = (double)width / (double)c->step;
    return (double)(elapsed / cycle) * per_visit +
           (double)(floor_mod(ts, width) / c->step) + 1.0;
}

/* The season test: each forecast's clipped error, then the decision. */
static void test_season(vg_calendar *c, int64_t elapsed, const double fc[3], double y)
{
    double lim = VG_CAL_CLIP * c->err[0];
    double r = rate(c, elapsed, WEEK_MS);
    for (int i = 0; i < 3; i++)
        c->err[i] = (float)(c->err[i] + r * (fabs(clip(y - fc[i], lim)) - c->err[i]));
    c->season = VG_CAL_NONE;
    if (elapsed >= 2 * (int64_t)DAY_MS && c->err[1] < VG_CAL_GAIN * c->err[0]) {
        c->season = VG_CAL_DAILY;
        if (elapsed >= 2 * WEEK_MS && c->err[2] < VG_CAL_GAIN * c->err[1])
            c->season = VG_CAL_WEEKLY;
    }
}

/* The CUSUM statistic s at which its tail is `u` decades, and back; see
 * calendar.h. Two sides: log10(2) more evidence for the same tail. */
#define OVERSHOOT 1.166
static double sustain_surprise(double s)
{
    return s > 0.0 ? M_LOG10E * 2.0 * VG_CAL_SUSTAIN_K * (s + OVERSHOOT) - M_LOG10E * M_LN2 : 0.0;
}

static double sustain_cap(void)
{
    return (VG_CAL_SUSTAIN_MAX + M_LOG10E * M_LN2) / (M_LOG10E * 2.0 * VG_CAL_SUSTAIN_K) - OVERSHOOT;
}

double vg_calendar_sustain(vg_calendar *c, double z)
{
    if (!(fabs(z) < INFINITY))
        return 0.0;  /* NaN: no evidence either way */
    double x = clip(z, VG_CAL_SUSTAIN_CLIP), top = sustain_cap();
    double up = fmax(0.0, c->cusum[0] + x - VG_CAL_SUSTAIN_K);
    double down = fmax(0.0, c->cusum[1] - x - VG_CAL_SUSTAIN_K);
    /* Capped, so that the evidence of a long fault drains within a few
     * points of its end instead of hours. */
    c->cusum[0] = (float)fmin(up, top);
    c->cusum[1] = (float)fmin(down, top);
    return vg_calendar_sustained(c);
}

double vg_calendar_sustained(const vg_calendar *c)
{
    return sustain_surprise(fmax(c->cusum[0], c->cusum[1]));
}

/* The horizon in whole steps (rounded up), at least one. */
static int64_t horizon_of(const vg_calendar *c, const vg_calendar_params *p)
{
    int64_t steps = (p->horizon + c->step - 1) / c->step;
    return (steps > 1 ? steps : 1) * c->step;
}

/* Adds the two errors of forecasts for y to the means in fit[], at `rate`. */
static void add_errors(float fit[2], double y, double expected, double other, double r)
{
    double lim = VG_CAL_CLIP * fit[1];
    fit[0] = (float)(fit[0] + r * (fabs(clip(y - expected, lim)) - fit[0]));
    fit[1] = (float)(fit[1] + r * (fabs(clip(y - other, lim)) - fit[1]));
}

/* From the second day on, when the profile has one day: the first day's
 * errors are the profile's learning, not its forecasts. */
void vg_calendar_compare(vg_calendar *c, int64_t ts_ms, double y, double expected, double other)
{
    int64_t since = ts_ms - c->start - DAY_MS;
    if (c->step == 0 || since < 0 || !isfinite(expected) || !isfinite(other))
        return;
    add_errors(c->fit, y, expected, other, rate(c, since, WEEK_MS));
}

void vg_calendar_settle(vg_calendar *c, const vg_calendar_params *p, int64_t ts_ms, double y)
{
    if (c->due == 0 || ts_ms < c->due)
        return;
    /* A checkpoint opens from the second day on; its errors average over
     * about a week of checkpoints, one a horizon. */
    int64_t since = c->due - c->start - DAY_MS, every = horizon_of(c, p);
    double expected = c->ahead + c->ahead_gap;
    if (ts_ms - c->due < c->step && isfinite(expected) && isfinite(c->ahead))
        add_errors(c->fit_ahead, y, expected, c->ahead, rate_every(every, since, WEEK_MS));
    c->due = 0;
}

/* From the second day on, as vg_calendar_compare(). */
int64_t vg_calendar_opens(const vg_calendar *c, const vg_calendar_params *p, int64_t ts_ms)
{
    if (c->step == 0 || p->horizon == 0 || c->due != 0 || ts_ms - c->start < DAY_MS)
        return 0;
    return horizon_of(c, p);
}

/* `due` 0 means none open, so a target at exactly the epoch is dropped. */
void vg_calendar_checkpoint(vg_calendar *c, int64_t ts_ms, int64_t ahead, double point)
{
    c->due = ts_ms + ahead;
    c->ahead = point;
    c->ahead_gap = to_float(expected_at(c, c->due) - point);
}

int vg_calendar_earns(const vg_calendar *c, const vg_calendar_params *p, double edge)
{
    if (edge <= 0.0)
        return 1;
    int step = c->fit[0] < edge * c->fit[1];
    if (p->horizon == 0)
        return step;
    /* Also a calendar that forecasts the next point about as well and an
     * hour ahead better (a smooth daily cycle at 1-minute steps), but
     * never one that forecasts the next point worse: its level lags the
     * wander the point model follows (docs/quality.md, "branch q-peak7"). */
    return c->fit[0] < c->fit[1] && (step || c->fit_ahead[0] < edge * c->fit_ahead[1]);
}

static void learn_point(vg_calendar *c, const vg_calendar_params *p, int64_t ts, double y)
{
    int64_t elapsed = ts - c->start;
    uint32_t b = day_bucket(c, ts), h = week_bucket(ts);
    double d = c->day[b], w = c->week[h];
    /* The test's day and week forecasts leave out the profile's mean: on
     * a trend the slow level lags by a constant, which the profile takes
     * in every bucket alike; that is no season. */
    double shape = d - day_mean(c);
    double fc[3] = {c->slow, c->slow + shape, c->slow + shape + w};
    test_season(c, elapsed, fc, y);

    /* Learning sees the point clipped around the scoring forecast, so a
     * spike moves the profile by a bounded amount; at the bucket's band
     * when that is wider, so that a sharp daily feature (a job from 14:00
     * to 15:00) is learnt within days, not clipped at the series' noise
     * every day (its band widens on its second day). */
    double expected = c->fast + d + week_part(c, h);
    double e = clip(y - expected, p->clamp * fmax(c->dev, c->band[b]));
    double yc = expected + e;
    double slow = c->slow;
    /* The plain mean over a day, as the test's flat forecast; the day
     * profile and week correction are offsets from it. */
    c->slow += rate(c, elapsed, DAY_MS) * (yc - slow);
    /* alpha per day bucket, not per point: at 1-minute steps a level
     * moving every point would follow a missing peak down. */
    double per_day = (double)c->width / (double)c->step;  /* points per bucket visit */
    double per_week = (double)HOUR_MS / (double)c->step;
    c->fast += p->alpha / per_day * (yc - d - week_part(c, h) - c->fast);
    /* Per point: a running mean over the bucket's points so far (about),
     * then an average over the last visits. */
    double rd = fmax(DAY_RATE / per_day, 1.0 / visits(c, elapsed, ts, DAY_MS, c->width));
    /* The day profile is the mean shape of all days, the week correction
     * what is left of it on this hour of the week: learnt the other way
     * round, a week bucket (new for a whole week, so fast) takes a daily
     * feature on each of its first visits and the profile never gets it. */
    d += rd * (yc - slow - d);
    float old = c->day[b];
    c->day[b] = to_float(d);
    c->day_sum += c->day[b] - old;
    double rw = fmax(WEEK_RATE / per_week, 1.0 / visits(c, elapsed, ts, WEEK_MS, HOUR_MS));
    c->week[h] = to_float(w + rw * (yc - slow - d - w));
    double rdev = fmax(p->dev_gamma, rate(c, elapsed, DAY_MS));
    c->dev += rdev * (fabs(e) - c->dev);
    /* The band learns from the second day on, when the profile has one. */
    double band_visits = visits(c, elapsed, ts, DAY_MS, c->width) - per_day;
    if (band_visits >= 1.0) {
        double rb = fmax(DAY_RATE / per_day, 1.0 / band_visits);
        /* Clipped at the wider of the bucket's band and the mean band: a
         * tiny first |error| must not hold its bucket's band down. */
        double eb = clip(y - expected, p->clamp * fmax(c->band[b], band_mean(c)));
        float was = c->band[b];
        c->band[b] = to_float(was + rb * (fabs(eb) - was));
        c->band_sum += c->band[b] - was;
    }
    /* The sums are kept by differences, summed again once a day against
     * float drift. */
    if (b == 0 && floor_mod(ts, c->width) < c->step) {
        c->day_sum = sum_of(c->day);
        c->band_sum = sum_of(c->band);
    }
}

void vg_calendar_learn(vg_calendar *c, const vg_calendar_params *p, int64_t step_ms,
                       int64_t ts_ms, double y)
{
    if (c->step == 0) {
        int64_t width = step_ms > 0 ? bucket_width(step_ms) : 0;
        if (width == 0)
            return;
        c->step = step_ms;
        c->width = (uint32_t)width;
        c->start = ts_ms;
        c->slow = c->fast = y;
    }
    if (ts_ms < c->start)
        return;
    learn_point(c, p, ts_ms, y);
    /* Values near DBL_MAX can overflow the levels: start over. */
    if (!isfinite(c->slow) || !isfinite(c->fast) || !isfinite(c->dev) || !isfinite(c->err[0]))
        vg_calendar_init(c);
}

void vg_calendar_save(const vg_calendar *c, vg_writer *out)
{
    vg_writer_i64(out, c->step);
    if (c->step == 0)
        return;  /* not started: nothing else is set */
    vg_writer_u32(out, c->width);
    vg_writer_i64(out, c->start);
    vg_writer_f64(out, c->slow);
    vg_writer_f64(out, c->fast);
    vg_writer_f32s(out, c->err, 3);
    vg_writer_f64(out, c->dev);
    vg_writer_f32s(out, c->cusum, 2);
    vg_writer_f32s(out, &c->day_sum, 1);
    vg_writer_f32s(out, &c->band_sum, 1);
    vg_writer_f32s(out, c->fit, 2);
    vg_writer_f32s(out, c->fit_ahead, 2);
    vg_writer_i64(out, c->due);
    vg_writer_f64(out, c->ahead);
    vg_writer_f32s(out, &c->ahead_gap, 1);
    vg_writer_u32(out, c->season);
    vg_writer_f32s(out, c->day, VG_CAL_DAY_BUCKETS);
    vg_writer_f32s(out, c->band, VG_CAL_DAY_BUCKETS);
    vg_writer_f32s(out, c->week, VG_CAL_WEEK_BUCKETS);
}

int vg_calendar_load(vg_calendar *c, vg_reader *in, vg_error *err)
{
    vg_calendar_init(c);
    vg_reader_i64(in, &c->step);
    if (!in->failed && c->step == 0)
        return VG_OK;
    vg_reader_u32(in, &c->width);
    vg_reader_i64(in, &c->start);
    vg_reader_f64(in, &c->slow);
    vg_reader_f64(in, &c->fast);
    vg_reader_f32s(in, c->err, 3);
    vg_reader_f64(in, &c->dev);
    vg_reader_f32s(in, c->cusum, 2);
    vg_reader_f32s(in, &c->day_sum, 1);
    vg_reader_f32s(in, &c->band_sum, 1);
    vg_reader_f32s(in, c->fit, 2);
    vg_reader_f32s(in, c->fit_ahead, 2);
    vg_reader_i64(in, &c->due);
    vg_reader_f64(in, &c->ahead);
    vg_reader_f32s(in, &c->ahead_gap, 1);
    vg_reader_u32(in, &c->season);
    vg_reader_f32s(in, c->day, VG_CAL_DAY_BUCKETS);
    vg_reader_f32s(in, c->band, VG_CAL_DAY_BUCKETS);
    vg_reader_f32s(in, c->week, VG_CAL_WEEK_BUCKETS);
    if (in->failed || c->step <= 0 || c->width <= 0 || c->width != bucket_width(c->step) ||
        c->season > VG_CAL_WEEKLY || !(c->band_sum >= 0.0f) || !(c->fit[0] >= 0.0f) ||
        !(c->fit[1] >= 0.0f) || !(c->fit_ahead[0] >= 0.0f) || !(c->fit_ahead[1] >= 0.0f) ||
        !(c->cusum[0] >= 0.0f && c->cusum[0] <= (float)sustain_cap()) ||
        !(c->cusum[1] >= 0.0f && c->cusum[1] <= (float)sustain_cap())) {
        vg_calendar_init(c);
        return vg_error_set(err, VG_EPARSE, "calendar: saved state is truncated or corrupt");
    }
    return VG_OK;
}
