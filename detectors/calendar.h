/* A season learned on clock buckets, not point indexes: a time-of-day
 * profile (buckets of 5 minutes to an hour, whichever the step fills) and
 * an hour-of-week correction on top of it, keyed by the timestamp. A daily
 * or weekly cycle is then learned at any sampling rate, across gaps and
 * irregular steps, in fixed bytes (about 3 KiB).
 *
 * The season test is predictive and runs all the time: three forecasts of
 * every point are made before it is learnt,
 *   flat  = slow level (a day's mean),
 *   day   = slow level + day profile,
 *   week  = day + hour-of-week correction,
 * and the mean absolute error of each is tracked over about a week of
 * points, every error clipped at `VG_CAL_CLIP` times the flat one's (so a
 * spike costs every model the same and cannot decide the test). A daily
 * season is on once the day forecast beats the flat one by `VG_CAL_GAIN`
 * after two days; a weekly one once the week forecast beats the day one
 * by as much after two weeks. White noise gives no season: a profile of
 * noise forecasts worse than the mean it wobbles around.
 *
 * The scoring forecast is a level of the deseasonalised series (smoothed
 * per day bucket, not per point) plus the profile; its band is a Brutlag
 * deviation per day bucket, learnt once a day like the profile, from the
 * second day on, so a slowly growing anomaly does not widen its own band.
 * A bucket's band of a few visits is noisy (some are narrow by chance), so
 * it is widened toward the mean band over all buckets (a slow, series-wide
 * prior worth `band_prior` days of visits; never narrowed by it, so a
 * wide peak keeps its band and a missing peak still stands out).
 * Buckets are numbered from the epoch (floor division), so replay is
 * deterministic and a restart lands in the same buckets.
 *
 * Earned per series: a season that beats the flat day mean need not beat
 * the point model (Holt-Winters, a level moving every point). On 1-minute
 * server metrics the calendar's level, moving once a bucket, lags every
 * wander that the point model follows, and its residuals are the noisier.
 * So both forecasts' mean |errors| are kept (vg_calendar_compare), and the
 * detector lets the calendar score only while its error is under
 * `calendar_gain` times the point model's (vg_calendar_earns; 0.9 by
 * default, chosen by cross-validation over 0.8, 0.9 and 1). One step
 * ahead is not all: a level moving every point forecasts the next point
 * of a smooth daily cycle about as well as the season does, but not the
 * point an hour later, which is what a season is for. So the two are
 * also compared on forecasts made `horizon` ahead (an hour by default),
 * and a calendar no worse one step ahead that beats the point model by
 * `calendar_gain` there scores too. One checkpoint at a time
 * (vg_calendar_checkpoint): when it is due the two errors are added and
 * the next one opens, about one comparison an hour, in 24 bytes.
 *
 * Sustained deviation: a missing daily peak at 1-minute steps is an hour
 * of points each only a few deviations off, and the levels follow it down;
 * no one point is rare enough. A two-sided CUSUM of the scoring forecast's
 * standardised residuals (Page 1954; reference VG_CAL_SUSTAIN_K, each
 * residual clipped at VG_CAL_SUSTAIN_CLIP so no one spike makes it) adds
 * the evidence up, and vg_calendar_sustain() reads it as a tail: for
 * N(0,1) residuals P(S >= s) ~ exp(-2k (s + 1.166)) (Siegmund's
 * approximation with its overshoot correction), twice for two sides. */
#ifndef VG_DETECTORS_CALENDAR_H
#define VG_DETECTORS_CALENDAR_H

#include <stdint.h>

#include "core/codec.h"
#include "core/error.h"

#define VG_CAL_DAY_BUCKETS  288  /* 5-minute buckets of a day at most */
#define VG_CAL_WEEK_BUCKETS 168  /* hours of a week */
#define VG_CAL_CLIP         4.0  /* test errors clipped at this many flat deviations */
#define VG_CAL_GAIN         0.9  /* a season must cut the error to this share */
#define VG_CAL_SUSTAIN_K    1.0  /* CUSUM reference: shifts of 2 deviations and more */
#define VG_CAL_SUSTAIN_CLIP 4.0  /* CUSUM input clipped at this many deviations */
#define VG_CAL_SUSTAIN_MAX  16.0 /* decades the CUSUM is capped at (it drains in ~20 points) */
#define VG_CAL_BAND_VISITS  3    /* a season scores once every bucket's band has had this many */

enum { VG_CAL_NONE = 0, VG_CAL_DAILY = 1, VG_CAL_WEEKLY = 2 };

typedef struct vg_calendar_params {
    double alpha;      /* fast level smoothing, per point */
    double dev_gamma;  /* smoothing of the scoring deviation, per point */
    double clamp;      /* updates see the point clipped to this many deviations */
    double band_prior; /* days of visits the bands' series-wide prior weighs */
    int64_t horizon;   /* ms ahead the forecasts are also compared at; 0: not */
} vg_calendar_params;

/* Floats where a few significant digits do (averages of errors, the
 * CUSUM in deviations): the series' block must stay within 16 KiB. */
typedef struct vg_calendar {
    int64_t  step;        /* ms between points; 0: not started */
    int64_t  start;       /* timestamp of the first point learnt */
    double   slow, fast;  /* slow and fast levels of the deseasonalised series */
    double   dev;         /* deviation of the scoring forecast, fast: the clamp's */
    int64_t  due;         /* when the open checkpoint's target is; 0: none open */
    double   ahead;       /* the point model's forecast for `due` */
    float    err[3];      /* mean |error| of the flat, day and week forecasts */
    float    cusum[2];    /* CUSUM of residuals above and below the forecast */
    float    day_sum;     /* sum of day[], kept by differences */
    float    band_sum;    /* sum of band[], kept by differences: the bands' prior */
    float    fit[2];      /* mean |error| of the scoring forecast and the point model's */
    float    fit_ahead[2];  /* the same, of forecasts made `horizon` ahead */
    float    ahead_gap;   /* the calendar's forecast for `due`, less `ahead` */
    uint32_t width;       /* ms of a day bucket */
    uint32_t season;      /* VG_CAL_NONE, _DAILY or _WEEKLY */
    float    day[VG_CAL_DAY_BUCKETS];
    float    band[VG_CAL_DAY_BUCKETS];  /* deviation per day bucket, the band's */
    float    week[VG_CAL_WEEK_BUCKETS];
} vg_calendar;

/* What the calendar forecast for a point. */
typedef struct vg_calendar_fc {
    double expected;  /* fast level + profile */
    double dev;       /* the band's deviation (E|error|) in this bucket */
} vg_calendar_fc;

/* Makes c empty; it starts at the first vg_calendar_learn() with a step. */
void vg_calendar_init(vg_calendar *c);

/* Whether a season was found: VG_CAL_NONE, VG_CAL_DAILY or VG_CAL_WEEKLY. */
static inline uint32_t vg_calendar_season(const vg_calendar *c)
{
    return c->season;
}

/* Whether the season found scores points yet: a season is found after two
 * days, but each bucket's band (its deviation) learns from the second day
 * on, so it has had one visit then; the season scores once every bucket's
 * band has had VG_CAL_BAND_VISITS. */
int vg_calendar_scores(const vg_calendar *c, int64_t ts_ms);

/* The forecast for ts (valid once started). Returns 0 when not started. */
int vg_calendar_forecast(const vg_calendar *c, const vg_calendar_params *p, int64_t ts_ms,
                         vg_calendar_fc *fc);

/* Learns finite y at ts_ms; step_ms is the series' usual step (a step
 * above an hour, or none yet, leaves the calendar off). Points must come
 * in time order: the caller skips repeated and backward timestamps. */
void vg_calendar_learn(vg_calendar *c, const vg_calendar_params *p, int64_t step_ms,
                       int64_t ts_ms, double y);

/* The calendar's scoring forecast `expected` and the point model's
 * `other` (the one that scores when the calendar does not) were made for
 * y: adds both errors to their running means over about a week, each
 * clipped at VG_CAL_CLIP times the point model's mean (a spike costs both
 * the same and decides nothing). */
void vg_calendar_compare(vg_calendar *c, int64_t ts_ms, double y, double expected, double other);

/* y arrived at ts_ms: when it is the open checkpoint's target (the first
 * point at or after it, within a step), adds the two models' errors of
 * forecasts made `horizon` ahead to their running means (fit_ahead, as
 * vg_calendar_compare()) and closes the checkpoint; a target without its
 * point is dropped. */
void vg_calendar_settle(vg_calendar *c, const vg_calendar_params *p, int64_t ts_ms, double y);

/* How far ahead of ts_ms (ms, whole steps) a checkpoint opens now, its
 * target: p->horizon, at least a step; 0 when none opens (one is open, or
 * it is the first day, whose errors are the profile's learning). */
int64_t vg_calendar_opens(const vg_calendar *c, const vg_calendar_params *p, int64_t ts_ms);

/* Opens a checkpoint at ts_ms (after learning its point) for ts_ms +
 * `ahead` (vg_calendar_opens()): the calendar's forecast for then, and
 * the point model's, `point`. */
void vg_calendar_checkpoint(vg_calendar *c, int64_t ts_ms, int64_t ahead, double point);

/* Whether the calendar has earned its place on this series: its mean
 * |error| is under `edge` times the point model's (0: no such test), one
 * step ahead or, when p->horizon is set and it is not worse one step
 * ahead, `horizon` ahead. */
int vg_calendar_earns(const vg_calendar *c, const vg_calendar_params *p, double edge);

/* Adds the standardised residual z (a normal deviate: residual over the
 * forecast's standard deviation) of a point the calendar forecast to its
 * CUSUM and returns the surprise (-log10 of the tail) of the larger side:
 * 0 while there is no evidence of a sustained shift. */
double vg_calendar_sustain(vg_calendar *c, double z);

/* The surprise of the CUSUM as it stands (vg_calendar_sustain's last). */
double vg_calendar_sustained(const vg_calendar *c);

/* Forgets the CUSUM (no season to measure residuals against). */
static inline void vg_calendar_sustain_reset(vg_calendar *c)
{
    c->cusum[0] = c->cusum[1] = 0.0;
}

/* Saves c exactly; load reads it back into an init()'ed calendar and
 * returns 0, or VG_EPARSE (err set) on truncated or impossible input. */
void vg_calendar_save(const vg_calendar *c, vg_writer *out);
int vg_calendar_load(vg_calendar *c, vg_reader *in, vg_error *err);

#endif
