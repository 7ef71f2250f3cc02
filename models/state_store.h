/* Saved state of Kafka partitions, checkpointed in proportion to change.
 *
 * Each partition's state is a base snapshot (DIR/<group>-<p>.vgstate) and
 * a delta log beside it (.vgdelta, snapshot_delta.h). A checkpoint takes
 * only the series changed since the partition's last durable checkpoint —
 * the series table stamps each series it hands out with an epoch — and
 * hands them to a background writer (state_writer.h) that encodes,
 * appends, fsyncs and compacts; the caller
 * collects the outcome later (vg_state_store_results) and commits offsets
 * only then. A whole snapshot is written instead when the partition's disk
 * state is not known to match memory: the first save after a cold start or
 * a config reload, after a failed save, or when asked (`full`). A save of
 * changes only copies the changed series' blocks on the calling thread;
 * the writer encodes them, with the pipeline's profiles, which therefore
 * must outlive every save started with it (vg_state_store_results with
 * wait before freeing a pipeline).
 *
 * Not thread-safe: one thread calls it (the writer is its own business). */
#ifndef VG_MODELS_STATE_STORE_H
#define VG_MODELS_STATE_STORE_H

#include "models/snapshot.h"
#include "models/snapshot_delta.h"

typedef struct vg_state_store vg_state_store;

typedef struct vg_state_saved {
    int32_t  partition;
    int      rc;     /* 0: durable */
    vg_error err;
    size_t   bytes;  /* written */
    int      full;   /* a whole snapshot, not a segment */
} vg_state_saved;

/* A store over DIR (created by the caller) for consumer group `group`;
 * compact_percent: a log that reaches this share of its base's size is
 * merged into a new base. NULL with err set on failure. */
vg_state_store *vg_state_store_open(const char *dir, const char *group, int compact_percent,
                                    vg_error *err);
/* Finishes every queued save, then frees s. */
void vg_state_store_close(vg_state_store *s);

/* Loads partition's state (base + log) into p and returns the stream
 * positions saved with it in *pos; *info (NULL-able) says what of the log
 * was applied and ignored. Errors as vg_snapshot_load_at; after one, the
 * first save of the partition is a whole snapshot. On success the loaded
 * series count as saved, and the writer compacts base and log. */
int vg_state_store_load(vg_state_store *s, vg_pipeline *p, int32_t partition, size_t *loaded,
                        vg_snapshot_positions *pos, vg_snapshot_merge_info *info,
                        vg_error *err);

/* Starts saving partition's state with positions pos: its changes, or a
 * whole snapshot when full or needed. Every call gives exactly one result
 * (a save with nothing to write finishes at once). Returns 0 when started,
 * or an encoding error (VG_ENOMEM, VG_ERANGE), which is also its result. */
int vg_state_store_save(vg_state_store *s, vg_pipeline *p, int32_t partition,
                        const vg_snapshot_positions *pos, int full, vg_error *err);

/* Moves up to cap finished saves into out; with wait, first waits for all
 * that were started. */
size_t vg_state_store_results(vg_state_store *s, int wait, vg_state_saved *out, size_t cap);

/* The partition went to another instance: forget it (after its last save). */
void vg_state_store_forget(vg_state_store *s, int32_t partition);

/* The pipeline was replaced (a config reload): every next save is whole. */
void vg_state_store_reset(vg_state_store *s);

#endif
