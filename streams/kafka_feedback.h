/* The Kafka feedback topic's consumer: verdicts on incidents, as
 * messages (the same JSON bodies as POST /feedback, src/feedback_http.h),
 * read by `vigil run` alongside its input ("input": {"feedback_topic":
 * NAME}, off by default).
 *
 * A series' incident is scored by whichever instance owns its partition,
 * so every instance reads every verdict: the consumer group is the
 * instance's own, `<input group>-feedback-<instance>` (the config's
 * `instance`, else the host name), and a verdict for a series another
 * instance holds is refused there and applied where it lives. Offsets are
 * committed automatically (a verdict re-read after a crash is harmless: a
 * verdict only applies to a series' latest incident and sets floors, so
 * applying it twice changes nothing but a count); a group new to the
 * topic reads it from the beginning (auto.offset.reset=earliest, so no
 * verdict sent while it was down is lost; older ones are refused as not
 * the latest incident). The input's "kafka" properties apply (security,
 * timeouts) under the settings above.
 *
 * Threads: the run loop's only; poll never blocks. */
#ifndef VG_STREAMS_KAFKA_FEEDBACK_H
#define VG_STREAMS_KAFKA_FEEDBACK_H

#include <jansson.h>
#include <stddef.h>

#include "core/config_table.h"
#include "core/error.h"

/* Most messages handed over by one poll: feedback never holds the input. */
#define VG_KAFKA_FEEDBACK_POLL_MAX 256

typedef struct vg_kafka_feedback vg_kafka_feedback;

/* A consumer of `topic` on `brokers` in consumer group `group`, with the
 * librdkafka properties of props (NULL-able; named `path` in errors).
 * Returns it, or NULL with err set. */
vg_kafka_feedback *vg_kafka_feedback_open(const char *brokers, const char *group,
                                          const char *topic, const vg_conf_doc *doc,
                                          const json_t *props, const char *path,
                                          vg_error *err);

/* Hands each message waiting (up to VG_KAFKA_FEEDBACK_POLL_MAX) to fn,
 * payload borrowed for the call. Returns how many; consumer errors are
 * logged (rate-limited), never fatal (librdkafka retries). */
size_t vg_kafka_feedback_poll(vg_kafka_feedback *kf,
                              void (*fn)(void *ctx, const char *payload, size_t len),
                              void *ctx);

/* Leaves the group, commits and frees; NULL does nothing. */
void vg_kafka_feedback_close(vg_kafka_feedback *kf);

#endif
