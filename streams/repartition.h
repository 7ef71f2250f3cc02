/* Re-keying an unkeyed input topic through Kafka, as Kafka Streams'
 * repartition topics do.
 *
 * Producers that do not key their messages by series (collectd write_kafka's
 * random keys; Telegraf, the OpenTelemetry Collector, Vector and the
 * Prometheus Kafka adapter by default) spread one series over every
 * partition: two group members would each keep half a model of it. With
 * "repartition": true on an input topic, the Kafka input parses that topic's
 * messages and produces every point to the internal topic
 * "<group>-<topic>-repartition", keyed by its series key; the same consumer
 * reads the internal topic and scores from it, so each series lives in the
 * partition (and member) its key hashes to.
 *
 * A re-keyed record is the point as text, "<ts_ms> <value>" (%.17g: exact),
 * with the Kafka timestamp set to the point's time.
 *
 * At-least-once: the source topic's position moves past a message only once
 * every record it caused is acknowledged by the internal topic (the Kafka
 * input flushes this producer at the end of each poll); a crash before that
 * re-reads the message and may re-key it twice, never loses it. */
#ifndef VG_STREAMS_REPARTITION_H
#define VG_STREAMS_REPARTITION_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/point.h"

typedef struct vg_repartition vg_repartition;

/* Returns a new idempotent producer to brokers (borrowed for the call), or
 * NULL with err set. Free with vg__repartition_free (flushes, bounded). */
vg_repartition *vg__repartition_new(const char *brokers, vg_error *err);
void vg__repartition_free(vg_repartition *rp);

/* The internal topic of source topic `topic` for consumer group `group`,
 * "<group>-<topic>-repartition", into out[cap]. Returns 0 or VG_ERANGE. */
int vg__repartition_topic_name(const char *group, const char *topic, char *out, size_t cap);

/* Creates `internal` with the partition count of `source` when it is
 * missing (an existing one is kept; a different count is logged). Returns
 * 0, or VG_EKAFKA with err set when the source topic's metadata or the
 * creation fails. */
int vg__repartition_ensure_topic(vg_repartition *rp, const char *source, const char *internal,
                                 vg_error *err);

/* Queues b->points[from..n) to topic `internal`, each keyed by its series.
 * Returns 0 or VG_EKAFKA (counted as a failure: the next flush fails). */
int vg__repartition_send(vg_repartition *rp, const char *internal, const vg_batch *b,
                         size_t from);

/* Waits up to timeout_ms until every queued record is acknowledged.
 * Returns 0; VG_ETIMEOUT while some are in flight; VG_EKAFKA when any record
 * failed since the last successful flush (the source must not move past the
 * messages that caused it). */
int vg__repartition_flush(vg_repartition *rp, int timeout_ms);

/* Decodes a re-keyed record's value into *ts_ms and *value. Returns 0 or
 * VG_EPARSE. */
int vg__repartition_decode(const void *payload, size_t len, int64_t *ts_ms, double *value);

/* Records acknowledged so far. */
uint64_t vg__repartition_delivered(const vg_repartition *rp);

#endif
