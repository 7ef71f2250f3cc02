/* Fuzz target: both collectd parsers (JSON with raw counters, so the rate
 * table is exercised, and Command) over the same bytes (see fuzz_parse.h). */
#include "tests/fuzz/fuzz_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static vg_parser *json, *command;
    fuzz_parse(&json, "{\"format\": \"collectd-json\", \"counters\": \"raw\"}", data, size);
    fuzz_parse(&command, "{\"format\": \"collectd-command\"}", data, size);
    return 0;
}
