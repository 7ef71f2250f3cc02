/* Shared body of the parser fuzz targets: parse the input with a parser of
 * the given config and check the promises of parse.h, aborting when one
 * is broken (so libFuzzer and the corpus replay both report it). */
#ifndef VG_TESTS_FUZZ_FUZZ_PARSE_H
#define VG_TESTS_FUZZ_FUZZ_PARSE_H

#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/point.h"
#include "streams/parse.h"

static void fuzz_check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz: broken promise: %s\n", what);
        abort();
    }
}

/* ps: a parser made on first use from config and kept (it has state). */
static void fuzz_parse(vg_parser **ps, const char *config, const uint8_t *data, size_t size)
{
    static vg_batch b;
    if (*ps == NULL) {
        json_t *cfg = json_loads(config, 0, NULL);
        vg_error err;
        *ps = vg_parser_new(NULL, cfg, &err);
        json_decref(cfg);
        fuzz_check(*ps != NULL, "parser config");
    }
    vg_batch_reset(&b);
    vg_error err = {0};
    vg_origin origin = {"fuzz", 0, 7};
    int rc = vg_parser_parse(*ps, (const char *)data, size, 1700000000000, &origin, &b, &err);
    fuzz_check(rc >= 0 || rc == VG_EPARSE, "returns a count or VG_EPARSE");
    if (rc >= 0)
        fuzz_check((size_t)rc == b.n, "count equals points appended");
    else
        fuzz_check(err.code == VG_EPARSE && err.msg[0] != '\0' &&
                       vg_parser_last_reason(*ps)[0] != '\0',
                   "an error says what and why");
    for (size_t i = 0; i < b.n; i++) {
        const vg_point *p = &b.points[i];
        fuzz_check(isfinite(p->value), "values are finite");
        fuzz_check(p->key_len > 0 && strlen(vg_batch_key(&b, p)) == p->key_len,
                   "keys are non-empty text");
        fuzz_check(p->ts_ms >= 0, "timestamps are not negative");
    }
}

#endif
