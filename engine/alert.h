/* The per-series alert state machine: normal -> pending -> firing ->
 * resolved (-> normal).
 *
 * One anomalous point makes a series pending; `fire_after` consecutive
 * anomalous points make it fire (one `firing` event), or a single one
 * whose score reaches `fire_at_once` (a large spike pages at once, an
 * honest 1-in-10k point of noise waits for confirmation), or one that
 * another series of its group corroborates (engine/corroborate.h); once firing,
 * `resolve_after` consecutive normal points resolve it (one `resolved`
 * event). A pending series that sees a normal point goes back to normal
 * without an event. So one incident is exactly one firing and one resolved
 * event, however noisy the scores are inside it.
 *
 * Whether a point is anomalous is the caller's judgement (the pipeline:
 * score, paging floors, the incident's baseline band; engine/baseline.h).
 * An incident still firing `accept_after_s` after it began is a new level:
 * it resolves with VG_ALERT_END_ACCEPTED, and the series stays quiet (no
 * new incident) until it has had `resolve_after` normal points in a row,
 * while its model learns the new level. For `rearm_s` after an incident
 * fired, only a point scoring `fire_at_once` opens a new one: a flapping
 * fault or a spiky series pages once, not at every return. */
#ifndef VG_ENGINE_ALERT_H
#define VG_ENGINE_ALERT_H

#include <stdint.h>

#include "core/event.h"

typedef struct vg_alert_params {
    double   threshold;      /* score >= threshold is anomalous */
    double   critical;       /* peak score >= critical makes severity critical */
    uint32_t fire_after;     /* >= 1 */
    double   fire_at_once;   /* one anomalous point scoring this fires at once; 0: off */
    /* Corroboration (engine/corroborate.h): another series of the group
     * scoring this (0: off) within corroborate_s confirms a pending point. */
    double   corroborate;
    double   corroborate_s;
    /* One page per host event (engine/incident_join.h): a series firing
     * within group_window_s (0: off) of another series of its group joins
     * that one's incident instead of paging. */
    double   group_window_s;
    /* After an incident fired, the series opens no new one for rearm_s
     * seconds (0: off) unless a point scores fire_at_once. */
    double   rearm_s;
    uint32_t resolve_after;  /* >= 1 */
    double   accept_after_s; /* firing this long accepts the new level; 0: never */
    int      hold_model;     /* bool: the series does not learn while an incident is open */
    /* Paging floors on |value - expected| (engine/baseline.h): */
    double   min_deviation;  /* absolute, in the series' units */
    double   min_change;     /* share of |expected|, unless beyond the long-run range */
    double   min_range;      /* share of the long-run range */
    double   range_span;     /* points the long-run range spans */
    /* The settled range (engine/baseline.h): a value beyond it by more than
     * beyond_range of its width (0: off) for beyond_for_s is anomalous. */
    double   beyond_range;
    double   beyond_for_s;
    /* Paging warm-up: a new series pages once it has both: */
    double   warmup_s;       /* seconds since its first point */
    uint32_t warmup_points;  /* points learned */
    /* Suppression (per rule): which deviations may page at all. */
    int      direction;      /* vg_direction */
    double   min_relative;   /* strict share of |expected|, no exception */
    int      skip_model_update; /* bool: a suppressed point is not learned */
} vg_alert_params;

/* Which side of the expected value may page (alert.direction). */
typedef enum vg_direction {
    VG_DIRECTION_UP = 0,
    VG_DIRECTION_DOWN = 1,
    VG_DIRECTION_BOTH = 2,
} vg_direction;

/* Why the last incident resolved. */
typedef enum vg_alert_end {
    VG_ALERT_END_NORMAL = 0,    /* back to its baseline */
    VG_ALERT_END_ACCEPTED = 1,  /* firing for accept_after_s: a new level */
} vg_alert_end;

/* Per-series alert state; embedded in the series state block. */
typedef struct vg_alert {
    uint8_t  state;           /* vg_alert_state: NORMAL, PENDING or FIRING */
    uint8_t  quiet;           /* after an accepted level: no incident yet */
    uint8_t  end;             /* vg_alert_end of the last incident */
    uint8_t  muted;           /* the incident fired in a mute window (engine/mute.h) */
    uint8_t  severity;        /* vg_severity the incident fired with */
    uint8_t  by_group;        /* it fired on its group's corroboration (not saved) */
    uint8_t  pad_[2];
    uint32_t streak;          /* consecutive anomalous (pending) or normal (firing) points */
    int64_t  start_ms;        /* first anomalous point of the current incident */
    double   peak;            /* highest score of the current incident */
    uint64_t incidents;       /* incidents fired so far */
    int64_t  fired_ms;        /* when the last incident fired (INT64_MIN: none) */
} vg_alert;

void vg_alert_init(vg_alert *a);

/* Feeds one scored point, `anomalous` or not (score feeds the peak);
 * `corroborated`: another series of its group confirms it (an anomalous
 * point then fires without waiting for fire_after; a.by_group says so).
 * Returns VG_ALERT_FIRING or VG_ALERT_RESOLVED when this point emits an
 * event, else VG_ALERT_NORMAL. */
vg_alert_state vg_alert_step(vg_alert *a, const vg_alert_params *params,
                             int64_t ts_ms, double score, int anomalous, int corroborated);

/* Severity of the current (or just resolved) incident. */
vg_severity vg_alert_severity(const vg_alert *a, const vg_alert_params *params);


#endif
