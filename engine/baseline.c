/* Long-run range, paging floors and incident baselines; see baseline.h. */
#include "engine/baseline.h"

#include <math.h>

void vg_baseline_init(vg_baseline *b)
{
    b->mean = b->hi = b->lo = NAN;
    b->n = 0.0;
    b->expected = NAN;
    b->band = 0.0;
}

void vg_baseline_learn(vg_baseline *b, const vg_alert_params *params, double value)
{
    if (!isfinite(value))
        return;
    if (b->n == 0.0) {
        b->mean = b->hi = b->lo = value;
        b->n = 1.0;
        return;
    }
    b->n += 1.0;
    double span = b->n < params->range_span ? b->n : params->range_span;
    b->mean += (value - b->mean) / span;
    /* The extremes relax towards the mean over range_span points from the
     * start (not over the mean's shorter early span), so the range is what
     * the series did over about range_span points. */
    b->hi -= (b->hi - b->mean) / params->range_span;
    b->lo += (b->mean - b->lo) / params->range_span;
    b->hi = value > b->hi ? value : b->hi;
    b->lo = value < b->lo ? value : b->lo;
}

double vg_baseline_reference(const vg_baseline *b, double expected)
{
    return isnan(expected) ? b->mean : expected;
}

int vg_baseline_pages(const vg_baseline *b, const vg_alert_params *params, double expected,
                      double value)
{
    double ref = vg_baseline_reference(b, expected);
    if (isnan(ref))
        return 1;  /* nothing to measure against yet */
    double signed_d = value - ref;
    if ((params->direction == VG_DIRECTION_UP && signed_d <= 0.0) ||
        (params->direction == VG_DIRECTION_DOWN && signed_d >= 0.0))
        return 0;
    double d = fabs(signed_d);
    double range = b->n > 0.0 ? b->hi - b->lo : 0.0;
    if (d < params->min_deviation || d < params->min_range * range ||
        d < params->min_relative * fabs(ref))
        return 0;
    /* A small move relative to the level pages only when it is more than
     * twice everything the series did in the long run (a near-flat series
     * that really moved, not one touching its usual edge again). */
    return d >= params->min_change * fabs(ref) || (range > 0.0 && d > 2.0 * range);
}

void vg_baseline_begin(vg_baseline *b, const vg_alert_params *params, double expected,
                       double lower, double upper)
{
    double ref = vg_baseline_reference(b, expected);
    double half = (upper - lower) / 2.0;
    double range = b->n > 0.0 ? b->hi - b->lo : 0.0;
    double floor = params->min_change * fabs(ref);
    if (range > 0.0 && 2.0 * range < floor)
        floor = 2.0 * range;  /* as in vg_baseline_pages */
    floor = floor > params->min_deviation ? floor : params->min_deviation;
    floor = floor > params->min_range * range ? floor : params->min_range * range;
    floor = floor > params->min_relative * fabs(ref) ? floor : params->min_relative * fabs(ref);
    b->expected = ref;
    b->band = half > floor ? half : floor;  /* NaN half: the floor */
}

int vg_baseline_outside(const vg_baseline *b, double expected, double value)
{
    double ref = isnan(expected) ? b->expected : expected;
    return !isnan(ref) && fabs(value - ref) > b->band;
}
