/* The Alertmanager sink's outbox: alerts waiting to be posted, and the
 * firing alerts it must keep re-posting.
 *
 * A bounded FIFO of alerts (compact JSON text), oldest of the lowest
 * severity dropped when full, plus one entry per firing incident (by event
 * id) that remembers the firing alert's text, its severity, when it was first posted and when it
 * is due again. Not thread-safe: the sink calls it under its lock. Pure
 * data, no clock of its own: every call that needs the time takes now_ms
 * (monotonic), so the tests drive it without waiting. */
#ifndef VG_STREAMS_ALERTMANAGER_OUTBOX_H
#define VG_STREAMS_ALERTMANAGER_OUTBOX_H

#include <stddef.h>
#include <stdint.h>

#include "core/event.h"

typedef struct vg_am_outbox vg_am_outbox;

typedef struct vg_am_outbox_params {
    size_t  cap;         /* queued alerts, and firing incidents tracked */
    int64_t resend_ms;   /* re-post a firing alert this often */
    int64_t hold_ms;     /* post a resolved alert no sooner than this after its firing */
} vg_am_outbox_params;

/* One alert taken for a post. json is owned by the item until
 * vg_am_outbox_done frees it. */
typedef struct vg_am_item {
    char    id[33];
    int     resolved;
    int64_t ends_in_ms;  /* a released resolved: its hold still had this long to run */
    char   *json;
} vg_am_item;

/* Returns a new, empty outbox, or NULL when out of memory. */
vg_am_outbox *vg_am_outbox_new(const vg_am_outbox_params *params);
void vg_am_outbox_free(vg_am_outbox *o);

/* The severity the firing of incident `id` was posted with, so its resolved
 * carries the same labels; `fallback` when the incident is unknown. */
vg_severity vg_am_outbox_severity(const vg_am_outbox *o, const char *id, vg_severity fallback);

/* A copy (malloc'd) of the firing alert text of incident `id`, the last
 * queued; NULL when it is not tracked, its resolved is queued, or out of
 * memory. */
char *vg_am_outbox_firing(const vg_am_outbox *o, const char *id);

/* Queues a firing (resolved = 0) or resolved alert of incident `id`. Takes
 * json (malloc'd), even on failure. A firing starts tracking the incident
 * (with `severity`); a resolved stops its re-posts. When the queue is full
 * the oldest alert of the lowest severity queued is dropped and *dropped
 * incremented. Returns 0 or
 * VG_ENOMEM. */
int vg_am_outbox_push(vg_am_outbox *o, const char *id, int resolved, vg_severity severity,
                      char *json, int64_t now_ms, uint64_t *dropped);

/* Moves up to max alerts due at now_ms into items: queued firing alerts,
 * queued resolved alerts whose firing was posted at least hold_ms ago (or
 * is unknown), then firing alerts due for a re-post (copies). Returns the
 * count; the caller must pass them to vg_am_outbox_done. */
size_t vg_am_outbox_take(vg_am_outbox *o, int64_t now_ms, vg_am_item *items, size_t max);

/* The post of items[n] is over: delivered or given up (either way a firing
 * counts as posted, so its resolved may follow and re-posts go on). Frees
 * the items' json. */
void vg_am_outbox_done(vg_am_outbox *o, vg_am_item *items, size_t n, int64_t now_ms);

/* Incident `id` now belongs to another instance (its partition was
 * revoked): no more re-posts of its firing. Alerts of it already queued
 * still go out once. Returns 1 when the incident was tracked, else 0. */
int vg_am_outbox_disown(vg_am_outbox *o, const char *id);

/* At close (now_ms): every queued resolved whose hold would end after
 * horizon_ms (a firing not yet posted: a hold after now_ms)
 * becomes due as soon as its firing is posted, its item carrying how long
 * the hold still had to run (ends_in_ms), so the sink can post it with
 * endsAt that much in the future: Alertmanager keeps the alert firing
 * until then, so its firing is still notified first. Its item is the
 * firing alert's text (the annotations Alertmanager's firing notification
 * shows are the last posted). Returns how many. */
size_t vg_am_outbox_release(vg_am_outbox *o, int64_t now_ms, int64_t horizon_ms);

/* Alerts still queued (held ones included). */
size_t vg_am_outbox_queued(const vg_am_outbox *o);

/* The earliest time something becomes due (INT64_MAX when nothing will);
 * now_ms or earlier when something is due already. */
int64_t vg_am_outbox_next_due(const vg_am_outbox *o, int64_t now_ms);

/* Drops everything queued (at close); returns how many alerts that was. */
size_t vg_am_outbox_clear(vg_am_outbox *o);

#endif
