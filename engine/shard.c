/* Sharded scoring: the workers, their job lists and the merge; see shard.h.
 * The workers meet the caller's thread once per round (a mutex and two
 * condition variables): a round is a whole batch, or its part before an
 * eviction, thousands of points against microseconds of hand-over.
 *
 * Two slots hold a batch each: when pipelined, one is scored by the
 * workers while the caller reads the next batch and takes it into the
 * other; otherwise only slot 0 is used, and each batch is merged before
 * vg_pipeline_process returns. */
#include "engine/shard.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/grow.h"

/* Below this many points a round is scored on the caller's thread alone:
 * waking the workers costs more than the points (Kafka polls that return
 * a few messages, the tail of a file). */
#define SOLO_POINTS 64

typedef struct deferred_event {
    vg_event ev;
    size_t   point;   /* its index in the batch */
    int32_t  slot;    /* vg__firing_slot */
    const vg_rule *rule;  /* its series' rule, for grouping */
    char     text[3][VG_EVENT_TEXT_BYTES];  /* summary, description, runbook URL */
} deferred_event;

struct vg_deferred {
    deferred_event *events;
    size_t          n, cap;
    uint64_t        lost;   /* out of memory: not kept (counted as sink errors) */
};

typedef struct job {
    char    *block;
    uint32_t point;
    uint32_t muted_now;
} job;

typedef struct worker {
    vg_shards  *owner;
    pthread_t   thread;
    int         started;
    vg_scorer   scorer;
    vg_deferred out[2];      /* by slot */
    job        *jobs[2];     /* by slot */
    size_t      n_jobs[2];
    size_t      next_event;  /* the merge's cursor in out[slot].events */
} worker;

/* One batch on its way: taken, scored, merged. */
typedef struct slot {
    vg_batch         copy;      /* the caller's batch, when pipelined */
    const vg_batch  *batch;     /* what the jobs index: copy, or the caller's */
    size_t           merged;    /* its points before this index are delivered */
    size_t           taken;     /* its points before this index are in job lists */
    uint16_t        *owner_of;  /* the worker of each taken point */
    vg_point_result *results;   /* each point's, for the hook */
    size_t           cap;       /* points that owner_of, results and job lists hold */
} slot;

struct vg_shards {
    vg_pipeline     *p;
    size_t           n;
    worker          *w;
    slot             slots[2];
    size_t           cur;        /* the slot being taken */
    int              in_flight;  /* the slot the workers are scoring, or -1 */
    int              pipelined;
    pthread_mutex_t  lock;
    pthread_cond_t   go, done;
    uint64_t         round;     /* bumped to start the workers on slot `active` */
    size_t           active;
    size_t           busy;      /* threads still scoring this round */
    int              stop;
};

void vg__defer_event(vg_deferred *d, size_t point, const vg_event *ev, const vg_rule *rule,
                     int32_t slot)
{
    deferred_event *grown = vg_grow(d->events, &d->cap, d->n, sizeof(*grown), 16);
    if (grown == NULL) {
        d->lost++;
        return;
    }
    d->events = grown;
    deferred_event *de = &d->events[d->n++];
    de->ev = *ev;
    de->point = point;
    de->slot = slot;
    de->rule = rule;
    const char *words[3] = {ev->summary, ev->description, ev->runbook_url};
    for (size_t k = 0; k < 3; k++)
        snprintf(de->text[k], sizeof(de->text[k]), "%s", words[k] ? words[k] : "");
}

/* The event as it was emitted: its words point at the record's copies
 * (the record array may have moved since it was kept). */
static int deliver_deferred(vg_pipeline *p, deferred_event *de)
{
    vg_event ev = de->ev;
    ev.summary = ev.summary ? de->text[0] : NULL;
    ev.description = ev.description ? de->text[1] : NULL;
    ev.runbook_url = ev.runbook_url ? de->text[2] : NULL;
    return vg__deliver(p, &ev, de->rule, de->slot);
}

static void run_jobs(vg_shards *s, worker *w, size_t k)
{
    const job *jobs = w->jobs[k];
    w->scorer.deferred = &w->out[k];
    w->scorer.results = s->p->hook != NULL ? s->slots[k].results : NULL;
    for (size_t j = 0; j < w->n_jobs[k]; j++)
        vg__score_point(s->p, &w->scorer, s->slots[k].batch, jobs[j].point, jobs[j].block,
                        (int)jobs[j].muted_now);
    vg__scorer_send_scores(s->p, &w->scorer);
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    vg_shards *s = w->owner;
    uint64_t seen = 0;
    pthread_mutex_lock(&s->lock);
    for (;;) {
        while (s->round == seen && !s->stop)
            pthread_cond_wait(&s->go, &s->lock);
        if (s->stop)
            break;
        seen = s->round;
        size_t k = s->active;
        pthread_mutex_unlock(&s->lock);
        run_jobs(s, w, k);
        pthread_mutex_lock(&s->lock);
        if (--s->busy == 0)
            pthread_cond_signal(&s->done);
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

/* Starts the workers (the threads) on slot k's jobs. */
static void start_round(vg_shards *s, size_t k)
{
    pthread_mutex_lock(&s->lock);
    s->active = k;
    s->round++;
    s->busy = s->n;
    pthread_cond_broadcast(&s->go);
    pthread_mutex_unlock(&s->lock);
}

static void wait_round(vg_shards *s)
{
    pthread_mutex_lock(&s->lock);
    while (s->busy > 0)
        pthread_cond_wait(&s->done, &s->lock);
    pthread_mutex_unlock(&s->lock);
}

/* In input order: each point's events, then its result to the hook. */
static void merge_round(vg_shards *s, size_t k)
{
    vg_pipeline *p = s->p;
    slot *sl = &s->slots[k];
    const vg_batch *b = sl->batch;
    for (size_t i = sl->merged; i < sl->taken; i++) {
        worker *w = &s->w[sl->owner_of[i]];
        vg_deferred *out = &w->out[k];
        while (w->next_event < out->n && out->events[w->next_event].point == i)
            /* whether a firing joins is decided at delivery (vg__join) */
            if (deliver_deferred(p, &out->events[w->next_event++]) && p->hook != NULL)
                sl->results[i].joined = 1;
        if (p->hook != NULL)
            p->hook(p->hook_ctx, b, &b->points[i], &sl->results[i]);
    }
    for (size_t j = 0; j < s->n; j++) {
        worker *w = &s->w[j];
        p->stats.sink_errors += w->out[k].lost;
        w->out[k].lost = 0;
        w->out[k].n = w->next_event = w->n_jobs[k] = 0;
        vg__scorer_collect(p, &w->scorer);
    }
    sl->merged = sl->taken;
}

/* Scores slot k's jobs (on the caller's thread alone for a small round)
 * and merges them. Nothing may be in flight. */
static void settle_slot(vg_shards *s, size_t k)
{
    slot *sl = &s->slots[k];
    if (sl->taken == sl->merged)
        return;
    if (sl->taken - sl->merged < SOLO_POINTS) {
        for (size_t j = 0; j < s->n; j++)
            run_jobs(s, &s->w[j], k);
    } else {
        start_round(s, k);
        wait_round(s);
    }
    merge_round(s, k);
}

void vg__shards_drain(vg_shards *s)
{
    if (s == NULL || s->in_flight < 0)
        return;
    size_t k = (size_t)s->in_flight;
    wait_round(s);
    s->in_flight = -1;
    merge_round(s, k);
}

void vg__shards_settle(vg_shards *s)
{
    vg__shards_drain(s);
    settle_slot(s, s->cur);
}

/* The batch in flight is the caller's copy, so that the caller may reuse
 * its own while the workers score. */
static int copy_batch(vg_batch *dst, const vg_batch *src)
{
    if (dst->cap < src->n) {
        vg_point *points = realloc(dst->points, src->n * sizeof(*points));
        if (points == NULL)
            return VG_ENOMEM;
        dst->points = points;
        dst->cap = src->n;
    }
    if (dst->arena_cap < src->arena_len) {
        char *arena = realloc(dst->arena, src->arena_len);
        if (arena == NULL)
            return VG_ENOMEM;
        dst->arena = arena;
        dst->arena_cap = src->arena_len;
    }
    if (src->n > 0)
        memcpy(dst->points, src->points, src->n * sizeof(*src->points));
    if (src->arena_len > 0)
        memcpy(dst->arena, src->arena, src->arena_len);
    dst->n = src->n;
    dst->arena_len = src->arena_len;
    return VG_OK;
}

/* Room for a batch of n points in every list of slot k: taking points
 * then never allocates, so a batch is either refused whole or taken whole. */
static int make_room(vg_shards *s, size_t k, size_t n)
{
    slot *sl = &s->slots[k];
    if (n <= sl->cap)
        return VG_OK;
    uint16_t *owner_of = realloc(sl->owner_of, n * sizeof(*owner_of));
    if (owner_of == NULL)
        return VG_ENOMEM;
    sl->owner_of = owner_of;
    vg_point_result *results = realloc(sl->results, n * sizeof(*results));
    if (results == NULL)
        return VG_ENOMEM;
    sl->results = results;
    for (size_t j = 0; j < s->n; j++) {
        job *jobs = realloc(s->w[j].jobs[k], n * sizeof(*jobs));
        if (jobs == NULL)
            return VG_ENOMEM;
        s->w[j].jobs[k] = jobs;
    }
    sl->cap = n;
    return VG_OK;
}

/* Every point of the slot's batch into its worker's job list. */
static void take(vg_shards *s, size_t k)
{
    vg_pipeline *p = s->p;
    slot *sl = &s->slots[k];
    const vg_batch *b = sl->batch;
    for (size_t i = 0; i < b->n; i++) {
        const vg_point *pt = &b->points[i];
        char *block = vg__series_of(p, b, pt);
        /* A corroboration group's series go to one worker: its notes are
         * then made and read in input order (engine/corroborate.h). */
        uint64_t group = ((const series_head *)block)->group;
        size_t j = (group > VG_GROUP_NONE ? group : vg_series_table_number(p->series, block)) %
                   s->n;
        worker *w = &s->w[j];
        w->jobs[k][w->n_jobs[k]++] = (job){block, (uint32_t)i,
                                           (uint32_t)vg__muted_now(p, block, pt->ts_ms)};
        sl->owner_of[i] = (uint16_t)j;
        sl->taken = i + 1;
    }
}

int vg__shards_process(vg_shards *s, const vg_batch *b)
{
    size_t k = s->cur;
    slot *sl = &s->slots[k];
    if (make_room(s, k, b->n) != VG_OK || (s->pipelined && copy_batch(&sl->copy, b) != VG_OK)) {
        vg__shards_drain(s);  /* the caller scores b itself, after what came before */
        return VG_ENOMEM;
    }
    sl->batch = s->pipelined ? &sl->copy : b;
    sl->merged = sl->taken = 0;
    take(s, k);
    if (!s->pipelined) {
        settle_slot(s, k);
        return VG_OK;
    }
    /* The batch before this one, then this one on its way. */
    vg__shards_drain(s);
    if (sl->taken - sl->merged < SOLO_POINTS) {
        settle_slot(s, k);
    } else {
        start_round(s, k);
        s->in_flight = (int)k;
        s->cur = k ^ 1;
    }
    return VG_OK;
}

void vg__shards_pipeline(vg_shards *s, int on)
{
    vg__shards_drain(s);
    s->pipelined = on;
}

size_t vg__shards_count(const vg_shards *s)
{
    return s->n;
}

vg_shards *vg__shards_new(vg_pipeline *p, size_t n_workers, vg_error *err)
{
    vg_shards *s = calloc(1, sizeof(*s));
    if (s == NULL || (s->w = calloc(n_workers, sizeof(*s->w))) == NULL) {
        free(s);
        vg_error_set(err, VG_ENOMEM, "%zu scoring workers", n_workers);
        return NULL;
    }
    s->p = p;
    s->n = n_workers;
    s->in_flight = -1;
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->go, NULL);
    pthread_cond_init(&s->done, NULL);
    for (size_t k = 0; k < n_workers; k++) {
        worker *w = &s->w[k];
        w->owner = s;
        if (vg__scorer_init(p, &w->scorer) != VG_OK) {
            vg_error_set(err, VG_ENOMEM, "scoring worker %zu", k);
            goto out_free;
        }
        if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
            vg_error_set(err, VG_EIO, "scoring worker %zu: cannot start a thread", k);
            goto out_free;
        }
        w->started = 1;
    }
    return s;

out_free:
    vg__shards_free(s);
    return NULL;
}

void vg__shards_free(vg_shards *s)
{
    if (s == NULL)
        return;
    pthread_mutex_lock(&s->lock);
    s->stop = 1;
    pthread_cond_broadcast(&s->go);
    pthread_mutex_unlock(&s->lock);
    for (size_t k = 0; k < s->n; k++) {
        worker *w = &s->w[k];
        if (w->started)
            pthread_join(w->thread, NULL);
        vg__scorer_release(&w->scorer);
        for (size_t k2 = 0; k2 < 2; k2++) {
            free(w->out[k2].events);
            free(w->jobs[k2]);
        }
    }
    for (size_t k = 0; k < 2; k++) {
        free(s->slots[k].owner_of);
        free(s->slots[k].results);
        vg_batch_release(&s->slots[k].copy);
    }
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->go);
    pthread_cond_destroy(&s->done);
    free(s->w);
    free(s);
}
