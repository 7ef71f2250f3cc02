/* The state writer: one background thread that does every file operation
 * of incremental checkpoints (state_store.h), in submission order, so the
 * scoring loop never waits on a disk. Internal to models/.
 *
 * Per partition it knows what is on disk: the base snapshot's length and
 * CRC, the delta log's open descriptor, length and next segment number.
 * Jobs:
 *   BASE     write a whole snapshot as the new base (atomically), then
 *            remove the delta log: the base holds everything.
 *   DELTA    encode a captured image into a segment, seal it, append it to the log (created, over the
 *            current base, when absent), fdatasync; then, once the log
 *            outgrows compact_percent of the base, compact.
 *   COMPACT  merge base + log from disk into a new base, remove the log.
 *   FORGET   close the partition's log: another instance owns it now.
 * A DELTA for a partition whose disk state is not known (never written by
 * this writer, or a failed operation left it unsure) fails: the store then
 * asks for a BASE. */
#ifndef VG_MODELS_STATE_WRITER_H
#define VG_MODELS_STATE_WRITER_H

#include <stddef.h>
#include <stdint.h>

#include "core/codec.h"
#include "core/error.h"
#include "models/snapshot_delta.h"

typedef enum vg_state_job_kind {
    VG_STATE_BASE,
    VG_STATE_DELTA,
    VG_STATE_COMPACT,
    VG_STATE_FORGET,
} vg_state_job_kind;

typedef struct vg_state_job {
    vg_state_job_kind    kind;
    int32_t              partition;
    int                  report;   /* the submitter awaits its result */
    char                 path[2048];  /* the base snapshot's */
    vg_writer            bytes;    /* BASE: the snapshot; DELTA: the segment */
    const vg_pipeline   *p;        /* DELTA: encodes image into bytes */
    vg_delta_image      *image;
    struct vg_state_job *next;
} vg_state_job;

typedef struct vg_state_result {
    int32_t  partition;
    int      rc;
    vg_error err;
    size_t   bytes;  /* written */
    vg_delta_image *image;  /* DELTA: its image, for the next one (caller frees) */
} vg_state_result;

typedef struct vg_state_writer vg_state_writer;

/* Starts the thread; NULL with err set when it cannot. */
vg_state_writer *vg_state_writer_start(int compact_percent, vg_error *err);
/* Finishes every submitted job, then stops the thread and frees w. */
void vg_state_writer_stop(vg_state_writer *w);

/* Queues job (malloc'ed; the writer frees it and its bytes). */
void vg_state_writer_submit(vg_state_writer *w, vg_state_job *job);

/* Moves up to cap results of reported jobs into out; with wait, first
 * blocks until every reported job submitted so far has finished. */
size_t vg_state_writer_results(vg_state_writer *w, int wait, vg_state_result *out, size_t cap);

#endif
