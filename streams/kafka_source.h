/* The Kafka input: a consumer in a consumer group that turns messages into
 * points, one parser per topic, and commits only what the caller says is
 * done (at-least-once).
 *
 * Config (the "input" object of vigil.json):
 *
 *   {"brokers": "127.0.0.1:9092" | "embedded",   default "127.0.0.1:9092"
 *    "group": "vigil",                            consumer group id
 *    "topics": [{"name": "metrics", "format": "json", ...parser options}, ...],
 *    "dead_letter_topic": "vigil-dlq",            "" (default): none
 *    "feedback_topic": "vigil-feedback",          "" (default): none; read by
 *                                                 streams/kafka_feedback.h
 *    "batch": 10000,                              most messages per poll
 *    "partitions": 4,                             "embedded": partitions per topic
 *    "kafka": {librdkafka consumer properties}}
 *
 * Every topic object is a parser config (streams/parse.h) plus its "name".
 * "repartition": true re-keys the topic by series through an internal topic
 * (streams/repartition.h) before its points are scored.
 * "embedded" starts an in-process broker (streams/broker.h) with the topics
 * and the dead-letter topic created, and stops it on close; a Kafka sink
 * configured with "embedded" finds it while it runs.
 *
 * Defaults set before the "kafka" object (which may override them):
 * enable.auto.commit=false and enable.auto.offset.store=false (both are
 * forced: at-least-once depends on them), auto.offset.reset=earliest,
 * queued.min.messages=1000000 (librdkafka 2.0.2 stalls a consumer for a full
 * second whenever its local queue reaches the limit), fetch.wait.max.ms=10.
 *
 * Bad messages (parser errors) are skipped, counted by reason, logged at
 * most once per 5 s, and, with a dead-letter topic, produced there unchanged
 * (same key) with headers vigil-reason, vigil-error and vigil-origin
 * (topic/partition@offset). Dead letters are flushed before each commit, so
 * an offset is never committed while its dead letter is in flight; a dead
 * letter that fails is counted and logged and does not hold commits back.
 *
 * Threads: everything, hooks included, runs on the thread calling poll(),
 * commit() and close(); one thread per source. */
#ifndef VG_STREAMS_KAFKA_SOURCE_H
#define VG_STREAMS_KAFKA_SOURCE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config_table.h"
#include "core/error.h"
#include "streams/stream.h"

typedef struct vg_kafka_partition {
    const char *topic;      /* borrowed: the configured topic name, valid until close */
    int32_t     partition;
    /* on_assign may set this to the offset to resume from (the position
     * saved with the partition's state); it starts as -1: the committed
     * offset. Ignored on revoke. */
    int64_t     offset;
} vg_kafka_partition;

/* Rebalance hooks (each NULL-able), called from inside poll() or close().
 * on_revoke: the partitions are about to be taken away. Checkpoint them
 * here (flush the sinks, save their state, vg_kafka_source_commit); when it
 * returns, the source sends that commit synchronously, forgets their
 * positions and gives the partitions up. Points of
 * those partitions still in the batch being filled are dropped (they were
 * not committed, so their next owner reads them again).
 * on_assign: the partitions are about to be consumed; load their state. */
typedef struct vg_kafka_hooks {
    void (*on_revoke)(void *ctx, vg_kafka_partition *parts, size_t n);
    void (*on_assign)(void *ctx, vg_kafka_partition *parts, size_t n);
    void  *ctx;
} vg_kafka_hooks;

typedef struct vg_kafka_source_stats {
    uint64_t messages;       /* consumed, good or bad */
    uint64_t points;
    uint64_t bad;            /* messages the parser rejected */
    uint64_t dead_letters;   /* bad messages acknowledged by the dead-letter topic */
    uint64_t dead_letter_failures;
    uint64_t commits;        /* commit requests sent */
    uint64_t commit_failures;
    uint64_t consumer_errors;
    uint64_t rewound;        /* messages skipped below the position (offset resets) */
    uint64_t rekeyed;        /* points re-keyed to a repartition topic (acknowledged or not) */
} vg_kafka_source_stats;

typedef struct vg_kafka_source vg_kafka_source;

/* Returns a new source for cfg (the input object; doc is NULL-able and
 * gives positions in messages) with hooks (NULL-able, copied), subscribed to
 * every configured topic; or NULL with err naming the bad key. Nothing is
 * consumed before the first poll. Close it with vg_kafka_source_close(). */
vg_kafka_source *vg_kafka_source_new(const vg_conf_doc *doc, const json_t *cfg,
                                     const vg_kafka_hooks *hooks, vg_error *err);

/* As vg_source_ops.poll: parses up to "batch" messages into out, waiting up
 * to timeout_ms for the first. Points carry origin {topic, partition,
 * offset}. Returns the number of points, or VG_EKAFKA on a fatal consumer
 * error. */
int vg_kafka_source_poll(vg_kafka_source *ks, vg_batch *out, int timeout_ms);

/* As vg_source_ops.position: per partition, the next offset after every
 * message the polls returned (messages without points included). Borrowed,
 * valid until the next poll or close. Messages fetched below it (an offset
 * reset) are skipped and counted (stats.rewound, vigil_offset_rewinds_total):
 * never re-applied. The on_assign hook's offsets set it. */
const vg_offsets *vg_kafka_source_position(const vg_kafka_source *ks);

/* As vg_source_ops.commit: commits the positions in pos (only the
 * partitions listed). Commits asynchronously; returns 0, VG_ETIMEOUT when
 * dead letters could not be flushed (nothing is committed then), or
 * VG_EKAFKA. */
int vg_kafka_source_commit(vg_kafka_source *ks, const vg_offsets *pos);

/* Pauses (pause != 0) or resumes fetching the assigned partitions numbered
 * in nums[n] (every topic; nums NULL: all assigned). Returns how many
 * topic-partitions changed, or VG_EKAFKA. Same thread as poll. */
int vg_kafka_source_pause(vg_kafka_source *ks, const int32_t *nums, size_t n, int pause);

/* Leaves the group (calling on_revoke), closes, stops the embedded broker
 * if it started one, and frees. NULL does nothing. */
void vg_kafka_source_close(vg_kafka_source *ks);

/* Bad messages per parser reason so far (0 for an unseen reason). */
uint64_t vg_kafka_source_bad_count(const vg_kafka_source *ks, const char *reason);
const vg_kafka_source_stats *vg_kafka_source_get_stats(const vg_kafka_source *ks);

/* Publishes the consumer lag of every assigned partition (high watermark
 * minus position, from librdkafka's caches: never blocks) to the
 * vigil_consumer_lag_messages metric. Same thread as poll. */
void vg_kafka_source_report_lag(vg_kafka_source *ks);

/* The number of partitions assigned now. Same thread as poll. */
int vg_kafka_source_assigned(const vg_kafka_source *ks);

/* The bootstrap address in use (borrowed, valid until close): the embedded
 * broker's when "brokers" is "embedded". */
const char *vg_kafka_source_brokers(const vg_kafka_source *ks);

/* The consumer group, and the feedback topic (NULL: none); borrowed. */
const char *vg_kafka_source_group(const vg_kafka_source *ks);
const char *vg_kafka_source_feedback_topic(const vg_kafka_source *ks);

/* The source interface over a vg_kafka_source (self is the source). */
extern const vg_source_ops vg_kafka_source_ops;

#endif
