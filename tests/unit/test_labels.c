/* Label windows: the timestamp format, epoch numbers, lookup by path, and
 * errors with positions. Epoch values below were computed with Python's
 * calendar.timegm, e.g. 2014-04-10 07:15:00 UTC = 1397114100 s. */
#include "tests/unit/helpers.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/labels.h"

#define CORPUS VG_TEST_FIXTURES "/../corpus/labels"

static vg_labels *parse(const char *text, vg_error *err)
{
    return vg_labels_parse(text, strlen(text), "t.json", err);
}

/* Parses `text` holding one key "k" with one window; returns its ends. */
static void one_window(const char *text, int64_t *start, int64_t *end)
{
    vg_error err;
    vg_labels *l = parse(text, &err);
    assert_non_null(l);
    size_t n;
    const vg_label_window *w = vg_labels_windows(l, 0, &n);
    assert_int_equal(n, 1);
    *start = w[0].start_ms;
    *end = w[0].end_ms;
    vg_labels_free(l);
}

static void timestamps_and_epochs(void **state)
{
    (void)state;
    int64_t s, e;
    one_window("{\"k\": [[\"2014-04-10 07:15:00.000000\", \"2014-04-11 16:45:00.000000\"]]}", &s, &e);
    assert_int_equal(s, 1397114100000LL);
    assert_int_equal(e, 1397234700000LL);
    /* no fraction, 'T', 'Z'; fraction digits past milliseconds truncate */
    one_window("{\"k\": [[\"2014-04-10T07:15:00Z\", \"2014-04-10 07:15:00.123999\"]]}", &s, &e);
    assert_int_equal(s, 1397114100000LL);
    assert_int_equal(e, 1397114100123LL);
    /* ".5" is 500 ms; 2016-02-29 exists (leap year) */
    one_window("{\"k\": [[\"1969-12-31 23:59:59\", \"2016-02-29 23:59:59.5\"]]}", &s, &e);
    assert_int_equal(s, -1000LL);
    assert_int_equal(e, 1456790399500LL);
    /* epoch seconds (< 1e11, may be fractional) and milliseconds */
    one_window("{\"k\": [[1397114100, 1397234700000]]}", &s, &e);
    assert_int_equal(s, 1397114100000LL);
    assert_int_equal(e, 1397234700000LL);
    one_window("{\"k\": [[946684800.25, 946684801]]}", &s, &e);
    assert_int_equal(s, 946684800250LL);
    assert_int_equal(e, 946684801000LL);
}

/* The fixture lists nyc_taxi's two windows out of order; they come back
 * sorted by start. */
static void load_file_and_find(void **state)
{
    (void)state;
    vg_error err;
    vg_labels *l = vg_labels_load(VG_TEST_FIXTURES "/labels/windows.json", &err);
    assert_non_null(l);
    assert_int_equal(vg_labels_count(l), 3);
    const vg_label_window *w;
    size_t n;
    assert_int_equal(vg_labels_find(l, "/x/nab/data/realKnownCause/nyc_taxi.csv", &w, &n), 0);
    assert_int_equal(n, 2);
    assert_true(w[0].start_ms < w[1].start_ms);
    assert_int_equal(w[0].start_ms, 1414683000000LL);   /* 2014-10-30 15:30:00 */
    assert_int_equal(vg_labels_find(l, "realKnownCause/nyc_taxi.csv", &w, &n), 0);
    assert_int_equal(n, 2);
    /* a key with an empty list is found, with no window */
    assert_int_equal(vg_labels_find(l, "data/artificialNoAnomaly/art_flatline.csv", &w, &n), 0);
    assert_int_equal(n, 0);
    /* the key must follow a '/' or be the whole path */
    assert_int_equal(vg_labels_find(l, "/x/oldrealKnownCause/nyc_taxi.csv", &w, &n), VG_ENOTFOUND);
    assert_int_equal(vg_labels_find(l, "nyc_taxi.csv", &w, &n), VG_ENOTFOUND);
    assert_int_equal(vg_labels_find(l, "/x/realKnownCause/nyc_taxi.csv.bak", &w, &n), VG_ENOTFOUND);
    vg_labels_free(l);
}

/* With keys "b.csv" and "a/b.csv", the path .../a/b.csv takes the longer. */
static void longest_key_wins(void **state)
{
    (void)state;
    vg_error err;
    vg_labels *l = parse("{\"b.csv\": [[1, 2]], \"a/b.csv\": [[3, 4], [5, 6]]}", &err);
    assert_non_null(l);
    const vg_label_window *w;
    size_t n;
    assert_int_equal(vg_labels_find(l, "/d/a/b.csv", &w, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(vg_labels_find(l, "/d/c/b.csv", &w, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(w[0].end_ms, 2000);
    vg_labels_free(l);
}

/* JSON syntax errors carry jansson's line and column: the missing comma
 * after line 3's window is reported at line 4, column 9 (the '['). */
static void syntax_error_position(void **state)
{
    (void)state;
    vg_error err;
    const char *path = VG_TEST_FIXTURES "/labels/syntax_error.json";
    assert_null(vg_labels_load(path, &err));
    assert_int_equal(err.code, VG_EPARSE);
    /* a long path is cut from the front so the position always fits */
    size_t len = strlen(err.where);
    assert_true(len >= 4);
    assert_string_equal(err.where + len - 4, ":4:9");
    assert_non_null(strstr(err.msg, "expected"));

    assert_null(parse("{\"a\": [[1, 2]],\n \"a\": []}", &err));
    /* jansson points just past the duplicate key: line 2, column 4 */
    assert_string_equal(err.where, "t.json:2:4");
    assert_non_null(strstr(err.msg, "duplicate"));
    assert_null(vg_labels_load("/nonexistent/labels.json", &err));
    assert_int_equal(err.code, VG_EIO);
}

/* Wrong shapes and bad timestamps name the key and index. */
static void expect_error(const char *text, const char *msg_part)
{
    vg_error err;
    assert_null(parse(text, &err));
    assert_int_equal(err.code, VG_EPARSE);
    assert_string_equal(err.where, "t.json");
    if (strstr(err.msg, msg_part) == NULL)
        fail_msg("\"%s\" not in \"%s\"", msg_part, err.msg);
}

static void shape_and_value_errors(void **state)
{
    (void)state;
    expect_error("[1, 2]", "expected an object");
    expect_error("{\"a\": 3}", "\"a\": expected a list");
    expect_error("{\"a\": [[1, 2], [3]]}", "\"a\"[1]: expected [start, end]");
    expect_error("{\"a\": [[\"2014-13-01 00:00:00\", 2]]}", "\"a\"[0][0]");  /* month 13 */
    expect_error("{\"a\": [[1, \"2014-02-29 00:00:00\"]]}", "\"a\"[0][1]");  /* not a leap year */
    expect_error("{\"a\": [[1, \"2014-02-01 24:00:00\"]]}", "\"a\"[0][1]");
    expect_error("{\"a\": [[1, \"2014-02-01 00:00:00.\"]]}", "\"a\"[0][1]");
    expect_error("{\"a\": [[1, \"2014-02-01 00:00:00 junk\"]]}", "\"a\"[0][1]");
    expect_error("{\"a\": [[1, \"2014-2-01 00:00:00\"]]}", "\"a\"[0][1]");
    expect_error("{\"a\": [[1, true]]}", "\"a\"[0][1]");
    expect_error("{\"a\": [[1e300, 2]]}", "\"a\"[0][0]");
    expect_error("{\"a\": [[5, 4]]}", "\"a\"[0]: window ends before it starts");
    expect_error("{\"a\": [[1, 5], [4, 8]]}", "\"a\": windows overlap");
}

/* One corpus case: `input` parsed under the name "input" must give what
 * `expect` says: "code N", then "where W" for an error or "keys K". */
static void check_corpus_case(const char *dir)
{
    char key[16], value[64], *input;
    size_t len;
    FILE *f = vg_test_corpus_case(CORPUS, dir, &input, &len);
    vg_error err;
    vg_error_clear(&err);
    vg_labels *l = vg_labels_parse(input, len, "input", &err);
    while (fscanf(f, "%15s %63s", key, value) == 2) {
        if (strcmp(key, "code") == 0 && atoi(value) != err.code)
            fail_msg("%s: code %d, expected %s (%s)", dir, err.code, value, err.msg);
        else if (strcmp(key, "where") == 0 && strcmp(err.where, value) != 0)
            fail_msg("%s: where \"%s\", expected \"%s\"", dir, err.where, value);
        else if (strcmp(key, "keys") == 0 &&
                 (l == NULL || vg_labels_count(l) != (size_t)atoi(value)))
            fail_msg("%s: expected %s keys", dir, value);
    }
    fclose(f);
    vg_labels_free(l);
    free(input);
}

static void corpus_cases(void **state)
{
    (void)state;
    struct dirent **names;
    int n = scandir(CORPUS, &names, NULL, alphasort);
    assert_true(n > 2);
    int cases = 0;
    for (int i = 0; i < n; i++) {
        if (names[i]->d_name[0] != '.') {
            check_corpus_case(names[i]->d_name);
            cases++;
        }
        free(names[i]);
    }
    free(names);
    assert_true(cases >= 10);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(timestamps_and_epochs),
        cmocka_unit_test(load_file_and_find),
        cmocka_unit_test(longest_key_wins),
        cmocka_unit_test(syntax_error_position),
        cmocka_unit_test(shape_and_value_errors),
        cmocka_unit_test(corpus_cases),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
