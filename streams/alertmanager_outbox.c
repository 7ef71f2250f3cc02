/* The Alertmanager sink's outbox; see alertmanager_outbox.h.
 *
 * The queue is a linked list rather than a ring because a held resolved
 * alert stays where it is while alerts behind it go out. Order only
 * matters within one incident (its firing before its resolved), and a
 * resolved is never taken before its firing has been posted, so skipping
 * held alerts keeps every order that matters. Incidents are found by a
 * linear search: there are as many as series firing at once, and the
 * search runs once per event and per post, not per point. */
#include "streams/alertmanager_outbox.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/error.h"

#define NOT_POSTED INT64_MIN

typedef struct node {
    struct node *prev, *next;
    char         id[33];
    int          resolved;
    char        *json;
} node;

typedef struct incident {
    char        id[33];
    vg_severity severity;
    int         resolved;   /* its resolved is queued: no more re-posts */
    char       *json;       /* the firing alert, re-posted as it is */
    int64_t     posted_ms;  /* first post of the firing, or NOT_POSTED */
    int64_t     next_ms;    /* next re-post */
} incident;

struct vg_am_outbox {
    vg_am_outbox_params params;
    node               *head, *tail;
    size_t              queued;
    incident           *incidents;  /* params.cap of them, oldest first */
    size_t              n_incidents;
};

vg_am_outbox *vg_am_outbox_new(const vg_am_outbox_params *params)
{
    vg_assert(params->cap > 0);
    vg_am_outbox *o = calloc(1, sizeof(*o));
    if (o == NULL)
        return NULL;
    o->params = *params;
    o->incidents = calloc(params->cap, sizeof(*o->incidents));
    if (o->incidents == NULL) {
        free(o);
        return NULL;
    }
    return o;
}

void vg_am_outbox_free(vg_am_outbox *o)
{
    if (o == NULL)
        return;
    vg_am_outbox_clear(o);
    free(o->incidents);
    free(o);
}

static incident *find(const vg_am_outbox *o, const char *id)
{
    for (size_t i = 0; i < o->n_incidents; i++)
        if (strcmp(o->incidents[i].id, id) == 0)
            return &o->incidents[i];
    return NULL;
}

static void forget(vg_am_outbox *o, incident *inc)
{
    free(inc->json);
    size_t i = (size_t)(inc - o->incidents);
    memmove(inc, inc + 1, (o->n_incidents - i - 1) * sizeof(*inc));
    o->n_incidents--;
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

/* Drops the oldest queued alert. A dropped firing counts as posted, so its
 * resolved is not held forever, and its next re-post (one interval on, as
 * for any firing) may still deliver it; a dropped resolved ends the
 * incident's re-posts, and Alertmanager then resolves it resolve_timeout
 * after the last one. */
static void drop_oldest(vg_am_outbox *o, int64_t now_ms)
{
    node *nd = o->head;
    unlink_node(o, nd);
    incident *inc = find(o, nd->id);
    if (inc != NULL && nd->resolved)
        forget(o, inc);
    else if (inc != NULL && inc->posted_ms == NOT_POSTED) {
        inc->posted_ms = now_ms;
        inc->next_ms = now_ms + o->params.resend_ms;
    }
    free(nd->json);
    free(nd);
}

vg_severity vg_am_outbox_severity(const vg_am_outbox *o, const char *id, vg_severity fallback)
{
    const incident *inc = find(o, id);
    return inc != NULL ? inc->severity : fallback;
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
        forget(o, &o->incidents[0]);
    inc = &o->incidents[o->n_incidents++];
    memcpy(inc->id, id, sizeof(inc->id));
    inc->id[sizeof(inc->id) - 1] = '\0';
    inc->severity = severity;
    inc->resolved = 0;
    inc->json = copy;
    inc->posted_ms = inc->next_ms = NOT_POSTED;
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
        if (inc != NULL)
            inc->resolved = 1;
    }
    if (o->queued == o->params.cap) {
        drop_oldest(o, now_ms);
        (*dropped)++;
    }
    snprintf(nd->id, sizeof(nd->id), "%s", id);
    nd->resolved = resolved;
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

/* A queued alert's due time: now for a firing, its firing's first post plus
 * the hold for a resolved, INT64_MAX while that firing is not posted. */
static int64_t due_ms(const vg_am_outbox *o, const node *nd)
{
    if (!nd->resolved)
        return INT64_MIN;
    const incident *inc = find(o, nd->id);
    if (inc == NULL)
        return INT64_MIN;
    if (inc->posted_ms == NOT_POSTED)
        return INT64_MAX;
    return inc->posted_ms + o->params.hold_ms;
}

size_t vg_am_outbox_take(vg_am_outbox *o, int64_t now_ms, vg_am_item *items, size_t max)
{
    size_t n = 0;
    node *next;
    for (node *nd = o->head; nd != NULL && n < max; nd = next) {
        next = nd->next;
        if (due_ms(o, nd) > now_ms)
            continue;
        unlink_node(o, nd);
        memcpy(items[n].id, nd->id, sizeof(items[n].id));
        items[n].resolved = nd->resolved;
        items[n++].json = nd->json;
        free(nd);
    }
    for (size_t i = 0; i < o->n_incidents && n < max; i++) {
        incident *inc = &o->incidents[i];
        if (inc->resolved || inc->posted_ms == NOT_POSTED || inc->next_ms > now_ms)
            continue;
        char *copy = strdup(inc->json);
        if (copy == NULL)
            break;  /* tried again at the next take */
        inc->next_ms = now_ms + o->params.resend_ms;
        memcpy(items[n].id, inc->id, sizeof(items[n].id));
        items[n].resolved = 0;
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
        } else if (inc != NULL) {
            if (inc->posted_ms == NOT_POSTED)
                inc->posted_ms = now_ms;
            inc->next_ms = now_ms + o->params.resend_ms;
        }
        free(items[i].json);
        items[i].json = NULL;
    }
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
    for (size_t i = 0; i < o->n_incidents; i++) {
        const incident *inc = &o->incidents[i];
        if (!inc->resolved && inc->posted_ms != NOT_POSTED && inc->next_ms < next)
            next = inc->next_ms;
    }
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
    while (o->n_incidents > 0)
        forget(o, &o->incidents[o->n_incidents - 1]);
    return n;
}
