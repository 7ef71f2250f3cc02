/* Feedback over HTTP: POST /feedback on vigil's metrics listener, handed
 * to the scoring thread (engine/feedback.h, vg_pipeline_feedback).
 *
 * Off unless "metrics": {"feedback_token_file": PATH}. The token is the
 * file's first line, read once at start; a request must carry
 * `Authorization: Bearer <token>` (compared in constant time, never
 * logged), else 401. The body is one JSON object:
 *   {"incident": "<event id>", "series": "<event series>",
 *    "verdict": "not_anomalous" | "anomalous"}
 * (both copied from the event). A well-formed request is queued and
 * answered 202; the run loop applies the queue between batches
 * (vg_feedback_inbox_apply), logging each verdict applied or refused (not
 * the series' latest incident, or no such series here) and counting it in
 * vigil_feedback_total{result}. The HTTP thread never touches series
 * state: only this queue, under its lock. */
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
 * NULL when it is empty or too long, or out of memory. */
vg_feedback_inbox *vg_feedback_inbox_new(const char *token);

/* Reads the token from token_file. Returns a new inbox, or NULL with err
 * set (VG_EIO: unreadable; VG_ECONFIG: empty). */
vg_feedback_inbox *vg_feedback_inbox_open(const char *token_file, vg_error *err);
void vg_feedback_inbox_free(vg_feedback_inbox *in);

/* One POST /feedback (any thread): authorization is the header's value
 * (NULL-able). Returns the HTTP status; reply[cap] gets a one-line text. */
unsigned vg_feedback_inbox_post(vg_feedback_inbox *in, const char *authorization,
                                const char *body, size_t len, char *reply, size_t cap);

/* Applies what is queued to p (the scoring thread). Returns how many were
 * applied; refused ones are logged and counted. */
size_t vg_feedback_inbox_apply(vg_feedback_inbox *in, vg_pipeline *p);

#endif
