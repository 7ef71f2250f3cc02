/* Unit tests for events (core/event.c): ids, RFC 3339, JSON both ways. */
#include "tests/unit/helpers.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/event.h"
#include "core/series_key.h"

#define KEY "cpu_user{cpu=\"0\",host=\"a\"}"

static vg_event sample_event(void)
{
    vg_event ev;
    memset(&ev, 0, sizeof(ev));
    memcpy(ev.id, "0123456789abcdef0123456789abcdef", 33);
    ev.state = VG_ALERT_FIRING;
    ev.severity = VG_SEVERITY_CRITICAL;
    ev.series = KEY;
    ev.series_len = strlen(KEY);
    ev.ts_ms = 1700000000123;
    ev.start_ms = 1700000000000;
    ev.value = 0.1;
    ev.expected = 2.5;
    ev.lower = NAN;
    ev.upper = 3.0;
    ev.score = 0.99;
    ev.peak = 1.0;
    ev.n_detectors = 1;
    ev.detectors[0] = (vg_event_detector){"zscore", 0.5, NAN, NAN, NAN, "z=4.1"};
    ev.origin = (vg_origin){"metrics", 3, 42};
    memcpy(ev.event_id, "fedcba9876543210fedcba9876543210", 33);
    ev.duration_s = 0.123;
    ev.rule = "db";
    ev.instance = "host-1";
    ev.summary = "cpu_user fell to 0.1";
    ev.description = "d";
    return ev;
}

static void golden_json(void **state)
{
    (void)state;
    vg_event ev = sample_event();
    char buf[2048];
    int n = vg_event_encode(&ev, buf, sizeof(buf));
    const char *want =
        "{\"schema\":2,\"id\":\"0123456789abcdef0123456789abcdef\","
        "\"event_id\":\"fedcba9876543210fedcba9876543210\",\"state\":\"firing\","
        "\"severity\":\"critical\",\"series\":\"cpu_user{cpu=\\\"0\\\",host=\\\"a\\\"}\","
        "\"name\":\"cpu_user\",\"labels\":{\"cpu\":\"0\",\"host\":\"a\"},"
        "\"ts\":\"2023-11-14T22:13:20.123Z\",\"ts_ms\":1700000000123,"
        "\"start_ms\":1700000000000,\"duration_s\":0.123,\"value\":0.10000000000000001,"
        "\"expected\":2.5,\"band\":[null,3.0],\"score\":0.98999999999999999,\"peak\":1.0,"
        "\"muted\":false,\"rule\":\"db\",\"instance\":\"host-1\","
        "\"summary\":\"cpu_user fell to 0.1\",\"description\":\"d\","
        "\"detectors\":{\"zscore\":{\"score\":0.5,\"expected\":null,"
        "\"band\":[null,null],\"detail\":\"z=4.1\"}},"
        "\"source\":{\"topic\":\"metrics\",\"partition\":3,\"offset\":42}}";
    assert_string_equal(buf, want);
    assert_int_equal(n, (int)strlen(want));
    /* too small a buffer is an error, not a truncated line */
    assert_int_equal(vg_event_encode(&ev, buf, (size_t)n), VG_ERANGE);
    assert_int_equal(vg_event_encode(&ev, buf, (size_t)n + 1), n);
}

static void assert_same_event(const vg_event *a, const vg_event *b)
{
    assert_string_equal(a->id, b->id);
    assert_int_equal(a->state, b->state);
    assert_int_equal(a->severity, b->severity);
    assert_int_equal(a->series_len, b->series_len);
    assert_memory_equal(a->series, b->series, a->series_len);
    assert_int_equal(a->ts_ms, b->ts_ms);
    assert_int_equal(a->start_ms, b->start_ms);
    /* exact: 17 digits round-trip every double; NaN equals NaN */
    assert_double_near(a->value, b->value, 0.0);
    assert_double_near(a->expected, b->expected, 0.0);
    assert_double_near(a->lower, b->lower, 0.0);
    assert_double_near(a->upper, b->upper, 0.0);
    assert_double_near(a->score, b->score, 0.0);
    assert_double_near(a->peak, b->peak, 0.0);
    assert_int_equal(a->n_detectors, b->n_detectors);
    for (size_t i = 0; i < a->n_detectors; i++) {
        assert_string_equal(a->detectors[i].name, b->detectors[i].name);
        assert_double_near(a->detectors[i].score, b->detectors[i].score, 0.0);
        assert_double_near(a->detectors[i].expected, b->detectors[i].expected, 0.0);
        assert_double_near(a->detectors[i].lower, b->detectors[i].lower, 0.0);
        assert_double_near(a->detectors[i].upper, b->detectors[i].upper, 0.0);
        assert_string_equal(a->detectors[i].detail, b->detectors[i].detail);
    }
    assert_string_equal(a->event_id, b->event_id);
    assert_double_near(a->duration_s, b->duration_s, 0.0);
    assert_int_equal(a->muted, b->muted);
    const char *const *sa[] = {&a->rule, &a->instance, &a->summary, &a->description,
                               &a->runbook_url, &a->alertname};
    const char *const *sb[] = {&b->rule, &b->instance, &b->summary, &b->description,
                               &b->runbook_url, &b->alertname};
    for (size_t i = 0; i < sizeof(sa) / sizeof(sa[0]); i++) {
        if (*sa[i] == NULL)
            assert_null(*sb[i]);
        else
            assert_string_equal(*sa[i], *sb[i]);
    }
    if (a->page_labels == NULL)
        assert_null(b->page_labels);
    else
        assert_true(json_equal((json_t *)a->page_labels, (json_t *)b->page_labels));
    assert_int_equal(a->origin.partition, b->origin.partition);
    assert_int_equal(a->origin.offset, b->origin.offset);
    if (a->origin.source == NULL)
        assert_null(b->origin.source);
    else
        assert_string_equal(a->origin.source, b->origin.source);
}

/* encode -> parse text -> from_json, and back to the same bytes */
static void round_trip(const vg_event *ev)
{
    char line[4096], again[4096], storage[1024];
    int n = vg_event_encode(ev, line, sizeof(line));
    assert_true(n > 0);
    json_error_t jerr;
    json_t *obj = json_loads(line, 0, &jerr);
    assert_non_null(obj);
    vg_event back;
    vg_error err;
    assert_int_equal(vg_event_from_json(obj, &back, storage, sizeof(storage), &err), 0);
    assert_same_event(ev, &back);
    assert_int_equal(vg_event_encode(&back, again, sizeof(again)), n);
    assert_string_equal(line, again);
    json_decref(obj);  /* back.page_labels was borrowed from it */
}

static void round_trip_every_field(void **state)
{
    (void)state;
    vg_event ev = sample_event();
    round_trip(&ev);

    /* file origin, resolved, warning, NaN everywhere, awkward doubles */
    ev.state = VG_ALERT_RESOLVED;
    ev.severity = VG_SEVERITY_WARNING;
    ev.origin = (vg_origin){"data/a b.csv", -1, 17};
    ev.value = -1.0 / 3.0;
    ev.expected = NAN;
    ev.lower = 5e-324;
    ev.upper = 1.7976931348623157e308;
    ev.score = 0.99999999999999989;
    ev.peak = NAN;
    ev.ts_ms = -1;
    ev.start_ms = INT64_MIN;
    ev.n_detectors = 3;
    ev.detectors[1] = (vg_event_detector){"seasonal", 1e-300, 12.25, 11.0, 13.5, ""};
    /* a muted event of a rule with its own words */
    json_t *labels = json_pack("{s:s}", "team", "db");
    ev.muted = 1;
    ev.alertname = "DbDown";
    ev.page_labels = labels;
    ev.runbook_url = "https://runbooks/db";
    ev.instance = NULL;
    ev.detectors[2] = (vg_event_detector){"iforest", 0.0, NAN, -0.0, 0.1, "h=3.2 \"q\""};
    round_trip(&ev);

    /* a source without a name, and a key without labels */
    ev.origin = (vg_origin){NULL, 0, 0};
    ev.series = "up";
    ev.series_len = 2;
    ev.n_detectors = 0;
    round_trip(&ev);
    json_decref(labels);
}

static void labels_and_name(void **state)
{
    (void)state;
    vg_event ev = sample_event();
    ev.series = "http_requests{code=\"200\",path=\"/a\\\"b\"}";
    ev.series_len = strlen(ev.series);
    json_t *obj = vg_event_to_json(&ev);
    assert_non_null(obj);
    assert_string_equal(json_string_value(json_object_get(obj, "name")), "http_requests");
    json_t *labels = json_object_get(obj, "labels");
    assert_int_equal(json_object_size(labels), 2);
    assert_string_equal(json_string_value(json_object_get(labels, "code")), "200");
    assert_string_equal(json_string_value(json_object_get(labels, "path")), "/a\"b");
    json_decref(obj);
}

/* The id recipe, spelled out independently of event.c. */
static void expected_id(const char *key, int64_t start, char out[33])
{
    static char buf[8192];
    size_t klen = strlen(key);
    memcpy(buf, key, klen);
    buf[klen] = '\0';
    int n = snprintf(buf + klen + 1, sizeof(buf) - klen - 1, "%" PRId64, start);
    uint64_t hi = vg_hash64(buf, klen + 1 + (size_t)n, 0x9e3779b97f4a7c15ULL);
    uint64_t lo = vg_hash64(buf, klen + 1 + (size_t)n, 0xc2b2ae3d27d4eb4fULL);
    snprintf(out, 33, "%016" PRIx64 "%016" PRIx64, hi, lo);
}

static void id_of(const char *key, int64_t start, char out[33])
{
    vg_event ev;
    memset(&ev, 0, sizeof(ev));
    ev.series = key;
    ev.series_len = strlen(key);
    ev.start_ms = start;
    vg_event_make_id(&ev);
    memcpy(out, ev.id, 33);
}

static void id_stable_and_distinct(void **state)
{
    (void)state;
    char a[33], b[33], want[33];
    id_of(KEY, 1700000000000, a);
    assert_int_equal(strlen(a), 32);
    assert_int_equal(strspn(a, "0123456789abcdef"), 32);
    expected_id(KEY, 1700000000000, want);
    assert_string_equal(a, want);
    /* the same incident gives the same id, whatever else differs */
    vg_event ev = sample_event();
    vg_event_make_id(&ev);
    assert_string_equal(ev.id, a);
    ev.ts_ms += 5000;
    ev.value = 7;
    char firing_event[33];
    memcpy(firing_event, ev.event_id, 33);
    ev.state = VG_ALERT_RESOLVED;
    vg_event_make_id(&ev);
    assert_string_equal(ev.id, a);
    /* but each event of it has its own event id */
    assert_int_equal(strspn(ev.event_id, "0123456789abcdef"), 32);
    assert_string_not_equal(ev.event_id, firing_event);
    assert_string_not_equal(ev.event_id, ev.id);
    /* another start or series gives another id */
    id_of(KEY, 1700000000001, b);
    assert_string_not_equal(a, b);
    id_of("cpu_user{cpu=\"1\",host=\"a\"}", 1700000000000, b);
    assert_string_not_equal(a, b);
    /* the separator keeps key/start boundaries apart */
    id_of("a1", 23, a);
    id_of("a", 123, b);
    assert_string_not_equal(a, b);
    id_of("a", -5, a);
    expected_id("a", -5, want);
    assert_string_equal(a, want);
    /* the two halves are independent hashes, not one repeated */
    assert_memory_not_equal(a, a + 16, 16);
}

/* Keys longer than event.c's stack buffer take its heap path. */
static void long_key_id(void **state)
{
    (void)state;
    static char key[5000];
    memset(key, 'x', sizeof(key) - 1);
    char a[33], b[33], want[33];
    id_of(key, 1, a);
    id_of(key, 1, b);
    assert_string_equal(a, b);
    expected_id(key, 1, want);
    assert_string_equal(a, want);
    key[4000] = 'y';
    id_of(key, 1, b);
    assert_string_not_equal(a, b);
}

static void rfc3339(void **state)
{
    (void)state;
    static const struct {
        int64_t     ms;
        const char *text;
    } cases[] = {
        {0, "1970-01-01T00:00:00.000Z"},
        {-1, "1969-12-31T23:59:59.999Z"},
        {-86400000, "1969-12-31T00:00:00.000Z"},
        {-14182940000, "1969-07-20T20:17:40.000Z"},
        {-2208988800001, "1899-12-31T23:59:59.999Z"},
        {-62135596800000, "0001-01-01T00:00:00.000Z"},
        {951782400000, "2000-02-29T00:00:00.000Z"},
        {1700000000123, "2023-11-14T22:13:20.123Z"},
        {253402300799999, "9999-12-31T23:59:59.999Z"},
    };
    char out[32];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        vg_format_rfc3339(cases[i].ms, out);
        assert_string_equal(out, cases[i].text);
    }
    /* the extremes neither crash nor overflow the buffer */
    vg_format_rfc3339(INT64_MIN, out);
    assert_true(strlen(out) < 32 && out[strlen(out) - 1] == 'Z');
    vg_format_rfc3339(INT64_MAX, out);
    assert_true(strlen(out) < 32 && out[strlen(out) - 1] == 'Z');
}

static void from_json_names_bad_fields(void **state)
{
    (void)state;
    vg_event ev = sample_event();
    char storage[512];
    vg_error err;
    vg_event back;
    static const struct {
        const char *field;
        const char *json; /* replacement value; NULL deletes the field */
    } cases[] = {
        {"schema", "1"}, {"id", "\"xyz\""}, {"event_id", NULL}, {"muted", "0"},
        {"rule", "1"}, {"page_labels", "[]"}, {"state", "\"pending\""},
        {"severity", "\"high\""}, {"series", "3"}, {"ts_ms", "1.5"},
        {"start_ms", NULL}, {"value", "\"1\""}, {"band", "[1]"},
        {"score", NULL}, {"detectors", "[]"}, {"source", "{\"topic\":\"t\",\"offset\":1}"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *obj = vg_event_to_json(&ev);
        assert_non_null(obj);
        if (cases[i].json == NULL)
            json_object_del(obj, cases[i].field);
        else
            json_object_set_new(obj, cases[i].field, json_loads(cases[i].json,
                                                                JSON_DECODE_ANY, NULL));
        vg_error_clear(&err);
        assert_int_equal(vg_event_from_json(obj, &back, storage, sizeof(storage), &err),
                         VG_EPARSE);
        assert_int_equal(err.code, VG_EPARSE);
        const char *field = strcmp(cases[i].field, "source") == 0 ? "partition"
                                                                    : cases[i].field;
        char quoted[64];
        snprintf(quoted, sizeof(quoted), "\"%s\"", field);
        if (strstr(err.msg, quoted) == NULL)
            fail_msg("message \"%s\" does not name %s", err.msg, quoted);
        json_decref(obj);
    }
    /* storage too small */
    json_t *obj = vg_event_to_json(&ev);
    assert_int_equal(vg_event_from_json(obj, &back, storage, 8, &err), VG_EPARSE);
    assert_non_null(strstr(err.msg, "\"series\""));
    json_decref(obj);
    assert_int_equal(vg_event_from_json(json_null(), &back, storage, 8, &err), VG_EPARSE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(golden_json),
        cmocka_unit_test(round_trip_every_field),
        cmocka_unit_test(labels_and_name),
        cmocka_unit_test(id_stable_and_distinct),
        cmocka_unit_test(long_key_id),
        cmocka_unit_test(rfc3339),
        cmocka_unit_test(from_json_names_bad_fields),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
