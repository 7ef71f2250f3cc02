/* One page per host event in the pipeline (engine/incident_join.h): which
 * series' events join a group incident, decided as they are delivered. */
#include "engine/pipeline_internal.h"

int vg__join(vg_pipeline *p, vg_event *ev, const vg_rule *rule, char id[33])
{
    /* A rule's group.by makes its own group incident (engine/group.c). */
    if (rule != NULL && rule->n_group_by > 0)
        return 0;
    if (ev->state == VG_ALERT_RESOLVED) {
        if (!vg_joins_resolve(p->joins, ev, id))
            return 0;
        ev->group_id = id;
        ev->joined = 1;
        return 1;
    }
    const profile *pr = &p->profiles[rule != NULL ? (size_t)(rule - p->rules.rules) + 1 : 0];
    if (!(pr->alert.group_window_s > 0.0))
        return 0;
    uint64_t group = vg_corroboration_group(ev->series, ev->series_len, NULL, 0, &ev->origin);
    if (group == VG_GROUP_NONE ||
        !vg_joins_fire(p->joins, group, ev, (int64_t)(pr->alert.group_window_s * 1000.0),
                       !ev->muted, id))
        return 0;
    ev->group_id = id;
    ev->joined = 1;
    return 1;
}
