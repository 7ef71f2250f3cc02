/* Unit tests for config documents and table-driven validation (core/config_table.c). */
#include "tests/unit/helpers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/config_table.h"

typedef struct params {
    int64_t  window;
    uint32_t period;
    double   alpha;
    int      robust;
    char     label[8];
    int      combine;
} params;

static const vg_conf_field fields[] = {
    {"window", VG_CONF_INT, offsetof(params, window), 256, 8, 65536, NULL, "values kept"},
    {"period", VG_CONF_UINT32, offsetof(params, period), 0, 0, 100000, NULL, "season length"},
    {"alpha", VG_CONF_DOUBLE, offsetof(params, alpha), 0.5, 0, 1, NULL, "smoothing"},
    {"robust", VG_CONF_BOOL, offsetof(params, robust), 0, 0, 0, NULL, "median and MAD"},
    {"label", VG_CONF_STRING, offsetof(params, label), 0, 0, 8, "zs", "a short name"},
    {"combine", VG_CONF_ENUM, offsetof(params, combine), 1, 0, 0, "max|mean|vote", "how"},
};

static const char *const good_text =
    "{\n"
    "  \"detectors\": {\n"
    "    \"zscore\": {\n"
    "      \"window\": 512,\n"
    "      \"period\": 1440,\n"
    "      \"alpha\": 0.25,\n"
    "      \"robust\": true,\n"
    "      \"label\": \"z7\",\n"
    "      \"combine\": \"vote\"\n"
    "    }\n"
    "  },\n"
    "  \"outputs\": [ {\"type\": \"log\"},\n"
    "               {\"type\": \"kafka\"} ]\n"
    "}\n";

static const json_t *zscore_of(const vg_conf_doc *doc)
{
    return json_object_get(json_object_get(vg_conf_doc_root(doc), "detectors"), "zscore");
}

/* Applies `member` (JSON text) as the one member of detectors.zscore. */
static int apply_one(const char *member, params *p, vg_error *err)
{
    char text[512];
    snprintf(text, sizeof(text), "{\"detectors\": {\"zscore\": {%s}}}", member);
    vg_conf_doc *doc = vg_conf_doc_load_string(text, "t.json", err);
    assert_non_null(doc);
    vg_error_clear(err);
    int rc = vg_conf_apply(doc, zscore_of(doc), "detectors.zscore", fields,
                           VG_CONF_COUNT(fields), NULL, p, err);
    vg_conf_doc_free(doc);
    return rc;
}

static char *write_temp(const char *text, char *path, size_t cap)
{
    snprintf(path, cap, "/tmp/vg_test_conf_XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

static void good_file(void **state)
{
    (void)state;
    char path[64];
    write_temp(good_text, path, sizeof(path));
    vg_error err;
    vg_conf_doc *doc = vg_conf_doc_load_file(path, &err);
    unlink(path);
    assert_non_null(doc);
    params p;
    memset(&p, 0xAB, sizeof(p));
    assert_int_equal(vg_conf_apply(doc, zscore_of(doc), "detectors.zscore", fields,
                                   VG_CONF_COUNT(fields), NULL, &p, &err), 0);
    assert_int_equal(p.window, 512);
    assert_int_equal(p.period, 1440);
    assert_double_near(p.alpha, 0.25, 0.0);
    assert_int_equal(p.robust, 1);
    assert_string_equal(p.label, "z7");
    assert_int_equal(p.combine, 2);

    /* positions of keys and array elements, 1-based, from the file */
    char where[64];
    vg_conf_where(doc, zscore_of(doc), "label", 0, where, sizeof(where));
    char want[96];
    snprintf(want, sizeof(want), "%s:8:7", path);
    assert_string_equal(where, want);
    const json_t *outputs = json_object_get(vg_conf_doc_root(doc), "outputs");
    vg_conf_where(doc, outputs, NULL, 1, where, sizeof(where));
    snprintf(want, sizeof(want), "%s:13:16", path);
    assert_string_equal(where, want);
    vg_conf_where(doc, vg_conf_doc_root(doc), "outputs", 0, where, sizeof(where));
    snprintf(want, sizeof(want), "%s:12:3", path);
    assert_string_equal(where, want);
    /* unknown members fall back to the name; no doc to "config" */
    vg_conf_where(doc, outputs, NULL, 2, where, sizeof(where));
    assert_string_equal(where, path);
    vg_conf_where(doc, zscore_of(doc), "nope", 0, where, sizeof(where));
    assert_string_equal(where, path);
    vg_conf_where(NULL, outputs, NULL, 0, where, sizeof(where));
    assert_string_equal(where, "config");
    vg_conf_doc_free(doc);
    vg_conf_doc_free(NULL);
}

static void defaults_applied(void **state)
{
    (void)state;
    params p;
    memset(&p, 0xAB, sizeof(p));
    vg_error err;
    assert_int_equal(vg_conf_apply(NULL, NULL, "detectors.zscore", fields,
                                   VG_CONF_COUNT(fields), NULL, &p, &err), 0);
    assert_int_equal(p.window, 256);
    assert_int_equal(p.period, 0);
    assert_double_near(p.alpha, 0.5, 0.0);
    assert_int_equal(p.robust, 0);
    assert_string_equal(p.label, "zs");
    assert_int_equal(p.combine, 1);

    /* keys not given keep their defaults */
    memset(&p, 0xAB, sizeof(p));
    assert_int_equal(apply_one("\"alpha\": 1", &p, &err), 0);
    assert_double_near(p.alpha, 1.0, 0.0);
    assert_int_equal(p.window, 256);
    assert_string_equal(p.label, "zs");
    assert_int_equal(p.combine, 1);
    /* integral reals are whole numbers; bounds are inclusive */
    assert_int_equal(apply_one("\"window\": 8.0, \"period\": 1e5", &p, &err), 0);
    assert_int_equal(p.window, 8);
    assert_int_equal(p.period, 100000);
    assert_int_equal(apply_one("\"label\": \"1234567\"", &p, &err), 0);
    assert_string_equal(p.label, "1234567");
}

static void expect_error(const char *member, const char *where, const char *msg)
{
    params p;
    vg_error err;
    assert_int_equal(apply_one(member, &p, &err), VG_ECONFIG);
    assert_int_equal(err.code, VG_ECONFIG);
    assert_string_equal(err.where, where);
    assert_string_equal(err.msg, msg);
}

static void every_error_class(void **state)
{
    (void)state;
    /* the member starts at column 27 of line 1 */
    expect_error("\"windw\": 1", "t.json:1:27",
                 "detectors.zscore.windw: unknown key \"windw\", did you mean \"window\"?");
    expect_error("\"colour\": 1", "t.json:1:27", "detectors.zscore.colour: unknown key \"colour\"");
    expect_error("\"window\": \"big\"", "t.json:1:27",
                 "detectors.zscore.window: must be a number");
    expect_error("\"window\": 4", "t.json:1:27",
                 "detectors.zscore.window: must be between 8 and 65536");
    expect_error("\"window\": 70000", "t.json:1:27",
                 "detectors.zscore.window: must be between 8 and 65536");
    expect_error("\"window\": 16.5", "t.json:1:27",
                 "detectors.zscore.window: must be a whole number");
    expect_error("\"period\": -1", "t.json:1:27",
                 "detectors.zscore.period: must be between 0 and 100000");
    expect_error("\"period\": 2.5", "t.json:1:27",
                 "detectors.zscore.period: must be a whole number");
    expect_error("\"alpha\": 1.5", "t.json:1:27",
                 "detectors.zscore.alpha: must be between 0 and 1");
    expect_error("\"alpha\": null", "t.json:1:27", "detectors.zscore.alpha: must be a number");
    expect_error("\"robust\": 1", "t.json:1:27",
                 "detectors.zscore.robust: must be a boolean (true or false)");
    expect_error("\"label\": 5", "t.json:1:27", "detectors.zscore.label: must be a string");
    expect_error("\"label\": \"12345678\"", "t.json:1:27",
                 "detectors.zscore.label: must be at most 7 bytes long");
    expect_error("\"combine\": \"median\"", "t.json:1:27",
                 "detectors.zscore.combine: must be one of max|mean|vote");
    expect_error("\"combine\": 1", "t.json:1:27",
                 "detectors.zscore.combine: must be one of max|mean|vote");
    /* the first bad member in text order is the one reported */
    expect_error("\"alpha\": 0.1, \"robust\": false, \"window\": 2", "t.json:1:58",
                 "detectors.zscore.window: must be between 8 and 65536");
}

static void not_an_object(void **state)
{
    (void)state;
    vg_error err;
    vg_conf_doc *doc = vg_conf_doc_load_string("{\"detectors\":\n  {\"zscore\": [1, 2]}}",
                                               "t.json", &err);
    assert_non_null(doc);
    params p;
    assert_int_equal(vg_conf_apply(doc, zscore_of(doc), "detectors.zscore", fields,
                                   VG_CONF_COUNT(fields), NULL, &p, &err), VG_ECONFIG);
    assert_string_equal(err.where, "t.json:2:4");
    assert_string_equal(err.msg, "detectors.zscore: must be an object");
    vg_conf_doc_free(doc);
}

static void also_allowed_keys(void **state)
{
    (void)state;
    static const char *const others[] = {"brokers", "topics", NULL};
    vg_error err;
    vg_conf_doc *doc = vg_conf_doc_load_string(
        "{\"window\": 64, \"brokers\": \"embedded\", \"topics\": [\"m\"]}", "c.json", &err);
    assert_non_null(doc);
    params p;
    assert_int_equal(vg_conf_apply(doc, vg_conf_doc_root(doc), "", fields,
                                   VG_CONF_COUNT(fields), others, &p, &err), 0);
    assert_int_equal(p.window, 64);
    /* without the list they are unknown; top level keys have no prefix */
    assert_int_equal(vg_conf_apply(doc, vg_conf_doc_root(doc), NULL, fields,
                                   VG_CONF_COUNT(fields), NULL, &p, &err), VG_ECONFIG);
    assert_string_equal(err.where, "c.json:1:16");
    assert_string_equal(err.msg, "brokers: unknown key \"brokers\"");
    vg_conf_doc_free(doc);

    /* a near miss of an also-allowed key is suggested too */
    doc = vg_conf_doc_load_string("{\"topis\": 1}", "c.json", &err);
    assert_int_equal(vg_conf_apply(doc, vg_conf_doc_root(doc), NULL, fields,
                                   VG_CONF_COUNT(fields), others, &p, &err), VG_ECONFIG);
    assert_string_equal(err.msg, "topis: unknown key \"topis\", did you mean \"topics\"?");
    vg_conf_doc_free(doc);
}

static void nested_positions(void **state)
{
    (void)state;
    /* multi-byte characters count as one column; escaped keys still match;
     * tabs and CRLF are plain characters */
    const char *text =
        "{\"\xc3\xa9t\xc3\xa9\": 1, \"a\\\"b\": [10,\r\n"
        "\t[ 20 , {\"deep\":\n"
        "     {\"window\" : 3}}]],\n"
        "  \"x\": {}}";
    vg_error err;
    vg_conf_doc *doc = vg_conf_doc_load_string(text, "n.json", &err);
    assert_non_null(doc);
    json_t *root = vg_conf_doc_root(doc);
    char where[64];
    vg_conf_where(doc, root, "\xc3\xa9t\xc3\xa9", 0, where, sizeof(where));
    assert_string_equal(where, "n.json:1:2");
    vg_conf_where(doc, root, "a\"b", 0, where, sizeof(where));
    assert_string_equal(where, "n.json:1:12");
    json_t *arr = json_object_get(root, "a\"b");
    vg_conf_where(doc, arr, NULL, 0, where, sizeof(where));
    assert_string_equal(where, "n.json:1:21");
    vg_conf_where(doc, arr, NULL, 1, where, sizeof(where));
    assert_string_equal(where, "n.json:2:2");
    json_t *inner = json_array_get(arr, 1);
    vg_conf_where(doc, inner, NULL, 0, where, sizeof(where));
    assert_string_equal(where, "n.json:2:4");
    vg_conf_where(doc, inner, NULL, 1, where, sizeof(where));
    assert_string_equal(where, "n.json:2:9");
    json_t *deep_parent = json_array_get(inner, 1);
    vg_conf_where(doc, deep_parent, "deep", 0, where, sizeof(where));
    assert_string_equal(where, "n.json:2:10");
    json_t *deep = json_object_get(deep_parent, "deep");
    vg_conf_where(doc, root, "x", 0, where, sizeof(where));
    assert_string_equal(where, "n.json:4:3");

    params p;
    assert_int_equal(vg_conf_apply(doc, deep, "a.deep", fields, VG_CONF_COUNT(fields), NULL,
                                   &p, &err), VG_ECONFIG);
    assert_string_equal(err.where, "n.json:3:7");
    assert_string_equal(err.msg, "a.deep.window: must be between 8 and 65536");
    vg_conf_doc_free(doc);
}

static void parse_errors(void **state)
{
    (void)state;
    vg_error err;
    const char *text = "{\n  \"a\": 1,\n  \"b\": x\n}";
    assert_null(vg_conf_doc_load_string(text, "bad.json", &err));
    assert_int_equal(err.code, VG_ECONFIG);
    assert_string_equal(err.where, "bad.json:3:8");  /* the x */
    assert_non_null(strstr(err.msg, "invalid token"));

    /* duplicates are rejected, at the second key */
    assert_null(vg_conf_doc_load_string("{\"a\": 1,\n \"a\": 2}", "dup.json", &err));
    assert_int_equal(err.code, VG_ECONFIG);
    assert_string_equal(err.where, "dup.json:2:4");
    assert_non_null(strstr(err.msg, "duplicate"));
    assert_null(vg_conf_doc_load_string("{\"o\": {\"k\": 1, \"k\": 1}}", "dup.json", &err));
    assert_non_null(strstr(err.msg, "duplicate"));

    assert_null(vg_conf_doc_load_string("", NULL, &err));
    assert_int_equal(err.code, VG_ECONFIG);
    assert_string_equal(err.where, "<inline>:1:0");

    /* a file: missing, and with a NUL byte */
    assert_null(vg_conf_doc_load_file("/nonexistent/vigil.json", &err));
    assert_int_equal(err.code, VG_EIO);
    assert_string_equal(err.where, "/nonexistent/vigil.json");
    char path[64];
    write_temp("{\"a\": 1}", path, sizeof(path));
    FILE *f = fopen(path, "ab");
    fputc('\0', f);
    fclose(f);
    assert_null(vg_conf_doc_load_file(path, &err));
    unlink(path);
    assert_int_equal(err.code, VG_ECONFIG);
}

static void long_names_keep_line_and_column(void **state)
{
    (void)state;
    char name[200];
    memset(name, 'd', sizeof(name) - 1);
    name[sizeof(name) - 1] = '\0';
    memcpy(name + sizeof(name) - 12, "/vigil.json", 11);
    vg_error err;
    assert_null(vg_conf_doc_load_string("{\n\n  \"a\" 1}", name, &err));
    size_t n = strlen(err.where);
    assert_true(n < sizeof(err.where));
    assert_memory_equal(err.where, "...", 3);
    assert_string_equal(err.where + n - strlen("/vigil.json:3:7"), "/vigil.json:3:7");
}

/* Object and array fields borrow the sub-value and check only its type. */
static void object_and_array_fields(void **state)
{
    (void)state;
    typedef struct sections {
        const json_t *input, *topics;
    } sections;
    static const vg_conf_field tbl[] = {
        {"input", VG_CONF_OBJECT, offsetof(sections, input), 0, 0, 0, NULL, "in"},
        {"topics", VG_CONF_ARRAY, offsetof(sections, topics), 0, 0, 0, NULL, "list"},
    };
    vg_error err = {0};
    vg_conf_doc *doc = vg_conf_doc_load_string("{\"input\": {\"a\": 1},\n \"topics\": [1]}",
                                               "s.json", &err);
    assert_non_null(doc);
    sections sc;
    assert_int_equal(vg_conf_apply(doc, vg_conf_doc_root(doc), "", tbl, 2, NULL, &sc, &err),
                     VG_OK);
    assert_ptr_equal(sc.input, json_object_get(vg_conf_doc_root(doc), "input"));
    assert_int_equal(json_array_size(sc.topics), 1);
    vg_conf_doc_free(doc);
    assert_int_equal(vg_conf_apply(NULL, NULL, "", tbl, 2, NULL, &sc, &err), VG_OK);
    assert_null(sc.input);  /* absent: NULL */
    assert_null(sc.topics);

    doc = vg_conf_doc_load_string("{\"input\": [],\n \"topics\": {}}", "s.json", &err);
    assert_non_null(doc);
    assert_int_equal(vg_conf_apply(doc, vg_conf_doc_root(doc), "", tbl, 2, NULL, &sc, &err),
                     VG_ECONFIG);
    assert_string_equal(err.where, "s.json:1:2");
    assert_string_equal(err.msg, "input: must be an object");
    vg_conf_doc_free(doc);
    doc = vg_conf_doc_load_string("{\"topics\": {}}", "s.json", &err);
    assert_non_null(doc);
    assert_int_equal(vg_conf_apply(doc, vg_conf_doc_root(doc), "", tbl, 2, NULL, &sc, &err),
                     VG_ECONFIG);
    assert_string_equal(err.msg, "topics: must be an array");
    vg_conf_doc_free(doc);

    char buf[512] = "";
    FILE *out = fmemopen(buf, sizeof(buf), "w");
    vg_conf_describe(tbl, 2, "x", out);
    fclose(out);
    assert_non_null(strstr(buf, "x.input"));
    assert_non_null(strstr(buf, "object"));
    assert_non_null(strstr(buf, "array"));
}

static void describe_table(void **state)
{
    (void)state;
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    vg_conf_describe(fields, VG_CONF_COUNT(fields), "detectors.zscore", out);
    fclose(out);
    int lines = 0;
    for (size_t i = 0; i < len; i++)
        lines += buf[i] == '\n';
    assert_int_equal(lines, 6);
    const char *want[] = {
        "detectors.zscore.window", "integer", "256", "8..65536", "values kept",
        "detectors.zscore.alpha", "0.5", "0..1", "true|false", "\"zs\"", "< 8 bytes",
        "mean", "max|mean|vote",
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        if (strstr(buf, want[i]) == NULL)
            fail_msg("\"%s\" missing from:\n%s", want[i], buf);
    }
    free(buf);
}

/* A text field borrows the document's string whatever its length; absent
 * it is NULL; a non-string is refused. */
static void text_fields_borrow_the_string(void **state)
{
    (void)state;
    typedef struct {
        const char *note;
    } texts;
    static const vg_conf_field tbl[] = {
        {"note", VG_CONF_TEXT, offsetof(texts, note), 0, 0, 0, NULL, "free text"},
    };
    char long_note[400];
    memset(long_note, 'n', sizeof(long_note) - 1);
    long_note[sizeof(long_note) - 1] = '\0';
    char text[512];
    snprintf(text, sizeof(text), "{\"x\": {\"note\": \"%s\"}, \"y\": {}, \"z\": {\"note\": 1}}",
             long_note);
    vg_error err;
    vg_conf_doc *doc = vg_conf_doc_load_string(text, "t.json", &err);
    assert_non_null(doc);
    const json_t *root = vg_conf_doc_root(doc);
    texts t = {"stale"};
    assert_int_equal(vg_conf_apply(doc, json_object_get(root, "x"), "x", tbl, 1, NULL, &t, &err),
                     VG_OK);
    assert_string_equal(t.note, long_note);
    assert_ptr_equal(t.note, json_string_value(json_object_get(json_object_get(root, "x"), "note")));
    assert_int_equal(vg_conf_apply(doc, json_object_get(root, "y"), "y", tbl, 1, NULL, &t, &err),
                     VG_OK);
    assert_null(t.note);
    assert_int_equal(vg_conf_apply(doc, json_object_get(root, "z"), "z", tbl, 1, NULL, &t, &err),
                     VG_ECONFIG);
    assert_string_equal(err.msg, "z.note: must be a string");
    vg_conf_doc_free(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(good_file),
        cmocka_unit_test(defaults_applied),
        cmocka_unit_test(every_error_class),
        cmocka_unit_test(not_an_object),
        cmocka_unit_test(also_allowed_keys),
        cmocka_unit_test(nested_positions),
        cmocka_unit_test(parse_errors),
        cmocka_unit_test(long_names_keep_line_and_column),
        cmocka_unit_test(describe_table),
        cmocka_unit_test(object_and_array_fields),
        cmocka_unit_test(text_fields_borrow_the_string),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
