/* Unit tests of the collectd JSON and Command parsers: exact points for
 * small messages, and the real collectd 5.12 captures in
 * tests/fixtures/collectd (every message parses, one series per collectd
 * value, the same names from JSON and Command, and raw counters turned into
 * rates that match collectd's own StoreRates output), plus the corpus. */
#include <math.h>

#include "tests/unit/parse_corpus.h"

static const char *const IF_OCTETS =
    "[{\"values\":[1000,null],\"dstypes\":[\"derive\",\"derive\"],\"dsnames\":[\"rx\",\"tx\"],"
    "\"time\":1795284041.608,\"interval\":1.000,\"host\":\"h\",\"plugin\":\"interface\","
    "\"plugin_instance\":\"eth0\",\"type\":\"if_octets\",\"type_instance\":\"\"},"
    "{\"values\":[12.5],\"dstypes\":[\"gauge\"],\"dsnames\":[\"value\"],\"time\":1795284041.5,"
    "\"interval\":1.000,\"host\":\"h\",\"plugin\":\"cpu\",\"plugin_instance\":\"0\","
    "\"type\":\"percent\",\"type_instance\":\"idle\"}]";

static void json_names_and_nulls(void **state)
{
    (void)state;
    vg_parser *ps = test_parser("{\"format\":\"collectd-json\"}");
    vg_batch b;
    vg_batch_init(&b);
    vg_error err;
    assert_int_equal(test_parse(ps, IF_OCTETS, -1, &b, &err), 2);
    test_point(&b, 0, "collectd_interface_if_octets_rx{host=\"h\",plugin_instance=\"eth0\"}",
               1795284041608, 1000);
    test_point(&b, 1, "collectd_cpu_percent{host=\"h\",plugin_instance=\"0\",type_instance=\"idle\"}",
               1795284041500, 12.5);
    vg_batch_release(&b);
    vg_parser_free(ps);
}

static void raw_counters_become_rates(void **state)
{
    (void)state;
    vg_parser *ps = test_parser("{\"format\":\"collectd-json\",\"counters\":\"raw\"}");
    vg_batch b;
    vg_batch_init(&b);
    vg_error err;
    const char *abs = "{\"values\":[30],\"dstypes\":[\"absolute\"],\"dsnames\":[\"value\"],"
                      "\"time\":1795284041,\"interval\":10,\"host\":\"h\",\"plugin\":\"p\","
                      "\"type\":\"t\"}";
    assert_int_equal(test_parse(ps, abs, -1, &b, &err), 1);
    test_point(&b, 0, "collectd_p_t{host=\"h\"}", 1795284041000, 3);  /* 30 per 10 s */
    vg_parser_free(ps);

    ps = test_parser("{\"format\":\"collectd-command\"}");  /* counters auto: raw */
    assert_int_equal(test_parse(ps, "PUTVAL \"h/cpu-0/cpu-idle\" interval=1.000 1795284041.608:100",
                                -1, &b, &err), 0);
    assert_int_equal(test_parse(ps, "PUTVAL h/cpu-0/cpu-idle interval=1.000 1795284043.608:150",
                                -1, &b, &err), 1);
    test_point(&b, 0, "collectd_cpu_cpu{host=\"h\",plugin_instance=\"0\",type_instance=\"idle\"}",
               1795284043608, 25);
    /* A reset gives nothing, then rates resume from the new value. */
    assert_int_equal(test_parse(ps, "PUTVAL h/cpu-0/cpu-idle interval=1 1795284044.608:3", -1, &b,
                                &err), 0);
    assert_int_equal(test_parse(ps, "PUTVAL h/cpu-0/cpu-idle interval=1 1795284045.608:13", -1,
                                &b, &err), 1);
    assert_double_near(b.points[0].value, 10, 1e-9);
    /* Gauges pass through; several value sets in one PUTVAL; N is now. */
    assert_int_equal(test_parse(ps, "PUTVAL h/load/load interval=1 1795284041:1:2:3 N:4:5:6",
                                1795284042250, &b, &err), 6);
    test_point(&b, 0, "collectd_load_load_shortterm{host=\"h\"}", 1795284041000, 1);
    test_point(&b, 4, "collectd_load_load_midterm{host=\"h\"}", 1795284042250, 5);
    /* Unknown multi-value types are named by index. */
    assert_int_equal(test_parse(ps, "PUTVAL h/p-i/mytype-x 1795284041:1:2", -1, &b, &err), 2);
    test_point(&b, 1, "collectd_p_mytype_1{host=\"h\",plugin_instance=\"i\",type_instance=\"x\"}",
               1795284041000, 2);
    vg_batch_release(&b);
    vg_parser_free(ps);
}

/* A parsed fixture: every point of every message. */
typedef struct parsed {
    vg_batch b;
    size_t   messages, values, nulls;
} parsed;

/* Parses each line of a fixture as one message; every one must succeed. */
static void parse_fixture(const char *file, const char *config, parsed *out)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/collectd/%s", VG_TEST_FIXTURES, file);
    size_t len;
    char *text = vg_test_read_file(path, &len);
    assert_non_null(text);
    vg_parser *ps = test_parser(config);
    vg_batch_init(&out->b);
    out->messages = 0;
    for (char *save = NULL, *l = strtok_r(text, "\n", &save); l != NULL;
         l = strtok_r(NULL, "\n", &save)) {
        vg_error err = {0};
        int rc = vg_parser_parse(ps, l, strlen(l), -1, NULL, &out->b, &err);
        if (rc < 0)
            print_error("%s message %zu: %s %s\n", file, out->messages + 1, err.where, err.msg);
        assert_true(rc >= 0);
        out->messages++;
    }
    assert_int_equal(out->messages, 340);
    vg_parser_free(ps);
    free(text);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The sorted distinct keys of pd (new array of borrowed strings). */
static const char **distinct(const parsed *pd, size_t *n)
{
    const char **keys = malloc(pd->b.n * sizeof(*keys));
    assert_non_null(keys);
    for (size_t i = 0; i < pd->b.n; i++)
        keys[i] = vg_batch_key(&pd->b, &pd->b.points[i]);
    qsort(keys, pd->b.n, sizeof(*keys), cmp_str);
    *n = 0;
    for (size_t i = 0; i < pd->b.n; i++)
        if (*n == 0 || strcmp(keys[*n - 1], keys[i]) != 0)
            keys[(*n)++] = keys[i];
    return keys;
}

/* Counts the collectd values of a JSON fixture independently of the parser:
 * distinct host/plugin/plugin_instance/type/type_instance/dsname. */
static size_t collectd_values(const char *file, size_t *values, size_t *nulls)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/collectd/%s", VG_TEST_FIXTURES, file);
    char *text = vg_test_read_file(path, NULL);
    assert_non_null(text);
    json_t *seen = json_object();
    *values = *nulls = 0;
    for (char *save = NULL, *l = strtok_r(text, "\n", &save); l != NULL;
         l = strtok_r(NULL, "\n", &save)) {
        json_t *msg = json_loads(l, 0, NULL);
        assert_non_null(msg);
        json_t *vl = json_array_get(msg, 0);
        json_t *vals = json_object_get(vl, "values");
        for (size_t i = 0; i < json_array_size(vals); i++) {
            char id[512];
            snprintf(id, sizeof(id), "%s/%s/%s/%s/%s/%s",
                     json_string_value(json_object_get(vl, "host")),
                     json_string_value(json_object_get(vl, "plugin")),
                     json_string_value(json_object_get(vl, "plugin_instance")),
                     json_string_value(json_object_get(vl, "type")),
                     json_string_value(json_object_get(vl, "type_instance")),
                     json_string_value(json_array_get(json_object_get(vl, "dsnames"), i)));
            json_object_set_new(seen, id, json_true());
            (*values)++;
            *nulls += json_is_null(json_array_get(vals, i));
        }
        json_decref(msg);
    }
    size_t n = json_object_size(seen);
    json_decref(seen);
    free(text);
    return n;
}

static void every_sample_message_parses(void **state)
{
    (void)state;
    size_t values, nulls, nkeys;
    size_t ids = collectd_values("json.ndjson", &values, &nulls);
    assert_int_equal(ids, 44);
    assert_true(nulls > 0);

    parsed js;
    parse_fixture("json.ndjson", "{\"format\":\"collectd-json\"}", &js);
    assert_int_equal(js.b.n, values - nulls);  /* nulls skipped, nothing else lost */
    const char **keys = distinct(&js, &nkeys);
    assert_int_equal(nkeys, ids);
    free(keys);

    parsed cmd;
    parse_fixture("command.txt", "{\"format\":\"collectd-command\"}", &cmd);
    const char **ckeys = distinct(&cmd, &nkeys);
    assert_int_equal(nkeys, ids);
    keys = distinct(&js, &nkeys);
    for (size_t i = 0; i < nkeys; i++)  /* JSON and Command name series alike */
        assert_string_equal(keys[i], ckeys[i]);
    free(keys);
    free(ckeys);
    vg_batch_release(&js.b);
    vg_batch_release(&cmd.b);
}

/* Checks each point of raw that has a twin (same key and time) in rates:
 * equal within 0.5% (collectd prints times to the ms, so dt is off by up to
 * 1 ms in 1 s) or 0.01 absolute. Returns the number of twins. */
static size_t compare_rates(const parsed *raw, const parsed *rates)
{
    size_t twins = 0;
    for (size_t i = 0; i < raw->b.n; i++) {
        const vg_point *p = &raw->b.points[i];
        const char *key = vg_batch_key(&raw->b, p);
        for (size_t j = 0; j < rates->b.n; j++) {
            const vg_point *q = &rates->b.points[j];
            if (q->ts_ms != p->ts_ms || strcmp(key, vg_batch_key(&rates->b, q)) != 0)
                continue;
            assert_double_near(p->value, q->value, 0.01 + 0.005 * fabs(q->value));
            twins++;
        }
    }
    return twins;
}

static void raw_counters_match_store_rates(void **state)
{
    (void)state;
    parsed rates, raw, cmd;
    parse_fixture("json.ndjson", "{\"format\":\"collectd-json\"}", &rates);
    parse_fixture("json-raw.ndjson", "{\"format\":\"collectd-json\",\"counters\":\"raw\"}", &raw);
    parse_fixture("command.txt", "{\"format\":\"collectd-command\"}", &cmd);
    /* Both give one point per value but the first of each DERIVE series. */
    assert_int_equal(raw.b.n, rates.b.n);
    assert_int_equal(cmd.b.n, rates.b.n);
    /* The fast scanner reads the real messages as jansson does. */
    parsed tree;
    parse_fixture("json-raw.ndjson", "{\"format\":\"collectd-json\",\"counters\":\"raw\","
                  "\"json_fast\":false}", &tree);
    assert_int_equal(tree.b.n, raw.b.n);
    for (size_t i = 0; i < raw.b.n; i++)
        test_point(&tree.b, i, vg_batch_key(&raw.b, &raw.b.points[i]), raw.b.points[i].ts_ms,
                   raw.b.points[i].value);
    vg_batch_release(&tree.b);
    /* Every point has its twin: 12 gauge + 32 derive values per round. */
    assert_int_equal(compare_rates(&raw, &rates), raw.b.n);
    assert_int_equal(compare_rates(&cmd, &rates), cmd.b.n);
    vg_batch_release(&rates.b);
    vg_batch_release(&raw.b);
    vg_batch_release(&cmd.b);
}

static void corpus(void **state)
{
    (void)state;
    assert_true(test_walk_corpus("collectd", "{\"format\":\"collectd-json\"}") >= 25);
    assert_true(test_walk_corpus("collectd", "{\"format\":\"collectd-json\",\"json_fast\":false}") >= 25);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(json_names_and_nulls),
        cmocka_unit_test(raw_counters_become_rates),
        cmocka_unit_test(every_sample_message_parses),
        cmocka_unit_test(raw_counters_match_store_rates),
        cmocka_unit_test(corpus),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
