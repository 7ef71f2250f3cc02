/* Number parsing: the fast path and the strtod fallback must both give
 * exactly what strtod gives, on printed random values and on edge cases;
 * anything outside the grammar is VG_EPARSE. */
#include "tests/unit/helpers.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/numparse.h"

static double parse_ok(const char *s)
{
    double v = 0;
    if (vg_num_parse(s, strlen(s), &v) != VG_OK)
        fail_msg("rejected \"%s\"", s);
    return v;
}

/* Bit-exact agreement with strtod. */
static void same_as_strtod(const char *s)
{
    double got = parse_ok(s), want = strtod(s, NULL);
    if (memcmp(&got, &want, sizeof(got)) != 0 && !(isnan(got) && isnan(want)))
        fail_msg("\"%s\": %.17g, strtod says %.17g", s, got, want);
}

static void typical_values_exact(void **state)
{
    (void)state;
    static const char *const cases[] = {
        "0", "-0", "10844", "8127", "123.456", "-1.5e-05", "-1.03989471325e-05",
        "-21.0483826823", "0.1", "0.2", "0.3", "1e22", "1e-22", "123456789012345",
        "9007199254740993", "0.000123", "5.", ".5", "+7", "1E5", "1e+5", "4.9e-324",
        "1.7976931348623157e308", "2.2250738585072014e-308", "123456789012345678901234567890",
        "1.00000000000000000000000001", "0.1000000000000000055511151231257827",
        "3.14159265358979323846264338327950288", "1e23", "1e-23", "7e-10", "00012.50",
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        same_as_strtod(cases[i]);
    double v = parse_ok("-0");
    assert_true(v == 0 && signbit(v));
}

static void random_values_round_trip(void **state)
{
    (void)state;
    static const char *const formats[] = {"%.17g", "%.15g", "%.6f", "%g", "%.3e", "%.10f"};
    uint64_t seed = 3;
    char text[64];
    for (int i = 0; i < 200000; i++) {
        double mag = pow(10, vg_test_uniform(&seed) * 40 - 20);
        double x = (vg_test_uniform(&seed) - 0.5) * mag;
        snprintf(text, sizeof(text), formats[i % 6], x);
        same_as_strtod(text);
        if (i % 6 == 0 && parse_ok(text) != x)   /* %.17g round-trips the double */
            fail_msg("\"%s\" does not round-trip %.17g", text, x);
    }
}

static void words_and_overflow(void **state)
{
    (void)state;
    assert_true(isnan(parse_ok("nan")));
    assert_true(isnan(parse_ok("NaN")));
    assert_true(isnan(parse_ok("-nan")));
    assert_true(isinf(parse_ok("inf")) && parse_ok("inf") > 0);
    assert_true(isinf(parse_ok("-Infinity")) && parse_ok("-Infinity") < 0);
    assert_true(isinf(parse_ok("1e400")));
    assert_true(isinf(parse_ok("-1e99999999999")));
    assert_double_near(parse_ok("1e-400"), 0.0, 0.0);
}

static void rejects_junk(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "", " ", "-", "+", ".", "e5", "1e", "1e+", "1.5.5", "1,5", " 1", "1 ", "0x10",
        "1f", "nanx", "infinit", "--1", "1e5.5", "abc", "1_000", "1d", "+-1", "1..",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        double v = 42;
        if (vg_num_parse(bad[i], strlen(bad[i]), &v) != VG_EPARSE)
            fail_msg("accepted \"%s\"", bad[i]);
        assert_double_near(v, 42, 0);
    }
}

static void reads_only_len_bytes(void **state)
{
    (void)state;
    double v;
    assert_int_equal(vg_num_parse("12.5,7", 4, &v), VG_OK);
    assert_double_near(v, 12.5, 0);
    /* a long number goes through the heap copy */
    char big[400];
    memset(big, '1', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    big[1] = '.';
    same_as_strtod(big);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(typical_values_exact),
        cmocka_unit_test(random_values_round_trip),
        cmocka_unit_test(words_and_overflow),
        cmocka_unit_test(rejects_junk),
        cmocka_unit_test(reads_only_len_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
