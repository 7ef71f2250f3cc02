/* Grouped incidents: the series of one group, a rule's `group.by` label
 * values (e.g. one host: {"group": {"by": ["instance"]}}), anomalous
 * together are one incident, one page.
 *
 * The group is open while any of its members fires: the first member to
 * fire opens it ("opened"), every other series of the group that fires
 * while it is open joins it ("joined"), a member that resolves leaves it
 * ("left"), and the last one to resolve closes it ("closed": the group's
 * resolved event). Each change is one event of the group's own incident:
 * series `<rule name>{<group labels>}`, id from that key and the group's
 * start (stable, like a series incident's), state firing until it closes,
 * the severity and mute of its first member, the members listed with their
 * state, peak and start, and the member that made the change. The members'
 * own events are still written (they carry group_id) but only recorded,
 * not notified: Alertmanager and the alert topic get the group's, one
 * alert per group whose annotations follow its members.
 *
 * Groups live in memory only: after a restart a resolving member of a
 * group opened before it closes nothing (Alertmanager ends that alert by
 * itself after resolve_timeout), and a member firing opens a new group. */
#ifndef VG_ENGINE_GROUP_H
#define VG_ENGINE_GROUP_H

#include "core/event.h"
#include "engine/rules.h"

/* Members listed in one group event at most (the count goes on beyond). */
#define VG_GROUP_LISTED 64
/* Room for one group event's words. */
#define VG_GROUP_TEXT 1024

typedef struct vg_groups vg_groups;

/* One group event being made: the event and the storage it points into. */
typedef struct vg_group_event {
    vg_event        ev;
    vg_event_group  group;
    vg_event_member members[VG_GROUP_LISTED];
    char            key[512];
    char            summary[VG_GROUP_TEXT], description[VG_GROUP_TEXT];
} vg_group_event;

/* Returns an empty set of groups, or NULL when out of memory. */
vg_groups *vg_groups_new(void);
void vg_groups_free(vg_groups *g);

/* Open groups now. */
size_t vg_groups_open(const vg_groups *g);

/* A firing or resolved event of a series whose rule groups
 * (rule->n_group_by > 0), its words already made. Updates the series'
 * group, sets member->group_id, and fills *out with the group's event
 * (valid until the next call). Returns 1 when there is a group event,
 * 0 when not (the series has none of the group's labels, a resolve of a
 * group not open here), VG_ENOMEM. */
int vg_groups_update(vg_groups *g, const vg_rule *rule, vg_event *member, vg_group_event *out);

#endif
