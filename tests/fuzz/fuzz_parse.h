/* Shared body of the parser fuzz targets: parse the input and check the
 * promises of parse.h, aborting when one is broken (so libFuzzer and the
 * corpus replay both report it). JSON formats are parsed twice, with the
 * fast scanner and with jansson only, and both must give the same result. */
#ifndef VG_TESTS_FUZZ_FUZZ_PARSE_H
#define VG_TESTS_FUZZ_FUZZ_PARSE_H

#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/point.h"
#include "streams/parse.h"

static void fuzz_check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz: broken promise: %s\n", what);
        abort();
    }
}

typedef struct fuzz_parser {
    const char *config;
    vg_parser  *ps;     /* made on first use and kept: parsers have state */
    vg_batch    b;
    vg_error    err;
    int         rc;
} fuzz_parser;

static void fuzz_parse(fuzz_parser *f, const uint8_t *data, size_t size)
{
    if (f->ps == NULL) {
        json_t *cfg = json_loads(f->config, 0, NULL);
        f->ps = vg_parser_new(NULL, cfg, &f->err);
        json_decref(cfg);
        fuzz_check(f->ps != NULL, "parser config");
    }
    vg_batch_reset(&f->b);
    memset(&f->err, 0, sizeof(f->err));
    vg_origin origin = {"fuzz", 0, 7};
    f->rc = vg_parser_parse(f->ps, (const char *)data, size, 1700000000000, &origin, &f->b,
                            &f->err);
    fuzz_check(f->rc >= 0 || f->rc == VG_EPARSE, "returns a count or VG_EPARSE");
    if (f->rc >= 0)
        fuzz_check((size_t)f->rc == f->b.n, "count equals points appended");
    else
        fuzz_check(f->err.code == VG_EPARSE && f->err.msg[0] != '\0' &&
                       vg_parser_last_reason(f->ps)[0] != '\0',
                   "an error says what and why");
    for (size_t i = 0; i < f->b.n; i++) {
        const vg_point *p = &f->b.points[i];
        fuzz_check(isfinite(p->value), "values are finite");
        fuzz_check(p->key_len > 0 && strlen(vg_batch_key(&f->b, p)) == p->key_len,
                   "keys are non-empty text");
        fuzz_check(p->ts_ms >= 0, "timestamps are not negative");
    }
}

/* Both parsers returned the same code, reason and points. */
static inline void fuzz_same(const fuzz_parser *a, const fuzz_parser *b)
{
    fuzz_check(a->rc == b->rc && a->b.n == b->b.n, "fast and jansson JSON agree on counts");
    if (a->rc < 0)
        fuzz_check(strcmp(vg_parser_last_reason(a->ps), vg_parser_last_reason(b->ps)) == 0,
                   "fast and jansson JSON agree on the reason");
    for (size_t i = 0; i < a->b.n; i++) {
        const vg_point *p = &a->b.points[i], *q = &b->b.points[i];
        fuzz_check(p->ts_ms == q->ts_ms && memcmp(&p->value, &q->value, sizeof(double)) == 0 &&
                       strcmp(vg_batch_key(&a->b, p), vg_batch_key(&b->b, q)) == 0,
                   "fast and jansson JSON agree on points");
    }
}

#endif
