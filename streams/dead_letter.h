/* The Kafka input's dead-letter queue: bad messages, unchanged, on a topic
 * of their own with the reason in headers, so that nothing the parsers
 * rejected is silently gone and it can be inspected or replayed later. */
#ifndef VG_STREAMS_DEAD_LETTER_H
#define VG_STREAMS_DEAD_LETTER_H

#include <librdkafka/rdkafka.h>
#include <stdint.h>

#include "core/error.h"

typedef struct vg_dead_letter vg_dead_letter;

/* Returns a new dead-letter producer for topic on brokers (both borrowed for
 * the call), or NULL with err set. Free with vg__dead_letter_free. */
vg_dead_letter *vg__dead_letter_new(const char *brokers, const char *topic, vg_error *err);
void vg__dead_letter_free(vg_dead_letter *dl);

/* Queues a copy of msg with headers vigil-reason, vigil-error and
 * vigil-origin ("topic/partition@offset"). 0 or VG_EKAFKA (counted as a
 * failure and logged). */
int vg__dead_letter_send(vg_dead_letter *dl, const rd_kafka_message_t *msg,
                         const char *reason, const char *error);

/* Waits up to timeout_ms until no dead letter is in flight: 0, or
 * VG_ETIMEOUT. */
int vg__dead_letter_flush(vg_dead_letter *dl, int timeout_ms);

/* Serves delivery reports without waiting. */
void vg__dead_letter_poll(vg_dead_letter *dl);

/* Dead letters acknowledged and failed so far. */
uint64_t vg__dead_letter_delivered(const vg_dead_letter *dl);
uint64_t vg__dead_letter_failed(const vg_dead_letter *dl);

#endif
