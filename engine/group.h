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
 * With a window ("group": {"by": [...], "window_s": W}) only the series
 * firing within W seconds of the group's opening join it: one firing later,
 * while the group is still open, is an incident of its own, paged alone
 * (a long incident on a host does not swallow every later one). Without
 * (0, the default) any series firing while the group is open joins it.
 *
 * Feedback on a group's incident goes to its members
 * (vg_groups_members): the open groups and the VG_GROUP_RECENT last
 * closed are known.
 *
 * Groups live in memory only, not in the saved state: a group spans
 * partitions (a host's series are keyed apart) while state is saved per
 * partition and may move to another instance, so no one state file could
 * own it. At a restart (or a rebalance) the open groups are forgotten:
 * a member that resolves afterwards sends its own resolved event,
 * notified like an ungrouped series' (Alertmanager has no alert of that
 * series, so no one is paged, and it ends the group's alert by itself
 * after its resolve_timeout); a member that fires afterwards opens a new
 * group, with a new id, and pages once for it; feedback on a group closed
 * before the restart is refused (send it for a member series).
 * tests/unit/test_group.c checks this. */
#ifndef VG_ENGINE_GROUP_H
#define VG_ENGINE_GROUP_H

#include "core/event.h"
#include "engine/rules.h"

/* Closed groups kept for feedback on them. */
#define VG_GROUP_RECENT 64
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

/* Calls fn for each member series of the group incident `id` whose series
 * is key[len] (an open group, or one of the last VG_GROUP_RECENT closed),
 * with the start of that member's latest incident in it. Returns the
 * number of members, 0 when no such group is known. */
typedef void (*vg_group_member_fn)(void *ctx, const char *series, size_t len,
                                   int64_t start_ms);
size_t vg_groups_members(const vg_groups *g, const char *key, size_t len, const char *id,
                         vg_group_member_fn fn, void *ctx);

#endif
