/* The per-series alert state machine; see alert.h for the transitions.
 *
 * The streak counter is reused by both waiting states: in PENDING it counts
 * consecutive anomalous points (towards fire_after), in FIRING consecutive
 * normal points (towards resolve_after). The incident's start and peak
 * survive the resolution so the resolved event can report them; they are
 * reset when the next incident begins. */
#include "engine/alert.h"

#include <string.h>

#include "core/error.h"

void vg_alert_init(vg_alert *a)
{
    memset(a, 0, sizeof(*a));
    a->state = VG_ALERT_NORMAL;
    a->fired_ms = INT64_MIN;
}

static void begin_incident(vg_alert *a, int64_t ts_ms, double score)
{
    a->end = VG_ALERT_END_NORMAL;
    a->start_ms = ts_ms;
    a->peak = score;
    a->streak = 1;
    a->state = VG_ALERT_PENDING;
}

static vg_alert_state fire(vg_alert *a, int by_group, int64_t ts_ms)
{
    a->by_group = (uint8_t)by_group;
    a->fired_ms = ts_ms;
    a->state = VG_ALERT_FIRING;
    a->streak = 0;
    a->incidents++;
    return VG_ALERT_FIRING;
}

static vg_alert_state resolve(vg_alert *a, vg_alert_end end)
{
    a->state = VG_ALERT_NORMAL;
    a->streak = 0;
    a->end = (uint8_t)end;
    a->quiet = end == VG_ALERT_END_ACCEPTED;
    return VG_ALERT_RESOLVED;
}

/* A pending incident fires when enough points in a row confirm it, or at
 * once on a score so high that noise would almost never make it. */
static int confirmed(const vg_alert *a, const vg_alert_params *params, double score)
{
    return a->streak >= params->fire_after ||
           (params->fire_at_once > 0.0 && score >= params->fire_at_once);
}

/* ... or when its group corroborates it. */
static vg_alert_state pending_step(vg_alert *a, const vg_alert_params *params, int64_t ts_ms,
                                   double score, int corroborated)
{
    if (confirmed(a, params, score))
        return fire(a, 0, ts_ms);
    return corroborated ? fire(a, 1, ts_ms) : VG_ALERT_NORMAL;
}

/* Within rearm_s of the last firing only a critical point opens an
 * incident: the same series paging again within hours is mostly a
 * flapping fault or a spiky metric's next blip (docs/quality.md, branch
 * q-smd). */
static int rearming(const vg_alert *a, const vg_alert_params *params, int64_t ts_ms,
                    double score)
{
    return params->rearm_s > 0.0 && a->fired_ms != INT64_MIN &&
           (double)(ts_ms - a->fired_ms) < params->rearm_s * 1000.0 &&
           !(params->fire_at_once > 0.0 && score >= params->fire_at_once);
}

/* After an accepted level the model relearns; its first points would
 * otherwise open a new incident at once. Quiet ends after resolve_after
 * normal points in a row. */
static vg_alert_state quiet_step(vg_alert *a, const vg_alert_params *params, int anomalous)
{
    a->streak = anomalous ? 0 : a->streak + 1;
    if (a->streak >= params->resolve_after) {
        a->quiet = 0;
        a->streak = 0;
    }
    return VG_ALERT_NORMAL;
}

vg_alert_state vg_alert_step(vg_alert *a, const vg_alert_params *params,
                             int64_t ts_ms, double score, int anomalous, int corroborated)
{
    switch ((vg_alert_state)a->state) {
    case VG_ALERT_NORMAL:
        if (a->quiet)
            return quiet_step(a, params, anomalous);
        if (!anomalous || rearming(a, params, ts_ms, score))
            return VG_ALERT_NORMAL;
        begin_incident(a, ts_ms, score);
        return pending_step(a, params, ts_ms, score, corroborated);

    case VG_ALERT_PENDING:
        if (!anomalous) {
            /* A blip too short to fire: forget it without an event. */
            a->state = VG_ALERT_NORMAL;
            a->streak = 0;
            return VG_ALERT_NORMAL;
        }
        a->streak++;
        if (score > a->peak)
            a->peak = score;
        return pending_step(a, params, ts_ms, score, corroborated);

    case VG_ALERT_FIRING:
        if (anomalous) {
            a->streak = 0;
            if (score > a->peak)
                a->peak = score;
            if (params->accept_after_s > 0.0 &&
                (double)(ts_ms - a->start_ms) >= params->accept_after_s * 1000.0)
                return resolve(a, VG_ALERT_END_ACCEPTED);
            return VG_ALERT_NORMAL;
        }
        if (++a->streak < params->resolve_after)
            return VG_ALERT_NORMAL;
        return resolve(a, VG_ALERT_END_NORMAL);

    case VG_ALERT_RESOLVED:
        break;
    }
    vg_assert(!"vg_alert.state holds an impossible value");
    return VG_ALERT_NORMAL;
}

vg_severity vg_alert_severity(const vg_alert *a, const vg_alert_params *params)
{
    return a->peak >= params->critical ? VG_SEVERITY_CRITICAL : VG_SEVERITY_WARNING;
}
