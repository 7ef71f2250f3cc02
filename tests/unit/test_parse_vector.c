/* Unit tests of the vector-json parser (Vector's json codec for metric
 * events), plus its bad-input corpus. */
#include "tests/unit/parse_corpus.h"

#define VECTOR "{\"format\":\"vector-json\"}"

static void codec_sample(void **state)
{
    (void)state;
    vg_parser *ps = test_parser(VECTOR);
    vg_batch b;
    vg_batch_init(&b);
    vg_error err;
    /* Nanoseconds in the time are dropped; the increment is kept as sent. */
    assert_int_equal(test_parse_fixture(ps, "vector-counter.json", -1, &b, &err), 1);
    test_point(&b, 0, "vector_foos{Key3=\"Value3\",key1=\"value1\",key2=\"value2\"}",
               1542182950000, 100);
    vg_batch_release(&b);
    vg_parser_free(ps);
}

static void kinds_and_types(void **state)
{
    (void)state;
    vg_parser *ps = test_parser(VECTOR);
    vg_batch b;
    vg_batch_init(&b);
    vg_error err;
#define EV(t, rest) "{\"name\":\"n\",\"tags\":{\"h\":\"a\",\"bare\":null},\"timestamp\":\"" t \
                    "\",\"kind\":\"absolute\"," rest "}"
    assert_int_equal(test_parse(ps, "[" EV("2023-11-14T22:13:20Z", "\"gauge\":{\"value\":1.5}") ","
                                    EV("2023-11-14T22:13:20Z", "\"counter\":{\"value\":100}") ","
                                    EV("2023-11-14T22:13:20Z", "\"aggregated_histogram\":"
                                       "{\"buckets\":[],\"count\":10,\"sum\":5}") "]",
                                -1, &b, &err), 1);
    test_point(&b, 0, "n{h=\"a\"}", 1700000000000, 1.5);
    /* Ten seconds later: the absolute counter and histogram give rates. */
    assert_int_equal(test_parse(ps, "[" EV("2023-11-14T22:13:30Z", "\"counter\":{\"value\":150}") ","
                                    EV("2023-11-14T22:13:30Z", "\"aggregated_histogram\":"
                                       "{\"buckets\":[],\"count\":30,\"sum\":45}") ","
                                    EV("2023-11-14T22:13:30Z", "\"set\":{\"values\":[]}") "]",
                                -1, &b, &err), VG_EPARSE);
    assert_string_equal(vg_parser_last_reason(ps), "unsupported");
    assert_int_equal(b.n, 3);
    test_point(&b, 0, "n{h=\"a\"}", 1700000010000, 5);
    test_point(&b, 1, "n_count{h=\"a\"}", 1700000010000, 2);
    test_point(&b, 2, "n_mean{h=\"a\"}", 1700000010000, 2);
#undef EV
    vg_batch_release(&b);
    vg_parser_free(ps);
}

static void corpus(void **state)
{
    (void)state;
    assert_true(test_walk_corpus("vector", VECTOR) >= 8);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(codec_sample),
        cmocka_unit_test(kinds_and_types),
        cmocka_unit_test(corpus),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
