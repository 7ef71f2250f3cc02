/* Fuzz target: a POST /feedback body (src/feedback_http.c) over arbitrary
 * bytes, with the right token. It must be queued (202) or refused with a
 * reason (400), never anything else. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "src/feedback_http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vg_feedback_inbox *in = vg_feedback_inbox_new("token");
    vg_assert(in != NULL);
    char reply[256];
    unsigned status = vg_feedback_inbox_post(in, "Bearer token", (const char *)data, size, reply,
                                             sizeof(reply));
    vg_assert(status == 202 || (status == 400 && strncmp(reply, "bad request: ", 13) == 0));
    vg_feedback_inbox_free(in);
    return 0;
}
