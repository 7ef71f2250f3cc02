/* One page per host event (alert.group_window_s): a fault on a host moves
 * several of its series at once, and each fires an incident of its own; an
 * operator wants one page for it, as Alertmanager's or PagerDuty's grouping
 * would give, but decided here, where it is known which series belong
 * together (a series' group: engine/corroborate.h, its rule's group.by
 * labels, else host and instance, else its wide CSV file).
 *
 * The first series of a group to fire leads: its incident pages as any
 * other. Another series of the group firing within group_window_s of the
 * leader's firing, while the incident is open (the leader or a series that
 * joined it still fires), joins the leader's incident: its firing and resolved
 * events carry group_id, the leader's incident id, and are recorded (event
 * log, console, and the alert topic: a record consumers read, sink flag
 * records_joined) but not notified (Alertmanager), as a grouped member's
 * are (engine/group.h). Each series still resolves on its own. The
 * window counts from the
 * leader's firing, whether or not it resolved meanwhile, so a long
 * incident does not swallow every later one; the first series to fire after
 * the window, or after every series of the incident resolved (its page
 * ended: a series joining then would be notified to no one), leads a new
 * group incident. A muted incident leads nothing
 * (it pages no one). A series whose rule groups (group.by) is left to
 * engine/group.c: its group pages already.
 *
 * The page follows its group incident (the notifying outputs' `page` op,
 * streams/stream.h), as an operator expects of one page for one event:
 *  - it names the series that joined it, with their count, updated as
 *    they join and resolve (page_fn, below);
 *  - escalation: a member firing with a higher severity than the page's
 *    (a critical joining a warning) pages itself, its own alert notified
 *    (event.escalated), and the page's severity rises with it, so a group
 *    incident pages at most once per severity. The member's own alert
 *    rather than the leader's re-sent as critical: Alertmanager names an
 *    alert by its labels, severity among them, so the leader's at a new
 *    severity would be another alert naming the wrong series as critical,
 *    and ending the warning one would notify "resolved" mid-event; the
 *    member's names the series that is critical, is routed by its
 *    severity, and resolves with it;
 *  - the leader resolving while members still fire does not end the page:
 *    it stays open (leader_resolved) until the last member resolves, as a
 *    rule's group.by alert does, so a host event still under way is never
 *    shown resolved; the page's end is then told by page_fn, at the last
 *    member's resolve time.
 *
 * Bounded: a group incident is forgotten VG_JOIN_FORGET_MS of event time
 * after its leader fired (or its window, if longer), and beyond
 * VG_JOIN_MAX_ENTRIES leaders and members remembered the oldest is, so a
 * member that never resolves here (its series handed over to another
 * instance; one silent for ever) neither stays in memory nor holds its
 * page open for ever. A member still firing when forgotten is counted
 * (vg_joins_forgotten: vigil_incident_joins_forgotten_total); its resolved
 * event then carries no group_id (and is notified: Alertmanager has no
 * alert of it and sends nothing), and a page it held open ends.
 *
 * Decided on the caller's thread as events are delivered, in input order,
 * so the same whatever the number of workers; the event time is its clock,
 * so a replay is the same each time. Kept in memory only, like
 * engine/group.c's groups (a group spans partitions; state is per
 * partition): after a restart a series firing within the window of a
 * leader from before pages anew, and a joined member's resolved event is
 * notified (Alertmanager has no alert of it and sends nothing). */
#ifndef VG_ENGINE_INCIDENT_JOIN_H
#define VG_ENGINE_INCIDENT_JOIN_H

#include <stdint.h>

#include "core/event.h"

/* A day: a host event's series fire within minutes; one still firing a
 * day on is no longer that event's for its page. */
#define VG_JOIN_FORGET_MS (24 * 3600 * 1000LL)
/* Leaders and members remembered at most (about 100 bytes each). */
#define VG_JOIN_MAX_ENTRIES 10000

typedef struct vg_joins vg_joins;

/* Told each change of a page that has members (page valid for the call):
 * a member joined or resolved or was forgotten; not the leader's resolve,
 * which its resolved event tells (vg_joins_resolve). */
typedef void (*vg_join_page_fn)(void *ctx, const vg_event_page *page);

/* Returns an empty table, or NULL when out of memory. */
vg_joins *vg_joins_new(vg_join_page_fn page_fn, void *ctx);
void vg_joins_free(vg_joins *j);

typedef enum vg_join_role {
    VG_JOIN_NONE,       /* its own incident: it pages, or leads */
    VG_JOIN_MEMBER,     /* joined the leader's incident: recorded, not notified */
    VG_JOIN_ESCALATED,  /* joined with a higher severity than the page's: notified too */
} vg_join_role;

/* A firing event ev of a series of `group` (> VG_GROUP_NONE). When it
 * joins the group's incident (its leader, another series, fired at most
 * window_ms before or after it: a series read from a lagging partition may
 * come later; the incident still open), returns its role and the leader's incident id in id[33];
 * else VG_JOIN_NONE, and ev leads the group's next incident when may_lead
 * (it pages: not muted). Out of memory: VG_JOIN_NONE, nothing remembered
 * (ev pages alone). */
vg_join_role vg_joins_fire(vg_joins *j, uint64_t group, const vg_event *ev, int64_t window_ms,
                           int may_lead, char id[33]);

/* A resolved event ev. A member's: returns its role and the incident it
 * joined in id[33]. A leader's whose incident others joined: VG_JOIN_NONE
 * and *page its page (valid until the next call; open while members fire,
 * else ended). Else VG_JOIN_NONE and *page NULL. */
vg_join_role vg_joins_resolve(vg_joins *j, const vg_event *ev, char id[33],
                              const vg_event_page **page);

/* Series key[len] is no longer scored here (its partition went to another
 * instance): its entries go, as a resolve would take them (a page it held
 * open ends), not counted as forgotten. */
void vg_joins_drop(vg_joins *j, const char *key, size_t len);

/* Group incidents remembered now (leaders, and older ones whose page is
 * open: leader or members firing). */
size_t vg_joins_count(const vg_joins *j);

/* Series forgotten while firing (the bounds above), since the start. */
uint64_t vg_joins_forgotten(const vg_joins *j);

#endif
