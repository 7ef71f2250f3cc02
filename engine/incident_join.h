/* One page per host event (alert.group_window_s): a fault on a host moves
 * several of its series at once, and each fires an incident of its own; an
 * operator wants one page for it, as Alertmanager's or PagerDuty's grouping
 * would give, but decided here, where it is known which series belong
 * together (a series' group: engine/corroborate.h, its rule's group.by
 * labels, else host and instance, else its wide CSV file).
 *
 * The first series of a group to fire leads: its incident pages as any
 * other. Another series of the group firing within group_window_s of the
 * leader's firing joins the leader's incident: its firing and resolved
 * events carry group_id, the leader's incident id, and are recorded (event
 * log, console, and the alert topic: a record consumers read, sink flag
 * records_joined) but not notified (Alertmanager), as a grouped member's
 * are (engine/group.h). Each series still resolves on its own: the page (the
 * leader's alert) resolves with the leader. The window counts from the
 * leader's firing, whether or not it resolved meanwhile, so a long
 * incident does not swallow every later one; the first series to fire after
 * the window leads a new group incident. A muted incident leads nothing
 * (it pages no one). A series whose rule groups (group.by) is left to
 * engine/group.c: its group pages already.
 *
 * Decided on the caller's thread as events are delivered, in input order,
 * so the same whatever the number of workers. Kept in memory only, like
 * engine/group.c's groups (a group spans partitions; state is per
 * partition): after a restart a series firing within the window of a
 * leader from before pages anew, and a joined member's resolved event is
 * notified (Alertmanager has no alert of it and sends nothing). */
#ifndef VG_ENGINE_INCIDENT_JOIN_H
#define VG_ENGINE_INCIDENT_JOIN_H

#include <stdint.h>

#include "core/event.h"

typedef struct vg_joins vg_joins;

/* Returns an empty table, or NULL when out of memory. */
vg_joins *vg_joins_new(void);
void vg_joins_free(vg_joins *j);

/* A firing event ev of a series of `group` (> VG_GROUP_NONE). Returns 1
 * and the leader's incident id in id[33] when it joins the group's
 * incident (its leader, another series, fired at most window_ms before or
 * after it: a series read from a lagging partition may come later);
 * else 0, and ev leads the group's next incident when may_lead (it pages:
 * not muted). Out of memory: 0, nothing remembered (ev pages alone). */
int vg_joins_fire(vg_joins *j, uint64_t group, const vg_event *ev, int64_t window_ms,
                  int may_lead, char id[33]);

/* A resolved event ev: returns 1 and the incident id it joined in id[33]
 * when its incident joined one, else 0. */
int vg_joins_resolve(vg_joins *j, const vg_event *ev, char id[33]);

/* Group incidents remembered now (leaders, and older ones with joined
 * members still firing). */
size_t vg_joins_count(const vg_joins *j);

#endif
