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
 *    "batch": 10000,                              most messages per poll
 *    "partitions": 4,                             "embedded": partitions per topic
 *    "kafka": {librdkafka consumer properties}}
 *
 * Every topic object is a parser config (streams/parse.h) plus its "name".
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
 * on_revoke: the partitions are about to be taken away. Flush the sinks and
 * save the partitions' state here; when it returns, the source commits the
 * offsets already declared done and gives the partitions up. Points of
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

/* As vg_source_ops.commit: every message up to the highest offset of each
 * partition in done is processed. When done is the batch the last poll
 * filled, messages of that poll that gave no points (bad ones, empty ones)
 * count as done too. Commits asynchronously; returns 0, VG_ETIMEOUT when
 * dead letters could not be flushed (nothing is committed then), or
 * VG_EKAFKA. */
int vg_kafka_source_commit(vg_kafka_source *ks, const vg_batch *done);

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

/* The source interface over a vg_kafka_source (self is the source). */
extern const vg_source_ops vg_kafka_source_ops;

/* Returns a new vg_source owning a new Kafka source (vg_source_close closes
 * both), or NULL with err set. ks_out (NULL-able) receives the Kafka source
 * itself, borrowed, for its stats and address. */
vg_source *vg_kafka_source_open(const vg_conf_doc *doc, const json_t *cfg,
                                const vg_kafka_hooks *hooks, vg_kafka_source **ks_out,
                                vg_error *err);

#endif
