/* Feedback queues: POST /feedback on vigil's metrics listener, and the
 * messages of the Kafka feedback topic (streams/kafka_feedback.h), handed
 * to the scoring thread (engine/feedback.h, vg_pipeline_feedback).
 *
 * Off unless "metrics": {"feedback_token_file": PATH}. The token is the
 * file's first line, read once at start; a request must carry
 * `Authorization: Bearer <token>` (compared in constant time, never
 * logged), else 401. The body is one JSON object:
 *   {"incident": "<event id>", "series": "<event series>",
 *    "verdict": "not_anomalous" | "anomalous"}
 * (both copied from the event; for a grouped incident, the group's event).
 * A well-formed request is queued and answered 202, a malformed one 400
 * and queued as refused; the run loop applies the queue between batches
 * (vg_feedback_inbox_apply): each verdict, applied or refused (malformed,
 * not the series' latest incident, no such series or group here), is
 * written to the event log with its source (vg_pipeline_feedback), logged
 * and counted in vigil_feedback_total{result,source}. A request without the
 * token is only counted and logged: it never reaches the event log. The
 * HTTP thread never touches series state: only this queue, under its
 * lock. */
#ifndef VG_SRC_FEEDBACK_HTTP_H
#define VG_SRC_FEEDBACK_HTTP_H

#include <stddef.h>

#include "core/error.h"
#include "engine/pipeline.h"

/* Longest body accepted (413 beyond), and verdicts waiting at most (503). */
#define VG_FEEDBACK_BODY_MAX 4096
#define VG_FEEDBACK_QUEUE_MAX 1024

typedef struct vg_feedback_inbox vg_feedback_inbox;

/* An inbox for `token` (up to its first line end; 1 to 255 bytes), or
 * NULL when it is empty or too long, or out of memory. A NULL token makes
 * an inbox for vg_feedback_inbox_push only (the Kafka topic's): every
 * post is unauthorized. */
vg_feedback_inbox *vg_feedback_inbox_new(const char *token);

/* Reads the token from token_file. Returns a new inbox, or NULL with err
 * set (VG_EIO: unreadable; VG_ECONFIG: empty). */
vg_feedback_inbox *vg_feedback_inbox_open(const char *token_file, vg_error *err);
void vg_feedback_inbox_free(vg_feedback_inbox *in);

/* One POST /feedback (any thread): authorization is the header's value
 * (NULL-able). Returns the HTTP status; reply[cap] gets a one-line text. */
unsigned vg_feedback_inbox_post(vg_feedback_inbox *in, const char *authorization,
                                const char *body, size_t len, char *reply, size_t cap);

/* One message from `source` (static text: "http", "kafka"), any thread:
 * queued, refused ones too. Returns 202 (well-formed), 400 (malformed,
 * reply says why) or 503 (the queue is full: dropped, counted); reply[cap]
 * gets a one-line text. */
unsigned vg_feedback_inbox_push(vg_feedback_inbox *in, const char *source, const char *body,
                                size_t len, char *reply, size_t cap);

/* Applies what is queued to p (the scoring thread), each verdict recorded
 * and counted, refused or not. Returns how many were taken off the queue. */
size_t vg_feedback_inbox_apply(vg_feedback_inbox *in, vg_pipeline *p);

#endif
