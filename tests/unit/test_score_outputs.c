/* The outputs that write scores (sink ops `selects` and `score`): asked once
 * per series and set of outputs, handed only the series they select, every
 * point once, a series' points in order, a scoring thread's share of a
 * batch per call; with one worker and with two (the hand-over runs on the
 * scoring threads). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/config.h"
#include "engine/pipeline.h"
#include "tests/unit/helpers.h"

#define SERIES    8
#define ROUNDS    50
#define PER_BATCH 10  /* rounds: 80 points, enough for the workers' threads */

/* Selects the series whose key starts with "keep"; records what it gets. */
typedef struct taker {
    pthread_mutex_t lock;
    int             asked[SERIES];
    int64_t         last_ts[SERIES];
    size_t          points[SERIES], calls, skipped_points;
} taker;

static int series_number(const char *key, size_t key_len)
{
    return key[key_len - 1] - '0';  /* keys end with their digit */
}

static int taker_selects(void *self, const char *key, size_t key_len)
{
    taker *t = self;
    pthread_mutex_lock(&t->lock);
    t->asked[series_number(key, key_len)]++;
    pthread_mutex_unlock(&t->lock);
    return strncmp(key, "keep", 4) == 0;
}

static void taker_score(void *self, const vg_score_sample *s, size_t n)
{
    taker *t = self;
    pthread_mutex_lock(&t->lock);
    t->calls++;
    for (size_t i = 0; i < n; i++) {
        int k = series_number(s[i].key, s[i].key_len);
        if (strncmp(s[i].key, "keep", 4) != 0)
            t->skipped_points++;
        assert_true(s[i].ts_ms > t->last_ts[k]);  /* in order, once */
        t->last_ts[k] = s[i].ts_ms;
        t->points[k]++;
    }
    pthread_mutex_unlock(&t->lock);
}

static int taker_emit(void *self, const vg_event *ev)
{
    (void)self;
    (void)ev;
    return 0;
}

static void taker_close(void *self)
{
    (void)self;  /* owned by the test */
}

static const vg_sink_ops taker_ops = {
    .name = "taker", .emit = taker_emit, .close = taker_close,
    .score = taker_score, .selects = taker_selects,
};

static void attach(vg_pipeline *p, taker *t)
{
    vg_sink *sink = malloc(sizeof(*sink));
    sink->ops = &taker_ops;
    sink->self = t;
    assert_int_equal(vg_pipeline_add_sink(p, sink), 0);
}

/* ROUNDS points of each series, keep0..keep3 and drop4..drop7,
 * interleaved, PER_BATCH rounds a batch. */
static void feed(vg_pipeline *p, int64_t first_ts)
{
    vg_batch b;
    vg_batch_init(&b);
    for (int r = 0; r < ROUNDS; r++) {
        if (r % PER_BATCH == 0)
            vg_batch_reset(&b);
        for (int k = 0; k < SERIES; k++) {
            char key[16];
            int len = snprintf(key, sizeof(key), "%s%d", k < SERIES / 2 ? "keep" : "drop", k);
            vg_batch_push(&b, key, (size_t)len, first_ts + r * 1000, 10.0 + k + (r % 3), NULL);
        }
        if (r % PER_BATCH == PER_BATCH - 1)
            vg_pipeline_process(p, &b);
    }
    vg_batch_release(&b);
}

static void run(uint32_t workers)
{
    vg_error err = {0};
    vg_config *cfg = vg_config_default(&err);
    assert_non_null(cfg);
    cfg->workers = workers;
    vg_pipeline *p = vg_pipeline_new(cfg, &err);
    assert_non_null(p);
    taker t = {.lock = PTHREAD_MUTEX_INITIALIZER};
    attach(p, &t);
    feed(p, 1000);
    for (int k = 0; k < SERIES; k++)
        assert_int_equal(t.asked[k], 1);  /* once per series, not per point */
    for (int k = 0; k < SERIES; k++)
        assert_int_equal(t.points[k], k < SERIES / 2 ? ROUNDS : 0);
    assert_int_equal(t.skipped_points, 0);
    /* one call per batch and scoring thread, not per point */
    assert_true(t.calls >= ROUNDS / PER_BATCH && t.calls <= ROUNDS / PER_BATCH * workers);

    /* New outputs (a reload): every series is asked again. */
    vg_pipeline_close_outputs(p);
    attach(p, &t);
    feed(p, 1000 + ROUNDS * 1000);
    for (int k = 0; k < SERIES; k++) {
        assert_int_equal(t.asked[k], 2);
        assert_int_equal(t.points[k], k < SERIES / 2 ? 2 * ROUNDS : 0);
    }
    vg_pipeline_free(p);
    vg_config_free(cfg);
}

static void one_worker(void **state)
{
    (void)state;
    run(1);
}

static void two_workers(void **state)
{
    (void)state;
    run(2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(one_worker),
        cmocka_unit_test(two_workers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
