/* Unit tests of the prometheus-text parser on the exposition example of
 * the Prometheus docs and a real collectd write_prometheus scrape, plus its
 * bad-input corpus. */
#include "tests/unit/parse_corpus.h"

#define PROM "{\"format\":\"prometheus-text\"}"

static void docs_example(void **state)
{
    (void)state;
    vg_parser *ps = test_parser(PROM);
    vg_batch b;
    vg_batch_init(&b);
    vg_error err;
    /* The +Inf sample with a negative time is the one bad line. Counters and
     * histogram/summary counts give nothing on their first sample. */
    assert_int_equal(test_parse_fixture(ps, "prometheus-docs-example.txt", 1395066363000, &b,
                                        &err), VG_EPARSE);
    assert_string_equal(vg_parser_last_reason(ps), "nan");
    assert_int_equal(b.n, 7);
    test_point(&b, 0, "msdos_file_access_time_seconds{error=\"Cannot find file:\\n\\\"FILE.TXT\\\"\","
                      "path=\"C:\\\\DIR\\\\FILE.TXT\"}", 1395066363000, 1.458255915e9);
    test_point(&b, 1, "metric_without_timestamp_and_labels", 1395066363000, 12.47);
    test_point(&b, 2, "rpc_duration_seconds{quantile=\"0.01\"}", 1395066363000, 3102);
    test_point(&b, 6, "rpc_duration_seconds{quantile=\"0.99\"}", 1395066363000, 76656);

    /* Ten seconds later: counters are rates, histograms and summaries give
     * observations per second and the mean over the interval. */
    assert_int_equal(test_parse(ps, "# TYPE http_requests_total counter\n"
                                    "http_requests_total{method=\"post\",code=\"200\"} 1127 "
                                    "1395066373000\n"
                                    "# TYPE http_request_duration_seconds histogram\n"
                                    "http_request_duration_seconds_bucket{le=\"+Inf\"} 144420\n"
                                    "http_request_duration_seconds_sum 53473\n"
                                    "http_request_duration_seconds_count 144420\n"
                                    "# TYPE rpc_duration_seconds summary\n"
                                    "rpc_duration_seconds_sum 1.7560573e+07\n"
                                    "rpc_duration_seconds_count 2703\n",
                                1395066373000, &b, &err), 5);
    test_point(&b, 0, "http_requests_total{code=\"200\",method=\"post\"}", 1395066373000, 10);
    test_point(&b, 1, "http_request_duration_seconds_count", 1395066373000, 10);
    test_point(&b, 2, "http_request_duration_seconds_mean", 1395066373000, 0.5);
    test_point(&b, 3, "rpc_duration_seconds_count", 1395066373000, 1);
    test_point(&b, 4, "rpc_duration_seconds_mean", 1395066373000, 10);

    /* A counter reset gives no point, the next sample a rate again. */
    assert_int_equal(test_parse(ps, "# TYPE http_requests_total counter\n"
                                    "http_requests_total{method=\"post\",code=\"200\"} 5 "
                                    "1395066383000\n", -1, &b, &err), 0);
    assert_int_equal(test_parse(ps, "# TYPE http_requests_total counter\n"
                                    "http_requests_total{method=\"post\",code=\"200\"} 25 "
                                    "1395066393000\n", -1, &b, &err), 1);
    test_point(&b, 0, "http_requests_total{code=\"200\",method=\"post\"}", 1395066393000, 2);
    vg_batch_release(&b);
    vg_parser_free(ps);
}

static void collectd_scrape(void **state)
{
    (void)state;
    vg_parser *ps = test_parser(PROM);
    vg_batch b;
    vg_batch_init(&b);
    vg_error err;
    /* 44 samples: 32 of 9 counter families (no rate yet) and 12 gauges. */
    assert_int_equal(test_parse_fixture(ps, "collectd-prometheus-exposition.txt", -1, &b, &err),
                     12);
    test_point(&b, 0, "collectd_df_df_complex{df=\"root\",instance=\"collectd-host.example.org\","
                      "type=\"free\"}", 1795284790334, 82340143104.0);
    test_point(&b, 11, "collectd_memory{instance=\"collectd-host.example.org\",memory=\"used\"}",
               1795284790331, 201142272);
    /* The idle jiffies one second later become a rate. */
    assert_int_equal(test_parse(ps, "# TYPE collectd_cpu_total counter\n"
                                    "collectd_cpu_total{cpu=\"0\",type=\"idle\",instance="
                                    "\"collectd-host.example.org\"} 296663 1795284791335\n",
                                -1, &b, &err), 1);
    test_point(&b, 0, "collectd_cpu_total{cpu=\"0\",instance=\"collectd-host.example.org\","
                      "type=\"idle\"}", 1795284791335, 95);
    vg_batch_release(&b);
    vg_parser_free(ps);
}

static void corpus(void **state)
{
    (void)state;
    assert_true(test_walk_corpus("prom_text", PROM) >= 10);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(docs_example),
        cmocka_unit_test(collectd_scrape),
        cmocka_unit_test(corpus),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
