/* The partition lifecycle of `vigil run`: the one owner of
 *
 *   assign -> load state at its offsets -> process -> checkpoint -> revoke
 *
 * over the Kafka source (streams/kafka_source.h, whose offset tracker,
 * streams/offsets.h, is the only record of positions). A checkpoint is, in
 * this order: every output flushed and durable, each partition's state saved
 * with the positions it corresponds to (models/snapshot.h), then exactly
 * those positions committed. Anything not durable holds the commit back:
 *
 *   - an output that is not durable (a delivery that failed, an event that
 *     could not be queued or written) holds back every partition (the
 *     outputs are shared); the output keeps the event and retries it;
 *   - a state save that fails holds back that partition only;
 *   - a held checkpoint is retried with backoff (100 ms doubling to 5 s);
 *     after state.hold_max_ms of failures vigil pauses every assigned
 *     partition and reports not ready (vg_lifecycle_not_ready) until a
 *     checkpoint succeeds, then resumes.
 *
 * Config ("state" object): {"dir": "", "checkpoint_ms": 5000,
 * "hold_max_ms": 60000}. Without a dir there is no saved state (cold
 * restarts) and offsets are committed after every batch whose events are
 * durable.
 *
 * Threads: one, the run loop's (the source's hooks run inside its calls). */
#ifndef VG_SRC_LIFECYCLE_H
#define VG_SRC_LIFECYCLE_H

#include <stdint.h>
#include <stdio.h>

#include "core/error.h"
#include "engine/config.h"
#include "engine/pipeline.h"
#include "streams/kafka_source.h"

typedef struct vg_lifecycle_stats {
    uint64_t checkpoints, commits;
    uint64_t held;           /* checkpoints held back */
    uint64_t state_loaded;   /* series loaded from saved state */
} vg_lifecycle_stats;

typedef struct vg_lifecycle vg_lifecycle;

/* Prints the "state" keys (type, default, range, meaning) for the
 * config reference. */
void vg_lifecycle_describe(FILE *out);

/* Validates the "state" object. Returns 0 or VG_ECONFIG with err set. */
int vg_lifecycle_check_config(const vg_config *cfg, vg_error *err);

/* Returns a new lifecycle over a new Kafka source for cfg->input, feeding
 * pipeline p (borrowed; see vg_lifecycle_set_pipeline), or NULL with err
 * set. Creates the state directory. Free with vg_lifecycle_close(). */
vg_lifecycle *vg_lifecycle_open(const vg_config *cfg, vg_pipeline *p, vg_error *err);

/* The pipeline changed (a config reload): later saves and loads use p, and
 * the next save of every partition is whole. Call it before freeing the
 * old pipeline: it first waits for the state saves still encoding with it. */
void vg_lifecycle_set_pipeline(vg_lifecycle *lc, vg_pipeline *p);

/* Polls the source (see vg_kafka_source_poll). */
int vg_lifecycle_poll(vg_lifecycle *lc, vg_batch *out, int timeout_ms);

/* After the batch of the last poll was processed: flushes the outputs
 * and, when due (or retrying a held one), checkpoints. */
void vg_lifecycle_step(vg_lifecycle *lc);

/* Shutting down: checkpoints every assigned partition now; this and every
 * later checkpoint (the revoke on close) wait at most 5 s for the outputs
 * (instead of 30 s), so that SIGTERM ends well inside systemd's
 * TimeoutStopSec. Returns 0 or the first error (the commit is then held:
 * the next start re-reads from the last good checkpoint). */
int vg_lifecycle_stop(vg_lifecycle *lc);

/* NULL when ready, else why not (borrowed, until the next call): no
 * partitions assigned, or consumption paused because checkpoints failed
 * for longer than hold_max_ms. Also publishes the consumer lag. */
const char *vg_lifecycle_not_ready(vg_lifecycle *lc);

const vg_lifecycle_stats *vg_lifecycle_get_stats(const vg_lifecycle *lc);
const vg_kafka_source_stats *vg_lifecycle_source_stats(const vg_lifecycle *lc);
/* The Kafka source (borrowed, until close), for its settings. */
const vg_kafka_source *vg_lifecycle_source(const vg_lifecycle *lc);

/* Leaves the group (the last revoke checkpoints), closes the source and
 * frees. NULL does nothing. The pipeline is not freed. */
void vg_lifecycle_close(vg_lifecycle *lc);

#endif
