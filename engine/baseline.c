/* Long-run range, paging floors and incident baselines; see baseline.h. */
#include "engine/baseline.h"

#include <math.h>

void vg_baseline_init(vg_baseline *b)
{
    b->mean = b->hi = b->lo = NAN;
    b->n = 0.0;
    b->expected = NAN;
    b->band = 0.0;
    b->settled_hi = b->settled_lo = NAN;
    b->first_ms = b->day = INT64_MIN;
    b->went_beyond = b->calm_before = b->calm = 0;
    b->beyond_since = INT64_MIN;
}

#define DAY_MS 86400000

/* Days are numbered from the epoch (floor division: before 1970 too), so
 * replay settles the range at the same points every time. */
static int64_t day_of(int64_t ts_ms)
{
    return ts_ms / DAY_MS - (ts_ms % DAY_MS < 0);
}

/* How far value lies beyond the settled range, in its widths (NaN: no
 * settled range; <= 0: within). */
static double beyond_widths(const vg_baseline *b, double value)
{
    double width = b->settled_hi - b->settled_lo;
    if (!(width > 0.0))  /* NaN: not settled; a constant series is left to the detectors */
        return NAN;
    double above = value - b->settled_hi, below = b->settled_lo - value;
    return (above > below ? above : below) / width;
}

/* At the first point of a new day the range so far becomes the settled
 * one, once a whole day lies behind the first point (a partial first day
 * may hold half a daily cycle); the day that ended was calm when it had a
 * settled range and never left it. Two days, not one: a drift that left
 * the range shortly before midnight (before it had lasted beyond_for_s)
 * makes that day not calm, and must still page the next. */
static void settle(vg_baseline *b, int64_t ts_ms)
{
    int64_t day = day_of(ts_ms);
    if (day <= b->day)
        return;
    int calm_day = !isnan(b->settled_hi) && !b->went_beyond;
    b->calm = calm_day || b->calm_before;
    b->calm_before = calm_day;
    b->went_beyond = 0;
    if (day * (int64_t)DAY_MS - b->first_ms >= DAY_MS) {
        b->settled_hi = b->hi;
        b->settled_lo = b->lo;
    }
    b->day = day;
}

void vg_baseline_learn(vg_baseline *b, const vg_alert_params *params, int64_t ts_ms,
                       double value)
{
    if (!isfinite(value))
        return;
    if (b->n == 0.0) {
        b->mean = b->hi = b->lo = value;
        b->n = 1.0;
        b->first_ms = ts_ms;
        b->day = day_of(ts_ms);
        return;
    }
    settle(b, ts_ms);
    if (beyond_widths(b, value) > params->beyond_range)
        b->went_beyond = 1;
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

void vg_baseline_disrupted(vg_baseline *b)
{
    b->went_beyond = 1;
    b->calm_before = b->calm = 0;
}

int vg_baseline_warm(const vg_baseline *b, const vg_alert_params *params, int64_t ts_ms)
{
    if (params->warmup_points == 0 && params->warmup_s <= 0.0)
        return 1;
    return b->n >= (double)params->warmup_points && b->first_ms != INT64_MIN &&
           (double)(ts_ms - b->first_ms) >= params->warmup_s * 1000.0;
}

double vg_baseline_reference(const vg_baseline *b, double expected)
{
    return isnan(expected) ? b->mean : expected;
}

/* The absolute and relative paging floors on a deviation d from the level
 * ref, with `range` the long-run width. */
static int passes_floors(const vg_alert_params *params, double d, double ref, double range)
{
    if (d < params->min_deviation || d < params->min_relative * fabs(ref))
        return 0;
    /* A small move relative to the level pages only when it is more than
     * twice everything the series did in the long run (a near-flat series
     * that really moved, not one touching its usual edge again). */
    return d >= params->min_change * fabs(ref) || (range > 0.0 && d > 2.0 * range);
}

/* The width alert.min_range is a share of: the long-run range, less the
 * swing of the season the deviation was measured from. A seasonal series'
 * range is mostly its season; a deviation from the season (a missing daily
 * peak, found by the calendar's CUSUM while still a few deviations off)
 * is large or small against what the series does about its season, not
 * against the season's own swing. */
static double range_about(const vg_baseline *b, double swing)
{
    double range = b->n > 0.0 ? b->hi - b->lo : 0.0;
    return swing > 0.0 ? fmax(range - swing, 0.0) : range;  /* NaN swing: the range */
}

int vg_baseline_pages(const vg_baseline *b, const vg_alert_params *params, double expected,
                      double swing, double value)
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
    return d >= params->min_range * range_about(b, swing) && passes_floors(params, d, ref, range);
}

int vg_baseline_beyond(vg_baseline *b, const vg_alert_params *params, int64_t ts_ms,
                       double value)
{
    /* NaN (no settled range) fails the comparison. */
    if (params->beyond_range <= 0.0 || !b->calm ||
        !(beyond_widths(b, value) > params->beyond_range)) {
        b->beyond_since = INT64_MIN;
        return 0;
    }
    if (b->beyond_since == INT64_MIN || ts_ms < b->beyond_since)
        b->beyond_since = ts_ms;
    if ((double)(ts_ms - b->beyond_since) < params->beyond_for_s * 1000.0)
        return 0;
    if ((params->direction == VG_DIRECTION_UP && value <= b->settled_hi) ||
        (params->direction == VG_DIRECTION_DOWN && value >= b->settled_lo))
        return 0;
    double width = b->settled_hi - b->settled_lo;
    double excess = value > b->settled_hi ? value - b->settled_hi : b->settled_lo - value;
    return passes_floors(params, excess, b->mean, width);
}

void vg_baseline_begin(vg_baseline *b, const vg_alert_params *params, double expected,
                       double swing, double lower, double upper)
{
    double ref = vg_baseline_reference(b, expected);
    double half = (upper - lower) / 2.0;
    double range = b->n > 0.0 ? b->hi - b->lo : 0.0;
    double floor = params->min_change * fabs(ref);
    if (range > 0.0 && 2.0 * range < floor)
        floor = 2.0 * range;  /* as in vg_baseline_pages */
    floor = floor > params->min_deviation ? floor : params->min_deviation;
    double about = params->min_range * range_about(b, swing);
    floor = floor > about ? floor : about;
    floor = floor > params->min_relative * fabs(ref) ? floor : params->min_relative * fabs(ref);
    b->expected = ref;
    b->band = half > floor ? half : floor;  /* NaN half: the floor */
}

int vg_baseline_outside(const vg_baseline *b, double expected, double value)
{
    double ref = isnan(expected) ? b->expected : expected;
    return !isnan(ref) && fabs(value - ref) > b->band;
}
