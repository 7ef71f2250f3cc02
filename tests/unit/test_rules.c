/* Rules a person shapes alerts with (engine/rules.c, engine/baseline.c,
 * engine/pipeline_score.c), end to end through a pipeline: suppression by
 * direction and by absolute or relative deviation, skip_model_update, the
 * first matching rule winning, the words of its events, its mute windows
 * and the firing incidents counted by rule. Each case runs the same series with and
 * without the rule, so it fails when the rule does nothing. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/config.h"
#include "engine/pipeline.h"
#include "core/vigil_metrics.h"
#include "tests/unit/helpers.h"

#define MINUTE 60000
#define MAX_EVENTS 16
#define N_POINTS 1200
#define DROP_AT 600
#define RISE_AT 900

/* What one run produced: its events as JSON, and each point's expectation. */
typedef struct run_out {
    json_t *events[MAX_EVENTS];   /* as the event log records them */
    size_t  n;
    size_t  notified;             /* events a notification output got */
    double  expected[N_POINTS];
    char   *metrics;              /* /metrics while the pipeline lived */
} run_out;

static void *capture_open(const vg_conf_doc *doc, const json_t *cfg, vg_error *err)
{
    (void)doc;
    (void)cfg;
    (void)err;
    return calloc(1, sizeof(run_out));
}

static int capture_emit(void *self, const vg_event *ev)
{
    run_out *o = self;
    assert_true(o->n < MAX_EVENTS);
    o->events[o->n++] = vg_event_to_json(ev);
    return 0;
}

/* The test frees the captured run itself, after the pipeline is gone. */
static void capture_close(void *self)
{
    (void)self;
}

static const vg_sink_ops capture_ops = {
    .name = "capture", .open = capture_open, .emit = capture_emit,
    .flush = vg_test_sink_flush, .close = capture_close, .records_muted = 1,
};

static int notify_emit(void *self, const vg_event *ev)
{
    (void)ev;
    ((run_out *)self)->notified++;
    return 0;
}

/* An Alertmanager or alert topic: muted incidents do not reach it. */
static const vg_sink_ops notify_ops = {
    .name = "notify", .emit = notify_emit, .flush = vg_test_sink_flush, .close = capture_close,
};

static void on_point(void *ctx, const vg_batch *b, const vg_point *pt,
                     const vg_point_result *r)
{
    (void)b;
    run_out *o = ctx;
    o->expected[pt->ts_ms / MINUTE] = r->expected;
}

/* A disk at 100 with noise; a drop to `drop` at DROP_AT, a rise to 150 at
 * RISE_AT, one point each. */
static run_out *run(const char *config_text, double drop)
{
    vg_error err = {0};
    vg_config *cfg = vg_config_load_string(config_text, "<test>", &err);
    if (cfg == NULL)
        fail_msg("%s", err.msg);
    vg_pipeline *p = vg_pipeline_new(cfg, &err);
    if (p == NULL)
        fail_msg("%s", err.msg);
    vg_sink *sink = malloc(sizeof(*sink));
    sink->ops = &capture_ops;
    sink->self = capture_open(NULL, NULL, NULL);
    run_out *o = sink->self;
    assert_int_equal(vg_pipeline_add_sink(p, sink), 0);
    vg_sink *notify = malloc(sizeof(*notify));
    notify->ops = &notify_ops;
    notify->self = o;
    assert_int_equal(vg_pipeline_add_sink(p, notify), 0);
    vg_pipeline_set_hook(p, on_point, o);
    uint64_t rng = 11;
    vg_batch b;
    vg_batch_init(&b);
    for (size_t i = 0; i < N_POINTS; i++) {
        double v = 100.0 + vg_test_normal(&rng);
        v = i == DROP_AT ? drop : i == RISE_AT ? 150.0 : v;
        vg_batch_push(&b, "disk_free{host=\"a\"}", 19, (int64_t)i * MINUTE, v, NULL);
    }
    assert_true(vg_pipeline_process(p, &b) >= 0);
    vg_batch_release(&b);
    size_t len;
    o->metrics = vg_metrics_render(vg_metric_registry(), &len, NULL);
    assert_non_null(o->metrics);
    vg_pipeline_free(p);
    vg_config_free(cfg);
    return o;
}

static void run_free(run_out *o)
{
    for (size_t i = 0; i < o->n; i++)
        json_decref(o->events[i]);
    free(o->metrics);
    free(o);
}

/* The minutes at which incidents fired, as "600,900". */
static const char *firings(const run_out *o, char *buf, size_t cap)
{
    buf[0] = '\0';
    for (size_t i = 0; i < o->n; i++) {
        const json_t *ev = o->events[i];
        if (strcmp(json_string_value(json_object_get(ev, "state")), "firing") != 0)
            continue;
        size_t len = strlen(buf);
        snprintf(buf + len, cap - len, "%s%lld", len ? "," : "",
                 (long long)(json_integer_value(json_object_get(ev, "ts_ms")) / MINUTE));
    }
    return buf;
}

/* Scoring pinned (threshold one point in 100k, no per-series tail): the
 * cases count exact incidents of the rules on 1200 points of noise, where
 * the default threshold (one in 10k) may add one by chance. The events are
 * single points in the series' first day: no warm-up, no confirmation. */
#define BASE "{\"window\": 100, \"detectors\": {\"zscore\": {}}, " \
             "\"ensemble\": {\"recalibrate\": false}, \"alert\": {\"threshold\": 0.99999, " \
             "\"fire_after\": 1, \"warmup_s\": 0}"

static void assert_fires(const char *config_text, double drop, const char *want)
{
    char buf[128];
    run_out *o = run(config_text, drop);
    assert_string_equal(firings(o, buf, sizeof(buf)), want);
    run_free(o);
}

static void direction_keeps_one_side(void **state)
{
    (void)state;
    assert_fires(BASE "}", 50.0, "600,900");
    assert_fires(BASE ", \"rules\": [{\"match\": {\"name\": \"disk_*\"},"
                 " \"alert\": {\"direction\": \"down\"}}]}", 50.0, "600");
    assert_fires(BASE ", \"rules\": [{\"match\": {\"name\": \"disk_*\"},"
                 " \"alert\": {\"direction\": \"up\"}}]}", 50.0, "900");
}

static void relative_and_absolute_floors_per_rule(void **state)
{
    (void)state;
    /* The drop is 50 % and 50 units, the rise 50 % and 50 units. */
    assert_fires(BASE ", \"rules\": [{\"match\": {\"name\": \"disk_*\"},"
                 " \"alert\": {\"min_relative\": 0.4}}]}", 10.0, "600,900");
    assert_fires(BASE ", \"rules\": [{\"match\": {\"name\": \"disk_*\"},"
                 " \"alert\": {\"min_relative\": 0.6}}]}", 10.0, "600");
    assert_fires(BASE ", \"rules\": [{\"match\": {\"name\": \"disk_*\"},"
                 " \"alert\": {\"min_relative\": 0.6}}]}", 50.0, "");
    assert_fires(BASE ", \"rules\": [{\"match\": {\"name\": \"disk_*\"},"
                 " \"alert\": {\"min_deviation\": 60}}]}", 10.0, "600");
    /* First match wins: the rule for host b is never seen by host a. */
    assert_fires(BASE ", \"rules\": ["
                 "{\"match\": {\"labels\": {\"host\": \"a\"}}, \"alert\": {\"min_deviation\": 95}},"
                 "{\"match\": {\"name\": \"disk_*\"}, \"alert\": {\"min_deviation\": 0}}]}",
                 10.0, "");
}

/* A drop of 1000 the rule suppresses (direction up): by default the model
 * learns it (the rolling mean falls by 10), with skip_model_update it does
 * not. */
static void skip_model_update_keeps_the_model(void **state)
{
    (void)state;
    run_out *o = run(BASE ", \"rules\": [{\"match\": {\"name\": \"disk_*\"},"
                     " \"alert\": {\"direction\": \"up\"}}]}", -900.0);
    assert_true(o->expected[DROP_AT + 1] < 95.0);
    run_free(o);
    o = run(BASE ", \"rules\": [{\"match\": {\"name\": \"disk_*\"},"
            " \"alert\": {\"direction\": \"up\", \"skip_model_update\": true}}]}", -900.0);
    assert_double_near(o->expected[DROP_AT + 1], 100.0, 0.5);
    /* The rise it does not suppress is still learned. */
    assert_true(o->expected[RISE_AT + 1] > o->expected[RISE_AT] + 0.3);
    run_free(o);
}

static const char *field(const json_t *ev, const char *key)
{
    return json_string_value(json_object_get(ev, key));
}

/* The default words read as a sentence; a rule's templates replace them. */
static void words_from_the_rule(void **state)
{
    (void)state;
    run_out *o = run(BASE ", \"instance\": \"vigil-1\"}", 10.0);
    assert_true(o->n >= 1);
    const json_t *ev = o->events[0];
    assert_string_equal(field(ev, "rule"), "default");
    assert_string_equal(field(ev, "instance"), "vigil-1");
    assert_non_null(strstr(field(ev, "summary"), "disk_free{host=\"a\"} fell to 10.0, expected "));
    assert_null(json_object_get(ev, "alertname"));
    run_free(o);

    o = run(BASE ", \"rules\": [{\"match\": {\"name\": \"disk_*\"}, \"name\": \"disk\","
            " \"alertname\": \"DiskFreeLow\", \"labels\": {\"team\": \"storage\"},"
            " \"annotations\": {\"summary\": \"{{label.host}}: {{name}} {{direction}} "
            "{{deviation_pct}} % to {{value}}\", \"runbook_url\": \"https://rb/{{name}}\"}}]}",
            10.0);
    assert_true(o->n >= 2);
    ev = o->events[0];
    assert_string_equal(field(ev, "rule"), "disk");
    assert_string_equal(field(ev, "alertname"), "DiskFreeLow");
    assert_string_equal(json_string_value(json_object_get(json_object_get(ev, "page_labels"),
                                                          "team")), "storage");
    assert_string_equal(field(ev, "runbook_url"), "https://rb/disk_free");
    if (strcmp(field(ev, "summary"), "a: disk_free fell 90 % to 10.0") != 0)
        fail_msg("summary: %s", field(ev, "summary"));
    /* Each event its own id; the incident's id shared by firing and resolved. */
    assert_string_not_equal(field(ev, "event_id"), field(o->events[1], "event_id"));
    assert_string_equal(field(ev, "id"), field(o->events[1], "id"));
    assert_true(json_real_value(json_object_get(o->events[1], "duration_s")) > 0.0);
    run_free(o);
}

static void bad_words_rejected(void **state)
{
    (void)state;
    const char *bad[] = {
        "{\"rules\": [{\"match\": {}, \"annotations\": {\"summary\": \"{{valu}}\"}}]}",
        "{\"rules\": [{\"match\": {}, \"annotations\": {\"title\": \"x\"}}]}",
        "{\"rules\": [{\"match\": {}, \"labels\": {\"severity\": \"x\"}}]}",
        "{\"rules\": [{\"match\": {}, \"labels\": {\"a-b\": \"x\"}}]}",
        "{\"rules\": [{\"match\": {}, \"name\": 3}]}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        vg_error err = {0};
        vg_config *cfg = vg_config_load_string(bad[i], "<test>", &err);
        assert_non_null(cfg);
        vg_pipeline *p = vg_pipeline_new(cfg, &err);
        assert_null(p);
        assert_int_equal(err.code, VG_ECONFIG);
        assert_non_null(strstr(err.msg, "rules[0]"));
        vg_config_free(cfg);
    }
}

/* A misspelt key of a rule, of its parts or of a mute window is named with
 * its full path and the key it was probably meant to be. */
static void rule_keys_checked_by_their_tables(void **state)
{
    (void)state;
    const struct {
        const char *json, *msg;
    } bad[] = {
        {"{\"rules\": [{\"match\": {}, \"severty\": \"warning\"}]}",
         "rules[0].severty: unknown key \"severty\", did you mean \"severity\"?"},
        {"{\"rules\": [{\"match\": {}, \"severity\": \"page\"}]}",
         "rules[0].severity: must be one of score|warning|critical"},
        {"{\"rules\": [{\"match\": {\"nam\": \"x\"}}]}",
         "rules[0].match.nam: unknown key \"nam\", did you mean \"name\"?"},
        {"{\"rules\": [{\"match\": {}, \"group\": {\"by\": [\"host\"], \"window\": 5}}]}",
         "rules[0].group.window: unknown key \"window\", did you mean \"window_s\"?"},
        {"{\"rules\": [{\"match\": {}, \"annotations\": {\"sumary\": \"x\"}}]}",
         "rules[0].annotations.sumary: unknown key \"sumary\", did you mean \"summary\"?"},
        {"{\"rules\": [{\"match\": {}, \"mute\": {\"windows\": [{\"cronn\": \"* * * * *\"}]}}]}",
         "rules[0].mute.windows[].cronn: unknown key \"cronn\", did you mean \"cron\"?"},
        {"{\"rules\": [{\"match\": {}, \"mute\": {\"skip_model_update\": true}}]}",
         "rules[0].mute: needs \"windows\" (an array)"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        vg_error err = {0};
        vg_config *cfg = vg_config_load_string(bad[i].json, "<test>", &err);
        assert_non_null(cfg);
        assert_null(vg_pipeline_new(cfg, &err));
        assert_int_equal(err.code, VG_ECONFIG);
        assert_string_equal(err.msg, bad[i].msg);
        vg_config_free(cfg);
    }
    /* "score", the default, is accepted when written out. */
    vg_error err = {0};
    vg_config *cfg = vg_config_load_string(
        "{\"rules\": [{\"match\": {}, \"severity\": \"score\"}]}", "<test>", &err);
    assert_non_null(cfg);
    vg_pipeline *p = vg_pipeline_new(cfg, &err);
    assert_non_null(p);
    vg_pipeline_free(p);
    vg_config_free(cfg);
}

/* Minute i is 1970-01-01 + i min (a Thursday): the drop at 10:00 UTC,
 * 11:00 in Berlin; the rise at 15:00 UTC. */
#define MUTE_RULE(windows, skip) \
    BASE ", \"rules\": [{\"match\": {\"name\": \"disk_*\"}, \"name\": \"disk\"," \
    " \"mute\": {\"windows\": [" windows "], \"skip_model_update\": " skip "}}]}"

static int muted_firings(const run_out *o, int *muted)
{
    int firings = 0;
    *muted = 0;
    for (size_t i = 0; i < o->n; i++) {
        if (strcmp(field(o->events[i], "state"), "firing") != 0)
            continue;
        firings++;
        *muted += json_is_true(json_object_get(o->events[i], "muted"));
    }
    return firings;
}

static void mute_windows_record_but_do_not_notify(void **state)
{
    (void)state;
    int muted;
    run_out *o = run(MUTE_RULE("", "false"), 10.0);
    assert_int_equal(muted_firings(o, &muted), 2);
    assert_int_equal(muted, 0);
    assert_int_equal(o->notified, o->n);
    run_free(o);
    const char *muting[] = {
        MUTE_RULE("{\"cron\": \"* 10 * * *\"}", "false"),
        MUTE_RULE("{\"cron\": \"0-5 11 1 1 *\", \"tz\": \"Europe/Berlin\"}", "false"),
        MUTE_RULE("{\"from\": \"1970-01-01T09:00:00Z\", \"until\": \"1970-01-01T10:01:00Z\"}",
                  "false"),
    };
    for (size_t i = 0; i < sizeof(muting) / sizeof(muting[0]); i++) {
        o = run(muting[i], 10.0);
        /* Both incidents recorded; the drop's firing and resolved muted. */
        assert_int_equal(muted_firings(o, &muted), 2);
        assert_int_equal(muted, 1);
        assert_int_equal(o->n, 4);
        assert_int_equal(o->notified, 2);
        assert_true(json_is_true(json_object_get(o->events[1], "muted")));
        assert_string_equal(field(o->events[1], "state"), "resolved");
        run_free(o);
    }
    /* Another zone: 10:00 and 15:00 UTC are 19:00 and 00:00 in Tokyo. */
    o = run(MUTE_RULE("{\"cron\": \"* 10 * * *\", \"tz\": \"Asia/Tokyo\"}", "false"),
            10.0);
    assert_int_equal(o->notified, o->n);
    run_free(o);
}

static void muted_points_learned_unless_skipped(void **state)
{
    (void)state;
    run_out *o = run(MUTE_RULE("{\"cron\": \"0 10 * * *\"}", "false"), -900.0);
    assert_true(o->expected[DROP_AT + 1] < 95.0);
    run_free(o);
    o = run(MUTE_RULE("{\"cron\": \"0 10 * * *\"}", "true"), -900.0);
    assert_double_near(o->expected[DROP_AT + 1], 100.0, 0.5);
    run_free(o);
}

/* A rise that never resolves: vigil_incidents_firing{rule="disk"} is 1;
 * muted, it is not counted. Once the pipeline is gone (a reload that
 * removed the rule) its incidents leave the gauge. */
static void firing_counted_by_rule_and_severity(void **state)
{
    (void)state;
    const char *cfgs[] = {
        BASE ", \"rules\": [{\"match\": {\"name\": \"disk_*\"}, \"name\": \"disk\","
             " \"severity\": \"warning\", \"alert\": {\"direction\": \"up\","
             " \"resolve_after\": 100000}}]}",
        BASE ", \"rules\": [{\"match\": {\"name\": \"disk_*\"}, \"name\": \"disk\","
             " \"severity\": \"warning\", \"alert\": {\"direction\": \"up\","
             " \"resolve_after\": 100000}, \"mute\": {\"windows\": [{\"cron\": \"* 15 * * *\"}]}}]}",
    };
    const char *one = "vigil_incidents_firing{rule=\"disk\",severity=\"warning\"} 1\n";
    const char *zero = "vigil_incidents_firing{rule=\"disk\",severity=\"warning\"} 0\n";
    for (int i = 0; i < 2; i++) {
        run_out *o = run(cfgs[i], 50.0);
        const char *want = i == 0 ? one : zero;
        if (strstr(o->metrics, want) == NULL)
            fail_msg("missing %s in:\n%s", want, o->metrics);
        run_free(o);
        size_t len;
        char *after = vg_metrics_render(vg_metric_registry(), &len, NULL);
        assert_non_null(after);
        if (strstr(after, zero) == NULL)
            fail_msg("the freed pipeline's incident still counted:\n%s", after);
        free(after);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(direction_keeps_one_side),
        cmocka_unit_test(relative_and_absolute_floors_per_rule),
        cmocka_unit_test(skip_model_update_keeps_the_model),
        cmocka_unit_test(words_from_the_rule),
        cmocka_unit_test(bad_words_rejected),
        cmocka_unit_test(rule_keys_checked_by_their_tables),
        cmocka_unit_test(mute_windows_record_but_do_not_notify),
        cmocka_unit_test(muted_points_learned_unless_skipped),
        cmocka_unit_test(firing_counted_by_rule_and_severity),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
