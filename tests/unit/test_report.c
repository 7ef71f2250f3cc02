/* The HTML report: what a small report holds (one chart per series, every
 * flagged point, incident spans, label windows, summary figures), that
 * bucketed drawing keeps every flagged point and each bucket's extremes,
 * escaping, errors, and byte-identical output for the same input. */
#include "tests/unit/helpers.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "src/report.h"

#define T0 1400000000000LL   /* 2014-05-13 16:53:20 UTC */
#define STEP 60000           /* one minute */
#define SHORT_N 30           /* file a.csv: drawn point by point */
#define LONG_N 1000          /* file b.csv: two series, bucketed */
#define BUCKETS 16

static const char *const names[] = {"zscore", "seasonal", "iforest"};

static const char labels_json[] =
    "{\"dir/a.csv\": [[1400000180000, 1400000360000], [1500000000000, 1500000060000]],"
    " \"dir/b.csv\": []}";

static vg_point_result result(double score, vg_alert_state event)
{
    vg_point_result r = {.score = score, .expected = 10.0, .lower = 9.0, .upper = 11.0,
                         .n_detectors = 3, .event = event};
    for (size_t d = 0; d < 3; d++) {
        r.raw[d] = score * (double)(d + 1) / 3.0;
        r.calibrated[d] = score;
    }
    return r;
}

/* a.csv: one series "a", flagged at 3, 12..14 and 27..29; an incident
 * from 13 to 16 and one still firing from 28. */
static int a_flagged(int i)
{
    return i == 3 || (i >= 12 && i <= 14) || i >= 27;
}

static void feed_a(vg_report *rep, const vg_labels *labels)
{
    assert_int_equal(vg_report_begin_file(rep, "dir/a.csv", labels), 0);
    for (int i = 0; i < SHORT_N; i++) {
        vg_alert_state ev = i == 13 || i == 28 ? VG_ALERT_FIRING
                          : i == 16 ? VG_ALERT_RESOLVED : VG_ALERT_NORMAL;
        vg_point_result r = result(a_flagged(i) ? 0.999999 : 0.5, ev);
        assert_int_equal(vg_report_add(rep, "a", 1, T0 + (int64_t)i * STEP,
                                       10.0 + sin(i * 0.3), &r), 0);
    }
}

/* b.csv: series "b1" and "b2" interleaved; b1 has a spike of 100 at 500
 * and is flagged every 37th point (several per bucket); b2 never. */
static size_t feed_b(vg_report *rep, const vg_labels *labels)
{
    size_t flagged = 0;
    uint64_t seed = 7;
    assert_int_equal(vg_report_begin_file(rep, "dir/b.csv", labels), 0);
    for (int i = 0; i < LONG_N; i++) {
        int64_t ts = T0 + (int64_t)i * STEP;
        int flag = i % 37 == 0;
        flagged += (size_t)flag;
        vg_point_result r1 = result(flag ? 0.9999999 : 0.1, VG_ALERT_NORMAL);
        vg_point_result r2 = result(0.2, VG_ALERT_NORMAL);
        double v = i == 500 ? 100.0 : vg_test_normal(&seed);
        assert_int_equal(vg_report_add(rep, "b1", 2, ts, v, &r1), 0);
        assert_int_equal(vg_report_add(rep, "b2", 2, ts, 5.0 + vg_test_normal(&seed), &r2), 0);
    }
    return flagged;
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(hay, needle); p != NULL; p = strstr(p + 1, needle))
        n++;
    return n;
}

/* The text of chart k's (0-based) section: from its <svg to the end of its
 * tooltip data. Returns a new string. */
static char *chart_text(const char *html, size_t k)
{
    const char *p = html;
    for (size_t i = 0; i <= k; i++) {
        p = strstr(p + 1, "<svg class=\"chart\"");
        assert_non_null(p);
    }
    const char *end = strstr(p, "</script>");
    assert_non_null(end);
    size_t len = (size_t)(end - p);
    char *s = malloc(len + 1);
    assert_non_null(s);
    memcpy(s, p, len);
    s[len] = '\0';
    return s;
}

typedef struct tips {
    size_t rows, flagged;
    int    sorted;
} tips;

/* Reads chart text's tooltip rows [dt, value, exp, lo, hi, score, flags, ...]. */
static tips read_tips(const char *chart)
{
    tips t = {0, 0, 1};
    const char *p = strstr(chart, "class=\"tip\">[");
    assert_non_null(p);
    p += strlen("class=\"tip\">[");
    long long prev = -1;
    while (*p == '[') {
        long long dt = strtoll(p + 1, NULL, 10);
        const char *f = p;
        for (int comma = 0; comma < 6; f++)
            comma += *f == ',';
        t.flagged += (strtol(f, NULL, 10) & 1) != 0;
        t.sorted &= dt >= prev;
        prev = dt;
        t.rows++;
        p = strchr(p, ']') + 1;
        if (*p == ',')
            p++;
    }
    return t;
}

static char *tmp_path(const char *tag)
{
    static char path[128];
    snprintf(path, sizeof(path), "/tmp/vg_test_report_%d_%s.html", (int)getpid(), tag);
    return path;
}

/* Writes the two-file report (with NAB figures when nab is non-NULL) and
 * returns the page. */
static char *build(const vg_labels *labels, vg_nab *nab, size_t *b_flagged, const char *tag)
{
    vg_error err;
    vg_report *rep = vg_report_new(names, 3, 0.9999, BUCKETS, &err);
    assert_non_null(rep);
    feed_a(rep, labels);
    size_t flagged = feed_b(rep, labels);
    if (b_flagged != NULL)
        *b_flagged = flagged;
    assert_int_equal(vg_report_end_file(rep), 0);
    if (nab != NULL)
        assert_int_equal(vg_report_set_nab(rep, nab, &err), 0);
    const char *path = tmp_path(tag);
    assert_int_equal(vg_report_write(rep, path, &err), 0);
    vg_report_free(rep);
    size_t len;
    char *html = vg_test_read_file(path, &len);
    assert_non_null(html);
    unlink(path);
    return html;
}

static void one_chart_per_series(void **state)
{
    (void)state;
    char *html = build(NULL, NULL, NULL, "charts");
    assert_int_equal(count(html, "<svg class=\"chart\""), 3);
    assert_int_equal(count(html, "<section class=\"file\""), 2);
    assert_non_null(strstr(html, "<h3>a</h3>"));
    assert_non_null(strstr(html, "<h3>b1</h3>"));
    assert_non_null(strstr(html, "<h3>b2</h3>"));
    assert_true(strstr(html, "<h3>b1</h3>") < strstr(html, "<h3>b2</h3>"));
    /* self-contained: no external resource */
    assert_null(strstr(html, "http://"));
    assert_null(strstr(html, "https://"));
    assert_null(strstr(html, " src="));
    assert_non_null(strstr(html, "data-vigil-ready"));
    free(html);
}

static void short_series_shows_every_point(void **state)
{
    (void)state;
    char *html = build(NULL, NULL, NULL, "short");
    char *a = chart_text(html, 0);
    size_t flagged = 0;
    for (int i = 0; i < SHORT_N; i++)
        flagged += (size_t)a_flagged(i);
    assert_int_equal(count(a, "class=\"fp\""), flagged);
    tips t = read_tips(a);
    assert_int_equal(t.rows, SHORT_N);
    assert_int_equal(t.flagged, flagged);
    assert_true(t.sorted);
    /* two incidents: 13..16 resolved, 28.. still firing at the end */
    assert_int_equal(count(a, "class=\"inc\""), 2);
    assert_int_equal(count(a, "class=\"incb\""), 2);
    /* the resolved one spans 3 of 29 minutes of 1500 units: 155.2 wide */
    assert_non_null(strstr(a, "width=\"155.2\""));
    assert_null(strstr(a, "class=\"lw\""));   /* no labels given */
    free(a);
    free(html);
}

static void bucketing_keeps_flagged_points_and_extremes(void **state)
{
    (void)state;
    size_t flagged;
    char *html = build(NULL, NULL, &flagged, "buckets");
    char *b1 = chart_text(html, 1);
    assert_true(flagged > BUCKETS);   /* several flagged points per bucket */
    assert_int_equal(count(b1, "class=\"fp\""), flagged);
    tips t = read_tips(b1);
    assert_int_equal(t.flagged, flagged);
    assert_true(t.sorted);
    assert_true(t.rows <= flagged + BUCKETS);
    assert_true(t.rows >= BUCKETS);
    /* the value line has at most two vertices per bucket... */
    const char *val = strstr(b1, "class=\"val\" d=\"");
    assert_non_null(val);
    const char *val_end = strchr(val + 15, '"');
    size_t vertices = 0;
    for (const char *p = val + 15; p < val_end; p++)
        vertices += *p == 'M' || *p == 'L' || *p == 'V';
    assert_true(vertices <= 2 * BUCKETS);
    assert_true(vertices >= BUCKETS);
    /* ...and keeps the spike: 100 is the top of the data, 5% below the
     * plot's top edge: y = 8 + 240 * 0.05 / 1.1 = 18.9 */
    char *spike = strstr(val, ",18.9");
    if (spike == NULL || spike > val_end)
        spike = strstr(val, "V18.9");
    assert_true(spike != NULL && spike < val_end);
    assert_int_equal(count(b1, "class=\"inc\""), 0);
    char *b2 = chart_text(html, 2);
    assert_int_equal(count(b2, "class=\"fp\""), 0);
    assert_int_equal(read_tips(b2).rows, BUCKETS);
    free(b2);
    free(b1);
    free(html);
}

/* The raw score at a NAB curve's first (highest) point. */
static void first_point(void *ctx, double threshold, double raw)
{
    double *first = ctx;
    (void)threshold;
    if (isnan(*first))
        *first = raw;
}

static void label_windows_and_summary(void **state)
{
    (void)state;
    vg_error err;
    vg_labels *labels = vg_labels_parse(labels_json, strlen(labels_json), "labels", &err);
    assert_non_null(labels);
    vg_nab *nab = vg_nab_new(&err);
    assert_non_null(nab);
    int64_t ts[SHORT_N];
    double score[SHORT_N];
    for (int i = 0; i < SHORT_N; i++) {
        ts[i] = T0 + (int64_t)i * STEP;
        score[i] = a_flagged(i) ? 0.999999 : 0.5;
    }
    const vg_label_window *w;
    size_t n_w;
    assert_int_equal(vg_labels_find(labels, "dir/a.csv", &w, &n_w), 0);
    assert_int_equal(vg_nab_add_file(nab, "dir/a.csv", ts, score, SHORT_N, w, n_w, &err), 0);
    char *html = build(labels, nab, NULL, "labels");
    /* the window inside a.csv's time range is drawn, the one in 2017 not */
    char *a = chart_text(html, 0);
    assert_int_equal(count(a, "class=\"lwd\""), 1);
    assert_int_equal(count(a, "class=\"lwdb\""), 1);
    assert_non_null(strstr(a, "data-detected=\"1\""));
    /* 3 of 29 minutes from x = 64 + 1500 * 3/29 */
    assert_non_null(strstr(a, "<rect class=\"lwd\" x=\"219.2\""));
    free(a);
    char *b1 = chart_text(html, 1);
    assert_null(strstr(b1, "class=\"lw\""));   /* labelled, no windows */
    free(b1);

    /* summary at the report's threshold, the charts' one: a.csv's window
     * in range holds flagged row 3 (detected, drawn dark); rows 12-14 and
     * 27-29 are two FP events. b.csv is labelled with no window: its runs
     * of flagged points are all FP events. */
    char row[512];
    /* a.csv's scores are 0.999999 or 0.5: at 0.9999 NAB counts the rows
     * of the curve's first point */
    double nab_a = NAN;
    assert_int_equal(vg_nab_file_curve(nab, 0, VG_NAB_STANDARD, first_point, &nab_a, &err), 0);
    snprintf(row, sizeof(row),
             "<a href=\"#f1\">a.csv</a></td><td>30</td><td>1</td><td>7</td><td>2</td>"
             "<td>1</td><td class=\"det\">1</td><td>2</td><td>0.333</td><td>1.000</td>"
             "<td>0.500</td><td>%.2f</td>", nab_a);
    assert_non_null(strstr(html, row));
    snprintf(row, sizeof(row), "<a href=\"#f2\">b.csv</a></td><td>2000</td><td>2</td>"
                               "<td>28</td><td>0</td><td>0</td><td class=\"det\">0</td><td>");
    assert_non_null(strstr(html, row));
    assert_non_null(strstr(html, "<td class=\"name\">total</td><td>2030</td><td>3</td>"
                                 "<td>35</td><td>2</td><td>1</td><td class=\"det\">1</td>"));
    assert_non_null(strstr(html, "<b class=\"thv\">0.9999</b>"));
    assert_non_null(strstr(html, "Files in dir/."));
    assert_non_null(strstr(html, "<th>precision</th>"));
    vg_nab_free(nab);
    vg_labels_free(labels);
    free(html);
}

static void without_labels_no_score_columns(void **state)
{
    (void)state;
    char *html = build(NULL, NULL, NULL, "nolabels");
    assert_null(strstr(html, "<th>precision</th>"));
    assert_non_null(strstr(html, "<td class=\"name\">total</td><td>2030</td><td>3</td>"
                                 "<td>35</td><td>2</td></tr>"));
    free(html);
}

static void same_input_same_bytes(void **state)
{
    (void)state;
    vg_error err;
    vg_labels *labels = vg_labels_parse(labels_json, strlen(labels_json), "labels", &err);
    assert_non_null(labels);
    char *a = build(labels, NULL, NULL, "det1");
    char *b = build(labels, NULL, NULL, "det2");
    assert_string_equal(a, b);
    free(a);
    free(b);
    vg_labels_free(labels);
}

static void keys_are_escaped(void **state)
{
    (void)state;
    vg_error err;
    vg_report *rep = vg_report_new(names, 3, 0.9, 0, &err);
    assert_non_null(rep);
    assert_int_equal(vg_report_begin_file(rep, "x<&>.csv", NULL), 0);
    const char key[] = "cpu{host=\"a<b\"}";
    vg_point_result r = result(0.95, VG_ALERT_FIRING);
    assert_int_equal(vg_report_add(rep, key, strlen(key), T0, 1.0, &r), 0);
    const char *path = tmp_path("escape");
    assert_int_equal(vg_report_write(rep, path, &err), 0);
    vg_report_free(rep);
    char *html = vg_test_read_file(path, NULL);
    assert_non_null(html);
    unlink(path);
    assert_non_null(strstr(html, "<h3>cpu{host=&quot;a&lt;b&quot;}</h3>"));
    assert_non_null(strstr(html, "x&lt;&amp;&gt;.csv"));
    assert_null(strstr(html, "a<b"));
    /* one point: one flagged marker, an incident still open, one tip row */
    char *c = chart_text(html, 0);
    assert_int_equal(count(c, "class=\"fp\""), 1);
    assert_int_equal(count(c, "class=\"inc\""), 1);
    assert_int_equal(read_tips(c).rows, 1);
    free(c);
    free(html);
}

static void errors(void **state)
{
    (void)state;
    vg_error err;
    const char *many[VG_MAX_DETECTORS + 1] = {0};
    assert_null(vg_report_new(many, VG_MAX_DETECTORS + 1, 0.9, 0, &err));
    assert_int_equal(err.code, VG_EARG);

    vg_report *rep = vg_report_new(names, 3, 0.9, 0, &err);
    assert_non_null(rep);
    assert_int_equal(vg_report_end_file(rep), 0);   /* nothing open: nothing to do */
    assert_int_equal(vg_report_write(rep, "/nonexistent-dir/r.html", &err), VG_EIO);
    assert_string_equal(err.where, "/nonexistent-dir/r.html");
    vg_report_free(rep);
    vg_report_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(one_chart_per_series),
        cmocka_unit_test(short_series_shows_every_point),
        cmocka_unit_test(bucketing_keeps_flagged_points_and_extremes),
        cmocka_unit_test(label_windows_and_summary),
        cmocka_unit_test(without_labels_no_score_columns),
        cmocka_unit_test(same_input_same_bytes),
        cmocka_unit_test(keys_are_escaped),
        cmocka_unit_test(errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
