/* Unit tests of the Graphite plaintext parser over hand-made lines and
 * collectd's real Graphite output, plus its bad-input corpus. */
#include "tests/unit/parse_corpus.h"

static void lines_tags_and_nan(void **state)
{
    (void)state;
    vg_parser *ps = test_parser("{\"format\":\"graphite\"}");
    vg_batch b;
    vg_batch_init(&b);
    vg_error err;
    assert_int_equal(test_parse(ps, "a.b.c 1.5 1700000000\r\n"
                                    "x.y;dc=eu;host=h\t-2  1700000000500\r\n"
                                    "skip.me nan 1700000000\r\n"
                                    "now.ts 7 -1\n"
                                    "no.ts 8", 1700000000321, &b, &err), 4);
    test_point(&b, 0, "a.b.c", 1700000000000, 1.5);
    test_point(&b, 1, "x.y{dc=\"eu\",host=\"h\"}", 1700000000500, -2);
    test_point(&b, 2, "now.ts", 1700000000321, 7);
    test_point(&b, 3, "no.ts", 1700000000321, 8);
    vg_parser_free(ps);
    /* Without graphite_tags the ';' part stays in the name. */
    ps = test_parser("{\"format\":\"graphite\",\"graphite_tags\":false}");
    assert_int_equal(test_parse(ps, "x.y;dc=eu 1 1700000000", -1, &b, &err), 1);
    test_point(&b, 0, "x.y;dc=eu", 1700000000000, 1);
    vg_batch_release(&b);
    vg_parser_free(ps);
}

/* Distinct keys among the points of b. */
static size_t distinct_keys(const vg_batch *b)
{
    size_t n = 0;
    for (size_t i = 0; i < b->n; i++) {
        size_t j = 0;
        while (j < i && strcmp(vg_batch_key(b, &b->points[i]), vg_batch_key(b, &b->points[j])) != 0)
            j++;
        n += j == i;
    }
    return n;
}

static void collectd_graphite_file(void **state)
{
    (void)state;
    size_t len;
    char *text = vg_test_read_file(VG_TEST_FIXTURES "/collectd/graphite.txt", &len);
    assert_non_null(text);
    vg_parser *ps = test_parser("{\"format\":\"graphite\"}");
    vg_batch b, all;
    vg_batch_init(&b);
    vg_batch_init(&all);
    vg_error err;
    /* The whole file as one message, then line by line (CRLF kept). */
    assert_int_equal(vg_parser_parse(ps, text, len, -1, NULL, &all, &err), 442);
    size_t lines = 0;
    for (char *l = text; l < text + len; lines++) {
        char *nl = memchr(l, '\n', (size_t)(text + len - l));
        size_t n = nl ? (size_t)(nl - l) + 1 : (size_t)(text + len - l);
        assert_int_equal(l[n - 2], '\r');
        vg_batch_reset(&b);
        assert_int_equal(vg_parser_parse(ps, l, n, -1, NULL, &b, &err), 1);
        assert_string_equal(vg_batch_key(&b, &b.points[0]), vg_batch_key(&all, &all.points[lines]));
        l += n;
    }
    assert_int_equal(lines, 442);
    /* 34 value lists per round, 8 of them with 2 data sources and load with
     * 3: 44 collectd values, so 44 series. */
    assert_int_equal(distinct_keys(&all), 44);
    test_point(&all, 0, "collectd.collectd-host.example.org.memory.memory-buffered",
               1795284042000, 1716224);
    vg_batch_release(&b);
    vg_batch_release(&all);
    vg_parser_free(ps);
    free(text);
}

/* Graphite has no counter type: "counters" is refused, not ignored. */
static void counters_are_refused(void **state)
{
    (void)state;
    vg_error err = {0};
    json_t *cfg = json_loads("{\"format\": \"graphite\", \"counters\": \"raw\"}", 0, NULL);
    assert_null(vg_parser_new(NULL, cfg, &err));
    assert_int_equal(err.code, VG_ECONFIG);
    assert_non_null(strstr(err.msg, "parser.counters: not a key of format \"graphite\""));
    json_decref(cfg);
}

static void corpus(void **state)
{
    (void)state;
    assert_true(test_walk_corpus("graphite", "{\"format\":\"graphite\"}") >= 12);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(lines_tags_and_nan),
        cmocka_unit_test(collectd_graphite_file),
        cmocka_unit_test(counters_are_refused),
        cmocka_unit_test(corpus),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
