/* The pipeline end to end in memory: points in, hook rows and events out. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/config.h"
#include "engine/pipeline.h"
#include "tests/unit/helpers.h"

/* A sink that records what it is given. */
typedef struct recorder {
    vg_event events[64];
    char     series[64][64];
    size_t   n;
    int      flushed;
} recorder;

static void *recorder_open(const vg_conf_doc *doc, const json_t *cfg, vg_error *err)
{
    (void)doc;
    (void)cfg;
    (void)err;
    return calloc(1, sizeof(recorder));
}

static int recorder_emit(void *self, const vg_event *ev)
{
    recorder *r = self;
    assert_true(r->n < 64);
    r->events[r->n] = *ev;
    snprintf(r->series[r->n], sizeof(r->series[r->n]), "%.*s", (int)ev->series_len, ev->series);
    r->events[r->n].series = r->series[r->n];
    r->n++;
    return 0;
}

static int recorder_flush(void *self, int timeout_ms)
{
    (void)timeout_ms;
    ((recorder *)self)->flushed++;
    return 0;
}

static void recorder_close(void *self)
{
    free(self);
}

static const vg_sink_ops recorder_ops = {
    .name = "recorder", .open = recorder_open, .emit = recorder_emit,
    .flush = recorder_flush, .close = recorder_close,
};

static recorder *attach_recorder(vg_pipeline *p)
{
    vg_sink *sink = malloc(sizeof(*sink));
    sink->ops = &recorder_ops;
    sink->self = recorder_open(NULL, NULL, NULL);
    assert_int_equal(vg_pipeline_add_sink(p, sink), 0);
    return sink->self;
}

typedef struct hook_log {
    double  scores[4096];
    int64_t ts[4096];
    size_t  n;
} hook_log;

static void log_hook(void *ctx, const vg_batch *b, const vg_point *p, const vg_point_result *r)
{
    (void)b;
    hook_log *h = ctx;
    assert_true(h->n < 4096);
    assert_true(r->score >= 0.0 && r->score <= 1.0);
    h->ts[h->n] = p->ts_ms;
    h->scores[h->n++] = r->score;
}

/* A noisy level with a burst of 3 extreme points at `spike`. */
static void fill_series(vg_batch *b, const char *key, size_t n, size_t spike, uint64_t seed)
{
    for (size_t i = 0; i < n; i++) {
        double v = 100.0 + vg_test_normal(&seed);
        if (i >= spike && i < spike + 3)
            v += 40.0;
        vg_batch_push(b, key, strlen(key), (int64_t)i * 60000, v, NULL);
    }
}

static vg_config *config(const char *text)
{
    vg_error err = {0};
    vg_config *cfg = vg_config_load_string(text, "<test>", &err);
    if (cfg == NULL)
        fail_msg("config: %s %s", err.where, err.msg);
    return cfg;
}

static void spike_makes_one_incident(void **state)
{
    (void)state;
    vg_config *cfg = config("{\"detectors\": {\"zscore\": {}}, \"alert\": {\"threshold\": 0.99999,"
                            " \"fire_after\": 1, \"resolve_after\": 5, \"warmup_s\": 0}}");
    vg_error err = {0};
    vg_pipeline *p = vg_pipeline_new(cfg, &err);
    assert_non_null(p);
    recorder *rec = attach_recorder(p);
    hook_log *h = calloc(1, sizeof(*h));
    vg_pipeline_set_hook(p, log_hook, h);

    vg_batch b;
    vg_batch_init(&b);
    fill_series(&b, "cpu{host=\"a\"}", 1000, 700, 1);
    int events = vg_pipeline_process(p, &b);
    assert_int_equal(events, 2);
    assert_int_equal(h->n, 1000);
    assert_int_equal(rec->n, 2);
    assert_int_equal(rec->events[0].state, VG_ALERT_FIRING);
    assert_int_equal(rec->events[1].state, VG_ALERT_RESOLVED);
    assert_int_equal(rec->events[0].ts_ms, 700 * 60000);
    assert_string_equal(rec->events[0].id, rec->events[1].id);
    assert_string_equal(rec->series[0], "cpu{host=\"a\"}");
    assert_true(rec->events[0].score >= 0.99999);
    assert_double_near(rec->events[0].expected, 100.0, 1.0);
    assert_true(rec->events[0].lower < rec->events[0].expected);
    assert_int_equal(vg_pipeline_flush(p, 100), 0);
    assert_int_equal(rec->flushed, 1);

    const vg_pipeline_stats *st = vg_pipeline_get_stats(p);
    assert_int_equal(st->points, 1000);
    assert_int_equal(st->events_firing, 1);
    assert_int_equal(st->events_resolved, 1);

    vg_batch_release(&b);
    vg_pipeline_free(p);
    free(h);
    vg_config_free(cfg);
}

static void deterministic(void **state)
{
    (void)state;
    hook_log *runs[2];
    for (int run = 0; run < 2; run++) {
        vg_error err = {0};
        vg_config *cfg = vg_config_default(&err);
        vg_pipeline *p = vg_pipeline_new(cfg, &err);
        assert_non_null(p);
        runs[run] = calloc(1, sizeof(hook_log));
        vg_pipeline_set_hook(p, log_hook, runs[run]);
        vg_batch b;
        vg_batch_init(&b);
        fill_series(&b, "a", 1500, 900, 3);
        fill_series(&b, "b", 1500, 1200, 4);
        vg_pipeline_process(p, &b);
        vg_batch_release(&b);
        vg_pipeline_free(p);
        vg_config_free(cfg);
    }
    assert_int_equal(runs[0]->n, runs[1]->n);
    assert_memory_equal(runs[0]->scores, runs[1]->scores, runs[0]->n * sizeof(double));
    free(runs[0]);
    free(runs[1]);
}

static void series_cap_evicts(void **state)
{
    (void)state;
    vg_config *cfg = config("{\"max_series\": 10}");
    vg_error err = {0};
    vg_pipeline *p = vg_pipeline_new(cfg, &err);
    assert_non_null(p);
    vg_batch b;
    vg_batch_init(&b);
    for (int i = 0; i < 25; i++) {
        char key[16];
        snprintf(key, sizeof(key), "s%d", i);
        vg_batch_push(&b, key, strlen(key), i, 1.0, NULL);
    }
    vg_pipeline_process(p, &b);
    assert_int_equal(vg_series_table_count(vg_pipeline_series(p)), 10);
    assert_int_equal(vg_series_table_evicted(vg_pipeline_series(p)), 15);
    vg_batch_release(&b);
    vg_pipeline_free(p);
    vg_config_free(cfg);
}

/* An unkeyed topic shows as points out of order and a series on a second
 * partition: both counted (the series once, however often it moves). */
static void arrival_order_and_partitions_counted(void **state)
{
    (void)state;
    vg_error err = {0};
    vg_config *cfg = vg_config_default(&err);
    vg_pipeline *p = vg_pipeline_new(cfg, &err);
    assert_non_null(p);
    vg_batch b;
    vg_batch_init(&b);
    /* a: partitions 0, 1, 0, 1 in time order; b: partition 2 only, one
     * point late. */
    static const struct { const char *key; int64_t ts; int32_t part; } pts[] = {
        {"a", 1000, 0}, {"a", 2000, 1}, {"a", 3000, 0}, {"a", 4000, 1},
        {"b", 1000, 2}, {"b", 3000, 2}, {"b", 2000, 2}, {"b", 4000, 2},
    };
    for (size_t i = 0; i < sizeof(pts) / sizeof(pts[0]); i++) {
        vg_origin o = {"t", pts[i].part, (int64_t)i};
        vg_batch_push(&b, pts[i].key, 1, pts[i].ts, 1.0, &o);
    }
    vg_pipeline_process(p, &b);
    assert_int_equal(vg_pipeline_get_stats(p)->out_of_order, 1);
    assert_int_equal(vg_pipeline_get_stats(p)->multi_partition, 1);
    vg_batch_release(&b);
    vg_pipeline_free(p);
    vg_config_free(cfg);
}

static void unknown_detector_is_a_config_error(void **state)
{
    (void)state;
    vg_config *cfg = config("{\n  \"detectors\": {\n    \"zscor\": {}\n  }\n}");
    vg_error err = {0};
    assert_null(vg_pipeline_new(cfg, &err));
    assert_int_equal(err.code, VG_ECONFIG);
    assert_string_equal(err.where, "<test>:3:5");
    assert_non_null(strstr(err.msg, "zscor"));
    vg_config_free(cfg);
}

/* A rule picks detectors, thresholds and severity by name and labels; the
 * first match wins; columns are the union of detectors, NaN where unused.
 * (Host b1's two series fire together: group_window_s 0 lets both page, so
 * the recorder, a notifying output, sees each rule's.) */
static void rules_choose_per_series(void **state)
{
    (void)state;
    vg_config *cfg = config(
        "{\"detectors\": {\"zscore\": {}, \"seasonal\": {}},\n"
        " \"alert\": {\"fire_after\": 1, \"warmup_s\": 0, \"group_window_s\": 0},\n"
        " \"rules\": [\n"
        "  {\"match\": {\"name\": \"lat*\", \"labels\": {\"host\": \"b*\"}},\n"
        "   \"detectors\": {\"zscore\": {\"k\": 4}}, \"severity\": \"critical\",\n"
        "   \"alert\": {\"threshold\": 0.999999}},\n"
        "  {\"match\": {\"name\": \"lat*\"}, \"alert\": {\"fire_after\": 1000, \"fire_at_once\": 0}}\n"
        " ]}");
    vg_error err = {0};
    vg_pipeline *p = vg_pipeline_new(cfg, &err);
    if (p == NULL)
        fail_msg("%s %s", err.where, err.msg);
    assert_int_equal(vg_pipeline_detector_count(p), 2);
    recorder *rec = attach_recorder(p);
    vg_batch b;
    vg_batch_init(&b);
    fill_series(&b, "latency{host=\"b1\"}", 1000, 700, 5);  /* rule 0: fires, critical */
    fill_series(&b, "latency{host=\"a1\"}", 1000, 700, 6);  /* rule 1: never fires */
    fill_series(&b, "cpu{host=\"b1\"}", 1000, 700, 7);      /* top level: fires */
    vg_pipeline_process(p, &b);
    int fired_b = 0, fired_a = 0, fired_cpu = 0;
    for (size_t i = 0; i < rec->n; i++) {
        if (rec->events[i].state != VG_ALERT_FIRING)
            continue;
        if (strcmp(rec->series[i], "latency{host=\"b1\"}") == 0) {
            fired_b++;
            assert_int_equal(rec->events[i].severity, VG_SEVERITY_CRITICAL);
            assert_int_equal(rec->events[i].n_detectors, 1);
            assert_string_equal(rec->events[i].detectors[0].name, "zscore");
        } else if (strcmp(rec->series[i], "latency{host=\"a1\"}") == 0) {
            fired_a++;
        } else {
            fired_cpu++;
            assert_int_equal(rec->events[i].n_detectors, 2);
        }
    }
    assert_true(fired_b >= 1);
    assert_int_equal(fired_a, 0);
    assert_true(fired_cpu >= 1);
    vg_batch_release(&b);
    vg_pipeline_free(p);
    vg_config_free(cfg);
}

/* The highest score of a series' points from a timestamp on, and the
 * farthest its expected value was from its value (where it had one). */
typedef struct peak_after {
    const char *key;
    int64_t     from_ms;
    double      peak;
    double      off;
} peak_after;

static void peak_hook(void *ctx, const vg_batch *b, const vg_point *p, const vg_point_result *r)
{
    peak_after *pk = ctx;
    if (p->ts_ms < pk->from_ms || p->key_len != strlen(pk->key) ||
        memcmp(vg_batch_key(b, p), pk->key, p->key_len) != 0)
        return;
    pk->peak = r->score > pk->peak ? r->score : pk->peak;
    if (!isnan(r->expected) && fabs(r->expected - p->value) > pk->off)
        pk->off = fabs(r->expected - p->value);
}

/* At a counter's reset the detectors restart (engine/guard.h): the points
 * after it are not judged against the counter's old level (about 28,500,
 * which the detectors expect after the reset without the restart), so it
 * does not page, while the same drop of a level that is no counter does,
 * at once. */
static void counter_reset_restarts_the_detectors(void **state)
{
    (void)state;
    vg_error err = {0};
    vg_config *cfg = vg_config_default(&err);
    vg_pipeline *p = vg_pipeline_new(cfg, &err);
    assert_non_null(p);
    recorder *rec = attach_recorder(p);
    const int64_t reset_ms = 3000 * 60000;
    peak_after pk = {"requests_total", reset_ms, 0.0, 0.0};
    vg_pipeline_set_hook(p, peak_hook, &pk);

    vg_batch b;
    vg_batch_init(&b);
    uint64_t rng = 7;
    double count = 0.0;
    for (int i = 0; i < 4000; i++) {
        int64_t ts = (int64_t)i * 60000;
        count = (ts == reset_ms ? 0.0 : count) + 5.0 + floor(10.0 * vg_test_uniform(&rng));
        vg_batch_push(&b, pk.key, strlen(pk.key), ts, count, NULL);
        double level = (ts < reset_ms ? 30000.0 : 50.0) + 10.0 * vg_test_normal(&rng);
        vg_batch_push(&b, "queue", 5, ts, level, NULL);
    }
    vg_pipeline_process(p, &b);
    assert_true(pk.peak < 0.999);
    assert_true(pk.off < 5000.0);  /* 28,500 without the restart */
    for (size_t k = 0; k < rec->n; k++)  /* the queue's incident, not the counter's */
        assert_string_equal(rec->series[k], "queue");
    assert_true(rec->n >= 1);
    assert_int_equal(rec->events[0].state, VG_ALERT_FIRING);
    assert_true(rec->events[0].ts_ms <= reset_ms + 2 * 60000);

    vg_batch_release(&b);
    vg_pipeline_free(p);
    vg_config_free(cfg);
}

static void bad_rule_names_its_position(void **state)
{
    (void)state;
    vg_config *cfg = config("{\"rules\": [\n  {\"match\": {\"name\": \"x\"},\n"
                            "   \"alert\": {\"threshold\": 2}}]}");
    vg_error err = {0};
    assert_null(vg_pipeline_new(cfg, &err));
    assert_int_equal(err.code, VG_ECONFIG);
    assert_string_equal(err.where, "<test>:3:14");
    assert_non_null(strstr(err.msg, "rules[0].alert.threshold"));
    vg_config_free(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(spike_makes_one_incident),
        cmocka_unit_test(deterministic),
        cmocka_unit_test(series_cap_evicts),
        cmocka_unit_test(arrival_order_and_partitions_counted),
        cmocka_unit_test(unknown_detector_is_a_config_error),
        cmocka_unit_test(rules_choose_per_series),
        cmocka_unit_test(bad_rule_names_its_position),
        cmocka_unit_test(counter_reset_restarts_the_detectors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
