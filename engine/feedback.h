/* Feedback on an incident: "that was not an anomaly" (or "it was").
 *
 * Each series keeps, per side of its expected value, the largest deviation
 * of its latest incident and a feedback floor. `not_anomalous` on that
 * incident raises the floor of each side it deviated on to
 * VG_FEEDBACK_MARGIN times that deviation: from then on a point of that
 * series on that side pages only when it deviates more (a repeat of the
 * same deviation does not fire; one twice as large still does). The floor
 * only ever goes up through not_anomalous, so it is bounded by the
 * largest deviation someone called normal, times the margin; `anomalous`
 * on the latest incident takes the floors back off (reversible). Counts of
 * both, the floors and the deviations are part of the series' saved state
 * (snapshot format 6). Embedded in the series head; the pipeline applies
 * it (engine/pipeline_score.c) and takes verdicts (engine/pipeline_feedback.c,
 * vg_pipeline_feedback: on a series, or on a group for its members). */
#ifndef VG_ENGINE_FEEDBACK_H
#define VG_ENGINE_FEEDBACK_H

#include <stddef.h>
#include <stdint.h>

/* A floor sits this far above the deviation called normal: room for the
 * same shape to come back a little larger without paging. */
#define VG_FEEDBACK_MARGIN 1.25

typedef struct vg_feedback {
    double   floor_up, floor_down;  /* deviations up to these do not page; 0: none */
    double   dev_up, dev_down;      /* the latest incident's largest deviation per side */
    uint32_t not_anomalous;         /* verdicts received */
    uint32_t anomalous;
} vg_feedback;

typedef enum vg_verdict {
    VG_VERDICT_NOT_ANOMALOUS = 0,
    VG_VERDICT_ANOMALOUS = 1,
} vg_verdict;

void vg_feedback_init(vg_feedback *f);

/* 1 when a deviation (value - expected) passes the floor of its side. */
int vg_feedback_pages(const vg_feedback *f, double deviation);

/* One point's part in an incident: `starts` forgets the last incident's
 * deviations, an anomalous point's deviation (NaN: none) widens them. */
void vg_feedback_track(vg_feedback *f, int starts, int anomalous, double deviation);

/* Applies a verdict on the latest incident. */
void vg_feedback_apply(vg_feedback *f, vg_verdict verdict);

/* One verdict as received, from POST /feedback or the Kafka feedback
 * topic (src/feedback_http.h): what vg_pipeline_feedback applies and
 * records. Borrowed strings. */
typedef struct vg_feedback_msg {
    const char *source;      /* "http", "kafka" */
    const char *id;          /* the incident named (32 hex digits); NULL: none valid */
    const char *series;      /* the incident's series (a group's for a group); NULL: none */
    size_t      series_len;
    int         verdict;     /* a vg_verdict; -1: none valid */
    const char *refused;     /* NULL, or why the message itself is refused */
} vg_feedback_msg;

/* "not_anomalous" / "anomalous" to a verdict; -1 for anything else. */
int vg_verdict_parse(const char *text);
const char *vg_verdict_name(vg_verdict v);

#endif
