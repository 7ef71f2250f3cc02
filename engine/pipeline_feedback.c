/* Verdicts on incidents, applied to series state and recorded; see
 * vg_pipeline_feedback in pipeline.h and engine/feedback.h. */
#include "engine/pipeline_internal.h"

#include <stdio.h>
#include <string.h>

#include "core/series_key.h"
#include "engine/shard.h"

/* The incident id of series key[len] started at start_ms. */
static void incident_id(const char *key, size_t len, int64_t start_ms, char id[33])
{
    vg_event ev = {.series = key, .series_len = len, .start_ms = start_ms};
    vg_event_make_id(&ev);
    memcpy(id, ev.id, 33);
}

/* A verdict on one series' incident `id`: 1 applied, 0 not its latest. */
static int apply_series(vg_pipeline *p, const char *key, size_t len, const char *id,
                        vg_verdict verdict)
{
    series_head *head = vg_series_table_find(p->series, key, len);
    char latest[33];
    if (head == NULL || head->alert.incidents == 0)
        return 0;
    /* Only the series' latest incident: its deviations are the ones kept. */
    incident_id(key, len, head->alert.start_ms, latest);
    if (strcmp(latest, id) != 0)
        return 0;
    vg_feedback_apply(&head->feedback, verdict);
    vg_info("feedback: %s on incident %s of %.*s: floors up %.6g, down %.6g",
            vg_verdict_name(verdict), id, (int)len, key, head->feedback.floor_up,
            head->feedback.floor_down);
    return 1;
}

typedef struct to_members {
    vg_pipeline *p;
    vg_verdict   verdict;
    size_t       applied;
} to_members;

/* A group's verdict on one member: on the member's incident in the group. */
static void apply_member(void *ctx, const char *series, size_t len, int64_t start_ms)
{
    to_members *t = ctx;
    char id[33];
    incident_id(series, len, start_ms, id);
    t->applied += (size_t)apply_series(t->p, series, len, id, t->verdict);
}

/* Applies a well-formed verdict; what changed into detail[cap]. */
static int apply(vg_pipeline *p, const vg_feedback_msg *m, char *detail, size_t cap,
                 vg_error *err)
{
    vg__shards_drain(p->shards);
    if (apply_series(p, m->series, m->series_len, m->id, (vg_verdict)m->verdict)) {
        snprintf(detail, cap, "applied to the series");
        return VG_OK;
    }
    to_members t = {p, (vg_verdict)m->verdict, 0};
    size_t members =
        vg_groups_members(p->groups, m->series, m->series_len, m->id, apply_member, &t);
    if (t.applied > 0) {
        snprintf(detail, cap, "applied to %zu of the group's %zu member series", t.applied,
                 members);
        return VG_OK;
    }
    if (members > 0)
        return vg_error_set(err, VG_ENOTFOUND, "incident %s: each of the group's %zu members "
                            "has had a later incident", m->id, members);
    if (vg_series_table_find(p->series, m->series, m->series_len) != NULL)
        return vg_error_set(err, VG_ENOTFOUND, "incident %s is not the latest of %.*s", m->id,
                            (int)m->series_len, m->series);
    return vg_error_set(err, VG_ENOTFOUND, "no series or recent group %.*s here",
                        (int)m->series_len, m->series);
}

/* The feedback record of m: received now, named by its source, incident,
 * verdict and receipt time (two verdicts in one millisecond share it). */
static void record(vg_pipeline *p, const vg_feedback_msg *m, const char *result,
                   const char *detail)
{
    vg_event_feedback f = {m->verdict >= 0 ? vg_verdict_name((vg_verdict)m->verdict) : NULL,
                           m->source, result, detail};
    vg_event ev = {.series = m->series, .series_len = m->series_len, .ts_ms = vg_wall_ms(),
                   .instance = p->instance, .feedback = &f};
    if (m->id != NULL)
        memcpy(ev.id, m->id, 33);
    char buf[160];
    int n = snprintf(buf, sizeof(buf), "feedback/%s/%s/%s/%lld", ev.id, m->source,
                     f.verdict != NULL ? f.verdict : "", (long long)ev.ts_ms);
    snprintf(ev.event_id, sizeof(ev.event_id), "%016llx%016llx",
             (unsigned long long)vg_hash64(buf, (size_t)n, 1),
             (unsigned long long)vg_hash64(buf, (size_t)n, 2));
    vg__send_event(p, &ev);
}

int vg_pipeline_feedback(vg_pipeline *p, const vg_feedback_msg *m, vg_error *err)
{
    char detail[160];
    int rc = m->refused != NULL ? vg_error_set(err, VG_EARG, "%s", m->refused)
                                : apply(p, m, detail, sizeof(detail), err);
    if (rc == VG_OK) {
        record(p, m, "accepted", detail);
        return VG_OK;
    }
    vg_log_limited(&p->sink_log, VG_LOG_WARN, "feedback from %s refused: %s", m->source,
                   err->msg);
    record(p, m, "refused", err->msg);
    return rc;
}
