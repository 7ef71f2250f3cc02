/* Tests for the paging floors' range (engine/baseline.c): alert.min_range
 * judges a deviation from a season against the long-run range less the
 * season's swing. All data is made here. */
#include "tests/unit/helpers.h"

#include <math.h>

#include "engine/baseline.h"

/* Only the floors these tests need: half the long-run range. */
static const vg_alert_params params = {.min_range = 0.5, .range_span = 10000,
                                       .direction = VG_DIRECTION_BOTH};

/* A series learnt between 100 and 120 (a range of 20). */
static void learn_range(vg_baseline *b)
{
    vg_baseline_init(b);
    for (int i = 0; i < 200; i++)
        vg_baseline_learn(b, &params, 60000LL * i, i % 2 ? 120.0 : 100.0);
}

static void swing_lowers_the_range_floor(void **state)
{
    (void)state;
    vg_baseline b;
    learn_range(&b);
    /* 5 off: a quarter of the range, under the floor of half of it... */
    assert_false(vg_baseline_pages(&b, &params, 105.0, NAN, 100.0));
    assert_false(vg_baseline_pages(&b, &params, 105.0, 0.0, 100.0));
    /* ...but more than half of what the series does about a season that
     * swings 15 of its 20. */
    assert_true(vg_baseline_pages(&b, &params, 105.0, 15.0, 100.0));
    /* Still not a deviation under half of that. */
    assert_false(vg_baseline_pages(&b, &params, 102.0, 15.0, 100.0));
    /* A swing wider than the range leaves no range floor, never a negative one. */
    assert_true(vg_baseline_pages(&b, &params, 100.5, 30.0, 100.0));
}

static void incident_band_takes_the_same_floor(void **state)
{
    (void)state;
    vg_baseline b;
    learn_range(&b);
    vg_baseline_begin(&b, &params, 110.0, NAN, NAN, NAN);
    assert_false(vg_baseline_outside(&b, NAN, 102.0));  /* within half the range */
    learn_range(&b);
    vg_baseline_begin(&b, &params, 110.0, 15.0, NAN, NAN);
    assert_true(vg_baseline_outside(&b, NAN, 102.0));   /* beyond half of 5 */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(swing_lowers_the_range_floor),
        cmocka_unit_test(incident_band_takes_the_same_floor),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
