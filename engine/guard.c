/* False-positive guards; see guard.h. */
#include "engine/guard.h"

#include <math.h>
#include <stddef.h>

/* A counter restarts from about 0: a drop to less than this share of its
 * value is a restart (its model restarts, guard.h); a smaller drop after a
 * run of rises is only set aside. A rising gauge's dips are no restart:
 * smd-dev's d06 dips by 0.6 % after 50-170 rises, 62 times in
 * machine-1-7's test half, and restarting there blinds the series for the
 * detectors' warm-ups each time (docs/quality.md, q-reset8). */
#define RESTART_SHARE 0.5

static const vg_conf_field guard_fields[] = {
    {"counter_resets", VG_CONF_BOOL, offsetof(vg_guard_params, counter_resets), 1, 0, 1, NULL,
     "ignore the drop of a series that only rises (a counter reset)"},
    {"counter_min_run", VG_CONF_UINT32, offsetof(vg_guard_params, counter_min_run), 50, 2,
     1000000, NULL, "rises in a row before a series counts as a counter"},
    {"gap_factor", VG_CONF_DOUBLE, offsetof(vg_guard_params, gap_factor), 10, 1.5, 1e9, NULL,
     "a step this many times the usual one is a gap"},
    {"gap_grace", VG_CONF_UINT32, offsetof(vg_guard_params, gap_grace), 1, 0, 1000, NULL,
     "points after a gap whose scores are ignored"},
};

int vg_guard_configure(vg_guard_params *params, const vg_conf_doc *doc,
                       const json_t *cfg, vg_error *err)
{
    return vg_conf_apply(doc, cfg, "guards", guard_fields, VG_CONF_COUNT(guard_fields), NULL,
                         params, err);
}

void vg_guard_init(vg_guard *g)
{
    g->prev_value = NAN;
    g->step_ms = 0.0;
    g->prev_ts = INT64_MIN;
    g->rises = 0;
    g->grace = 0;
}

double vg_guard_apply(vg_guard *g, const vg_guard_params *params, int64_t ts_ms,
                      double value, double score, int *reset)
{
    int damp = 0, counter_reset = 0;

    if (g->prev_ts != INT64_MIN && ts_ms > g->prev_ts) {
        double step = (double)(ts_ms - g->prev_ts);
        if (g->step_ms > 0.0 && step > params->gap_factor * g->step_ms)
            g->grace = params->gap_grace;
        else  /* gaps do not teach the usual step */
            g->step_ms = g->step_ms > 0.0 ? g->step_ms + 0.05 * (step - g->step_ms) : step;
    }
    if (g->grace > 0) {
        g->grace--;
        damp = 1;
    }

    if (!isnan(g->prev_value)) {
        /* Equal values neither make nor break a counter (an idle counter
         * repeats), so a flat series never becomes one. */
        if (value > g->prev_value) {
            g->rises++;
        } else if (value < g->prev_value) {
            if (params->counter_resets && g->rises >= params->counter_min_run) {
                damp = 1;
                counter_reset = g->prev_value > 0.0 && value < RESTART_SHARE * g->prev_value;
            }
            g->rises = 0;
        }
    }
    g->prev_value = value;
    if (ts_ms > g->prev_ts)
        g->prev_ts = ts_ms;
    if (reset != NULL)
        *reset = counter_reset;
    return damp ? 0.0 : score;
}

void vg_guard_describe(void *file)
{
    vg_conf_describe(guard_fields, VG_CONF_COUNT(guard_fields), "guards", file);
}
