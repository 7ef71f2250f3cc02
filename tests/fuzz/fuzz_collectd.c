/* Fuzz target: both collectd parsers over the same bytes: JSON with raw
 * counters (so the rate table is exercised), fast scanner against jansson,
 * and Command (see fuzz_parse.h). */
#include "tests/fuzz/fuzz_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static fuzz_parser fast = {.config = "{\"format\": \"collectd-json\", \"counters\": \"raw\"}"};
    static fuzz_parser tree = {.config = "{\"format\": \"collectd-json\", \"counters\": \"raw\","
                                         " \"json_fast\": false}"};
    static fuzz_parser command = {.config = "{\"format\": \"collectd-command\"}"};
    fuzz_parse(&fast, data, size);
    fuzz_parse(&tree, data, size);
    fuzz_same(&fast, &tree);
    fuzz_parse(&command, data, size);
    return 0;
}
