/* Test helpers shared by the parser tests (test_parse_*.c): make a parser
 * from inline JSON config, and replay a bad-input corpus.
 *
 * A corpus case is tests/corpus/<parser>/<case>/ holding `input` (one
 * message, exact bytes) and `expect`, lines of `key value`:
 *   config {"format":"collectd-command"}   optional, else the default given
 *   code -2                                 return of vg_parser_parse (>= 0: point count)
 *   points 1                                points appended (good parts of a bad message)
 *   reason nan                              vg_parser_last_reason(), when code < 0
 *   where 1:5                               suffix of err.where, optional
 * Header-only (static) because CMake links each test with helpers.c only. */
#ifndef VG_TESTS_UNIT_PARSE_CORPUS_H
#define VG_TESTS_UNIT_PARSE_CORPUS_H

#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/point.h"
#include "streams/parse.h"
#include "tests/unit/helpers.h"

#define VG_TEST_CORPUS VG_TEST_FIXTURES "/../corpus"

/* A new parser from config text; fails the test when it cannot be made. */
static vg_parser *test_parser(const char *config)
{
    json_error_t jerr;
    json_t *cfg = json_loads(config, 0, &jerr);
    assert_non_null(cfg);
    vg_error err;
    vg_parser *ps = vg_parser_new(NULL, cfg, &err);
    if (ps == NULL)
        print_error("parser config %s: %s %s\n", config, err.where, err.msg);
    assert_non_null(ps);
    json_decref(cfg);
    return ps;
}

/* Parses msg with no origin and message time msg_ts_ms; returns the code. */
static int test_parse(vg_parser *ps, const char *msg, int64_t msg_ts_ms, vg_batch *b,
                      vg_error *err)
{
    vg_batch_reset(b);
    return vg_parser_parse(ps, msg, strlen(msg), msg_ts_ms, NULL, b, err);
}

/* Asserts point i of b is key / ts / value. */
static void test_point(const vg_batch *b, size_t i, const char *key, int64_t ts_ms,
                       double value)
{
    assert_true(i < b->n);
    assert_string_equal(vg_batch_key(b, &b->points[i]), key);
    assert_int_equal(b->points[i].ts_ms, ts_ms);
    assert_double_near(b->points[i].value, value, 1e-9 * (1 + (value < 0 ? -value : value)));
}

/* The bytes of a test file; fails the test when it cannot be read. */
static char *test_read(const char *path, size_t *len)
{
    char *text = vg_test_read_file(path, len);
    if (text == NULL)
        print_error("cannot read %s\n", path);
    assert_non_null(text);
    return text;
}

/* Parses the fixture tests/fixtures/formats/<file> as one message;
 * returns the code. */
static inline int test_parse_fixture(vg_parser *ps, const char *file, int64_t msg_ts_ms,
                                     vg_batch *b, vg_error *err)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/formats/%s", VG_TEST_FIXTURES, file);
    size_t len;
    char *msg = test_read(path, &len);
    vg_batch_reset(b);
    int rc = vg_parser_parse(ps, msg, len, msg_ts_ms, NULL, b, err);
    free(msg);
    return rc;
}

static void run_case(const char *dir, const char *name, const char *default_config)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s/input", dir, name);
    size_t len;
    char *input = test_read(path, &len);
    snprintf(path, sizeof(path), "%s/%s/expect", dir, name);
    char *expect = test_read(path, NULL);

    const char *config = default_config;
    long code = 0, points = -1;
    const char *reason = NULL, *where = NULL;
    for (char *save = NULL, *l = strtok_r(expect, "\n", &save); l != NULL;
         l = strtok_r(NULL, "\n", &save)) {
        if (strncmp(l, "config ", 7) == 0)
            config = l + 7;
        else if (strncmp(l, "code ", 5) == 0)
            code = strtol(l + 5, NULL, 10);
        else if (strncmp(l, "points ", 7) == 0)
            points = strtol(l + 7, NULL, 10);
        else if (strncmp(l, "reason ", 7) == 0)
            reason = l + 7;
        else if (strncmp(l, "where ", 6) == 0)
            where = l + 6;
        else
            fail_msg("%s/%s/expect: unknown line \"%s\"", dir, name, l);
    }
    assert_true(points >= 0);

    vg_parser *ps = test_parser(config);
    vg_batch b;
    vg_batch_init(&b);
    vg_error err = {0};
    int rc = vg_parser_parse(ps, input, len, -1, NULL, &b, &err);
    if (rc != code || (long)b.n != points)
        print_error("case %s: got code %d, %zu points (%s: %s), want code %ld, %ld points\n",
                    name, rc, b.n, err.where, err.msg, code, points);
    assert_int_equal(rc, code);
    assert_int_equal(b.n, points);
    if (code < 0) {
        assert_int_equal(err.code, code);
        assert_true(err.msg[0] != '\0');
        if (reason != NULL)
            assert_string_equal(vg_parser_last_reason(ps), reason);
        if (where != NULL) {
            size_t wl = strlen(err.where), sl = strlen(where);
            if (wl < sl || strcmp(err.where + wl - sl, where) != 0)
                fail_msg("case %s: where \"%s\" does not end in \"%s\"", name, err.where,
                         where);
        }
    }
    vg_batch_release(&b);
    vg_parser_free(ps);
    free(expect);
    free(input);
}

/* Replays every case of tests/corpus/<parser>; returns the number run. */
static int test_walk_corpus(const char *parser, const char *default_config)
{
    char dir[512];
    snprintf(dir, sizeof(dir), "%s/%s", VG_TEST_CORPUS, parser);
    struct dirent **names;
    int n = scandir(dir, &names, NULL, alphasort);
    if (n < 0)
        fail_msg("cannot list %s", dir);
    int ran = 0;
    for (int i = 0; i < n; i++) {
        if (names[i]->d_name[0] != '.') {
            run_case(dir, names[i]->d_name, default_config);
            ran++;
        }
        free(names[i]);
    }
    free(names);
    return ran;
}

#endif
