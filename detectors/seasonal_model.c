/* The seasonal detector's model: time (the step, missing steps), the
 * Holt-Winters step with Brutlag deviations, and training (the season
 * search and the season's start). The design is described in
 * detectors/seasonal.c. */
#include "detectors/seasonal_model.h"

#include <float.h>
#include <math.h>
#include <string.h>

#include "core/error.h"
#include "detectors/period.h"

#define SNAP_SHARE     25  /* snap to a calendar season within 1/25 (4%) */
#define DEV_SPREAD     2   /* neighbours on each side pooled into a band */

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

uint64_t vg__seasonal_steps_to(seasonal_state *st, int64_t ts)
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

double vg__seasonal_ahead(const seasonal_state *st, uint64_t k)
{
    /* As age() would move the level over k steps without points. */
    uint64_t horizon = st->period ? st->period : NO_SEASON_AGE;
    double fc = st->level + st->trend * (double)(k < horizon ? k : horizon);
    return st->period ? fc + st->region[2 * ((st->phase + k) % st->period)] : fc;
}

/* ---- model --------------------------------------------------------------- */

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

void vg__seasonal_hw_step(seasonal_state *st, const seasonal_params *p, int seasonal,
                          uint64_t k, double y, double dev_rate, int clip, hw_out *o)
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
        vg__seasonal_hw_step(st, p, 1, 1, x[i], p->dev_gamma, 1, &o);
    }
    st->last_expected = o.expected;
    st->last_band = o.band;
}

/* Ends training: finds the season and starts it, or goes on without one.
 * Not inlined: its scratch (~110 KiB of stack) must not weigh on score(). */
__attribute__((noinline)) void vg__seasonal_finish_training(seasonal_state *st,
                                                            const seasonal_params *p)
{
    float x[MAX_TRAINING];
    double work[3 * MAX_TRAINING];
    uint32_t n = st->n;
    vg_assert(n <= MAX_TRAINING && vg_period_work_len(n) <= 3 * MAX_TRAINING);
    memcpy(x, vg__seasonal_train_buf(st), n * sizeof(float));

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
        memset(st->region, 0, vg__seasonal_region_bytes(p));
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
void vg__seasonal_buffer_value(seasonal_state *st, const seasonal_params *p, uint64_t k,
                               double y)
{
    float *buf = vg__seasonal_train_buf(st);
    if (st->n > 0 && k > 1) {
        double from = buf[st->n - 1];
        for (uint64_t j = 1; j < k && st->n < p->training; j++)
            buf[st->n++] = to_float(from + (y - from) * (double)j / (double)k);
    }
    if (st->n < p->training)
        buf[st->n++] = to_float(y);
}
