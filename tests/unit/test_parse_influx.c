/* Unit tests of the Influx line protocol parser, plus its bad-input corpus. */
#include "tests/unit/parse_corpus.h"

static void fields_tags_and_types(void **state)
{
    (void)state;
    vg_parser *ps = test_parser("{\"format\":\"influx\"}");
    vg_batch b;
    vg_batch_init(&b);
    vg_error err;
    /* Strings and booleans are skipped; tags sorted into the key. */
    assert_int_equal(test_parse(ps, "cpu,region=eu,host=a usage_user=0.5,usage_system=2i,"
                                    "ok=true,msg=\"x, y=z\",big=3u,neg=-4i,e=1e3 "
                                    "1700000000123456789", -1, &b, &err), 5);
    test_point(&b, 0, "cpu_usage_user{host=\"a\",region=\"eu\"}", 1700000000123, 0.5);
    test_point(&b, 1, "cpu_usage_system{host=\"a\",region=\"eu\"}", 1700000000123, 2);
    test_point(&b, 2, "cpu_big{host=\"a\",region=\"eu\"}", 1700000000123, 3);
    test_point(&b, 3, "cpu_neg{host=\"a\",region=\"eu\"}", 1700000000123, -4);
    test_point(&b, 4, "cpu_e{host=\"a\",region=\"eu\"}", 1700000000123, 1000);
    vg_batch_release(&b);
    vg_parser_free(ps);
}

static void escapes_lines_and_message_time(void **state)
{
    (void)state;
    vg_parser *ps = test_parser("{\"format\":\"influx\"}");
    vg_batch b;
    vg_batch_init(&b);
    vg_error err;
    assert_int_equal(test_parse(ps, "my\\ meas,tag=v\\ 1\\=2\\,3 f\\=x=1 1700000000000000000\r\n"
                                    "\r\n# comment\n"
                                    "  mem used=2\n", 1700000000999, &b, &err), 2);
    test_point(&b, 0, "my meas_f=x{tag=\"v 1=2,3\"}", 1700000000000, 1);
    test_point(&b, 1, "mem_used", 1700000000999, 2);
    vg_batch_release(&b);
    vg_parser_free(ps);
}

static void bad_line_keeps_good_ones(void **state)
{
    (void)state;
    vg_parser *ps = test_parser("{\"format\":\"influx\",\"ts_unit\":\"ns\"}");
    vg_batch b;
    vg_batch_init(&b);
    vg_error err;
    /* The second line fails as a whole, even though its first field is good. */
    assert_int_equal(test_parse(ps, "a v=1 5000000\nb v=2,w=x 5000000\nc v=3 6000000\n", -1, &b,
                                &err), VG_EPARSE);
    assert_int_equal(b.n, 2);
    test_point(&b, 0, "a_v", 5, 1);
    test_point(&b, 1, "c_v", 6, 3);
    assert_string_equal(err.where, "2:9");
    assert_string_equal(vg_parser_last_reason(ps), "value");
    vg_batch_release(&b);
    vg_parser_free(ps);
}

static void corpus(void **state)
{
    (void)state;
    assert_true(test_walk_corpus("influx", "{\"format\":\"influx\"}") >= 15);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fields_tags_and_types),
        cmocka_unit_test(escapes_lines_and_message_time),
        cmocka_unit_test(bad_line_keeps_good_ones),
        cmocka_unit_test(corpus),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
