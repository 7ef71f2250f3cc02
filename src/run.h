/* The stream processor: Kafka in, pipeline, sinks out, with at-least-once
 * delivery and partition-aligned, warm-restartable state. `vigil run` and
 * `vigil demo` both drive it.
 *
 * Delivery: events are flushed to every sink after each batch (so alerts
 * leave within one batch), but offsets are committed only at checkpoints,
 * right after the state of the partitions has been saved: the committed
 * offset and the saved state always describe the same point of the
 * stream. After a crash, vigil reloads the state and re-reads from that
 * offset: events of the re-read messages are sent again with the same ids,
 * and the scores continue exactly as without the crash. Without a state
 * directory, offsets are committed after every batch (at-least-once, cold
 * restart). The checkpoints, and what holds them back when an output or a
 * state save is not durable, are src/lifecycle.c's.
 *
 * State: one file per partition number, DIR/<group>-<partition>.vgstate.
 * A series belongs to the partition that last fed it; with several input
 * topics they must be co-partitioned (same partition count, keyed the same
 * way), as in Kafka Streams.
 *
 * Operations: with a "metrics" object in the config, /metrics, /healthz and
 * /readyz (ready once partitions are assigned and consumption is not paused
 * by failing checkpoints) are served on its address.
 *
 * Feedback: verdicts on incidents from POST /feedback (src/feedback_http.h)
 * and from the Kafka feedback topic (streams/kafka_feedback.h) are applied
 * between batches, on the scoring thread. */
#ifndef VG_SRC_RUN_H
#define VG_SRC_RUN_H

#include <signal.h>
#include <stdint.h>
#include <stdio.h>

#include "engine/config.h"
#include "core/error.h"

typedef struct vg_run_stats {
    uint64_t batches, points, events, checkpoints, commits;
    uint64_t held;           /* checkpoints held back (see src/lifecycle.h) */
    uint64_t state_loaded;   /* series loaded from saved state */
} vg_run_stats;

typedef struct vg_run_options {
    /* Set to non-zero (from a signal handler) to stop: vigil finishes the
     * batch in hand, checkpoints, leaves the group and returns. */
    volatile sig_atomic_t *stop;
    /* NULL-able: set to non-zero (SIGHUP) to re-read `config_path` between
     * batches. Thresholds, rules, detectors and outputs change; series keep
     * their state unless their rule now scores them differently; an invalid
     * file is rejected with its error and the running config stays. The
     * input and state settings take effect on the next start. */
    volatile sig_atomic_t *reload;
    const char            *config_path;
    /* NULL-able: called between batches with the milliseconds since data
     * last arrived and the totals so far; a non-zero return stops the run
     * like *stop (the demo stops once it has read all its producer sent). */
    int  (*should_stop)(void *ctx, uint64_t idle_ms, const vg_run_stats *so_far);
    void  *ctx;
} vg_run_options;

/* Validates what vg_run reads beyond the pipeline (the "state" and
 * "metrics" objects) without opening anything. Returns 0 or VG_ECONFIG. */
int vg_run_check_config(const vg_config *cfg, vg_error *err);

/* Prints the reference of the "state" keys. */
void vg_run_describe(FILE *out);

/* Runs until stopped. Returns 0 after a clean stop, or a negative VG_E*
 * with err set (bad config, a fatal consumer error, a state file that
 * cannot be read or written). stats is NULL-able. */
int vg_run(const vg_config *cfg, const vg_run_options *opt, vg_run_stats *stats,
           vg_error *err);

#endif
