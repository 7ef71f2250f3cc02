/* Unit tests for the Alertmanager alert builder (streams/alertmanager_alert.c):
 * the exact postableAlert, label names Alertmanager accepts, and the
 * clamping of startsAt / endsAt. */
#include "tests/unit/helpers.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/event.h"
#include "streams/alertmanager_alert.h"

#define KEY "cpu_user{cpu=\"0\",host=\"a\"}"
#define NOW 1800000000000LL  /* 2027-01-15T08:00:00Z, after every event below */

static vg_event sample(const char *key, vg_alert_state state)
{
    vg_event ev;
    memset(&ev, 0, sizeof(ev));
    memcpy(ev.id, "0123456789abcdef0123456789abcdef", 33);
    ev.state = state;
    ev.severity = VG_SEVERITY_CRITICAL;
    ev.series = key;
    ev.series_len = strlen(key);
    ev.start_ms = 1700000000000;  /* 2023-11-14T22:13:20Z */
    ev.ts_ms = state == VG_ALERT_RESOLVED ? 1700000600500 : 1700000000000;
    ev.duration_s = (double)(ev.ts_ms - ev.start_ms) / 1000.0;
    ev.value = 97.5;
    ev.expected = 12.25;
    ev.lower = 10;
    ev.upper = 14.5;
    ev.score = 0.999999990660712;
    ev.peak = 0.9999999999;
    ev.n_detectors = 2;
    ev.detectors[0] = (vg_event_detector){"zscore", 0.75, NAN, NAN, NAN, "z=4.1"};
    ev.detectors[1] = (vg_event_detector){"seasonal", 0.5, NAN, NAN, NAN, ""};
    return ev;
}

/* The alert's compact JSON (new string, caller frees). */
static char *dump(const vg_event *ev, const char *generator, int64_t now)
{
    json_t *alert = vg_am_alert_new(ev, "VigilAnomaly", generator, now);
    assert_non_null(alert);
    char *text = json_dumps(alert, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(alert);
    assert_non_null(text);
    return text;
}

static void firing_golden(void **state)
{
    (void)state;
    vg_event ev = sample(KEY, VG_ALERT_FIRING);
    char *text = dump(&ev, "http://grafana/d/x", NOW);
    assert_string_equal(
        text,
        "{\"labels\":{\"cpu\":\"0\",\"host\":\"a\",\"alertname\":\"VigilAnomaly\","
        "\"series\":\"cpu_user\",\"severity\":\"critical\"},"
        "\"annotations\":{\"summary\":\"cpu_user{cpu=\\\"0\\\",host=\\\"a\\\"} rose to "
        "97.5, expected 12.2 (± 2.2)\","
        "\"incident\":\"0123456789abcdef0123456789abcdef\",\"value\":\"97.5\","
        "\"expected\":\"12.25\",\"band\":\"[10, 14.5]\",\"score\":\"0.999999990660712\","
        "\"peak\":\"0.9999999999\",\"score_zscore\":\"0.75\",\"score_seasonal\":\"0.5\"},"
        "\"startsAt\":\"2023-11-14T22:13:20.000Z\",\"generatorURL\":\"http://grafana/d/x\"}");
    free(text);
}

static void resolved_same_labels_with_ends_at(void **state)
{
    (void)state;
    vg_event fire = sample(KEY, VG_ALERT_FIRING);
    vg_event res = sample(KEY, VG_ALERT_RESOLVED);
    json_t *a = vg_am_alert_new(&fire, "VigilAnomaly", "", NOW);
    json_t *b = vg_am_alert_new(&res, "VigilAnomaly", NULL, NOW);
    assert_non_null(a);
    assert_non_null(b);
    assert_true(json_equal(json_object_get(a, "labels"), json_object_get(b, "labels")));
    assert_string_equal(json_string_value(json_object_get(b, "startsAt")),
                        "2023-11-14T22:13:20.000Z");
    assert_string_equal(json_string_value(json_object_get(b, "endsAt")),
                        "2023-11-14T22:23:20.500Z");
    assert_null(json_object_get(a, "endsAt"));
    /* an empty or NULL generator URL leaves the key out */
    assert_null(json_object_get(a, "generatorURL"));
    assert_null(json_object_get(b, "generatorURL"));
    const char *summary =
        json_string_value(json_object_get(json_object_get(b, "annotations"), "summary"));
    assert_string_equal(summary, "cpu_user{cpu=\"0\",host=\"a\"} is back to normal after 10 min");
    json_decref(a);
    json_decref(b);
}

static void times_clamped(void **state)
{
    (void)state;
    vg_event ev = sample(KEY, VG_ALERT_RESOLVED);
    char out[32];
    /* the whole incident after "now": both times become now */
    json_t *a = vg_am_alert_new(&ev, "A", "", 1600000000000);
    vg_format_rfc3339(1600000000000, out);
    assert_string_equal(json_string_value(json_object_get(a, "startsAt")), out);
    assert_string_equal(json_string_value(json_object_get(a, "endsAt")), out);
    json_decref(a);
    /* ends in the future only: endsAt = now, startsAt kept */
    a = vg_am_alert_new(&ev, "A", "", 1700000300000);
    vg_format_rfc3339(1700000300000, out);
    assert_string_equal(json_string_value(json_object_get(a, "endsAt")), out);
    assert_string_equal(json_string_value(json_object_get(a, "startsAt")),
                        "2023-11-14T22:13:20.000Z");
    json_decref(a);
    /* a resolving point before the start: endsAt = startsAt, never before */
    ev.ts_ms = ev.start_ms - 5000;
    a = vg_am_alert_new(&ev, "A", "", NOW);
    assert_string_equal(json_string_value(json_object_get(a, "endsAt")),
                        "2023-11-14T22:13:20.000Z");
    json_decref(a);
}

static void label_names_made_valid(void **state)
{
    (void)state;
    const char *key = "m{0zone=\"z\",alertname=\"mine\",host.name=\"h\",severity=\"s\"}";
    vg_event ev = sample(key, VG_ALERT_FIRING);
    ev.severity = VG_SEVERITY_WARNING;
    ev.expected = ev.lower = ev.upper = NAN;
    json_t *a = vg_am_alert_new(&ev, "VigilAnomaly", "", NOW);
    assert_non_null(a);
    char *labels = json_dumps(json_object_get(a, "labels"), JSON_COMPACT | JSON_PRESERVE_ORDER);
    assert_string_equal(labels, "{\"_0zone\":\"z\",\"exported_alertname\":\"mine\","
                                "\"host_name\":\"h\",\"exported_severity\":\"s\","
                                "\"alertname\":\"VigilAnomaly\",\"series\":\"m\","
                                "\"severity\":\"warning\"}");
    free(labels);
    /* no expectation: no expected, no band, and a shorter summary */
    json_t *ann = json_object_get(a, "annotations");
    assert_null(json_object_get(ann, "expected"));
    assert_null(json_object_get(ann, "band"));
    assert_string_equal(json_string_value(json_object_get(ann, "summary")),
                        "m{0zone=\"z\",alertname=\"mine\",host.name=\"h\",severity=\"s\"} "
                        "is anomalous at 97.5 (score 0.999999990660712)");
    json_decref(a);
}

/* A rule's words: its alertname and labels, the sentences the pipeline
 * rendered, its runbook. */
static void rule_words(void **state)
{
    (void)state;
    vg_event ev = sample(KEY, VG_ALERT_FIRING);
    json_t *labels = json_pack("{s:s,s:s}", "team", "storage", "service", "fs");
    ev.alertname = "DiskFreeLow";
    ev.page_labels = labels;
    ev.summary = "disk fell";
    ev.description = "long words";
    ev.runbook_url = "https://runbooks/disk";
    json_t *a = vg_am_alert_new(&ev, "VigilAnomaly", "", NOW);
    assert_non_null(a);
    json_t *l = json_object_get(a, "labels");
    assert_string_equal(json_string_value(json_object_get(l, "alertname")), "DiskFreeLow");
    assert_string_equal(json_string_value(json_object_get(l, "team")), "storage");
    assert_string_equal(json_string_value(json_object_get(l, "service")), "fs");
    json_t *ann = json_object_get(a, "annotations");
    assert_string_equal(json_string_value(json_object_get(ann, "summary")), "disk fell");
    assert_string_equal(json_string_value(json_object_get(ann, "description")), "long words");
    assert_string_equal(json_string_value(json_object_get(ann, "runbook_url")),
                        "https://runbooks/disk");
    json_decref(a);
    json_decref(labels);
}

static void bad_input_is_null(void **state)
{
    (void)state;
    /* a key that does not split, and a label value that is not UTF-8 */
    vg_event ev = sample("m{host=\"a\"", VG_ALERT_FIRING);
    assert_null(vg_am_alert_new(&ev, "A", "", NOW));
    ev = sample("m{host=\"\xff\xfe\"}", VG_ALERT_FIRING);
    assert_null(vg_am_alert_new(&ev, "A", "", NOW));
}

/* A group incident's page (alert.group_window_s): the leader's alert
 * lists who joined it; rewritten in place as they come and go; ended, it
 * gets endsAt at the last one's resolve (clamped to now). An escalated
 * member's alert names the page it joined. */
static void page_annotations(void **state)
{
    (void)state;
    vg_event_member listed[2] = {{"mem{host=\"a\"}", 14, 1, 0.9, 0},
                                 {"disk{host=\"a\"}", 15, 0, 0.9, 0}};
    vg_event_page page = {.id = "0123456789abcdef0123456789abcdef", .ts_ms = 1700000900000,
                          .start_ms = 1700000000000, .leader_firing = 1, .n_joined = 14,
                          .n_firing = 13, .n_listed = 2, .listed = listed};
    vg_event ev = sample(KEY, VG_ALERT_FIRING);
    char *text = dump(&ev, NULL, NOW);
    assert_int_equal(vg_am_alert_set_page(&text, &page, NOW), 0);
    json_t *alert = json_loads(text, 0, NULL);
    const json_t *ann = json_object_get(alert, "annotations");
    assert_string_equal(json_string_value(json_object_get(ann, "members")), "14");
    assert_string_equal(json_string_value(json_object_get(ann, "members_firing")), "13");
    assert_string_equal(json_string_value(json_object_get(ann, "members_listed")),
                        "mem{host=\"a\"}, disk{host=\"a\"} (resolved), … and 12 more");
    assert_null(json_object_get(ann, "leader_resolved"));
    assert_null(json_object_get(alert, "endsAt"));  /* still firing */
    assert_non_null(json_object_get(ann, "summary"));  /* the leader's words kept */
    json_decref(alert);

    /* the leader resolved, then the last member: the page's resolved */
    page.leader_firing = 0;
    page.leader_end_ms = 1700000600000;
    page.n_firing = 0;
    assert_int_equal(vg_am_alert_set_page(&text, &page, NOW), 0);
    alert = json_loads(text, 0, NULL);
    ann = json_object_get(alert, "annotations");
    assert_string_equal(json_string_value(json_object_get(ann, "members_firing")), "0");
    assert_string_equal(json_string_value(json_object_get(ann, "leader_resolved")),
                        "2023-11-14T22:23:20.000Z");
    assert_string_equal(json_string_value(json_object_get(alert, "endsAt")),
                        "2023-11-14T22:28:20.000Z");
    json_decref(alert);
    page.ts_ms = NOW + 5000;  /* a future end is clamped to now */
    assert_int_equal(vg_am_alert_set_page(&text, &page, NOW), 0);
    assert_non_null(strstr(text, "\"endsAt\":\"2027-01-15T08:00:00.000Z\""));
    free(text);

    char *bad = strdup("{\"labels\":{}}");
    assert_int_equal(vg_am_alert_set_page(&bad, &page, NOW), VG_EPARSE);
    assert_string_equal(bad, "{\"labels\":{}}");  /* untouched */
    free(bad);

    ev.group_id = "fedcba9876543210fedcba9876543210";
    ev.escalated = 1;
    text = dump(&ev, NULL, NOW);
    assert_non_null(strstr(text, "\"group_id\":\"fedcba9876543210fedcba9876543210\""));
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(firing_golden),
        cmocka_unit_test(resolved_same_labels_with_ends_at),
        cmocka_unit_test(times_clamped),
        cmocka_unit_test(label_names_made_valid),
        cmocka_unit_test(rule_words),
        cmocka_unit_test(bad_input_is_null),
        cmocka_unit_test(page_annotations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
