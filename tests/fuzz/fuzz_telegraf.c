/* Fuzz target: the telegraf-json parser over arbitrary bytes, fast scanner
 * against jansson (see fuzz_parse.h). */
#include "tests/fuzz/fuzz_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static fuzz_parser fast = {.config = "{\"format\": \"telegraf-json\"}"};
    static fuzz_parser tree = {.config = "{\"format\": \"telegraf-json\", \"json_fast\": false}"};
    fuzz_parse(&fast, data, size);
    fuzz_parse(&tree, data, size);
    fuzz_same(&fast, &tree);
    return 0;
}
