/* Fuzz target: the prometheus-remote-write parser over arbitrary bytes (see fuzz_parse.h);
 * the parser is kept, so counter state is exercised. */
#include "tests/fuzz/fuzz_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static fuzz_parser f = {.config = "{\"format\": \"prometheus-remote-write\"}"};
    fuzz_parse(&f, data, size);
    return 0;
}
