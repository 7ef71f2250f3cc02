/* Number formatting: agrees with printf where it claims to, keeps scores
 * near 1 apart. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/numfmt.h"
#include "tests/unit/helpers.h"

static void sig_matches_printf_g(void **state)
{
    (void)state;
    const double values[] = {0.0, 1.0, -1.0, 0.5, 123.456, -98765.4321, 1e-5, 3.14159265358979,
                             1e14, 123456789012.0, 0.000123456, 99.99999999999,
                             1e300, -2.5e-300, 42.0, 0.1, 1.0 / 3.0};
    for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
        for (int sig = 1; sig <= 15; sig++) {
            char ours[32], ref[64];
            vg_fmt_sig(ours, values[i], sig);
            snprintf(ref, sizeof(ref), "%.*g", sig, values[i]);
            /* Parse both back: they must denote the same decimal value. */
            double a = strtod(ours, NULL), b = strtod(ref, NULL);
            if (a != b)
                fail_msg("value %.17g sig %d: ours %s, printf %s", values[i], sig, ours, ref);
        }
    }
}

static void random_values_round_to_same_decimal(void **state)
{
    (void)state;
    uint64_t s = 7;
    for (int i = 0; i < 100000; i++) {
        double x = (vg_test_uniform(&s) - 0.5) * pow(10.0, (double)(vg_test_rand(&s) % 24) - 8);
        char ours[32], ref[64];
        vg_fmt_sig(ours, x, 10);
        snprintf(ref, sizeof(ref), "%.10g", x);
        double a = strtod(ours, NULL), b = strtod(ref, NULL);
        /* Rounding of x*10^k may differ from printf's exact rounding in the
         * last digit only, at exact ties. */
        assert_double_near(a, b, fabs(b) * 2e-10);
    }
}

static void nan_writes_nothing(void **state)
{
    (void)state;
    char out[32] = "x";
    assert_int_equal(vg_fmt_sig(out, NAN, 6), 0);
    assert_string_equal(out, "");
    assert_int_equal(vg_fmt_score(out, NAN), 0);
}

static void scores_near_one_stay_ordered(void **state)
{
    (void)state;
    char a[32], b[32];
    vg_fmt_score(a, 1.0 - 1e-13);
    vg_fmt_score(b, 1.0 - 2e-13);
    assert_true(strcmp(a, b) > 0);
    assert_string_equal(a, "0.9999999999999");
    vg_fmt_score(a, 0.25);
    assert_string_equal(a, "0.25");
    vg_fmt_score(a, 0.0);
    assert_string_equal(a, "0");
    vg_fmt_score(a, 1.0);
    assert_string_equal(a, "1");
}

static void integers(void **state)
{
    (void)state;
    char out[24];
    vg_fmt_i64(out, 0);
    assert_string_equal(out, "0");
    vg_fmt_i64(out, -1396396800000LL);
    assert_string_equal(out, "-1396396800000");
    vg_fmt_i64(out, INT64_MIN);
    assert_string_equal(out, "-9223372036854775808");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sig_matches_printf_g),
        cmocka_unit_test(random_values_round_to_same_decimal),
        cmocka_unit_test(nan_writes_nothing),
        cmocka_unit_test(scores_near_one_stay_ordered),
        cmocka_unit_test(integers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
