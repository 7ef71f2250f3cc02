/* A minimal HTTP client for sinks that post JSON (Alertmanager): one
 * connection reused across posts (keep-alive), a timeout per post, and an
 * abort flag so a closing sink need not wait out a slow server.
 *
 * Built on libcurl when CMake finds it (VIGIL_HAVE_CURL); without it
 * vg_http_new fails with a message saying so. One vg_http per thread. */
#ifndef VG_STREAMS_HTTP_CLIENT_H
#define VG_STREAMS_HTTP_CLIENT_H

#include <stdatomic.h>
#include <stddef.h>

#include "core/error.h"

typedef struct vg_http vg_http;

/* Returns a new client posting to url (copied), or NULL with err set.
 * abort (NULL-able, borrowed: must outlive the client) is polled during a
 * transfer; non-zero ends it as a network error. */
vg_http *vg_http_new(const char *url, int timeout_ms, const atomic_int *abort, vg_error *err);
/* As vg_http_new, posting with these headers (NULL-terminated, copied)
 * instead of "Content-Type: application/json". */
vg_http *vg_http_new_with(const char *url, int timeout_ms, const atomic_int *abort,
                          const char *const *headers, vg_error *err);
void vg_http_free(vg_http *h);

/* POSTs body[len] as application/json. Returns the HTTP status (> 0), or
 * VG_EIO when no answer came (refused, timed out, aborted) with err saying
 * why. The start of the answer's body goes into reply[cap] (NUL-terminated,
 * cut to fit), for logging a rejection. */
int vg_http_post_json(vg_http *h, const char *body, size_t len, char *reply, size_t cap,
                      vg_error *err);
/* The same, for a client made with other headers: the body as they say. */
int vg_http_post(vg_http *h, const char *body, size_t len, char *reply, size_t cap,
                 vg_error *err);

/* Writes url into out[cap] fit for logs: credentials ("user:password@"
 * before the host) become "***@" and the query string "?***". Returns out. */
char *vg_url_redact(const char *url, char *out, size_t cap);

#endif
