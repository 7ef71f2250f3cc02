/* One page per host event in the pipeline (engine/incident_join.h): which
 * series' events join a group incident, decided as they are delivered, and
 * the pages' changes told to the notifying outputs. */
#include "engine/pipeline_internal.h"

void vg__page_changed(void *ctx, const vg_event_page *page)
{
    vg_pipeline *p = ctx;
    for (size_t i = 0; i < p->n_sinks; i++)
        vg_sink_page(p->sinks[i], page);
}

/* Marks ev as part of incident id[33] in its role. */
static int mark(vg_event *ev, vg_join_role role, const char *id)
{
    if (role == VG_JOIN_NONE)
        return 0;
    ev->group_id = id;
    ev->joined = 1;
    ev->escalated = role == VG_JOIN_ESCALATED;
    return 1;
}

int vg__join(vg_pipeline *p, vg_event *ev, const vg_rule *rule, char id[33])
{
    /* A rule's group.by makes its own group incident (engine/group.c). */
    if (rule != NULL && rule->n_group_by > 0)
        return 0;
    if (ev->state == VG_ALERT_RESOLVED)
        return mark(ev, vg_joins_resolve(p->joins, ev, id, &ev->page), id);
    const profile *pr = &p->profiles[rule != NULL ? (size_t)(rule - p->rules.rules) + 1 : 0];
    if (!(pr->alert.group_window_s > 0.0))
        return 0;
    uint64_t group = vg_corroboration_group(ev->series, ev->series_len, NULL, 0, &ev->origin);
    if (group == VG_GROUP_NONE)
        return 0;
    return mark(ev,
                vg_joins_fire(p->joins, group, ev, (int64_t)(pr->alert.group_window_s * 1000.0),
                              !ev->muted, id),
                id);
}
