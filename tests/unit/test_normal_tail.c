/* The two-sided normal tail scores: the tabulated body against libm's erf,
 * the log-space tail against erfc where erfc is still representable, and
 * monotonicity across the seam between the two. */
#include "tests/unit/helpers.h"

#include <float.h>
#include <math.h>

#include "detectors/detector.h"
#include "detectors/normal_tail.h"

/* In the body the score is 1 - p = erf(az / sqrt 2). */
static void body_matches_erf(void **state)
{
    (void)state;
    for (double az = 0.0; az < 5.6; az += 1.0 / 4096.0 + 1e-9) {
        double want = erf(az * M_SQRT1_2);
        assert_double_near(vg_normal_tail_score(az), want, 4e-16);
    }
    assert_true(vg_normal_tail_score(0.0) == 0.0);
}

/* The tail agrees with -log10(erfc) while erfc does not underflow, and
 * the score with vg_score_from_surprise of it. */
static void tail_matches_erfc(void **state)
{
    (void)state;
    for (double az = 0.0; az < 37.0; az += 0.01) {
        double want = -log10(erfc(az * M_SQRT1_2));
        assert_double_near(vg_normal_tail_surprise(az), want, 1e-12 * (1.0 + want));
        if (az >= 5.6)
            assert_double_near(vg_normal_tail_score(az), vg_score_from_surprise(want), 1e-16);
    }
    /* Far out, where p underflows: -log10 p ~ z^2 / (2 ln 10). */
    double s = vg_normal_tail_surprise(1e4);
    assert_double_near(s, 1e8 / (2.0 * M_LN10), 1e-4 * s);
    assert_true(isinf(vg_normal_tail_surprise(1e200)));
    assert_true(isnan(vg_normal_tail_surprise(NAN)));
}

/* Strictly increasing on a fine grid through the body, the seam at 5.6
 * and far into the tail, always below 1. */
static void score_is_strictly_increasing(void **state)
{
    (void)state;
    double prev = -1.0, az = 0.0;
    while (az < 1e150) {
        double s = vg_normal_tail_score(az);
        if (!(s > prev && s < 1.0))
            fail_msg("score(%.17g) = %.17g after %.17g", az, s, prev);
        prev = s;
        az = az < 10.0 ? az + 1e-3 : az * 1.01;
    }
    assert_true(vg_normal_tail_score(INFINITY) < 1.0);
    assert_true(vg_normal_tail_score(DBL_MAX) >= prev);
    assert_true(vg_normal_tail_score(NAN) == 0.0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(body_matches_erf),
        cmocka_unit_test(tail_matches_erfc),
        cmocka_unit_test(score_is_strictly_increasing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
