/* Unit tests of the telegraf-json parser (Telegraf's json serializer), on
 * the serializer's documented output, plus its bad-input corpus. */
#include "tests/unit/parse_corpus.h"

#define TELEGRAF "{\"format\":\"telegraf-json\"}"

static void documented_single_and_batch(void **state)
{
    (void)state;
    vg_parser *ps = test_parser(TELEGRAF);
    vg_batch b;
    vg_batch_init(&b);
    vg_error err;
    assert_int_equal(test_parse_fixture(ps, "telegraf-one.json", -1, &b, &err), 4);
    test_point(&b, 0, "docker_field_1{host=\"raynor\"}", 1458229140000, 30);
    test_point(&b, 1, "docker_field_2{host=\"raynor\"}", 1458229140000, 4);
    test_point(&b, 2, "docker_field_N{host=\"raynor\"}", 1458229140000, 59);
    test_point(&b, 3, "docker_n_images{host=\"raynor\"}", 1458229140000, 660);
    assert_int_equal(test_parse_fixture(ps, "telegraf-batch.json", -1, &b, &err), 8);
    test_point(&b, 7, "docker_n_images{host=\"raynor\"}", 1458229140000, 660);
    vg_batch_release(&b);
    vg_parser_free(ps);
}

static void units_strings_and_bad_metric(void **state)
{
    (void)state;
    vg_parser *ps = test_parser(TELEGRAF);
    vg_batch b;
    vg_batch_init(&b);
    vg_error err;
    /* ms timestamps (json_timestamp_units = "1ms"), RFC 3339 text, string
     * and boolean fields skipped, the message time when absent. */
    assert_int_equal(test_parse(ps, "{\"metrics\":["
                                    "{\"name\":\"mem\",\"fields\":{\"used\":1.5,\"ok\":true,"
                                    "\"s\":\"x\"},\"tags\":{},\"timestamp\":1700000000123},"
                                    "{\"name\":\"mem\",\"fields\":{\"free\":2},"
                                    "\"timestamp\":\"2023-11-14T22:13:20.5Z\"},"
                                    "{\"name\":\"disk\",\"fields\":{\"u\":3}}]}",
                                1700000009999, &b, &err), 3);
    test_point(&b, 0, "mem_used", 1700000000123, 1.5);
    test_point(&b, 1, "mem_free", 1700000000500, 2);
    test_point(&b, 2, "disk_u", 1700000009999, 3);
    /* A bad metric of a batch is reported; the others are kept. */
    assert_int_equal(test_parse(ps, "{\"metrics\":[{\"name\":\"a\",\"fields\":{\"v\":1},"
                                    "\"timestamp\":1},{\"name\":\"b\",\"fields\":{\"v\":1},"
                                    "\"tags\":{\"n\":5},\"timestamp\":1},"
                                    "{\"name\":\"c\",\"fields\":{\"v\":1},\"timestamp\":1}]}",
                                -1, &b, &err), VG_EPARSE);
    assert_int_equal(b.n, 2);
    test_point(&b, 1, "c_v", 1000, 1);
    assert_string_equal(vg_parser_last_reason(ps), "type");
    assert_non_null(strstr(err.msg, "metric 1"));
    vg_batch_release(&b);
    vg_parser_free(ps);
}

static void corpus(void **state)
{
    (void)state;
    assert_true(test_walk_corpus("telegraf", TELEGRAF) >= 8);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(documented_single_and_batch),
        cmocka_unit_test(units_strings_and_bad_metric),
        cmocka_unit_test(corpus),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
