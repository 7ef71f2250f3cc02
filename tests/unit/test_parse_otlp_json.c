/* Unit tests of the otlp-json parser on the OTLP repository's example and
 * on cumulative sums, histograms and summaries, plus its bad-input corpus. */
#include "tests/unit/parse_corpus.h"

#define OTLP "{\"format\":\"otlp-json\"}"

static void published_example(void **state)
{
    (void)state;
    vg_parser *ps = test_parser(OTLP);
    vg_batch b;
    vg_batch_init(&b);
    vg_error err;
    /* The delta sum and histogram have start = time: no interval to rate
     * over, an error each; the gauge is read with its resource's labels. */
    assert_int_equal(test_parse_fixture(ps, "otlp-metrics.json", -1, &b, &err), VG_EPARSE);
    assert_string_equal(vg_parser_last_reason(ps), "timestamp");
    assert_int_equal(b.n, 1);
    test_point(&b, 0, "my.gauge{my.gauge.attr=\"some value\",service.name=\"my.service\"}",
               1544712660300, 10);
    vg_batch_release(&b);
    vg_parser_free(ps);
}

#define RM(metrics) "{\"resourceMetrics\":[{\"resource\":{\"attributes\":[" \
    "{\"key\":\"host\",\"value\":{\"stringValue\":\"a\"}}," \
    "{\"key\":\"pid\",\"value\":{\"intValue\":\"42\"}}]}," \
    "\"scopeMetrics\":[{\"metrics\":[" metrics "]}]}]}"
#define SUM(t, v) "{\"name\":\"req\",\"sum\":{\"aggregationTemporality\":2,\"isMonotonic\":true," \
    "\"dataPoints\":[{\"timeUnixNano\":\"" t "\",\"asInt\":\"" v "\",\"attributes\":[" \
    "{\"key\":\"host\",\"value\":{\"stringValue\":\"b\"}}]}]}}"
#define HIST(t, c, s) "{\"name\":\"lat\",\"histogram\":{\"aggregationTemporality\":" \
    "\"AGGREGATION_TEMPORALITY_CUMULATIVE\",\"dataPoints\":[{\"timeUnixNano\":\"" t "\"," \
    "\"count\":\"" c "\",\"sum\":" s ",\"bucketCounts\":[\"1\"],\"explicitBounds\":[]}]}}"
#define SUMMARY(t) "{\"name\":\"rpc\",\"summary\":{\"dataPoints\":[{\"timeUnixNano\":\"" t "\"," \
    "\"count\":\"4\",\"sum\":2,\"quantileValues\":[{\"value\":0.1},{\"quantile\":0.99," \
    "\"value\":0.9}]}]}}"
#define DELTA "{\"name\":\"bytes\",\"sum\":{\"aggregationTemporality\":1,\"isMonotonic\":true," \
    "\"dataPoints\":[{\"startTimeUnixNano\":\"1700000000000000000\",\"timeUnixNano\":" \
    "\"1700000010000000000\",\"asDouble\":50}]}}"

static void cumulative_and_delta(void **state)
{
    (void)state;
    vg_parser *ps = test_parser(OTLP);
    vg_batch b;
    vg_batch_init(&b);
    vg_error err;
    /* First sample: only the summary quantiles and the delta rate. */
    assert_int_equal(test_parse(ps, RM(SUM("1700000000000000000", "100") ","
                                       HIST("1700000000000000000", "10", "5") ","
                                       SUMMARY("1700000000000000000") "," DELTA), -1, &b, &err), 3);
    /* The point's host wins over the resource's; the int attribute is text. */
    test_point(&b, 0, "rpc{host=\"a\",pid=\"42\",quantile=\"0\"}", 1700000000000, 0.1);
    test_point(&b, 1, "rpc{host=\"a\",pid=\"42\",quantile=\"0.98999999999999999\"}",
               1700000000000, 0.9);
    test_point(&b, 2, "bytes{host=\"a\",pid=\"42\"}", 1700000010000, 5);
    assert_int_equal(test_parse(ps, RM(SUM("1700000010000000000", "150") ","
                                       HIST("1700000010000000000", "30", "45")), -1, &b, &err), 3);
    test_point(&b, 0, "req{host=\"b\",pid=\"42\"}", 1700000010000, 5);
    test_point(&b, 1, "lat_count{host=\"a\",pid=\"42\"}", 1700000010000, 2);
    test_point(&b, 2, "lat_mean{host=\"a\",pid=\"42\"}", 1700000010000, 2);
    vg_batch_release(&b);
    vg_parser_free(ps);
}

static void corpus(void **state)
{
    (void)state;
    assert_true(test_walk_corpus("otlp_json", OTLP) >= 8);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(published_example),
        cmocka_unit_test(cumulative_and_delta),
        cmocka_unit_test(corpus),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
