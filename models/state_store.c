/* Incremental checkpoints of partition state; see state_store.h. */
#include "models/state_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/grow.h"
#include "models/snapshot_format.h"
#include "models/state_writer.h"

/* One partition's bookkeeping: what of its state is durable. */
typedef struct part {
    int32_t  partition;
    int      need_base;   /* the disk may not match memory: save it whole */
    uint64_t from_epoch;  /* series changed at or after it are not durable */
    uint64_t removals;    /* vg_series_table_removals when it last was */
    vg_snapshot_positions pos;  /* saved with the last durable save */
    /* the save in flight, which becomes the above once durable */
    int      in_flight, pending_full;
    uint64_t pending_epoch, pending_removals, pending_generation;
    vg_snapshot_positions pending_pos;
} part;

struct vg_state_store {
    char             dir[1024];
    char             group[256];
    vg_state_writer *w;
    part           **parts;
    size_t           n_parts, cap_parts;
    uint64_t         generation;  /* vg_state_store_reset calls */
    vg_delta_image  *spare;  /* the last save's image, reused by the next */
    vg_state_saved  *done;   /* finished without the writer */
    size_t           n_done, cap_done;
};

vg_state_store *vg_state_store_open(const char *dir, const char *group, int compact_percent,
                                    vg_error *err)
{
    vg_state_store *s = calloc(1, sizeof(*s));
    if (s == NULL) {
        vg_error_set(err, VG_ENOMEM, "state store");
        return NULL;
    }
    snprintf(s->dir, sizeof(s->dir), "%s", dir);
    snprintf(s->group, sizeof(s->group), "%s", group);
    s->w = vg_state_writer_start(compact_percent, err);
    if (s->w == NULL) {
        free(s);
        return NULL;
    }
    return s;
}

void vg_state_store_close(vg_state_store *s)
{
    if (s == NULL)
        return;
    vg_state_writer_stop(s->w);
    vg_delta_image_free(s->spare);
    for (size_t i = 0; i < s->n_parts; i++)
        free(s->parts[i]);
    free(s->parts);
    free(s->done);
    free(s);
}

static part *find(const vg_state_store *s, int32_t partition)
{
    for (size_t i = 0; i < s->n_parts; i++)
        if (s->parts[i]->partition == partition)
            return s->parts[i];
    return NULL;
}

/* The partition's bookkeeping, new ones needing a whole snapshot. */
static part *part_of(vg_state_store *s, int32_t partition)
{
    part *pt = find(s, partition);
    if (pt != NULL)
        return pt;
    s->parts = vg_grow(s->parts, &s->cap_parts, s->n_parts, sizeof(*s->parts), 16);
    vg_assert(s->parts != NULL);  /* a few partitions: as the lifecycle's own lists */
    pt = calloc(1, sizeof(*pt));
    vg_assert(pt != NULL);
    pt->partition = partition;
    pt->need_base = 1;
    s->parts[s->n_parts++] = pt;
    return pt;
}

static vg_state_job *new_job(const vg_state_store *s, vg_state_job_kind kind,
                             int32_t partition)
{
    vg_state_job *job = calloc(1, sizeof(*job));
    vg_assert(job != NULL);
    job->kind = kind;
    job->partition = partition;
    vg_writer_init(&job->bytes);
    vg_snapshot_path(job->path, sizeof(job->path), s->dir, s->group, partition);
    return job;
}

static void free_job(vg_state_job *job)
{
    vg_delta_image_free(job->image);
    vg_writer_release(&job->bytes);
    free(job);
}

int vg_state_store_load(vg_state_store *s, vg_pipeline *p, int32_t partition, size_t *loaded,
                        vg_snapshot_positions *pos, vg_snapshot_merge_info *info,
                        vg_error *err)
{
    part *pt = part_of(s, partition);
    vg_assert(!pt->in_flight);
    vg_state_job *job = new_job(s, VG_STATE_COMPACT, partition);
    int rc = vg_snapshot_load_merged(p, job->path, loaded, pos, info, err);
    if (rc != VG_OK) {
        pt->need_base = 1;
        free_job(job);
        return rc;
    }
    /* What was loaded is what is on disk: only later changes need saving.
     * The compaction gives the writer a base it knows. */
    vg_series_table *t = vg_pipeline_series(p);
    pt->from_epoch = vg_series_table_next_epoch(t) + 1;
    pt->removals = vg_series_table_removals(t);
    pt->pos = *pos;
    pt->need_base = 0;
    vg_state_writer_submit(s->w, job);
    return VG_OK;
}

/* A save's outcome, applied to its partition's bookkeeping. */
static vg_state_saved settle(vg_state_store *s, int32_t partition, int rc,
                             const vg_error *err, size_t bytes)
{
    vg_state_saved r = {.partition = partition, .rc = rc, .bytes = bytes};
    if (err != NULL)
        r.err = *err;
    part *pt = find(s, partition);
    if (pt == NULL || !pt->in_flight)
        return r;
    pt->in_flight = 0;
    r.full = pt->pending_full;
    if (rc != VG_OK) {  /* what reached the disk is unsure: start over whole */
        pt->need_base = 1;
        return r;
    }
    /* a reset while it was in flight: the pipeline it saved is gone */
    pt->need_base = pt->pending_generation != s->generation;
    pt->from_epoch = pt->pending_epoch + 1;
    pt->removals = pt->pending_removals;
    pt->pos = pt->pending_pos;
    return r;
}

static void finish_now(vg_state_store *s, int32_t partition, int rc, const vg_error *err)
{
    s->done = vg_grow(s->done, &s->cap_done, s->n_done, sizeof(*s->done), 16);
    vg_assert(s->done != NULL);
    s->done[s->n_done++] = settle(s, partition, rc, err, 0);
}

static int same_positions(const vg_snapshot_positions *a, const vg_snapshot_positions *b)
{
    if (a->n != b->n)
        return 0;
    for (size_t i = 0; i < a->n; i++)
        if (a->v[i].partition != b->v[i].partition ||
            a->v[i].next_offset != b->v[i].next_offset ||
            strcmp(a->v[i].topic, b->v[i].topic) != 0)
            return 0;
    return 1;
}

static int append_to_writer(void *ctx, const uint8_t *bytes, size_t len, vg_error *err)
{
    if (vg_writer_put(ctx, bytes, len) != VG_OK)
        return vg_error_set(err, VG_ENOMEM, "snapshot of %zu bytes", len);
    return VG_OK;
}

int vg_state_store_save(vg_state_store *s, vg_pipeline *p, int32_t partition,
                        const vg_snapshot_positions *pos, int full, vg_error *err)
{
    part *pt = part_of(s, partition);
    vg_assert(!pt->in_flight);
    vg_series_table *t = vg_pipeline_series(p);
    int whole = full || pt->need_base;
    uint64_t removals = vg_series_table_removals(t);
    int gone = removals != pt->removals;  /* some key may be gone: list the live ones */
    pt->in_flight = 1;
    pt->pending_full = whole;
    pt->pending_epoch = vg_series_table_next_epoch(t);
    pt->pending_removals = removals;
    pt->pending_generation = s->generation;
    pt->pending_pos = *pos;

    vg_state_job *job = new_job(s, whole ? VG_STATE_BASE : VG_STATE_DELTA, partition);
    job->report = 1;
    size_t changed = 0;
    /* Changes are copied here and encoded by the writer; a whole snapshot
     * (rare: see state_store.h) is encoded here, copying every block
     * would cost as much. */
    job->p = p;
    job->image = s->spare;
    s->spare = NULL;
    int rc = whole ? vg_snapshot_encode_at(p, partition, pos, append_to_writer, &job->bytes, err)
                   : vg_delta_capture(p, partition, pt->from_epoch, gone, pos, &job->image,
                                      &changed, err);
    if (rc != VG_OK || (!whole && changed == 0 && !gone && same_positions(pos, &pt->pos))) {
        finish_now(s, partition, rc, err);  /* failed, or nothing to write */
        s->spare = job->image;
        job->image = NULL;
        free_job(job);
        return rc;
    }
    vg_state_writer_submit(s->w, job);
    return VG_OK;
}

size_t vg_state_store_results(vg_state_store *s, int wait, vg_state_saved *out, size_t cap)
{
    size_t n = s->n_done < cap ? s->n_done : cap;
    if (n > 0) {  /* s->done may still be NULL */
        memcpy(out, s->done, n * sizeof(*out));
        memmove(s->done, s->done + n, (s->n_done - n) * sizeof(*out));
        s->n_done -= n;
    }
    vg_state_result r[64];
    while (n < cap) {
        size_t want = cap - n < 64 ? cap - n : 64;
        size_t got = vg_state_writer_results(s->w, wait, r, want);
        for (size_t i = 0; i < got; i++) {
            out[n++] = settle(s, r[i].partition, r[i].rc, &r[i].err, r[i].bytes);
            if (r[i].image != NULL) {
                vg_delta_image_free(s->spare);
                s->spare = r[i].image;
            }
        }
        if (got < want)
            break;
    }
    return n;
}

void vg_state_store_forget(vg_state_store *s, int32_t partition)
{
    for (size_t i = 0; i < s->n_parts; i++) {
        if (s->parts[i]->partition != partition)
            continue;
        vg_assert(!s->parts[i]->in_flight);
        free(s->parts[i]);
        s->parts[i] = s->parts[--s->n_parts];
        break;
    }
    vg_state_writer_submit(s->w, new_job(s, VG_STATE_FORGET, partition));
}

void vg_state_store_reset(vg_state_store *s)
{
    s->generation++;
    for (size_t i = 0; i < s->n_parts; i++)
        s->parts[i]->need_base = 1;
}
