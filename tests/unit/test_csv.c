/* The CSV source: the bad-input corpus (tests/corpus/csv/<case>/{input,
 * expect}), a NAB-shaped fixture parsed point by point, batch splitting,
 * open errors, and the real NAB files when they happen to be present.
 *
 * Corpus cases are read with batch_points = 3 and max_line = 256, so small
 * inputs exercise batch boundaries and over-long lines. An `expect` file
 * holds one check per line:
 *   error=parse|io      open fails with that code   line=N  ...at input:N
 *   rows= points= malformed= empty_cells=   the counters after the last poll
 *   <reason>=N[@L]      N rows skipped for reason, the first on line L;
 *                       a reason not listed must not occur
 *   sum=X               sum of the values (relative tolerance 1e-12)
 *   keys=a|b            distinct series keys in order of first appearance
 *                       (a newline in a key is written \n)
 *   text=TS|V           some point carries exactly this raw text
 *   ts=MS               every point has this timestamp
 *   line=N              (no error) the first point's origin offset */
#include "tests/unit/helpers.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/error.h"
#include "core/point.h"
#include "streams/csv.h"

#define CORPUS VG_TEST_FIXTURES "/../corpus/csv"

/* ---- corpus --------------------------------------------------------------- */

typedef struct outcome {
    int                 open_rc;
    vg_error            err;
    vg_csv_source_stats st;
    double              sum;
    char                keys[512];
    size_t              nkeys;
    int                 text_seen;
    int                 ts_all_equal;
    int64_t             ts_first;
    int64_t             first_offset;
    size_t              max_batch;
} outcome;

/* Appends key to o->keys unless seen, escaping newlines. */
static void note_key(outcome *o, const char *key, size_t len)
{
    char esc[128];
    size_t n = 0;
    for (size_t i = 0; i < len && n + 2 < sizeof(esc); i++) {
        if (key[i] == '\n') {
            esc[n++] = '\\';
            esc[n++] = 'n';
        } else {
            esc[n++] = key[i];
        }
    }
    esc[n] = '\0';
    char *p = o->keys;
    for (size_t k = 0; k < o->nkeys; k++) {
        char *bar = strchr(p, '|');
        size_t l = bar ? (size_t)(bar - p) : strlen(p);
        if (l == n && memcmp(p, esc, n) == 0)
            return;
        p = bar ? bar + 1 : p + l;
    }
    size_t used = strlen(o->keys);
    snprintf(o->keys + used, sizeof(o->keys) - used, "%s%s", o->nkeys ? "|" : "", esc);
    o->nkeys++;
}

static void run_case(const char *input, const char *want_text, outcome *o)
{
    memset(o, 0, sizeof(*o));
    o->ts_all_equal = 1;
    vg_csv_options opt = {.batch_points = 3, .max_line = 256};
    vg_source *src = vg_csv_source_open(input, &opt, &o->err);
    if (src == NULL) {
        o->open_rc = o->err.code;
        return;
    }
    vg_batch b;
    vg_batch_init(&b);
    int rc, first = 1;
    while ((rc = vg_source_poll(src, &b, 0)) > 0) {
        assert_int_equal((size_t)rc, b.n);
        if (b.n > o->max_batch)
            o->max_batch = b.n;
        for (size_t i = 0; i < b.n; i++) {
            const vg_point *p = &b.points[i];
            o->sum += p->value;
            note_key(o, vg_batch_key(&b, p), p->key_len);
            if (first) {
                o->ts_first = p->ts_ms;
                o->first_offset = p->origin.offset;
                first = 0;
            }
            o->ts_all_equal &= p->ts_ms == o->ts_first;
            /* a file: -1, or VG_ORIGIN_WIDE_ROW for a wide file's row */
            assert_true(p->origin.partition == -1 || p->origin.partition == VG_ORIGIN_WIDE_ROW);
            assert_string_equal(p->origin.source, input);
            char text[256];
            snprintf(text, sizeof(text), "%.*s|%.*s", (int)p->ts_text_len,
                     vg_batch_ts_text(&b, p), (int)p->value_text_len,
                     vg_batch_value_text(&b, p));
            if (want_text != NULL && strcmp(text, want_text) == 0)
                o->text_seen = 1;
        }
        vg_batch_reset(&b);
    }
    assert_int_equal(rc, VG_EEOF);
    assert_int_equal(vg_source_poll(src, &b, 0), VG_EEOF);   /* stays at the end */
    assert_int_equal(vg_csv_source_get_stats(src, &o->st), VG_OK);
    vg_batch_release(&b);
    vg_source_close(src);
}

static int check_count(const char *name, const char *what, uint64_t got, const char *want)
{
    if (strtoull(want, NULL, 10) == got)
        return 0;
    print_error("corpus %s: %s = %llu, expected %s\n", name, what,
                (unsigned long long)got, want);
    return 1;
}

/* Checks one "key=value" line; returns the number of failures. */
static int check_line(const char *name, const outcome *o, const char *k, const char *v,
                      int *reasons_listed)
{
    const vg_csv_source_stats *st = &o->st;
    if (strcmp(k, "error") == 0) {
        int want = strcmp(v, "parse") == 0 ? VG_EPARSE : strcmp(v, "io") == 0 ? VG_EIO : 1;
        if (o->open_rc == want)
            return 0;
        print_error("corpus %s: open gave %d (%s), expected %s\n", name, o->open_rc,
                    o->err.msg, v);
        return 1;
    }
    if (strcmp(k, "line") == 0 && o->open_rc != 0) {
        const char *colon = strrchr(o->err.where, ':');
        return check_count(name, "error line", colon ? strtoull(colon + 1, NULL, 10) : 0, v);
    }
    if (o->open_rc != 0) {
        print_error("corpus %s: open failed (%s: %s)\n", name, o->err.where, o->err.msg);
        return 1;
    }
    if (strcmp(k, "line") == 0)
        return check_count(name, "first offset", (uint64_t)o->first_offset, v);
    if (strcmp(k, "rows") == 0)
        return check_count(name, k, st->rows, v);
    if (strcmp(k, "points") == 0)
        return check_count(name, k, st->points, v);
    if (strcmp(k, "malformed") == 0)
        return check_count(name, k, st->malformed, v);
    if (strcmp(k, "empty_cells") == 0)
        return check_count(name, k, st->empty_cells, v);
    if (strcmp(k, "ts") == 0)
        return !o->ts_all_equal + check_count(name, "ts", (uint64_t)o->ts_first, v);
    if (strcmp(k, "text") == 0) {
        if (o->text_seen)
            return 0;
        print_error("corpus %s: no point with text \"%s\"\n", name, v);
        return 1;
    }
    if (strcmp(k, "keys") == 0) {
        if (strcmp(o->keys, v) == 0)
            return 0;
        print_error("corpus %s: keys \"%s\", expected \"%s\"\n", name, o->keys, v);
        return 1;
    }
    if (strcmp(k, "sum") == 0) {
        double want = strtod(v, NULL);
        if (fabs(o->sum - want) <= 1e-12 * fmax(1.0, fabs(want)))
            return 0;
        print_error("corpus %s: sum %.17g, expected %s\n", name, o->sum, v);
        return 1;
    }
    for (int r = 0; r < VG_CSV_REASON_COUNT_; r++) {
        if (strcmp(k, vg_csv_reason_name(r)) != 0)
            continue;
        reasons_listed[r] = 1;
        int bad = check_count(name, k, st->by_reason[r], v);
        const char *at = strchr(v, '@');
        if (at != NULL)
            bad += check_count(name, "first line", (uint64_t)st->first_line[r], at + 1);
        return bad;
    }
    print_error("corpus %s: unknown expect key \"%s\"\n", name, k);
    return 1;
}

static int check_case(const char *dir, const char *name)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s/expect", dir, name);
    char *expect = vg_test_read_file(path, NULL);
    if (expect == NULL) {
        print_error("corpus %s: no expect file\n", name);
        return 1;
    }
    const char *text = strstr(expect, "text=");
    char want_text[256] = "";
    if (text != NULL)
        sscanf(text + 5, "%255[^\n]", want_text);

    snprintf(path, sizeof(path), "%s/%s/input", dir, name);
    outcome o;
    run_case(path, text ? want_text : NULL, &o);

    int bad = 0, reasons_listed[VG_CSV_REASON_COUNT_] = {0};
    for (char *line = strtok(expect, "\n"); line != NULL; line = strtok(NULL, "\n")) {
        char *eq = strchr(line, '=');
        if (eq == NULL) {
            print_error("corpus %s: bad expect line \"%s\"\n", name, line);
            bad++;
            continue;
        }
        *eq = '\0';
        bad += check_line(name, &o, line, eq + 1, reasons_listed);
    }
    for (int r = 0; r < VG_CSV_REASON_COUNT_ && o.open_rc == 0; r++)
        if (!reasons_listed[r] && o.st.by_reason[r] != 0) {
            print_error("corpus %s: unexpected %llu rows of %s\n", name,
                        (unsigned long long)o.st.by_reason[r], vg_csv_reason_name(r));
            bad++;
        }
    uint64_t sum = 0;
    for (int r = 0; r < VG_CSV_REASON_COUNT_; r++)
        sum += o.st.by_reason[r];
    if (sum != o.st.malformed || o.max_batch > 3) {
        print_error("corpus %s: malformed %llu vs reasons %llu, batch %zu\n", name,
                    (unsigned long long)o.st.malformed, (unsigned long long)sum, o.max_batch);
        bad++;
    }
    free(expect);
    return bad;
}

static void corpus_cases_meet_expectations(void **state)
{
    (void)state;
    struct dirent **names;
    int n = scandir(CORPUS, &names, NULL, alphasort);
    assert_true(n > 0);
    int cases = 0, bad = 0;
    for (int i = 0; i < n; i++) {
        if (names[i]->d_name[0] != '.') {
            bad += check_case(CORPUS, names[i]->d_name);
            cases++;
        }
        free(names[i]);
    }
    free(names);
    assert_true(cases >= 30);
    assert_int_equal(bad, 0);
}

/* ---- the NAB-shaped fixture --------------------------------------------- */

static const struct {
    const char *ts, *value;
    int64_t     ts_ms;
    double      v;
} nab_rows[] = {
    {"2014-04-01 17:55:00", "75.7464688141", 1396374900000LL, 75.7464688141},
    {"2014-04-01 18:00:00", "-1.03989471325e-05", 1396375200000LL, -1.03989471325e-05},
    {"2014-04-01 18:05:00", "-9.9552901714e-06", 1396375500000LL, -9.9552901714e-06},
    {"2014-04-01 18:10:00", "-1.0574e-05", 1396375800000LL, -1.0574e-05},
    {"2014-03-09 01:56:00", "44.038000000000004", 1394330160000LL, 44.038000000000004},
    {"2014-03-09 03:00:00", "44.611999999999995", 1394334000000LL, 44.611999999999995},
    {"2014-03-09 03:00:00", "43.578", 1394334000000LL, 43.578},
    {"2014-03-09 03:00:00", "47.018", 1394334000000LL, 47.018},
    {"2014-01-07 02:50:00", "93.39737409", 1389063000000LL, 93.39737409},
    {"2014-01-07 02:55:00", "92.85599879", 1389063300000LL, 92.85599879},
    {"2014-01-07 02:00:00", "94.13972336", 1389060000000LL, 94.13972336},
    {"2015-01-31 23:00:00", "26591", 1422745200000LL, 26591},
    {"2015-01-31 23:30:00", "26288", 1422747000000LL, 26288},
};
#define NAB_ROWS (sizeof(nab_rows) / sizeof(nab_rows[0]))

static void nab_fixture_parsed_exactly(void **state)
{
    (void)state;
    const char *path = VG_TEST_FIXTURES "/nab_small.csv";
    vg_error err;
    vg_csv_options opt = {.batch_points = 5};
    vg_source *src = vg_csv_source_open(path, &opt, &err);
    assert_non_null(src);
    assert_int_equal(vg_csv_source_multi_series(src), 0);
    vg_batch b;
    vg_batch_init(&b);
    size_t row = 0;
    int rc;
    while ((rc = vg_source_poll(src, &b, 0)) > 0) {
        assert_true(rc <= 5);
        for (size_t i = 0; i < b.n; i++, row++) {
            const vg_point *p = &b.points[i];
            assert_true(row < NAB_ROWS);
            assert_string_equal(vg_batch_key(&b, p), "nab_small");
            assert_int_equal(p->ts_ms, nab_rows[row].ts_ms);
            assert_double_near(p->value, nab_rows[row].v, 0.0);   /* exact */
            assert_int_equal(p->ts_text_len, strlen(nab_rows[row].ts));
            assert_memory_equal(vg_batch_ts_text(&b, p), nab_rows[row].ts, p->ts_text_len);
            assert_int_equal(p->value_text_len, strlen(nab_rows[row].value));
            assert_memory_equal(vg_batch_value_text(&b, p), nab_rows[row].value,
                                p->value_text_len);
            assert_int_equal(p->origin.offset, (int64_t)row + 2);   /* header is line 1 */
        }
        vg_batch_reset(&b);
    }
    assert_int_equal(rc, VG_EEOF);
    assert_int_equal(row, NAB_ROWS);
    vg_csv_source_stats st;
    assert_int_equal(vg_csv_source_get_stats(src, &st), VG_OK);
    assert_int_equal(st.rows, NAB_ROWS);
    assert_int_equal(st.points, NAB_ROWS);
    assert_int_equal(st.malformed, 0);
    vg_batch_release(&b);
    vg_source_close(src);
}

/* ---- batches -------------------------------------------------------------- */

/* Polls src to the end; fills sizes[] with each batch size, returns count. */
static size_t poll_sizes(vg_source *src, int *sizes, size_t cap)
{
    vg_batch b;
    vg_batch_init(&b);
    size_t n = 0;
    int rc;
    while ((rc = vg_source_poll(src, &b, 0)) > 0) {
        assert_true(n < cap);
        sizes[n++] = rc;
        vg_batch_reset(&b);
    }
    assert_int_equal(rc, VG_EEOF);
    vg_batch_release(&b);
    return n;
}

static void batches_split_at_n(void **state)
{
    (void)state;
    char data[4096];
    size_t len = (size_t)snprintf(data, sizeof(data), "timestamp,series,value\n");
    for (int i = 0; i < 10; i++)
        len += (size_t)snprintf(data + len, sizeof(data) - len,
                                "2014-01-01 00:%02d:00,s%d,%d\n", i, i % 2, i);
    vg_error err;
    vg_csv_options opt = {.batch_points = 4};
    vg_source *src = vg_csv_source_open_mem("mem.csv", data, len, &opt, &err);
    assert_non_null(src);
    assert_int_equal(vg_csv_source_multi_series(src), 1);
    int sizes[8];
    assert_int_equal(poll_sizes(src, sizes, 8), 3);
    assert_int_equal(sizes[0], 4);
    assert_int_equal(sizes[1], 4);
    assert_int_equal(sizes[2], 2);
    vg_source_close(src);
}

/* The position getter (progress lines): past the header once open, growing
 * with each batch, the whole input at the end. */
static void position_follows_the_batches(void **state)
{
    (void)state;
    char data[4096];
    size_t len = (size_t)snprintf(data, sizeof(data), "timestamp,value\n");
    size_t header = len;
    for (int i = 0; i < 10; i++)
        len += (size_t)snprintf(data + len, sizeof(data) - len, "2014-01-01 00:%02d:00,%d\n",
                                i, i);
    vg_error err;
    vg_csv_options opt = {.batch_points = 4};
    vg_source *src = vg_csv_source_open_mem("mem.csv", data, len, &opt, &err);
    assert_non_null(src);
    uint64_t done, size, prev;
    assert_int_equal(vg_csv_source_position(src, &done, &size), 0);
    assert_int_equal(size, len);
    assert_int_equal(done, header);
    vg_batch b;
    vg_batch_init(&b);
    for (int polls = 0; vg_source_poll(src, &b, 0) >= 0; polls++) {
        prev = done;
        vg_csv_source_position(src, &done, &size);
        assert_true(done > prev);
        assert_true(polls < 2 ? done < len : done == len);
        vg_batch_reset(&b);
    }
    vg_csv_source_position(src, &done, &size);
    assert_int_equal(done, len);
    vg_batch_release(&b);
    vg_source_close(src);
}

static void wide_rows_are_never_split(void **state)
{
    (void)state;
    const char data[] = "timestamp,a,b,c\n"
                        "2014-01-01 00:00:00,1,2,3\n"
                        "2014-01-01 00:01:00,4,5,6\n"
                        "2014-01-01 00:02:00,7,,9\n";
    vg_error err;
    vg_csv_options opt = {.batch_points = 4};
    vg_source *src = vg_csv_source_open_mem("w.csv", data, strlen(data), &opt, &err);
    assert_non_null(src);
    int sizes[8];
    assert_int_equal(poll_sizes(src, sizes, 8), 3);   /* 3+3 > 4: one row each */
    assert_int_equal(sizes[0], 3);
    assert_int_equal(sizes[1], 3);
    assert_int_equal(sizes[2], 2);
    vg_source_close(src);

    opt.batch_points = 2;   /* narrower than a row: the row comes whole */
    src = vg_csv_source_open_mem("w.csv", data, strlen(data), &opt, &err);
    assert_non_null(src);
    assert_int_equal(poll_sizes(src, sizes, 8), 3);
    assert_int_equal(sizes[0], 3);
    vg_csv_source_stats st;
    vg_csv_source_get_stats(src, &st);
    assert_int_equal(st.points, 8);
    assert_int_equal(st.empty_cells, 1);
    vg_source_close(src);

    /* A wide row's points say so (corroboration groups a wide file). */
    src = vg_csv_source_open_mem("w.csv", data, strlen(data), &opt, &err);
    assert_non_null(src);
    vg_batch b;
    vg_batch_init(&b);
    assert_int_equal(vg_source_poll(src, &b, 0), 3);
    for (size_t i = 0; i < b.n; i++)
        assert_int_equal(b.points[i].origin.partition, VG_ORIGIN_WIDE_ROW);
    vg_batch_release(&b);
    vg_source_close(src);
}

/* ---- opening -------------------------------------------------------------- */

static void open_errors_are_clear(void **state)
{
    (void)state;
    vg_error err;
    assert_null(vg_csv_source_open("/nonexistent/dir/x.csv", NULL, &err));
    assert_int_equal(err.code, VG_EIO);
    assert_non_null(strstr(err.where, "/nonexistent/dir/x.csv"));
    assert_non_null(strstr(err.msg, "No such file"));

    assert_null(vg_csv_source_open(VG_TEST_FIXTURES, NULL, &err));
    assert_int_equal(err.code, VG_EIO);

    assert_null(vg_csv_source_open_mem("e.csv", "", 0, NULL, &err));
    assert_int_equal(err.code, VG_EPARSE);
    assert_string_equal(err.where, "e.csv:1");

    const char data[] = "timestamp,value\n";
    assert_null(vg_csv_source_open_mem("", data, strlen(data), NULL, &err));
    assert_int_equal(err.code, VG_ECONFIG);   /* no base name for the key */
}

static void series_option_names_the_key(void **state)
{
    (void)state;
    const char data[] = "timestamp,value\n2014-01-01 00:00:00,1\n";
    vg_error err;
    vg_csv_options opt = {.series = "taxi"};
    vg_source *src = vg_csv_source_open_mem("dir/nyc_taxi.csv", data, strlen(data), &opt, &err);
    assert_non_null(src);
    vg_batch b;
    vg_batch_init(&b);
    assert_int_equal(vg_source_poll(src, &b, 0), 1);
    assert_string_equal(vg_batch_key(&b, &b.points[0]), "taxi");
    vg_source_close(src);

    src = vg_csv_source_open_mem("dir/nyc_taxi.CSV", data, strlen(data), NULL, &err);
    assert_non_null(src);
    vg_batch_reset(&b);
    assert_int_equal(vg_source_poll(src, &b, 0), 1);
    assert_string_equal(vg_batch_key(&b, &b.points[0]), "nyc_taxi");
    vg_batch_release(&b);
    vg_source_close(src);
}

static int other_poll(void *self, vg_batch *out, int timeout_ms)
{
    (void)self, (void)out, (void)timeout_ms;
    return VG_EEOF;
}

static void stats_refuse_other_sources(void **state)
{
    (void)state;
    static const vg_source_ops other = {.name = "other", .poll = other_poll};
    vg_source src = {.ops = &other, .self = NULL};
    vg_csv_source_stats st;
    assert_int_equal(vg_csv_source_get_stats(&src, &st), VG_EARG);
    assert_int_equal(vg_csv_source_multi_series(&src), 0);
    uint64_t done, size;
    assert_int_equal(vg_csv_source_position(&src, &done, &size), VG_EARG);
    assert_string_equal(vg_csv_reason_name(VG_CSV_BAD_NUMBER), "bad_number");
    assert_null(vg_csv_reason_name(VG_CSV_REASON_COUNT_));
}

/* ---- real NAB files, when present ---------------------------------------- */

/* Rows in a file by counting lines (a last line without newline counts). */
static uint64_t count_data_lines(const char *path)
{
    size_t len;
    char *text = vg_test_read_file(path, &len);
    assert_non_null(text);
    uint64_t lines = 0;
    for (size_t i = 0; i < len; i++)
        lines += text[i] == '\n';
    lines += len > 0 && text[len - 1] != '\n';
    free(text);
    return lines - 1;   /* the header */
}

static void real_nab_files_if_present(void **state)
{
    (void)state;
    char dir[512];
    snprintf(dir, sizeof(dir), "%s/nab-dev/data", VG_SHARED_DATA);
    static const char *const categories[] = {
        "artificialNoAnomaly", "artificialWithAnomaly", "realAdExchange",
        "realKnownCause", "realTraffic",
    };
    uint64_t total = 0;
    int files = 0;
    for (size_t c = 0; c < sizeof(categories) / sizeof(categories[0]); c++) {
        char sub[600];
        snprintf(sub, sizeof(sub), "%s/%s", dir, categories[c]);
        struct dirent **names;
        int n = scandir(sub, &names, NULL, alphasort);
        for (int i = 0; i < n; i++) {
            char path[1024];
            snprintf(path, sizeof(path), "%s/%s", sub, names[i]->d_name);
            if (strstr(names[i]->d_name, ".csv") != NULL) {
                vg_error err;
                vg_source *src = vg_csv_source_open(path, NULL, &err);
                assert_non_null(src);
                int sizes[64];
                poll_sizes(src, sizes, 64);
                vg_csv_source_stats st;
                vg_csv_source_get_stats(src, &st);
                assert_int_equal(st.malformed, 0);
                assert_int_equal(st.rows, count_data_lines(path));
                assert_int_equal(st.points, st.rows);
                total += st.rows;
                files++;
                vg_source_close(src);
            }
            free(names[i]);
        }
        if (n >= 0)
            free(names);
    }
    if (files == 0) {
        print_message("optional NAB data not found under %s: skipped\n", dir);
        skip();
    }
    if (files == 31)
        assert_int_equal(total, 139187);   /* the README's count */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(corpus_cases_meet_expectations),
        cmocka_unit_test(nab_fixture_parsed_exactly),
        cmocka_unit_test(batches_split_at_n),
        cmocka_unit_test(position_follows_the_batches),
        cmocka_unit_test(wide_rows_are_never_split),
        cmocka_unit_test(open_errors_are_clear),
        cmocka_unit_test(series_option_names_the_key),
        cmocka_unit_test(stats_refuse_other_sources),
        cmocka_unit_test(real_nab_files_if_present),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
