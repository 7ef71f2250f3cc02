/* Unit tests of the protobuf formats, otlp-proto and
 * prometheus-remote-write, on requests encoded by protoc from the published
 * field numbers (tests/fixtures/formats/README.md), plus their bad-input
 * corpora; and of the wire reader they share. */
#include <snappy-c.h>

#include "streams/protowire.h"
#include "tests/unit/parse_corpus.h"

#define OTLP "{\"format\":\"otlp-proto\"}"
#define RW   "{\"format\":\"prometheus-remote-write\"}"

static void wire_reader(void **state)
{
    (void)state;
    /* field 1 varint 300, field 2 "hi", field 3 fixed64 1.5, then a varint
     * of 11 bytes. */
    static const uint8_t msg[] = {0x08, 0xac, 0x02, 0x12, 0x02, 'h', 'i', 0x19, 0, 0, 0, 0,
                                  0, 0, 0xf8, 0x3f};
    vg_pb r = vg_pb_init(msg, sizeof(msg)), sub;
    uint32_t f;
    int w;
    uint64_t v;
    double d;
    assert_int_equal(vg_pb_next(&r, &f, &w), 1);
    assert_true(f == 1 && w == VG_PB_VARINT && vg_pb_varint(&r, &v) == 0 && v == 300);
    assert_int_equal(vg_pb_next(&r, &f, &w), 1);
    assert_true(f == 2 && vg_pb_take(&r, w, VG_PB_LEN, &v, &sub) == 1 && sub.end - sub.p == 2);
    assert_int_equal(vg_pb_next(&r, &f, &w), 1);
    assert_true(f == 3 && vg_pb_double(&r, &d) == 0 && d == 1.5);
    assert_int_equal(vg_pb_next(&r, &f, &w), 0);
    static const uint8_t bad[] = {0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                  0xff, 0x01};
    r = vg_pb_init(bad, sizeof(bad));
    assert_int_equal(vg_pb_next(&r, &f, &w), 1);
    assert_int_equal(vg_pb_varint(&r, &v), -1);
    r = vg_pb_init(msg + 3, 3);  /* a LEN field cut short */
    assert_int_equal(vg_pb_next(&r, &f, &w), 1);
    assert_int_equal(vg_pb_skip(&r, w), -1);
}

/* The OTLP example gives the same points and error in both encodings. */
static void otlp_same_as_json(void **state)
{
    (void)state;
    vg_parser *pj = test_parser("{\"format\":\"otlp-json\"}"), *pp = test_parser(OTLP);
    vg_batch bj, bp;
    vg_batch_init(&bj);
    vg_batch_init(&bp);
    vg_error err;
    assert_int_equal(test_parse_fixture(pj, "otlp-metrics.json", -1, &bj, &err), VG_EPARSE);
    assert_int_equal(test_parse_fixture(pp, "otlp-metrics.pb", -1, &bp, &err), VG_EPARSE);
    assert_string_equal(vg_parser_last_reason(pp), vg_parser_last_reason(pj));
    assert_int_equal(bp.n, 1);
    assert_int_equal(bj.n, 1);
    test_point(&bp, 0, vg_batch_key(&bj, &bj.points[0]), bj.points[0].ts_ms, bj.points[0].value);
    vg_batch_release(&bj);
    vg_batch_release(&bp);
    vg_parser_free(pj);
    vg_parser_free(pp);
}

static void otlp_cumulative(void **state)
{
    (void)state;
    vg_parser *ps = test_parser(OTLP);
    vg_batch b;
    vg_batch_init(&b);
    vg_error err;
    /* First request: the gauge (its flagged twin skipped) and the quantiles. */
    assert_int_equal(test_parse_fixture(ps, "otlp-cumulative-1.pb", -1, &b, &err), 3);
    test_point(&b, 0, "temp{host=\"a\",ok=\"true\",pid=\"42\",r=\"0.5\"}", 1700000000000, 21.5);
    test_point(&b, 1, "rpc{host=\"a\",pid=\"42\",quantile=\"0\"}", 1700000000000, 0.1);
    /* Ten seconds later the sums and histograms have rates and means. */
    assert_int_equal(test_parse_fixture(ps, "otlp-cumulative-2.pb", -1, &b, &err), 9);
    test_point(&b, 0, "req{host=\"b\",pid=\"42\"}", 1700000010000, 5);
    test_point(&b, 2, "lat_count{host=\"a\",pid=\"42\"}", 1700000010000, 2);
    test_point(&b, 3, "lat_mean{host=\"a\",pid=\"42\"}", 1700000010000, 2);
    test_point(&b, 4, "exp_count{host=\"a\",pid=\"42\"}", 1700000010000, 2);
    test_point(&b, 8, "rpc_count{host=\"a\",pid=\"42\"}", 1700000010000, 0);
    vg_batch_release(&b);
    vg_parser_free(ps);
}

static void remote_write(void **state)
{
    (void)state;
    vg_parser *ps = test_parser(RW);
    vg_batch b;
    vg_batch_init(&b);
    vg_error err;
    /* The gauge only: counters need two samples, buckets and NaN are skipped. */
    assert_int_equal(test_parse_fixture(ps, "remote-write-1.snappy", -1, &b, &err), 1);
    test_point(&b, 0, "node_memory_MemAvailable_bytes{instance=\"127.0.0.1:9100\",job=\"node\"}",
               1700000000000, 1.5e9);
    assert_int_equal(test_parse_fixture(ps, "remote-write-2.snappy", -1, &b, &err), 4);
    test_point(&b, 0, "node_cpu_seconds_total{cpu=\"0\",instance=\"127.0.0.1:9100\",job=\"node\","
                      "mode=\"idle\"}", 1700000015000, 0.8);
    test_point(&b, 2, "prometheus_http_request_duration_seconds_sum", 1700000015000, 0.1);
    test_point(&b, 3, "prometheus_http_request_duration_seconds_count", 1700000015000, 2);
    /* Not snappy at all. */
    assert_int_equal(test_parse(ps, "\xff\xff\xff\xff\xff\xff", -1, &b, &err), VG_EPARSE);
    assert_string_equal(vg_parser_last_reason(ps), "snappy");
    vg_batch_release(&b);
    vg_parser_free(ps);
}

static void corpus(void **state)
{
    (void)state;
    assert_true(test_walk_corpus("otlp_proto", OTLP) >= 6);
    assert_true(test_walk_corpus("prom_rw", RW) >= 6);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(wire_reader),
        cmocka_unit_test(otlp_same_as_json),
        cmocka_unit_test(otlp_cumulative),
        cmocka_unit_test(remote_write),
        cmocka_unit_test(corpus),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
