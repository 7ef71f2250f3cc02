/* Unit tests of the generic JSON parser and the parser object (format names,
 * options, origins, error positions), plus its bad-input corpus. */
#include "tests/unit/parse_corpus.h"

static void format_registry(void **state)
{
    (void)state;
    assert_int_equal(vg_parser_type_count(), 11);
    for (size_t i = 0; i < vg_parser_type_count(); i++) {
        const vg_parser_ops *ops = vg_parser_type_at(i);
        assert_ptr_equal(vg_parser_type_find(ops->name), ops);
        assert_non_null(ops->parse);
    }
    assert_string_equal(vg_parser_type_at(0)->name, "json");  /* the default */
    assert_null(vg_parser_type_at(vg_parser_type_count()));
    assert_null(vg_parser_type_find("xml"));
    /* "format"'s choices are the registry's names, in order. */
    vg_conf_field common[8];
    char choices[256];
    size_t n = vg_parser_common_fields(common, 8, choices, sizeof(choices));
    assert_true(n >= 1);
    assert_string_equal(common[0].key, "format");
    assert_string_equal(common[0].choices,
                        "json|influx|graphite|collectd-json|collectd-command|"
                        "telegraf-json|prometheus-text|vector-json|otlp-json|otlp-proto|"
                        "prometheus-remote-write");
}

/* A key of another format is refused, naming the format, at its position. */
static void foreign_keys_are_refused(void **state)
{
    (void)state;
    vg_error err = {0};
    vg_conf_doc *doc = vg_conf_doc_load_string(
        "{\"format\": \"influx\",\n \"series_field\": \"s\"}", "t.json", &err);
    assert_non_null(doc);
    assert_null(vg_parser_new(doc, vg_conf_doc_root(doc), &err));
    assert_int_equal(err.code, VG_ECONFIG);
    assert_string_equal(err.where, "t.json:2:2");
    assert_non_null(strstr(err.msg, "parser.series_field: not a key of format \"influx\""));
    vg_conf_doc_free(doc);
    /* ... while the same key is fine for its own format. */
    json_t *cfg = json_loads("{\"format\": \"json\", \"series_field\": \"s\"}", 0, NULL);
    vg_parser *ps = vg_parser_new(NULL, cfg, &err);
    assert_non_null(ps);
    vg_parser_free(ps);
    json_decref(cfg);
}

static void bad_config_is_refused(void **state)
{
    (void)state;
    const char *bad[] = {"{\"format\":\"xml\"}", "{\"formt\":\"json\"}",
                         "{\"ts_unit\":\"hours\"}", "{\"max_bytes\":0}",
                         "{\"label_fields\":\"" /* 33 names */
                         "a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q,r,s,t,u,v,w,x,y,z,A,B,C,D,E,F,G\"}"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        json_t *cfg = json_loads(bad[i], 0, NULL);
        vg_error err = {0};
        assert_null(vg_parser_new(NULL, cfg, &err));
        assert_int_equal(err.code, VG_ECONFIG);
        json_decref(cfg);
    }
    vg_error err;
    vg_parser *ps = vg_parser_new(NULL, NULL, &err);  /* defaults: json */
    assert_non_null(ps);
    vg_parser_free(ps);
    vg_parser_free(NULL);
}

/* An empty payload (NULL, as librdkafka gives it) is an error for the JSON
 * formats and no points for the line formats. */
static void empty_payloads(void **state)
{
    (void)state;
    static const int want[] = {VG_EPARSE, 0, 0, VG_EPARSE, 0, VG_EPARSE, 0, VG_EPARSE,
                               VG_EPARSE, 0, VG_EPARSE};
    assert_int_equal(vg_parser_type_count(), sizeof(want) / sizeof(want[0]));
    vg_batch b;
    vg_batch_init(&b);
    for (size_t f = 0; f < vg_parser_type_count(); f++) {
        char config[64];
        snprintf(config, sizeof(config), "{\"format\":\"%s\"}", vg_parser_type_at(f)->name);
        vg_parser *ps = test_parser(config);
        vg_error err;
        assert_int_equal(vg_parser_parse(ps, NULL, 0, -1, NULL, &b, &err), want[f]);
        assert_int_equal(b.n, 0);
        vg_parser_free(ps);
    }
    vg_batch_release(&b);
}

static void one_point_with_labels(void **state)
{
    (void)state;
    vg_parser *ps = test_parser("{\"format\":\"json\"}");
    vg_batch b;
    vg_batch_init(&b);
    vg_error err;
    assert_int_equal(test_parse(ps, "{\"series\":\"cpu\",\"labels\":{\"zone\":\"z\",\"host\":\"a\"},"
                                    "\"ts\":1700000000000,\"value\":0.5}", -1, &b, &err), 1);
    test_point(&b, 0, "cpu{host=\"a\",zone=\"z\"}", 1700000000000, 0.5);
    /* A numeric string value, an empty label (left out), message time. */
    assert_int_equal(test_parse(ps, "{\"series\":\"q\",\"labels\":{\"e\":\"\"},\"value\":\"-2.5e3\"}",
                                1700000000123, &b, &err), 1);
    test_point(&b, 0, "q", 1700000000123, -2500);
    vg_batch_release(&b);
    vg_parser_free(ps);
}

static void timestamps_by_magnitude_and_unit(void **state)
{
    (void)state;
    static const struct {
        const char *ts;
        int64_t     want;
    } cases[] = {
        {"1700000000", 1700000000000},       {"1700000000.25", 1700000000250},
        {"1700000000123", 1700000000123},    {"1700000000123456", 1700000000123}, {"1700000000123500", 1700000000124},
        {"1700000000123456789", 1700000000123}, {"\"1700000000123756789\"", 1700000000124},
        {"1700000000123.4", 1700000000123},
        {"\"1700000000.5\"", 1700000000500},
    };
    vg_parser *ps = test_parser("{}");
    vg_batch b;
    vg_batch_init(&b);
    vg_error err;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char msg[128];
        snprintf(msg, sizeof(msg), "{\"series\":\"s\",\"ts\":%s,\"value\":1}", cases[i].ts);
        assert_int_equal(test_parse(ps, msg, -1, &b, &err), 1);
        assert_int_equal(b.points[0].ts_ms, cases[i].want);
    }
    vg_parser_free(ps);
    /* A configured unit wins over magnitude: 5000 ms, not 5000 s. */
    ps = test_parser("{\"ts_unit\":\"ms\",\"ts_field\":\"time\",\"series_field\":\"name\","
                     "\"value_field\":\"v\"}");
    assert_int_equal(test_parse(ps, "{\"name\":\"s\",\"time\":5000,\"v\":1}", -1, &b, &err), 1);
    test_point(&b, 0, "s", 5000, 1);
    vg_batch_release(&b);
    vg_parser_free(ps);
}

static void array_and_wide_objects(void **state)
{
    (void)state;
    vg_parser *ps = test_parser("{\"label_fields\":\"host\"}");
    vg_batch b;
    vg_batch_init(&b);
    vg_error err;
    assert_int_equal(test_parse(ps, "[{\"series\":\"a\",\"ts\":1700000000,\"value\":1,\"host\":\"h\"},"
                                    "{\"series\":\"b\",\"ts\":1700000001,\"value\":2}]", -1, &b, &err),
                     2);
    test_point(&b, 0, "a{host=\"h\"}", 1700000000000, 1);
    test_point(&b, 1, "b", 1700000001000, 2);
    /* Wide: numeric members are series, host a label, the other string and
     * the boolean are ignored because label_fields is set. */
    assert_int_equal(test_parse(ps, "{\"ts\":1700000000,\"host\":\"a\",\"dc\":\"x\",\"cpu\":0.5,"
                                    "\"mem\":7,\"up\":true}", -1, &b, &err), 2);
    test_point(&b, 0, "cpu{host=\"a\"}", 1700000000000, 0.5);
    test_point(&b, 1, "mem{host=\"a\"}", 1700000000000, 7);
    vg_parser_free(ps);
    /* Default label_fields: every string member is a label; series prefixes. */
    ps = test_parser("{}");
    assert_int_equal(test_parse(ps, "{\"series\":\"node\",\"ts\":1700000000,\"dc\":\"x\",\"host\":\"a\","
                                    "\"cpu\":0.5}", -1, &b, &err), 1);
    test_point(&b, 0, "node_cpu{dc=\"x\",host=\"a\"}", 1700000000000, 0.5);
    vg_batch_release(&b);
    vg_parser_free(ps);
}

static void errors_say_where_and_keep_origin(void **state)
{
    (void)state;
    vg_parser *ps = test_parser("{}");
    vg_batch b;
    vg_batch_init(&b);
    vg_error err;
    vg_origin o = {"metrics", 3, 42};
    const char *msg = "{\"series\":\"a\",\n \"value\": }";
    assert_int_equal(vg_parser_parse(ps, msg, strlen(msg), 1, &o, &b, &err), VG_EPARSE);
    assert_string_equal(err.where, "metrics/3@42:2:11");
    assert_string_equal(vg_parser_last_reason(ps), "json");
    msg = "{\"series\":\"a\",\"value\":4}";
    assert_int_equal(vg_parser_parse(ps, msg, strlen(msg), 1700000000000, &o, &b, &err), 1);
    assert_string_equal(b.points[0].origin.source, "metrics");
    assert_int_equal(b.points[0].origin.partition, 3);
    assert_int_equal(b.points[0].origin.offset, 42);
    vg_batch_release(&b);
    vg_parser_free(ps);
}

/* Builds an array of n points; returns its length. */
static size_t big_message(char *buf, size_t cap, size_t n)
{
    size_t len = 0;
    buf[len++] = '[';
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(buf + len, cap - len, "%s{\"series\":\"s%zu\",\"ts\":%zu,\"value\":%zu}",
                                i ? "," : "", i % 1000, 1700000000 + i, i);
    buf[len++] = ']';
    return len;
}

static void one_mebibyte_message(void **state)
{
    (void)state;
    size_t cap = 4u << 20;
    char *buf = malloc(cap);
    assert_non_null(buf);
    size_t n = 1;
    while (big_message(buf, cap, n) <= (1u << 20))
        n *= 2;
    size_t len = big_message(buf, cap, n);
    vg_batch b;
    vg_batch_init(&b);
    vg_error err;
    vg_parser *ps = test_parser("{}");  /* max_bytes defaults to 1 MiB */
    assert_int_equal(vg_parser_parse(ps, buf, len, -1, NULL, &b, &err), VG_EPARSE);
    assert_string_equal(vg_parser_last_reason(ps), "too_large");
    assert_int_equal(b.n, 0);
    vg_parser_free(ps);
    ps = test_parser("{\"max_bytes\":4194304}");
    assert_int_equal(vg_parser_parse(ps, buf, len, -1, NULL, &b, &err), (int)n);
    char key[32];
    snprintf(key, sizeof(key), "s%zu", (n - 1) % 1000);
    test_point(&b, n - 1, key, (int64_t)(1700000000 + n - 1) * 1000, (double)(n - 1));
    vg_batch_release(&b);
    vg_parser_free(ps);
    free(buf);
}

/* Messages the fast scanner takes and messages it hands to jansson (escapes,
 * UTF-8, duplicate keys, deep nesting, syntax errors): same results. */
static void fast_scanner_agrees_with_jansson(void **state)
{
    (void)state;
    static const char *const msgs[] = {
        "{\"series\":\"cpu\",\"labels\":{\"host\":\"a\"},\"ts\":1700000000000,\"value\":0.5}",
        " [ {\"series\":\"a\",\"ts\":1.7e9,\"value\":-0} ,{\"series\":\"b\",\"value\":1E-3}]\n",
        "{\"series\":\"cpu\",\"labels\":{\"host\":\"a\\\"b\\u00e9\"},\"value\":2}",
        "{\"series\":\"caf\xc3\xa9\",\"value\":3}",
        "{\"series\":\"a\",\"value\":1,\"value\":2}",
        "{\"series\":\"a\",\"value\":1,\"x\":{\"y\":{\"z\":[1,{\"w\":2}]}}}",
        "{\"series\":\"a\",\"value\":01}",
        "{\"series\":\"a\",\"value\":9223372036854775808}",
        "{\"series\":\"a\",\"value\":-9223372036854775808,\"ts\":\"1700000000\"}",
        "{\"ts\":1700000000,\"host\":\"h\",\"a\":1,\"b\":true,\"c\":null,\"d\":[1],\"e\":2.5}",
        "{\"series\":\"a\",\"value\":1} x",
        "{\"series\":\"a\",\"value\":tru}",
        "{\"series\":\"a\",\"labels\":{\"k\":1},\"value\":1}",
        "[]", "{}", "[[]]", "\"str\"",
    };
    vg_parser *fast = test_parser("{}");
    vg_parser *tree = test_parser("{\"json_fast\":false}");
    vg_batch a, b;
    vg_batch_init(&a);
    vg_batch_init(&b);
    vg_error ea, eb;
    for (size_t i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++) {
        int ra = test_parse(fast, msgs[i], 1700000000001, &a, &ea);
        int rb = test_parse(tree, msgs[i], 1700000000001, &b, &eb);
        assert_int_equal(ra, rb);
        assert_int_equal(a.n, b.n);
        if (ra < 0) {
            assert_string_equal(vg_parser_last_reason(fast), vg_parser_last_reason(tree));
            assert_string_equal(ea.msg, eb.msg);
        }
        for (size_t k = 0; k < a.n; k++)
            test_point(&b, k, vg_batch_key(&a, &a.points[k]), a.points[k].ts_ms,
                       a.points[k].value);
    }
    /* Escapes and duplicates, exactly: jansson keeps the last duplicate. */
    assert_int_equal(test_parse(fast, msgs[2], 1, &a, &ea), 1);
    assert_string_equal(vg_batch_key(&a, &a.points[0]), "cpu{host=\"a\\\"b\xc3\xa9\"}");
    assert_int_equal(test_parse(fast, msgs[4], 1, &a, &ea), 1);
    assert_double_near(a.points[0].value, 2, 0);
    vg_batch_release(&a);
    vg_batch_release(&b);
    vg_parser_free(fast);
    vg_parser_free(tree);
}

/* The Prometheus Kafka adapter's JSON: RFC 3339 time, string value,
 * __name__ among the labels. */
static void prometheus_kafka_adapter(void **state)
{
    (void)state;
    vg_parser *ps = test_parser("{\"format\":\"json\",\"series_field\":\"name\","
                                "\"ts_field\":\"timestamp\"}");
    vg_batch b;
    vg_batch_init(&b);
    vg_error err;
    assert_int_equal(test_parse_fixture(ps, "prometheus-kafka-adapter.json", -1, &b, &err), 1);
    test_point(&b, 0, "up{label1=\"value1\",label2=\"value2\"}", 0, 9876543210.0);
    assert_int_equal(test_parse(ps, "{\"timestamp\":\"2023-11-14T23:13:20.250+01:00\","
                                    "\"value\":\"1\",\"labels\":{\"__name__\":\"up\"}}",
                                -1, &b, &err), 1);
    test_point(&b, 0, "up", 1700000000250, 1);
    vg_parser_free(ps);
    /* Default field names: the series is named by __name__. */
    ps = test_parser("{\"format\":\"json\"}");
    assert_int_equal(test_parse_fixture(ps, "prometheus-kafka-adapter.json", 1700000000000, &b,
                                        &err), 1);
    test_point(&b, 0, "up{label1=\"value1\",label2=\"value2\"}", 1700000000000, 9876543210.0);
    vg_batch_release(&b);
    vg_parser_free(ps);
}

static void corpus(void **state)
{
    (void)state;
    assert_true(test_walk_corpus("json", "{\"format\":\"json\"}") >= 20);
    assert_true(test_walk_corpus("json", "{\"format\":\"json\",\"json_fast\":false}") >= 20);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(format_registry),
        cmocka_unit_test(foreign_keys_are_refused),
        cmocka_unit_test(bad_config_is_refused),
        cmocka_unit_test(empty_payloads),
        cmocka_unit_test(one_point_with_labels),
        cmocka_unit_test(timestamps_by_magnitude_and_unit),
        cmocka_unit_test(array_and_wide_objects),
        cmocka_unit_test(errors_say_where_and_keep_origin),
        cmocka_unit_test(one_mebibyte_message),
        cmocka_unit_test(fast_scanner_agrees_with_jansson),
        cmocka_unit_test(prometheus_kafka_adapter),
        cmocka_unit_test(corpus),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
