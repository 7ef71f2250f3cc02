/* Fault injection for `vigil broker --control`: one text command per line,
 * applied to the mock cluster, so that shell tests can take a broker down,
 * bring it back and inject request errors over a pipe:
 *
 *   down BROKER_ID                 the broker closes its connections and
 *                                  refuses new ones
 *   up BROKER_ID                   it accepts connections again
 *   rtt BROKER_ID MS               adds MS of latency to its responses
 *   errors API COUNT ERROR         the next COUNT requests of API (a Kafka
 *                                  API name: Produce, Fetch, OffsetCommit,
 *                                  Heartbeat, JoinGroup, ...) fail with
 *                                  ERROR (a Kafka error name such as
 *                                  REQUEST_TIMED_OUT or NOT_COORDINATOR)
 *   clear API                      drops the errors still queued for API
 *
 * Broker ids are 1..N. Blank lines and lines starting with '#' are ignored. */
#ifndef VG_STREAMS_BROKER_CONTROL_H
#define VG_STREAMS_BROKER_CONTROL_H

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "core/error.h"

/* Applies one command line (no newline needed) to mock. Returns 0, or
 * VG_EARG with err saying what is wrong with the line. */
int vg__broker_control(rd_kafka_mock_cluster_t *mock, const char *line, vg_error *err);

#endif
