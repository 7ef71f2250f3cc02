/* Corroboration across a group's series (engine/corroborate.c and the
 * pipeline's use of it): which series form a group, the table's answers,
 * its guard against groups where a high score is always near, and end to
 * end: a one-point blip on two series of one host pages, the
 * same blip on one series does not, and the events do not depend on the
 * number of scoring workers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/config.h"
#include "engine/corroborate.h"
#include "engine/pipeline.h"
#include "tests/unit/helpers.h"

#define MINUTE 60000

static uint64_t group_of(const char *key, const vg_origin *origin)
{
    return vg_corroboration_group(key, strlen(key), NULL, 0, origin);
}

static void groups_by_host_else_file(void **state)
{
    (void)state;
    const vg_origin kafka = {"metrics", 3, 42}, file = {"wide.csv", VG_ORIGIN_WIDE_ROW, 7},
                    other = {"other.csv", VG_ORIGIN_WIDE_ROW, 7}, lng = {"long.csv", -1, 7};
    uint64_t a = group_of("cpu{host=\"a\"}", &kafka);
    assert_true(a > VG_GROUP_NONE);
    assert_true(group_of("mem{host=\"a\",disk=\"sda\"}", &file) == a);  /* labels first */
    assert_true(group_of("cpu{host=\"b\"}", &kafka) != a);
    assert_true(group_of("cpu{instance=\"a\"}", &kafka) != a);  /* the label's name counts */
    /* No host: a wide file's columns are one group, a long file's or a
     * topic's series are not. */
    assert_true(group_of("d01", &file) == group_of("d02", &file));
    assert_true(group_of("d01", &file) > VG_GROUP_NONE);
    assert_true(group_of("d01", &file) != group_of("d01", &other));
    assert_true(group_of("d01", &kafka) == VG_GROUP_NONE);
    assert_true(group_of("d01", &lng) == VG_GROUP_NONE);
    assert_true(group_of("d01", NULL) == VG_GROUP_NONE);
    /* A rule's group.by labels replace host and instance. */
    const char *by[] = {"pod"};
    assert_true(vg_corroboration_group("cpu{host=\"a\"}", 13, by, 1, &kafka) == VG_GROUP_NONE);
    assert_true(vg_corroboration_group("cpu{pod=\"p\"}", 12, by, 1, &kafka) ==
                vg_corroboration_group("mem{pod=\"p\"}", 12, by, 1, &kafka));
}

static void another_series_within_the_window(void **state)
{
    (void)state;
    vg_corroboration *c = vg_corroboration_new();
    assert_non_null(c);
    int s1, s2, s3;
    assert_false(vg_corroboration_seen(c, 5, &s1, 1000, 60000, 0));  /* nothing noted */
    vg_corroboration_note(c, 5, &s1, 1000);
    assert_false(vg_corroboration_seen(c, 5, &s1, 1000, 60000, 0));  /* itself */
    assert_true(vg_corroboration_seen(c, 5, &s2, 61000, 60000, 0));
    assert_false(vg_corroboration_seen(c, 5, &s2, 61001, 60000, 0));  /* too late */
    assert_false(vg_corroboration_seen(c, 6, &s2, 1000, 60000, 0));   /* another group */
    /* s1 noted again: s2's note is still there for s1 to see. */
    vg_corroboration_note(c, 5, &s2, 2000);
    vg_corroboration_note(c, 5, &s1, 3000);
    assert_true(vg_corroboration_seen(c, 5, &s1, 3000, 60000, 0));
    assert_true(vg_corroboration_seen(c, 5, &s3, 3000, 0, 0));
    /* Many groups: the table grows and keeps every one. */
    for (uint64_t g = 10; g < 1010; g++)
        vg_corroboration_note(c, g, &s1, (int64_t)g);
    for (uint64_t g = 10; g < 1010; g++)
        assert_true(vg_corroboration_seen(c, g, &s2, (int64_t)g, 0, 0));
    assert_true(vg_corroboration_seen(c, 5, &s1, 3000, 60000, 0));
    vg_corroboration_free(c);
}

static void a_group_always_high_somewhere_corroborates_nothing(void **state)
{
    (void)state;
    vg_corroboration *c = vg_corroboration_new();
    assert_non_null(c);
    int s1, s2;
    /* A note every 5 minutes for two days (a large host): one falls within
     * +-60 s and a 60 s step by chance 3 times in 5. */
    int64_t t = 0;
    for (; t < 2 * 86400000LL; t += 300000)
        vg_corroboration_note(c, 5, &s1, t);
    assert_false(vg_corroboration_seen(c, 5, &s2, t, 60000, 60000));
    /* Every 5 hours (a small host): 1 in 100; it corroborates. */
    for (; t < 4 * 86400000LL; t += 5 * 3600000LL)
        vg_corroboration_note(c, 6, &s1, t);
    assert_true(vg_corroboration_seen(c, 6, &s2, t - 5 * 3600000LL + 30000, 60000, 60000));
    vg_corroboration_free(c);
}

/* ---- end to end ------------------------------------------------------------ */

#define POINTS  3000
#define BLIP_AT 2500   /* hosts a and b: two series blip */
#define LONE_AT 2700   /* host c: one series blips */

typedef struct seen {
    int    firing;
    int    corroborated;
    char   first[64];   /* the series of the first firing */
    int64_t first_ts;
} seen;

static void *seen_open(const vg_conf_doc *doc, const json_t *cfg, vg_error *err)
{
    (void)doc;
    (void)cfg;
    (void)err;
    return calloc(1, sizeof(seen));
}

static int seen_emit(void *self, const vg_event *ev)
{
    seen *s = self;
    if (getenv("VG_TEST_VERBOSE"))
        fprintf(stderr, "%s %.*s ts %lld score %g reason %s\n", vg_alert_state_name(ev->state),
                (int)ev->series_len, ev->series, (long long)(ev->ts_ms / MINUTE), ev->score,
                ev->reason ? ev->reason : "-");
    if (ev->state != VG_ALERT_FIRING)
        return 0;
    if (s->firing++ == 0) {
        snprintf(s->first, sizeof(s->first), "%.*s", (int)ev->series_len, ev->series);
        s->first_ts = ev->ts_ms;
    }
    s->corroborated += ev->reason != NULL && strstr(ev->reason, "corroborated") != NULL;
    return 0;
}

static const vg_sink_ops seen_ops = {
    .name = "seen", .open = seen_open, .emit = seen_emit,
    .flush = vg_test_sink_flush, .close = vg_test_sink_free,
};

static const char *const keys[] = {
    "cpu{host=\"a\"}", "mem{host=\"a\"}", "cpu{host=\"b\"}", "mem{host=\"b\"}",
    "cpu{host=\"c\"}", "mem{host=\"c\"}",
};
#define N_KEYS (sizeof(keys) / sizeof(keys[0]))

/* One point of series k at step i: noise, and a blip of one point. */
static double value_at(size_t k, size_t i, uint64_t *rng)
{
    double v = 100.0 + vg_test_normal(rng);
    if (i == BLIP_AT && k < 4)
        v += 12.0;
    if (i == LONE_AT && k == 4)
        v += 12.0;
    return v;
}

/* Runs the six series (one batch a few rows) and returns what fired. */
static seen run(const char *config_text)
{
    vg_error err = {0};
    vg_config *cfg = vg_config_load_string(config_text, "<test>", &err);
    assert_non_null(cfg);
    vg_pipeline *p = vg_pipeline_new(cfg, &err);
    assert_non_null(p);
    vg_sink *sink = malloc(sizeof(*sink));
    sink->ops = &seen_ops;
    sink->self = seen_open(NULL, NULL, NULL);
    seen *s = sink->self;
    assert_int_equal(vg_pipeline_add_sink(p, sink), 0);
    uint64_t rng = 11;
    vg_batch b;
    vg_batch_init(&b);
    for (size_t i = 0; i < POINTS; i++) {
        for (size_t k = 0; k < N_KEYS; k++)
            vg_batch_push(&b, keys[k], strlen(keys[k]), (int64_t)i * MINUTE,
                          value_at(k, i, &rng), NULL);
        if (b.n >= 600 || i + 1 == POINTS) {
            assert_true(vg_pipeline_process(p, &b) >= 0);
            vg_batch_reset(&b);
        }
    }
    vg_batch_release(&b);
    seen out = *s;
    vg_pipeline_free(p);
    vg_config_free(cfg);
    return out;
}

/* fire_at_once off: a one-point blip, however high, waits for a second
 * point that does not come, unless its host corroborates it. Past the
 * detectors' first 1,000 points, so noise pages nothing. */
#define ALERT "\"alert\": {\"warmup_s\": 0, \"warmup_points\": 1000, \"fire_at_once\": 0"

static void a_blip_on_two_series_of_a_host_pages(void **state)
{
    (void)state;
    for (int workers = 1; workers <= 4; workers *= 2) {
        char config[256];
        snprintf(config, sizeof(config), "{\"workers\": %d, " ALERT "}}", workers);
        seen s = run(config);
        /* Hosts a and b: the second series of each fires, on the first's
         * note; host c's lone blip does not page. */
        assert_int_equal(s.firing, 2);
        assert_int_equal(s.corroborated, 2);
        assert_string_equal(s.first, "mem{host=\"a\"}");
        assert_true(s.first_ts == (int64_t)BLIP_AT * MINUTE);
    }
    /* Without corroboration nothing pages: the test can fail. */
    seen off = run("{" ALERT ", \"corroborate\": 0}}");
    assert_int_equal(off.firing, 0);
    /* With a window of 0 s, points of one timestamp still corroborate. */
    seen now = run("{" ALERT ", \"corroborate_s\": 0}}");
    assert_int_equal(now.firing, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(groups_by_host_else_file),
        cmocka_unit_test(another_series_within_the_window),
        cmocka_unit_test(a_group_always_high_somewhere_corroborates_nothing),
        cmocka_unit_test(a_blip_on_two_series_of_a_host_pages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
