/* The per-series alert state machine: normal -> pending -> firing ->
 * resolved (-> normal).
 *
 * One anomalous point makes a series pending; `fire_after` consecutive
 * anomalous points make it fire (one `firing` event); once firing,
 * `resolve_after` consecutive normal points resolve it (one `resolved`
 * event). A pending series that sees a normal point goes back to normal
 * without an event. So one incident is exactly one firing and one resolved
 * event, however noisy the scores are inside it. */
#ifndef VG_ENGINE_ALERT_H
#define VG_ENGINE_ALERT_H

#include <stdint.h>

#include "core/event.h"



typedef struct vg_alert_params {
    double   threshold;      /* score >= threshold is anomalous */
    double   critical;       /* peak score >= critical makes severity critical */
    uint32_t fire_after;     /* >= 1 */
    uint32_t resolve_after;  /* >= 1 */
} vg_alert_params;

/* Per-series alert state; embedded in the series state block. */
typedef struct vg_alert {
    uint8_t  state;           /* vg_alert_state: NORMAL, PENDING or FIRING */
    uint8_t  pad_[3];
    uint32_t streak;          /* consecutive anomalous (pending) or normal (firing) points */
    int64_t  start_ms;        /* first anomalous point of the current incident */
    double   peak;            /* highest score of the current incident */
    uint64_t incidents;       /* incidents fired so far */
} vg_alert;

void vg_alert_init(vg_alert *a);

/* Feeds one scored point. Returns VG_ALERT_FIRING or VG_ALERT_RESOLVED when
 * this point emits an event, else VG_ALERT_NORMAL. */
vg_alert_state vg_alert_step(vg_alert *a, const vg_alert_params *params,
                             int64_t ts_ms, double score);

/* Severity of the current (or just resolved) incident. */
vg_severity vg_alert_severity(const vg_alert *a, const vg_alert_params *params);


#endif
