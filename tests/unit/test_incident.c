/* Incidents that match faults (engine/baseline.c, engine/alert.c, the
 * pipeline's hold on the model), end to end with the default detectors on
 * series made here: a sustained level shift is one incident that holds
 * until the level returns; a level that stays is accepted; a 40x spike
 * after weeks of smaller ones fires; sub-1 % wiggles of a near-flat series
 * and small blips of a mostly-zero series page nothing; a single-point
 * spike is one short incident (and none in the warm-up); a slow drift the
 * detectors follow pages. (A missing daily peak at 1-minute steps:
 * tests/unit/test_calendar.c, at the detector.) */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/config.h"
#include "engine/pipeline.h"
#include "tests/unit/helpers.h"

#define MINUTE 60000
#define DAY    1440  /* points of a day at one a minute */
#define MAX_EVENTS 16

/* The events of one run, in order. */
typedef struct events {
    vg_alert_state state[MAX_EVENTS];
    int64_t        ts[MAX_EVENTS];
    char           reason[MAX_EVENTS][32];
    size_t         n;
    size_t         more;  /* events beyond MAX_EVENTS */
    int64_t        last_firing;
} events;

static void *events_open(const vg_conf_doc *doc, const json_t *cfg, vg_error *err)
{
    (void)doc;
    (void)cfg;
    (void)err;
    return calloc(1, sizeof(events));
}

static int events_emit(void *self, const vg_event *ev)
{
    events *e = self;
    if (getenv("VG_TEST_VERBOSE"))
        fprintf(stderr, "%s ts %lld value %g expected %g score %g\n",
                vg_alert_state_name(ev->state), (long long)(ev->ts_ms / MINUTE), ev->value,
                ev->expected, ev->score);
    if (ev->state == VG_ALERT_FIRING)
        e->last_firing = ev->ts_ms;
    if (e->n == MAX_EVENTS) {
        e->more++;  /* counted, not kept */
        return 0;
    }
    e->state[e->n] = ev->state;
    e->ts[e->n] = ev->ts_ms;
    snprintf(e->reason[e->n], sizeof(e->reason[0]), "%s", ev->reason ? ev->reason : "");
    e->n++;
    return 0;
}

static const vg_sink_ops events_ops = {
    .name = "events", .open = events_open, .emit = events_emit,
    .flush = vg_test_sink_flush, .close = vg_test_sink_free,
};

typedef double (*series_fn)(size_t i, uint64_t *rng);

/* Runs n points of f (one every step_ms, from the epoch: midnight UTC)
 * through a pipeline of `config_text` and returns its events; the caller
 * frees them. */
static events *run_every(const char *config_text, series_fn f, size_t n, int64_t step_ms)
{
    vg_error err = {0};
    vg_config *cfg = vg_config_load_string(config_text, "<test>", &err);
    assert_non_null(cfg);
    vg_pipeline *p = vg_pipeline_new(cfg, &err);
    assert_non_null(p);
    vg_sink *sink = malloc(sizeof(*sink));
    sink->ops = &events_ops;
    sink->self = events_open(NULL, NULL, NULL);
    events *e = sink->self;
    assert_int_equal(vg_pipeline_add_sink(p, sink), 0);
    uint64_t rng = 7;
    vg_batch b;
    vg_batch_init(&b);
    for (size_t i = 0; i < n; i++) {
        vg_batch_push(&b, "m{host=\"a\"}", 11, (int64_t)i * step_ms, f(i, &rng), NULL);
        if (b.n == 500 || i + 1 == n) {
            assert_true(vg_pipeline_process(p, &b) >= 0);
            vg_batch_reset(&b);
        }
    }
    vg_batch_release(&b);
    /* The pipeline closes the sink: keep a copy of what it saw. */
    events *out = malloc(sizeof(*out));
    *out = *e;
    vg_pipeline_free(p);
    vg_config_free(cfg);
    return out;
}

static events *run(const char *config_text, series_fn f, size_t n)
{
    return run_every(config_text, f, n, MINUTE);
}

#define SHIFT_AT  3000
#define SHIFT_END 3240  /* four hours of fault, inside accept_after_s */

/* Disk free: 500 GB with a little noise, 30 % gone at SHIFT_AT. */
static double disk_free(size_t i, uint64_t *rng)
{
    double v = 500.0 + 0.5 * vg_test_normal(rng);
    return i >= SHIFT_AT && i < SHIFT_END ? v - 150.0 : v;
}

static void level_shift_is_one_incident_until_it_returns(void **state)
{
    (void)state;
    /* The same with a model that learns (the default) and one held. */
    for (int hold = 0; hold < 2; hold++) {
        events *e = run(hold ? "{\"alert\": {\"hold_model\": true}}" : "{}", disk_free,
                        SHIFT_END + 600);
        assert_int_equal(e->n, 2);
        assert_int_equal(e->state[0], VG_ALERT_FIRING);
        assert_true(e->ts[0] >= SHIFT_AT * MINUTE && e->ts[0] <= (SHIFT_AT + 3) * MINUTE);
        assert_int_equal(e->state[1], VG_ALERT_RESOLVED);
        /* Firing for all of the fault, resolved within a few points of its end. */
        assert_true(e->ts[1] >= SHIFT_END * MINUTE && e->ts[1] <= (SHIFT_END + 10) * MINUTE);
        assert_string_equal(e->reason[1], "back to baseline");
        free(e);
    }
}

/* The same fault, never undone. */
static double disk_free_stays(size_t i, uint64_t *rng)
{
    double v = 500.0 + 0.5 * vg_test_normal(rng);
    return i >= SHIFT_AT ? v - 150.0 : v;
}

static void a_level_that_stays_is_accepted(void **state)
{
    (void)state;
    events *e = run("{\"alert\": {\"accept_after_s\": 3600}}", disk_free_stays, SHIFT_AT + 1500);
    assert_int_equal(e->n, 2);  /* and nothing while the model relearns */
    assert_int_equal(e->state[0], VG_ALERT_FIRING);
    assert_int_equal(e->state[1], VG_ALERT_RESOLVED);
    assert_true(e->ts[1] - e->ts[0] >= 60 * MINUTE && e->ts[1] - e->ts[0] <= 62 * MINUTE);
    assert_string_equal(e->reason[1], "new level accepted");
    free(e);
}

#define BIG_AT (21 * DAY)  /* after three weeks of routine spikes */

/* Latency: 20 ms, a spike of 5x every 397 points, one of 40x at BIG_AT. */
static double spiky(size_t i, uint64_t *rng)
{
    double v = 20.0 + vg_test_normal(rng);
    if (i % 397 == 0)
        v = 100.0;
    return i == BIG_AT ? 800.0 : v;
}

static void big_spike_after_smaller_ones_fires(void **state)
{
    (void)state;
    events *e = run("{}", spiky, BIG_AT + 20);
    assert_int_equal(e->last_firing, BIG_AT * MINUTE);
    free(e);
}

/* Memory slab: flat at 1000, with a 0.5 % wiggle of 3 points every 500. */
static double near_flat(size_t i, uint64_t *rng)
{
    (void)rng;
    return i % 500 >= 250 && i % 500 < 253 ? 1005.0 : 1000.0;
}

static void near_flat_wiggles_page_nothing(void **state)
{
    (void)state;
    events *e = run("{}", near_flat, 8000);
    assert_int_equal(e->n, 0);
    free(e);
    /* Without the floors the same wiggles page: the test can fail. */
    e = run("{\"alert\": {\"min_change\": 0, \"min_range\": 0}}", near_flat, 8000);
    assert_true(e->n > 0);
    free(e);
}

/* An idle interface: 0 packets/s, a 30 blip while warming up, then blips
 * of 2 to 12 one point in 60, and at the end a 0 -> 5 blip. */
static double mostly_zero(size_t i, uint64_t *rng)
{
    if (i == 10)
        return 30.0;
    if (i == 7990)
        return 5.0;
    return i % 60 == 59 ? 2.0 + 10.0 * vg_test_uniform(rng) : 0.0;
}

static void mostly_zero_blips_page_nothing(void **state)
{
    (void)state;
    events *e = run("{}", mostly_zero, 8000);
    assert_int_equal(e->n, 0);
    free(e);
}

#define SPIKE_AT (2 * DAY + 100)

/* 100 with noise and one point of +50 sigma at SPIKE_AT. */
static double one_spike(size_t i, uint64_t *rng)
{
    double v = 100.0 + vg_test_normal(rng);
    return i == SPIKE_AT ? v + 50.0 : v;
}

static void single_spike_is_one_short_incident(void **state)
{
    (void)state;
    events *e = run("{}", one_spike, SPIKE_AT + 200);
    assert_int_equal(e->n, 2);
    assert_int_equal(e->state[0], VG_ALERT_FIRING);
    assert_true(e->ts[0] == (int64_t)SPIKE_AT * MINUTE);  /* at once, not after fire_after */
    assert_int_equal(e->state[1], VG_ALERT_RESOLVED);
    /* resolve_after (5) normal points, and a few for the detectors' memory. */
    assert_true(e->ts[1] - e->ts[0] <= 10 * MINUTE);
    free(e);
}

/* The same spike at 06:00 of the series' first day. */
static double young_spike(size_t i, uint64_t *rng)
{
    double v = 100.0 + vg_test_normal(rng);
    return i == 360 ? v + 50.0 : v;
}

static void no_page_in_the_warm_up(void **state)
{
    (void)state;
    events *e = run("{}", young_spike, DAY + 200);
    assert_int_equal(e->n, 0);
    free(e);
    /* Without the warm-up it pages: the test can fail. */
    e = run("{\"alert\": {\"warmup_s\": 0, \"warmup_points\": 0}}", young_spike, DAY + 200);
    assert_true(e->n >= 1);
    assert_true(e->ts[0] == 360 * MINUTE);
    free(e);
}

/* Requests: 800 +- 50 % over the day at 5-minute steps, noise 25; over the
 * last DRIFT_LEN points of 8 days a drift of +4 a point (+1,000 at the end,
 * slower than the noise from one point to the next). */
#define STEPS_8D  2304
#define DRIFT_LEN 250
#define FIVE_MIN  (5 * MINUTE)

static double drift_from(size_t i, uint64_t *rng, size_t from)
{
    double day = sin(2.0 * M_PI * (double)(i % 288) / 288.0);
    double v = 800.0 * (1.0 + 0.5 * day) + 25.0 * vg_test_normal(rng);
    return i >= from ? v + 4.0 * (double)(i - from) : v;
}

static double drifting(size_t i, uint64_t *rng)
{
    return drift_from(i, rng, STEPS_8D - DRIFT_LEN);
}

/* The same drift a day later (9 days), leaving the settled range in the
 * hour before midnight: that day is not calm, the drift must page after. */
#define STEPS_9D       2592
#define MIDNIGHT_DRIFT 2130

static double drifting_over_midnight(size_t i, uint64_t *rng)
{
    return drift_from(i, rng, MIDNIGHT_DRIFT);
}

static void slow_drift_pages(void **state)
{
    (void)state;
    events *e = run_every("{}", drifting, STEPS_8D, FIVE_MIN);
    assert_true(e->n >= 1);
    assert_int_equal(e->state[0], VG_ALERT_FIRING);
    assert_true(e->ts[0] >= (int64_t)(STEPS_8D - DRIFT_LEN) * FIVE_MIN);
    free(e);
    /* The detectors follow it: without the settled range it pages nothing. */
    e = run_every("{\"alert\": {\"beyond_range\": 0}}", drifting, STEPS_8D, FIVE_MIN);
    assert_int_equal(e->n, 0);
    free(e);
    e = run_every("{}", drifting_over_midnight, STEPS_9D, FIVE_MIN);
    assert_true(e->n >= 1);
    assert_int_equal(e->state[0], VG_ALERT_FIRING);
    assert_true(e->ts[0] >= (int64_t)MIDNIGHT_DRIFT * FIVE_MIN);
    free(e);
}

/* A busier hour: on the last day of 8 the daily peak rises smoothly (a hump
 * of +HUMP at most, HUMP_W points wide) about an hour beyond the settled
 * range, then falls back. Spiky metrics do this (smd-dev); it is no drift. */
#define HUMP   500.0
#define HUMP_W 8.0

static double busy_hour(size_t i, uint64_t *rng)
{
    double t = (double)i - (double)(STEPS_8D - 288 + 72);  /* the day's peak */
    return drift_from(i, rng, STEPS_8D) + HUMP * exp(-t * t / (2.0 * HUMP_W * HUMP_W));
}

static void an_hour_beyond_pages_nothing(void **state)
{
    (void)state;
    events *e = run_every("{}", busy_hour, STEPS_8D, FIVE_MIN);
    assert_int_equal(e->n, 0);
    free(e);
    /* Half an hour beyond was enough before (beyond_for_s 1800), and the
     * detectors do not page it: only the settled range's duration does. */
    e = run_every("{\"alert\": {\"beyond_for_s\": 1800}}", busy_hour, STEPS_8D, FIVE_MIN);
    assert_true(e->n >= 1);
    assert_string_equal(e->reason[0], "beyond its long-run range");
    free(e);
    e = run_every("{\"alert\": {\"beyond_range\": 0}}", busy_hour, STEPS_8D, FIVE_MIN);
    assert_int_equal(e->n, 0);
    free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(level_shift_is_one_incident_until_it_returns),
        cmocka_unit_test(a_level_that_stays_is_accepted),
        cmocka_unit_test(big_spike_after_smaller_ones_fires),
        cmocka_unit_test(near_flat_wiggles_page_nothing),
        cmocka_unit_test(mostly_zero_blips_page_nothing),
        cmocka_unit_test(single_spike_is_one_short_incident),
        cmocka_unit_test(no_page_in_the_warm_up),
        cmocka_unit_test(slow_drift_pages),
        cmocka_unit_test(an_hour_beyond_pages_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
