/* The Alertmanager sink's outbox; see alertmanager_outbox.h.
 *
 * The queue is a linked list rather than a ring because a held resolved
 * alert stays where it is while alerts behind it go out. Order only
 * matters within one incident (its firing before its resolved), and a
 * resolved is never taken before its firing has been posted, so skipping
 * held alerts keeps every order that matters. Incidents (as many as
 * series firing at once: thousands in a fleet-wide storm) sit in a fixed
 * slot array found through a hash table on the id, so every operation on
 * one incident is O(1). */
#include "streams/alertmanager_outbox.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/series_key.h"

#define NOT_POSTED INT64_MIN
#define NIL UINT32_MAX

typedef struct node {
    struct node *prev, *next;
    char         id[33];
    int          resolved;
    int          released;  /* a held resolved let go at close (vg_am_outbox_release) */
    vg_severity  severity;
    char        *json;
} node;

/* An incident is on two lists: AGE (creation order, to forget the oldest
 * when full) and, once posted and until resolved, DUE (re-post order:
 * every post moves it to the tail with next_ms = now + resend_ms, so the
 * list stays sorted by next_ms and a take looks only at its head). */
enum { AGE, DUE };

typedef struct incident {
    char        id[33];
    vg_severity severity;
    int         resolved;   /* its resolved is queued: no more re-posts */
    int         on_due;
    char       *json;       /* the firing alert, re-posted as it is */
    int64_t     posted_ms;  /* first post of the firing, or NOT_POSTED */
    int64_t     next_ms;    /* next re-post */
    uint32_t    prev[2], next[2];
} incident;

typedef struct list {
    uint32_t head, tail;
} list;

struct vg_am_outbox {
    vg_am_outbox_params params;
    node               *head, *tail;
    size_t              queued;
    incident           *slots;      /* params.cap of them */
    uint32_t            free_slot;  /* chained through next[AGE] */
    size_t              n_incidents;
    list                lists[2];
    uint32_t           *table;      /* id -> slot, linear probing */
    size_t              mask;
};

static void list_push(vg_am_outbox *o, int l, uint32_t i)
{
    incident *inc = &o->slots[i];
    inc->prev[l] = o->lists[l].tail;
    inc->next[l] = NIL;
    if (o->lists[l].tail != NIL)
        o->slots[o->lists[l].tail].next[l] = i;
    else
        o->lists[l].head = i;
    o->lists[l].tail = i;
}

static void list_remove(vg_am_outbox *o, int l, uint32_t i)
{
    incident *inc = &o->slots[i];
    if (inc->prev[l] != NIL)
        o->slots[inc->prev[l]].next[l] = inc->next[l];
    else
        o->lists[l].head = inc->next[l];
    if (inc->next[l] != NIL)
        o->slots[inc->next[l]].prev[l] = inc->prev[l];
    else
        o->lists[l].tail = inc->prev[l];
}

vg_am_outbox *vg_am_outbox_new(const vg_am_outbox_params *params)
{
    vg_assert(params->cap > 0 && params->cap < NIL / 2);
    vg_am_outbox *o = calloc(1, sizeof(*o));
    if (o == NULL)
        return NULL;
    o->params = *params;
    size_t size = 2;
    while (size < 2 * params->cap)
        size *= 2;
    o->mask = size - 1;
    o->slots = malloc(params->cap * sizeof(*o->slots));
    o->table = malloc(size * sizeof(*o->table));
    if (o->slots == NULL || o->table == NULL) {
        free(o->slots);
        free(o->table);
        free(o);
        return NULL;
    }
    memset(o->table, 0xff, size * sizeof(*o->table));  /* all NIL */
    for (size_t i = 0; i < params->cap; i++)
        o->slots[i].next[AGE] = i + 1 < params->cap ? (uint32_t)(i + 1) : NIL;
    o->free_slot = 0;
    o->lists[AGE] = o->lists[DUE] = (list){NIL, NIL};
    return o;
}

void vg_am_outbox_free(vg_am_outbox *o)
{
    if (o == NULL)
        return;
    vg_am_outbox_clear(o);
    free(o->slots);
    free(o->table);
    free(o);
}

static size_t home(const vg_am_outbox *o, const char *id)
{
    return (size_t)vg_hash64(id, strlen(id), 0) & o->mask;
}

/* The table position of id, or of the empty cell where it would go. */
static size_t probe(const vg_am_outbox *o, const char *id)
{
    size_t at = home(o, id);
    while (o->table[at] != NIL && strcmp(o->slots[o->table[at]].id, id) != 0)
        at = (at + 1) & o->mask;
    return at;
}

static incident *find(const vg_am_outbox *o, const char *id)
{
    uint32_t i = o->table[probe(o, id)];
    return i == NIL ? NULL : &o->slots[i];
}

/* Empties table cell `at` and shifts later cells of the same probe run
 * back (deletion without tombstones). */
static void table_delete(vg_am_outbox *o, size_t at)
{
    o->table[at] = NIL;
    for (size_t j = (at + 1) & o->mask; o->table[j] != NIL; j = (j + 1) & o->mask) {
        size_t k = home(o, o->slots[o->table[j]].id);
        /* move j back to `at` unless its home lies cyclically in (at, j] */
        int stays = at <= j ? (at < k && k <= j) : (at < k || k <= j);
        if (!stays) {
            o->table[at] = o->table[j];
            o->table[j] = NIL;
            at = j;
        }
    }
}

static void forget(vg_am_outbox *o, incident *inc)
{
    uint32_t i = (uint32_t)(inc - o->slots);
    table_delete(o, probe(o, inc->id));
    list_remove(o, AGE, i);
    if (inc->on_due)
        list_remove(o, DUE, i);
    free(inc->json);
    inc->next[AGE] = o->free_slot;
    o->free_slot = i;
    o->n_incidents--;
}

/* (Re)schedules a posted, unresolved incident's next re-post. */
static void schedule(vg_am_outbox *o, incident *inc, int64_t now_ms)
{
    uint32_t i = (uint32_t)(inc - o->slots);
    if (inc->on_due)
        list_remove(o, DUE, i);
    inc->next_ms = now_ms + o->params.resend_ms;
    list_push(o, DUE, i);
    inc->on_due = 1;
}

static void unschedule(vg_am_outbox *o, incident *inc)
{
    if (inc->on_due)
        list_remove(o, DUE, (uint32_t)(inc - o->slots));
    inc->on_due = 0;
}

static void unlink_node(vg_am_outbox *o, node *nd)
{
    if (nd->prev != NULL)
        nd->prev->next = nd->next;
    else
        o->head = nd->next;
    if (nd->next != NULL)
        nd->next->prev = nd->prev;
    else
        o->tail = nd->prev;
    o->queued--;
}

/* Drops the oldest queued alert of the lowest severity queued (warnings
 * go before any critical). A dropped firing counts as posted, so its
 * resolved is not held forever, and its next re-post (one interval on, as
 * for any firing) may still deliver it; a dropped resolved ends the
 * incident's re-posts, and Alertmanager then resolves it resolve_timeout
 * after the last one. */
static void drop_oldest(vg_am_outbox *o, int64_t now_ms)
{
    node *nd = o->head;
    for (node *at = o->head->next; at != NULL && nd->severity > VG_SEVERITY_WARNING;
         at = at->next)
        if (at->severity < nd->severity)
            nd = at;
    unlink_node(o, nd);
    incident *inc = find(o, nd->id);
    if (inc != NULL && nd->resolved)
        forget(o, inc);
    else if (inc != NULL && inc->posted_ms == NOT_POSTED) {
        inc->posted_ms = now_ms;
        schedule(o, inc, now_ms);
    }
    free(nd->json);
    free(nd);
}

vg_severity vg_am_outbox_severity(const vg_am_outbox *o, const char *id, vg_severity fallback)
{
    const incident *inc = find(o, id);
    return inc != NULL ? inc->severity : fallback;
}

char *vg_am_outbox_firing(const vg_am_outbox *o, const char *id)
{
    const incident *inc = find(o, id);
    return inc != NULL && !inc->resolved ? strdup(inc->json) : NULL;
}

/* Starts tracking a firing incident (or refreshes its text). */
static int track(vg_am_outbox *o, const char *id, vg_severity severity, const char *json)
{
    char *copy = strdup(json);
    if (copy == NULL)
        return VG_ENOMEM;
    incident *inc = find(o, id);
    if (inc != NULL) {
        free(inc->json);
        inc->json = copy;
        return VG_OK;
    }
    if (o->n_incidents == o->params.cap)  /* stop re-posting the oldest */
        forget(o, &o->slots[o->lists[AGE].head]);
    uint32_t i = o->free_slot;
    inc = &o->slots[i];
    o->free_slot = inc->next[AGE];
    snprintf(inc->id, sizeof(inc->id), "%s", id);
    inc->severity = severity;
    inc->resolved = 0;
    inc->on_due = 0;
    inc->json = copy;
    inc->posted_ms = inc->next_ms = NOT_POSTED;
    o->table[probe(o, inc->id)] = i;
    list_push(o, AGE, i);
    o->n_incidents++;
    return VG_OK;
}

int vg_am_outbox_push(vg_am_outbox *o, const char *id, int resolved, vg_severity severity,
                      char *json, int64_t now_ms, uint64_t *dropped)
{
    node *nd = calloc(1, sizeof(*nd));
    if (nd == NULL)
        goto out_free_json;
    if (!resolved && track(o, id, severity, json) != VG_OK)
        goto out_free_node;
    if (resolved) {
        incident *inc = find(o, id);
        if (inc != NULL) {
            inc->resolved = 1;
            unschedule(o, inc);
        }
    }
    if (o->queued == o->params.cap) {
        drop_oldest(o, now_ms);
        (*dropped)++;
    }
    snprintf(nd->id, sizeof(nd->id), "%s", id);
    nd->resolved = resolved;
    nd->severity = severity;
    nd->json = json;
    nd->prev = o->tail;
    if (o->tail != NULL)
        o->tail->next = nd;
    else
        o->head = nd;
    o->tail = nd;
    o->queued++;
    return VG_OK;

out_free_node:
    free(nd);
out_free_json:
    free(json);
    return VG_ENOMEM;
}

/* When a queued resolved's hold ends: its firing's first post plus the
 * hold, INT64_MAX while that firing is not posted, INT64_MIN for an
 * incident no longer tracked. */
static int64_t hold_end_ms(const vg_am_outbox *o, const node *nd)
{
    const incident *inc = find(o, nd->id);
    if (inc == NULL)
        return INT64_MIN;
    if (inc->posted_ms == NOT_POSTED)
        return INT64_MAX;
    return inc->posted_ms + o->params.hold_ms;
}

/* A queued alert's due time: now for a firing, the end of its hold for a
 * resolved; a released resolved is due as soon as its firing is posted. */
static int64_t due_ms(const vg_am_outbox *o, const node *nd)
{
    if (!nd->resolved)
        return INT64_MIN;
    int64_t end = hold_end_ms(o, nd);
    return nd->released && end != INT64_MAX ? INT64_MIN : end;
}

/* A released resolved goes out as its firing's text (its endsAt set by the
 * sink): Alertmanager notifies the firing with the annotations it was last
 * posted with, and they must still describe the anomaly, not its end. */
static char *firing_text(const vg_am_outbox *o, node *nd)
{
    const incident *inc = find(o, nd->id);
    char *copy = inc != NULL ? strdup(inc->json) : NULL;
    if (copy == NULL)
        return nd->json;  /* posted as the resolved it is */
    free(nd->json);
    return copy;
}

size_t vg_am_outbox_take(vg_am_outbox *o, int64_t now_ms, vg_am_item *items, size_t max)
{
    size_t n = 0;
    node *next;
    for (node *nd = o->head; nd != NULL && n < max; nd = next) {
        next = nd->next;
        if (due_ms(o, nd) > now_ms)
            continue;
        int64_t end = nd->resolved ? hold_end_ms(o, nd) : INT64_MIN;
        unlink_node(o, nd);
        memcpy(items[n].id, nd->id, sizeof(items[n].id));
        items[n].resolved = nd->resolved;
        items[n].ends_in_ms = end > now_ms ? end - now_ms : 0;
        items[n].json = items[n].ends_in_ms > 0 ? firing_text(o, nd) : nd->json;
        n++;
        free(nd);
    }
    while (n < max && o->lists[DUE].head != NIL) {
        incident *inc = &o->slots[o->lists[DUE].head];
        if (inc->next_ms > now_ms)
            break;
        char *copy = strdup(inc->json);
        if (copy == NULL)
            break;  /* tried again at the next take */
        schedule(o, inc, now_ms);  /* not again while this post is in flight */
        memcpy(items[n].id, inc->id, sizeof(items[n].id));
        items[n].resolved = 0;
        items[n].ends_in_ms = 0;
        items[n++].json = copy;
    }
    return n;
}

void vg_am_outbox_done(vg_am_outbox *o, vg_am_item *items, size_t n, int64_t now_ms)
{
    for (size_t i = 0; i < n; i++) {
        incident *inc = find(o, items[i].id);
        if (inc != NULL && items[i].resolved) {
            forget(o, inc);
        } else if (inc != NULL && !inc->resolved) {
            if (inc->posted_ms == NOT_POSTED)
                inc->posted_ms = now_ms;
            schedule(o, inc, now_ms);
        } else if (inc != NULL && inc->posted_ms == NOT_POSTED) {
            inc->posted_ms = now_ms;  /* its resolved waits for this */
        }
        free(items[i].json);
        items[i].json = NULL;
    }
}

int vg_am_outbox_disown(vg_am_outbox *o, const char *id)
{
    incident *inc = find(o, id);
    if (inc == NULL)
        return 0;
    forget(o, inc);
    return 1;
}

size_t vg_am_outbox_release(vg_am_outbox *o, int64_t now_ms, int64_t horizon_ms)
{
    size_t n = 0;
    for (node *nd = o->head; nd != NULL; nd = nd->next) {
        if (!nd->resolved || nd->released)
            continue;
        /* A firing not posted yet is about to be: its hold ends a hold from now. */
        int64_t end = hold_end_ms(o, nd);
        if (end == INT64_MAX)
            end = now_ms + o->params.hold_ms;
        if (end > horizon_ms) {
            nd->released = 1;
            n++;
        }
    }
    return n;
}

size_t vg_am_outbox_queued(const vg_am_outbox *o)
{
    return o->queued;
}

int64_t vg_am_outbox_next_due(const vg_am_outbox *o, int64_t now_ms)
{
    int64_t next = INT64_MAX;
    for (const node *nd = o->head; nd != NULL && next > now_ms; nd = nd->next) {
        int64_t due = due_ms(o, nd);
        if (due < next)
            next = due;
    }
    if (o->lists[DUE].head != NIL && o->slots[o->lists[DUE].head].next_ms < next)
        next = o->slots[o->lists[DUE].head].next_ms;
    return next;
}

size_t vg_am_outbox_clear(vg_am_outbox *o)
{
    size_t n = o->queued;
    while (o->head != NULL) {
        node *nd = o->head;
        unlink_node(o, nd);
        free(nd->json);
        free(nd);
    }
    while (o->lists[AGE].head != NIL)
        forget(o, &o->slots[o->lists[AGE].head]);
    return n;
}
