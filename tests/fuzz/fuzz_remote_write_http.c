/* Fuzz target: the remote-write receiver's splitter over arbitrary request
 * bodies (corpus: tests/corpus/remote_write_http), each piece read back by
 * the prometheus-remote-write parser as the scoring consumer would. */
#include "streams/prom_rw_split.h"
#include "tests/fuzz/fuzz_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int read_back(void *ctx, const char *key, size_t key_len, const void *piece, size_t len)
{
    (void)key;
    (void)key_len;
    fuzz_parse(ctx, piece, len);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static fuzz_parser f = {.config = "{\"format\": \"prometheus-remote-write\"}"};
    size_t skipped;
    vg_error err;
    vg_prom_rw_split(data, size, (size_t)1 << 24, read_back, &f, &skipped, &err);
    return 0;
}
