/* Mute windows (engine/mute.c): cron fields as sets of minutes, cron's
 * either-day rule, time zones with summer time from libc, one-off windows,
 * and the config errors. */
#include <stdlib.h>
#include <string.h>

#include "tests/unit/helpers.h"

#include "core/timeparse.h"
#include "engine/mute.h"

/* The mute of `json` (a rule's "mute" object); fails the test on error. */
static vg_mute parse(const char *json)
{
    json_t *obj = json_loads(json, 0, NULL);
    assert_non_null(obj);
    vg_mute m;
    vg_error err = {0};
    if (vg_mute_parse(&m, NULL, obj, 0, &err) != VG_OK)
        fail_msg("%s: %s", json, err.msg);
    /* The windows keep copies: the JSON may go. */
    json_decref(obj);
    return m;
}

static int muted_at(vg_mute *m, const char *when)
{
    int64_t ts;
    assert_int_equal(vg_time_parse(when, strlen(when), &ts, NULL), 0);
    return vg_mute_active(m, ts);
}

static void cron_fields(void **state)
{
    (void)state;
    /* Weekdays 01:00-02:59 and the first of every month at 06:30 (UTC). */
    vg_mute m = parse("{\"windows\": [{\"cron\": \"* 1-2 * * 1-5\"},"
                      " {\"cron\": \"30 6 1 * *\"}]}");
    assert_true(muted_at(&m, "2026-12-07T01:00:00Z"));   /* Monday */
    assert_true(muted_at(&m, "2026-12-07T02:59:59Z"));
    assert_false(muted_at(&m, "2026-12-07T03:00:00Z"));
    assert_false(muted_at(&m, "2026-12-06T01:30:00Z"));  /* Sunday */
    assert_true(muted_at(&m, "2026-12-01T06:30:10Z"));
    assert_false(muted_at(&m, "2026-12-01T06:31:00Z"));
    vg_mute_release(&m);
    /* Steps and lists; 7 is Sunday; both day fields set: either day matches. */
    m = parse("{\"windows\": [{\"cron\": \"*/15,7 0 13 * 7\"}]}");
    assert_true(muted_at(&m, "2026-12-06T00:45:00Z"));   /* Sunday the 6th */
    assert_true(muted_at(&m, "2026-11-13T00:07:00Z"));   /* Friday the 13th */
    assert_false(muted_at(&m, "2026-11-13T00:08:00Z"));
    assert_false(muted_at(&m, "2026-12-08T00:00:00Z"));  /* Tuesday the 8th */
    vg_mute_release(&m);
}

static void time_zone_with_summer_time(void **state)
{
    (void)state;
    /* 02:00-02:59 in Berlin: 01:00 UTC in winter, 00:00 UTC in summer. */
    vg_mute m = parse("{\"windows\": [{\"cron\": \"* 2 * * *\", \"tz\": \"Europe/Berlin\"}]}");
    assert_true(muted_at(&m, "2026-01-15T01:30:00Z"));
    assert_false(muted_at(&m, "2026-01-15T00:30:00Z"));
    assert_true(muted_at(&m, "2026-07-15T00:30:00Z"));
    assert_false(muted_at(&m, "2026-07-15T01:30:00Z"));
    /* Back in winter after summer: the cached offset follows. */
    assert_true(muted_at(&m, "2026-01-16T01:30:00Z"));
    vg_mute_release(&m);
    /* The process' own TZ is left as it was. */
    assert_null(getenv("TZ"));
}

static void one_off_window(void **state)
{
    (void)state;
    vg_mute m = parse("{\"windows\": [{\"from\": \"2026-12-24T00:00:00Z\","
                      " \"until\": \"2026-12-27T00:00:00Z\"}], \"skip_model_update\": true}");
    assert_true(m.skip_model_update);
    assert_false(muted_at(&m, "2026-12-23T23:59:59Z"));
    assert_true(muted_at(&m, "2026-12-24T00:00:00Z"));
    assert_true(muted_at(&m, "2026-12-26T23:59:59Z"));
    assert_false(muted_at(&m, "2026-12-27T00:00:00Z"));
    vg_mute_release(&m);
}

static void bad_windows_rejected(void **state)
{
    (void)state;
    const char *bad[] = {
        "{\"windows\": [{\"cron\": \"* * * *\"}]}",
        "{\"windows\": [{\"cron\": \"60 * * * *\"}]}",
        "{\"windows\": [{\"cron\": \"* 5-3 * * *\"}]}",
        "{\"windows\": [{\"cron\": \"* * * * *\", \"tz\": \"Mars/Olympus\"}]}",
        "{\"windows\": [{\"cron\": \"* * * * *\", \"tz\": \"../../etc/passwd\"}]}",
        "{\"windows\": [{\"from\": \"2026-12-27T00:00:00Z\", \"until\": \"2026-12-24T00:00:00Z\"}]}",
        "{\"windows\": [{\"from\": \"2026-12-27T00:00:00Z\"}]}",
        "{\"windows\": [{\"every\": \"day\"}]}",
        "{\"windows\": {}}",
        "{\"windows\": [], \"learn\": true}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        json_t *obj = json_loads(bad[i], 0, NULL);
        assert_non_null(obj);
        vg_mute m;
        vg_error err = {0};
        if (vg_mute_parse(&m, NULL, obj, 3, &err) != VG_ECONFIG)
            fail_msg("accepted: %s", bad[i]);
        assert_non_null(strstr(err.msg, "rules[3].mute"));
        json_decref(obj);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cron_fields),
        cmocka_unit_test(time_zone_with_summer_time),
        cmocka_unit_test(one_off_window),
        cmocka_unit_test(bad_windows_rejected),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
