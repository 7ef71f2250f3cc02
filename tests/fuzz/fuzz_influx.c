/* Fuzz target: the influx parser over arbitrary bytes (see fuzz_parse.h). */
#include "tests/fuzz/fuzz_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static fuzz_parser f = {.config = "{\"format\": \"influx\"}"};
    fuzz_parse(&f, data, size);
    return 0;
}
