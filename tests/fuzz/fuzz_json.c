/* Fuzz target: the json parser over arbitrary bytes (see fuzz_parse.h). */
#include "tests/fuzz/fuzz_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static vg_parser *ps;
    fuzz_parse(&ps, "{\"format\": \"json\"}", data, size);
    return 0;
}
