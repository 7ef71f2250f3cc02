/* Sharded scoring: the workers, their job lists and the merge; see shard.h.
 * The workers meet the caller's thread once per round (a mutex and two
 * condition variables): a round is a whole batch, or its part before an
 * eviction, thousands of points against microseconds of hand-over. */
#include "engine/shard.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Below this many points a round is scored on the caller's thread alone:
 * waking the workers costs more than the points (Kafka polls that return
 * a few messages, the tail of a file). */
#define SOLO_POINTS 64

typedef struct deferred_event {
    vg_event ev;
    size_t   point;   /* its index in the batch */
    int32_t  slot;    /* vg__firing_slot */
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
    vg_deferred out;
    job        *jobs;
    size_t      n_jobs;
    size_t      next_event;  /* the merge's cursor in out.events */
} worker;

struct vg_shards {
    vg_pipeline     *p;
    size_t           n;
    worker          *w;
    const vg_batch  *batch;     /* being processed */
    size_t           merged;    /* its points before this index are delivered */
    size_t           taken;     /* its points before this index are in job lists */
    uint16_t        *owner_of;  /* the worker of each taken point */
    vg_point_result *results;   /* each point's, for the hook */
    size_t           cap;       /* points that owner_of, results and job lists hold */
    pthread_mutex_t  lock;
    pthread_cond_t   go, done;
    uint64_t         round;     /* bumped to start the workers on their jobs */
    size_t           busy;      /* threads still scoring this round */
    int              stop;
};

void vg__defer_event(vg_deferred *d, size_t point, const vg_event *ev, int32_t slot)
{
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 16;
        deferred_event *grown = realloc(d->events, cap * sizeof(*grown));
        if (grown == NULL) {
            d->lost++;
            return;
        }
        d->events = grown;
        d->cap = cap;
    }
    deferred_event *de = &d->events[d->n++];
    de->ev = *ev;
    de->point = point;
    de->slot = slot;
    const char *words[3] = {ev->summary, ev->description, ev->runbook_url};
    for (size_t k = 0; k < 3; k++)
        snprintf(de->text[k], sizeof(de->text[k]), "%s", words[k] ? words[k] : "");
}

/* The event as it was emitted: its words point at the record's copies
 * (the record array may have moved since it was kept). */
static void deliver_deferred(vg_pipeline *p, deferred_event *de)
{
    vg_event ev = de->ev;
    ev.summary = ev.summary ? de->text[0] : NULL;
    ev.description = ev.description ? de->text[1] : NULL;
    ev.runbook_url = ev.runbook_url ? de->text[2] : NULL;
    vg__deliver(p, &ev, de->slot);
}

static void run_jobs(vg_shards *s, worker *w)
{
    for (size_t j = 0; j < w->n_jobs; j++)
        vg__score_point(s->p, &w->scorer, s->batch, w->jobs[j].point, w->jobs[j].block,
                        (int)w->jobs[j].muted_now);
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
        pthread_mutex_unlock(&s->lock);
        run_jobs(s, w);
        pthread_mutex_lock(&s->lock);
        if (--s->busy == 0)
            pthread_cond_signal(&s->done);
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

/* Every worker scores its jobs; returns when all have. */
static void score_round(vg_shards *s)
{
    vg_point_result *results = s->p->hook != NULL ? s->results : NULL;
    for (size_t k = 0; k < s->n; k++)
        s->w[k].scorer.results = results;
    if (s->taken - s->merged < SOLO_POINTS) {
        for (size_t k = 0; k < s->n; k++)
            run_jobs(s, &s->w[k]);
        return;
    }
    pthread_mutex_lock(&s->lock);
    s->round++;
    s->busy = s->n - 1;
    pthread_cond_broadcast(&s->go);
    pthread_mutex_unlock(&s->lock);
    run_jobs(s, &s->w[0]);
    pthread_mutex_lock(&s->lock);
    while (s->busy > 0)
        pthread_cond_wait(&s->done, &s->lock);
    pthread_mutex_unlock(&s->lock);
}

/* In input order: each point's events, then its result to the hook. */
static void merge_round(vg_shards *s)
{
    vg_pipeline *p = s->p;
    const vg_batch *b = s->batch;
    for (size_t i = s->merged; i < s->taken; i++) {
        worker *w = &s->w[s->owner_of[i]];
        while (w->next_event < w->out.n && w->out.events[w->next_event].point == i)
            deliver_deferred(p, &w->out.events[w->next_event++]);
        if (p->hook != NULL)
            p->hook(p->hook_ctx, b, &b->points[i], &s->results[i]);
    }
    for (size_t k = 0; k < s->n; k++) {
        worker *w = &s->w[k];
        p->stats.sink_errors += w->out.lost;
        w->out.lost = 0;
        w->out.n = w->next_event = w->n_jobs = 0;
        vg__scorer_collect(p, &w->scorer);
    }
    s->merged = s->taken;
}

void vg__shards_settle(vg_shards *s)
{
    if (s->taken == s->merged)
        return;
    score_round(s);
    merge_round(s);
}

/* Room for a batch of n points in every list: taking points then never
 * allocates, so a batch is either refused whole or taken whole. */
static int make_room(vg_shards *s, size_t n)
{
    if (n <= s->cap)
        return VG_OK;
    uint16_t *owner_of = realloc(s->owner_of, n * sizeof(*owner_of));
    if (owner_of == NULL)
        return VG_ENOMEM;
    s->owner_of = owner_of;
    vg_point_result *results = realloc(s->results, n * sizeof(*results));
    if (results == NULL)
        return VG_ENOMEM;
    s->results = results;
    for (size_t k = 0; k < s->n; k++) {
        job *jobs = realloc(s->w[k].jobs, n * sizeof(*jobs));
        if (jobs == NULL)
            return VG_ENOMEM;
        s->w[k].jobs = jobs;
    }
    s->cap = n;
    return VG_OK;
}

int vg__shards_process(vg_shards *s, const vg_batch *b)
{
    if (make_room(s, b->n) != VG_OK)
        return VG_ENOMEM;
    vg_pipeline *p = s->p;
    s->batch = b;
    s->merged = s->taken = 0;
    for (size_t i = 0; i < b->n; i++) {
        const vg_point *pt = &b->points[i];
        char *block = vg__series_of(p, b, pt);
        size_t k = vg_series_table_number(p->series, block) % s->n;
        worker *w = &s->w[k];
        w->jobs[w->n_jobs++] = (job){block, (uint32_t)i,
                                     (uint32_t)vg__muted_now(p, block, pt->ts_ms)};
        s->owner_of[i] = (uint16_t)k;
        s->taken = i + 1;
    }
    vg__shards_settle(s);
    s->batch = NULL;
    return VG_OK;
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
        w->scorer.deferred = &w->out;
        /* Worker 0 is the caller's thread. */
        if (k > 0 && pthread_create(&w->thread, NULL, worker_main, w) != 0) {
            vg_error_set(err, VG_EIO, "scoring worker %zu: cannot start a thread", k);
            goto out_free;
        }
        w->started = k > 0;
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
        free(w->out.events);
        free(w->jobs);
    }
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->go);
    pthread_cond_destroy(&s->done);
    free(s->owner_of);
    free(s->results);
    free(s->w);
    free(s);
}
