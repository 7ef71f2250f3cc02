/* The remote-write receiver's splitter (streams/prom_rw_split.c): one
 * request per series, keyed by series, which the prometheus-remote-write
 * parser reads back into exactly the points of the whole request. */
#include "streams/prom_rw_split.h"
#include "tests/unit/parse_corpus.h"

#define RW "{\"format\":\"prometheus-remote-write\"}"

typedef struct pieces {
    vg_parser *ps;     /* parses each piece into b */
    vg_batch   b;
    char       keys[16][256];
    size_t     n;
} pieces;

static int take(void *ctx, const char *key, size_t key_len, const void *piece, size_t len)
{
    pieces *pc = ctx;
    assert_true(pc->n < 16 && key_len < sizeof(pc->keys[0]));
    memcpy(pc->keys[pc->n], key, key_len);
    pc->keys[pc->n++][key_len] = '\0';
    vg_error err;
    assert_true(vg_parser_parse(pc->ps, piece, len, -1, NULL, &pc->b, &err) >= 0);
    return 0;
}

static int split_file(const char *path, pieces *pc, size_t *skipped, vg_error *err)
{
    size_t len;
    char *body = test_read(path, &len);
    pc->n = 0;
    vg_batch_reset(&pc->b);
    int rc = vg_prom_rw_split(body, len, 1 << 20, take, pc, skipped, err);
    free(body);
    return rc;
}

static void pieces_read_back_as_the_whole(void **state)
{
    (void)state;
    pieces pc = {.ps = test_parser(RW)};
    vg_batch_init(&pc.b);
    vg_parser *whole = test_parser(RW);
    vg_batch all;
    vg_batch_init(&all);
    static const char *const files[] = {"remote-write-1.snappy", "remote-write-2.snappy"};
    for (size_t f = 0; f < 2; f++) {
        char path[1024];
        snprintf(path, sizeof(path), "%s/formats/%s", VG_TEST_FIXTURES, files[f]);
        size_t skipped = 99;
        vg_error err;
        assert_int_equal(split_file(path, &pc, &skipped, &err), 6);
        assert_int_equal(skipped, 0);
        assert_int_equal(test_parse_fixture(whole, files[f], -1, &all, &err) >= 0, 1);
        assert_int_equal(pc.b.n, all.n);
        for (size_t i = 0; i < all.n; i++)
            test_point(&pc.b, i, vg_batch_key(&all, &all.points[i]), all.points[i].ts_ms,
                       all.points[i].value);
    }
    /* Keyed by the canonical series key. */
    assert_string_equal(pc.keys[0], "node_cpu_seconds_total{cpu=\"0\",instance=\"127.0.0.1:9100\","
                                    "job=\"node\",mode=\"idle\"}");
    assert_string_equal(pc.keys[2], "prometheus_http_request_duration_seconds_bucket{le=\"0.1\"}");
    vg_batch_release(&all);
    vg_batch_release(&pc.b);
    vg_parser_free(whole);
    vg_parser_free(pc.ps);
}

/* A series without __name__ is left out and counted; a request that does
 * not decode hands out nothing. */
static void bad_requests(void **state)
{
    (void)state;
    pieces pc = {.ps = test_parser(RW)};
    vg_batch_init(&pc.b);
    char path[1024];
    size_t skipped = 0;
    vg_error err;
    snprintf(path, sizeof(path), "%s/prom_rw/no_name/input", VG_TEST_CORPUS);
    assert_int_equal(split_file(path, &pc, &skipped, &err), 0);
    assert_int_equal(skipped, 1);
    static const char *const broken[] = {"not_snappy", "snappy_truncated", "protobuf_truncated",
                                         "uncompressed_protobuf", "group_wire_type"};
    for (size_t i = 0; i < sizeof(broken) / sizeof(broken[0]); i++) {
        snprintf(path, sizeof(path), "%s/prom_rw/%s/input", VG_TEST_CORPUS, broken[i]);
        assert_int_equal(split_file(path, &pc, &skipped, &err), VG_EPARSE);
        assert_int_equal(pc.n, 0);
    }
    /* Over the uncompressed bound. */
    snprintf(path, sizeof(path), "%s/formats/remote-write-1.snappy", VG_TEST_FIXTURES);
    size_t len;
    char *body = test_read(path, &len);
    assert_int_equal(vg_prom_rw_split(body, len, 16, take, &pc, &skipped, &err), VG_ERANGE);
    free(body);
    vg_batch_release(&pc.b);
    vg_parser_free(pc.ps);
}

int main(void)
{
    (void)test_parse;  /* parse_corpus.h helpers this file does not need */
    (void)test_walk_corpus;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pieces_read_back_as_the_whole),
        cmocka_unit_test(bad_requests),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
