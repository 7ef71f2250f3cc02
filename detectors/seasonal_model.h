/* Internal to the seasonal detector (detectors/seasonal.c: params, scores,
 * state I/O; detectors/seasonal_model.c: time, the Holt-Winters step and
 * training): its params and per-series state, and the model's steps. */
#ifndef VG_DETECTORS_SEASONAL_MODEL_H
#define VG_DETECTORS_SEASONAL_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "detectors/calendar.h"
#include "detectors/range.h"

#define MIN_TRAINING   64
#define MAX_TRAINING   4096
#define MAX_PERIOD     2048
#define WARMUP         32  /* points before the first score */
#define STEP_SAMPLES   15  /* gaps whose median is the step; odd */
#define NO_SEASON_AGE  32  /* missing steps the trend is followed without a season */

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
    uint32_t calendar;    /* learn a clock-bucket season too (calendar.h) */
    double   sustain;     /* decades at which the calendar's CUSUM scores; 0: off */
    double   band_prior;  /* days the calendar's bands are widened toward their mean by */
    double   calendar_gain;  /* share of the point model's error the calendar must beat; 0: off */
    double   calendar_horizon;  /* minutes ahead the two are also compared at; 0: not */
    vg_calendar_params cal;  /* derived */
} seasonal_params;

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
static inline size_t vg__seasonal_region_bytes(const seasonal_params *p)
{
    size_t season = (size_t)p->max_period * 2 * sizeof(double);
    size_t train = (size_t)p->training * sizeof(float);
    size_t bytes = season > train ? season : train;
    return (bytes + sizeof(double) - 1) / sizeof(double) * sizeof(double);
}

static inline float *vg__seasonal_train_buf(seasonal_state *st)
{
    return (float *)st->region;
}

typedef struct hw_out {
    double expected, band, resid;
} hw_out;

/* Steps from the last point to ts: 0 for a point at, before or too close
 * after it (it shares the last slot). Learns the step from the first gaps;
 * until then every point is one step, so a series whose timestamps never
 * move is still taken in arrival order. */
uint64_t vg__seasonal_steps_to(seasonal_state *st, int64_t ts);

/* One Holt-Winters step for value y, `k` >= 1 steps after the last point,
 * in the slot st->phase, or without a season when !seasonal (st->dev is
 * the deviation). dev_rate smooths the deviation; clip enables the clamp. */
void vg__seasonal_hw_step(seasonal_state *st, const seasonal_params *p, int seasonal,
                          uint64_t k, double y, double dev_rate, int clip, hw_out *o);

/* The model's forecast `k` >= 1 steps after the last point (the slot
 * st->phase), made now: the trend followed as over missing steps. */
double vg__seasonal_ahead(const seasonal_state *st, uint64_t k);

/* Buffers y, `k` steps after the last buffered value (training). */
void vg__seasonal_buffer_value(seasonal_state *st, const seasonal_params *p, uint64_t k,
                               double y);

/* Ends training: finds the season and starts it, or goes on without one. */
void vg__seasonal_finish_training(seasonal_state *st, const seasonal_params *p);

#endif
