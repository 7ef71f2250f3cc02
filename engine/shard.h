/* Sharded scoring: N scoring workers over the pipeline's one series table,
 * each owning the series whose number in the table is its own modulo N
 * (or, for a series in a corroboration group, whose group's is: the group's
 * series are scored by one worker; engine/corroborate.h).
 * Internal to engine/pipeline*.c and engine/shard.c.
 *
 * A batch goes through in three steps:
 * 1. take: the caller's thread looks every point's series up (creating and
 *    evicting in input order, exactly as one thread does) and appends the
 *    point to its worker's job list;
 * 2. score: the workers (threads) score their jobs in input order, each on
 *    its own scratch blocks, keeping their events and the hook's results
 *    aside (a round under 64 points is scored on the caller's thread);
 * 3. merge: the caller's thread walks the points in input order and hands
 *    each one's events to the sinks and its result to the hook, so both
 *    see byte for byte what one thread would have given them.
 * An eviction while points are taken settles (scores and merges) the points
 * taken so far first: the evicted series may be among them, and its event
 * must come after theirs. By default the workers finish a batch before
 * vg_pipeline_process returns, so offsets, snapshots and revokes never see
 * work in flight, a slow sink slows the source, and memory is bounded by
 * the batch the source made (its batch_points). Pipelined (replay), one
 * batch (a copy) is scored while the caller reads and takes the next; it is
 * merged before the next one starts, and drained by every call that shows
 * events or state (vg_pipeline_flush, _series, _get_stats, _set_hook, ...):
 * at most two batches are held. */
#ifndef VG_ENGINE_SHARD_H
#define VG_ENGINE_SHARD_H

#include "engine/pipeline_internal.h"

/* Returns n_workers workers (threads) for p, or NULL with
 * err set. */
vg_shards *vg__shards_new(vg_pipeline *p, size_t n_workers, vg_error *err);
/* Stops and joins the threads; NULL does nothing. */
void vg__shards_free(vg_shards *s);
size_t vg__shards_count(const vg_shards *s);

/* vg_pipeline_process with workers. Returns 0, or VG_ENOMEM before taking
 * any point (the caller then scores the batch on its own thread). */
int vg__shards_process(vg_shards *s, const vg_batch *b);

/* Scores and merges every point taken so far (nothing when none is). */
void vg__shards_settle(vg_shards *s);

/* Waits for the batch in flight (pipelined) and merges it; NULL or
 * nothing in flight does nothing. */
void vg__shards_drain(vg_shards *s);

/* on: vg__shards_process returns while its batch is being scored. */
void vg__shards_pipeline(vg_shards *s, int on);

/* Keeps event ev of batch point `point` (slot: vg__firing_slot) for the
 * merge, with copies of its rendered words. */
void vg__defer_event(vg_deferred *d, size_t point, const vg_event *ev, const vg_rule *rule,
                     int32_t slot);

#endif
