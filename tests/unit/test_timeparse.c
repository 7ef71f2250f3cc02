/* Timestamp parsing: every accepted form against timegm(), range checks,
 * the epoch-unit magnitude rule, rounding, and rejection of junk. */
#include "tests/unit/helpers.h"

#include <math.h>
#include <string.h>
#include <time.h>

#include "core/error.h"
#include "core/timeparse.h"

static int parse(const char *s, int64_t *ts, int *kind)
{
    return vg_time_parse(s, strlen(s), ts, kind);
}

static int64_t expect_ok(const char *s, int want_kind)
{
    int64_t ts = 0;
    int kind = -1;
    if (parse(s, &ts, &kind) != VG_OK)
        fail_msg("rejected \"%s\"", s);
    if (kind != want_kind)
        fail_msg("\"%s\": kind %d, want %d", s, kind, want_kind);
    return ts;
}

static void days_from_civil_matches_timegm(void **state)
{
    (void)state;
    uint64_t seed = 7;
    for (int i = 0; i < 20000; i++) {
        struct tm tm = {0};
        tm.tm_year = (int)(vg_test_rand(&seed) % 800) - 100;  /* 1800 .. 2699 */
        tm.tm_mon = (int)(vg_test_rand(&seed) % 12);
        tm.tm_mday = 1 + (int)(vg_test_rand(&seed) % 28);
        int64_t want = (int64_t)timegm(&tm) / 86400;
        assert_int_equal(vg_time_days_from_civil(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday),
                         want);
    }
    assert_int_equal(vg_time_days_from_civil(1970, 1, 1), 0);
    assert_int_equal(vg_time_days_from_civil(1969, 12, 31), -1);
    assert_int_equal(vg_time_days_from_civil(2000, 3, 1), 11017);
}

static void iso_forms(void **state)
{
    (void)state;
    /* NAB's form: 2014-07-01 00:30:00 UTC */
    assert_int_equal(expect_ok("2014-07-01 00:30:00", VG_TIME_ISO), 1404174600000LL);
    assert_int_equal(expect_ok("2014-07-01T00:30:00", VG_TIME_ISO), 1404174600000LL);
    assert_int_equal(expect_ok("2014-07-01t00:30:00Z", VG_TIME_ISO), 1404174600000LL);
    assert_int_equal(expect_ok("2014-07-01T00:30", VG_TIME_ISO), 1404174600000LL);
    assert_int_equal(expect_ok("2014-07-01", VG_TIME_ISO), 1404172800000LL);
    assert_int_equal(expect_ok("2014-07-01 00:30:00.5", VG_TIME_ISO), 1404174600500LL);
    assert_int_equal(expect_ok("2014-07-01 00:30:00,25", VG_TIME_ISO), 1404174600250LL);
    assert_int_equal(expect_ok("2014-07-01 00:30:00.123456789", VG_TIME_ISO),
                     1404174600123LL);
    assert_int_equal(expect_ok("2014-07-01 00:30:00.9999Z", VG_TIME_ISO), 1404174600999LL);
    /* zones: local time minus the offset */
    assert_int_equal(expect_ok("2014-07-01T02:30:00+02:00", VG_TIME_ISO), 1404174600000LL);
    assert_int_equal(expect_ok("2014-07-01T02:30:00+0200", VG_TIME_ISO), 1404174600000LL);
    assert_int_equal(expect_ok("2014-07-01T02:30:00+02", VG_TIME_ISO), 1404174600000LL);
    assert_int_equal(expect_ok("2014-06-30T19:00:00-05:30", VG_TIME_ISO), 1404174600000LL);
    assert_int_equal(expect_ok("2014-07-01T00:30:00.250-00:00", VG_TIME_ISO),
                     1404174600250LL);
    /* leap days and limits */
    assert_int_equal(expect_ok("2000-02-29 23:59:59", VG_TIME_ISO), 951868799000LL);
    assert_int_equal(expect_ok("2016-02-29", VG_TIME_ISO), 1456704000000LL);
    assert_int_equal(expect_ok("1969-12-31 23:59:59", VG_TIME_ISO), -1000);
    assert_int_equal(expect_ok("0000-01-01", VG_TIME_ISO), -62167219200000LL);
    assert_int_equal(expect_ok("9999-12-31 23:59:59.999", VG_TIME_ISO), 253402300799999LL);
}

static void iso_matches_timegm(void **state)
{
    (void)state;
    uint64_t seed = 11;
    for (int i = 0; i < 20000; i++) {
        struct tm tm = {0};
        tm.tm_year = (int)(vg_test_rand(&seed) % 200) + 1;   /* 1901 .. 2100 */
        tm.tm_mon = (int)(vg_test_rand(&seed) % 12);
        tm.tm_mday = 1 + (int)(vg_test_rand(&seed) % 28);
        tm.tm_hour = (int)(vg_test_rand(&seed) % 24);
        tm.tm_min = (int)(vg_test_rand(&seed) % 60);
        tm.tm_sec = (int)(vg_test_rand(&seed) % 60);
        char text[32];
        strftime(text, sizeof(text), "%Y-%m-%d %H:%M:%S", &tm);
        assert_int_equal(expect_ok(text, VG_TIME_ISO), (int64_t)timegm(&tm) * 1000);
    }
}

static void rejects_bad_calendar_text(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "", " ", "2014-13-01 00:00:00", "2014-00-01 00:00:00", "2014-02-29 00:00:00",
        "1900-02-29", "2014-04-31", "2014-01-00", "2014-01-32", "2014-01-01 24:00:00",
        "2014-01-01 23:60:00", "2014-01-01 23:59:60", "2014-01-01 00:00:00 ",
        " 2014-01-01 00:00:00", "2014-01-01 00:00:00x", "2014-01-01 00:00:00.",
        "2014-01-01 00:00:00+", "2014-01-01 00:00:00+2", "2014-01-01 00:00:00+24:00",
        "2014-01-01 00:00:00+02:60", "2014-01-01 00:00:00+02:0", "2014-01-01 00:00:00ZZ",
        "2014-01-01Z", "2014-01-01 0:00:00", "2014-01-01 00:0", "2014-1-01 00:00:00",
        "14-01-01 00:00:00", "2014/01/01 00:00:00", "2014-01-01_00:00:00",
        "2014-01-01 00:00:00.5.5", "2014-01-01 00:00:0a",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int64_t ts = 42;
        int kind = 42;
        if (parse(bad[i], &ts, &kind) != VG_EPARSE)
            fail_msg("accepted \"%s\"", bad[i]);
        assert_int_equal(ts, 42);   /* untouched on error */
        assert_int_equal(kind, 42);
    }
}

static void epoch_units_by_magnitude(void **state)
{
    (void)state;
    /* the same instant, 2014-07-01 00:30:00, in each unit */
    assert_int_equal(expect_ok("1404174600", VG_TIME_EPOCH_S), 1404174600000LL);
    assert_int_equal(expect_ok("1404174600000", VG_TIME_EPOCH_MS), 1404174600000LL);
    assert_int_equal(expect_ok("1404174600000000", VG_TIME_EPOCH_US), 1404174600000LL);
    assert_int_equal(expect_ok("1404174600000000000", VG_TIME_EPOCH_NS), 1404174600000LL);
    /* the boundaries of the rule */
    assert_int_equal(expect_ok("0", VG_TIME_EPOCH_S), 0);
    assert_int_equal(expect_ok("99999999999", VG_TIME_EPOCH_S), 99999999999000LL);
    assert_int_equal(expect_ok("100000000000", VG_TIME_EPOCH_MS), 100000000000LL);
    assert_int_equal(expect_ok("99999999999999", VG_TIME_EPOCH_MS), 99999999999999LL);
    assert_int_equal(expect_ok("100000000000000", VG_TIME_EPOCH_US), 100000000000LL);
    assert_int_equal(expect_ok("100000000000000000", VG_TIME_EPOCH_NS), 100000000000LL);
    assert_int_equal(expect_ok("9223372036854775807", VG_TIME_EPOCH_NS), 9223372036854LL);
    /* decimals: seconds keep milliseconds, finer digits round down */
    assert_int_equal(expect_ok("1404174600.5", VG_TIME_EPOCH_S), 1404174600500LL);
    assert_int_equal(expect_ok("1404174600.123999", VG_TIME_EPOCH_S), 1404174600123LL);
    assert_int_equal(expect_ok("1404174600000.9", VG_TIME_EPOCH_MS), 1404174600000LL);
    assert_int_equal(expect_ok("-1.5", VG_TIME_EPOCH_S), -1500);
    assert_int_equal(expect_ok("-0.0005", VG_TIME_EPOCH_S), -1);
    assert_int_equal(expect_ok("-1404174600000001", VG_TIME_EPOCH_US), -1404174600001LL);
    assert_int_equal(expect_ok("-100000000000000000", VG_TIME_EPOCH_NS), -100000000000LL);

    static const char *const bad[] = {
        "-", "+5", "1.", ".5", "1e9", "1404174600 ", "0x10", "12:00",
        "9223372036854775808", "99999999999999999999", "1.2.3", "--1", "1,5",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int64_t ts;
        if (parse(bad[i], &ts, NULL) != VG_EPARSE)
            fail_msg("accepted \"%s\"", bad[i]);
    }
}

static void reads_only_len_bytes(void **state)
{
    (void)state;
    int64_t ts;
    const char *s = "2014-07-01 00:30:00,42";
    assert_int_equal(vg_time_parse(s, 19, &ts, NULL), VG_OK);
    assert_int_equal(ts, 1404174600000LL);
    assert_int_equal(vg_time_parse("1234567", 3, &ts, NULL), VG_OK);
    assert_int_equal(ts, 123000);
}

static void epoch_doubles(void **state)
{
    (void)state;
    int64_t ts;
    int kind;
    assert_int_equal(vg_time_from_epoch_double(1404174600.25, &ts, &kind), VG_OK);
    assert_int_equal(ts, 1404174600250LL);
    assert_int_equal(kind, VG_TIME_EPOCH_S);
    assert_int_equal(vg_time_from_epoch_double(1404174600000.0, &ts, &kind), VG_OK);
    assert_int_equal(ts, 1404174600000LL);
    assert_int_equal(kind, VG_TIME_EPOCH_MS);
    assert_int_equal(vg_time_from_epoch_double(1.4041746e18, &ts, &kind), VG_OK);
    assert_int_equal(ts, 1404174600000LL);
    assert_int_equal(kind, VG_TIME_EPOCH_NS);
    assert_int_equal(vg_time_from_epoch_double(-1.5, &ts, NULL), VG_OK);
    assert_int_equal(ts, -1500);
    assert_int_equal(vg_time_from_epoch_double(NAN, &ts, NULL), VG_EPARSE);
    assert_int_equal(vg_time_from_epoch_double(INFINITY, &ts, NULL), VG_EPARSE);
    assert_int_equal(vg_time_from_epoch_double(1e19, &ts, NULL), VG_EPARSE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(days_from_civil_matches_timegm),
        cmocka_unit_test(iso_forms),
        cmocka_unit_test(iso_matches_timegm),
        cmocka_unit_test(rejects_bad_calendar_text),
        cmocka_unit_test(epoch_units_by_magnitude),
        cmocka_unit_test(reads_only_len_bytes),
        cmocka_unit_test(epoch_doubles),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
