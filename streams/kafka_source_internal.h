/* Internals shared by the files of the Kafka input (kafka_source.c:
 * consuming and committing; kafka_source_open.c: configuration and
 * construction; kafka_rebalance.c: assignments, revokes and lag). Not for
 * use outside these three files. */
#ifndef VG_STREAMS_KAFKA_SOURCE_INTERNAL_H
#define VG_STREAMS_KAFKA_SOURCE_INTERNAL_H

#include <librdkafka/rdkafka.h>

#include "core/log.h"
#include "streams/broker.h"
#include "streams/dead_letter.h"
#include "streams/kafka_source.h"
#include "streams/offsets.h"
#include "streams/parse.h"
#include "streams/repartition.h"

#define TOPICS_MAX  64
#define REASONS_MAX 32

typedef struct source_params {
    char     brokers[512];
    char     group[256];
    char     dead_letter_topic[256];
    char     feedback_topic[256];
    uint32_t batch;
    uint32_t partitions;
    const json_t *topics;  /* borrowed from the config: read while opening only */
    const json_t *kafka;
} source_params;

typedef struct source_topic {
    char      *name;
    vg_parser *ps;        /* NULL: an internal repartition topic (re-keyed points) */
    int        rekey_to;  /* -1, or the index of the internal topic its points go to */
} source_topic;

typedef struct reason_count {
    char     reason[32];
    uint64_t n;
} reason_count;

struct vg_kafka_source {
    source_params         params;
    rd_kafka_t           *rk;
    vg_broker            *broker;  /* NULL unless "embedded" */
    vg_dead_letter       *dlq;     /* NULL without a dead-letter topic */
    vg_repartition       *rp;      /* NULL unless a topic has "repartition": true */
    vg_batch              rekeyed; /* one message's points on their way to re-keying */
    int                   rekeyed_now;  /* this poll re-keyed points: flush before moving on */
    char                  brokers[1024];
    source_topic          topics[2 * TOPICS_MAX];  /* configured, then internal ones */
    size_t                n_topics;
    vg_kafka_hooks        hooks;
    vg_kafka_source_stats stats;
    reason_count          reasons[REASONS_MAX];
    vg_ratelimit          bad_log, error_log, rewind_log;
    /* The batch the current poll fills (NULL between polls), the positions
     * of what that poll consumed so far, and of what earlier polls returned
     * (processed by the caller before it polls again). A message below
     * either position is a rewind (an offset reset) and is skipped. */
    vg_batch             *filling;
    vg_offsets            polling, returned;
    int                   fatal;
};

/* The configured topic of that name, or NULL. */
source_topic *vg__kafka_source_topic(vg_kafka_source *ks, const char *name);

/* librdkafka callbacks (opaque: the source), set by kafka_source_open.c. */
void vg__kafka_rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t e,
                            rd_kafka_topic_partition_list_t *parts, void *opaque);
void vg__kafka_offset_commit_cb(rd_kafka_t *rk, rd_kafka_resp_err_t e,
                                rd_kafka_topic_partition_list_t *offsets, void *opaque);

#endif
