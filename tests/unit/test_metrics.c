/* The metrics registry: exact exposition text, escaping, cumulative
 * histogram buckets, bad registrations, bounded children, and updates from
 * two threads while a third renders. */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/helpers.h"

#include "core/metrics.h"

static const double bounds[] = {0.1, 0.5, 2};

static vg_metric_family *reg_ok(vg_metrics *reg, vg_metric_desc d)
{
    vg_error err = {0};
    vg_metric_family *f = vg_metrics_register(reg, &d, &err);
    if (f == NULL)
        fail_msg("register %s: %s", d.name, err.msg);
    return f;
}

static vg_metric_child *child_ok(vg_metric_family *f, const char *const *values)
{
    vg_error err = {0};
    vg_metric_child *c = vg_metrics_child(f, values, &err);
    if (c == NULL)
        fail_msg("child: %s", err.msg);
    return c;
}

static char *render(const vg_metrics *reg)
{
    vg_error err = {0};
    size_t len = 0;
    char *text = vg_metrics_render(reg, &len, &err);
    assert_non_null(text);
    assert_int_equal(len, strlen(text));
    return text;
}

static void renders_exact_text(void **state)
{
    (void)state;
    vg_metrics *reg = vg_metrics_new(8, NULL);
    assert_non_null(reg);
    vg_metric_family *points = reg_ok(reg, (vg_metric_desc){
        VG_METRIC_COUNTER, "app_points", "Points read.", {NULL}, 0, NULL, 0});
    vg_metric_family *errs = reg_ok(reg, (vg_metric_desc){
        VG_METRIC_COUNTER, "app_errors", "Errors, by \\reason\nsecond line.", {"reason"}, 4,
        NULL, 0});
    vg_metric_family *lag = reg_ok(reg, (vg_metric_desc){
        VG_METRIC_GAUGE, "app_lag", "Lag.", {"topic", "partition"}, 4, NULL, 0});
    vg_metric_family *dur = reg_ok(reg, (vg_metric_desc){
        VG_METRIC_HISTOGRAM, "app_duration_seconds", "Durations.", {NULL}, 0, bounds, 3});
    vg_metric_family *idle = reg_ok(reg, (vg_metric_desc){
        VG_METRIC_GAUGE, "app_idle", "Never set.", {"x"}, 2, NULL, 0});
    (void)idle;

    vg_metrics_inc(vg_metrics_plain(points), 41);
    vg_metrics_inc(vg_metrics_plain(points), 1);
    vg_metrics_inc(child_ok(errs, (const char *const[]){"json"}), 3);
    vg_metrics_inc(child_ok(errs, (const char *const[]){"a\"b\\c\nd"}), 1);
    vg_metrics_set(child_ok(lag, (const char *const[]){"metrics", "2"}), 17);
    vg_metrics_set(child_ok(lag, (const char *const[]){"metrics", "0"}), 0.25);
    vg_metrics_add(child_ok(lag, (const char *const[]){"metrics", "0"}), -1.5);
    vg_metric_child *d = vg_metrics_plain(dur);
    vg_metrics_observe(d, 0.05);
    vg_metrics_observe(d, 0.5);  /* on a bound: counts in le="0.5" */
    vg_metrics_observe(d, 1);
    vg_metrics_observe(d, 3);

    char *text = render(reg);
    assert_string_equal(text,
        "# HELP app_points_total Points read.\n"
        "# TYPE app_points_total counter\n"
        "app_points_total 42\n"
        "# HELP app_errors_total Errors, by \\\\reason\\nsecond line.\n"
        "# TYPE app_errors_total counter\n"
        "app_errors_total{reason=\"json\"} 3\n"
        "app_errors_total{reason=\"a\\\"b\\\\c\\nd\"} 1\n"
        "# HELP app_lag Lag.\n"
        "# TYPE app_lag gauge\n"
        "app_lag{topic=\"metrics\",partition=\"2\"} 17\n"
        "app_lag{topic=\"metrics\",partition=\"0\"} -1.25\n"
        "# HELP app_duration_seconds Durations.\n"
        "# TYPE app_duration_seconds histogram\n"
        "app_duration_seconds_bucket{le=\"0.1\"} 1\n"
        "app_duration_seconds_bucket{le=\"0.5\"} 2\n"
        "app_duration_seconds_bucket{le=\"2\"} 3\n"
        "app_duration_seconds_bucket{le=\"+Inf\"} 4\n"
        "app_duration_seconds_sum 4.55\n"
        "app_duration_seconds_count 4\n"
        "# HELP app_idle Never set.\n"
        "# TYPE app_idle gauge\n");
    free(text);
    vg_metrics_free(reg);
}

/* A counter of two labels and a gauge of three (VG_METRICS_MAX_LABELS):
 * every value escaped on its own (backslash, quote, newline; a value that
 * looks like a label set stays one value), label names in registration
 * order, children in first-seen order, the same values in another order a
 * different child. */
static void several_labels_escaped(void **state)
{
    (void)state;
    vg_metrics *reg = vg_metrics_new(2, NULL);
    vg_metric_family *fb = reg_ok(reg, (vg_metric_desc){
        VG_METRIC_COUNTER, "app_feedback", "Feedback.", {"result", "source"}, 4, NULL, 0});
    vg_metric_family *g = reg_ok(reg, (vg_metric_desc){
        VG_METRIC_GAUGE, "app_g", "G.", {"a", "b", "c"}, 2, NULL, 0});
    vg_metrics_inc(child_ok(fb, (const char *const[]){"refused", "kafka"}), 2);
    vg_metrics_inc(child_ok(fb, (const char *const[]){"kafka", "refused"}), 1);
    vg_metrics_inc(child_ok(fb, (const char *const[]){"a\\b\"", "x\",source=\"y\n"}), 5);
    vg_metrics_inc(child_ok(fb, (const char *const[]){"refused", "kafka"}), 1);
    vg_metrics_set(child_ok(g, (const char *const[]){"", "C:\\", "\"\""}), 3);
    char *text = render(reg);
    assert_string_equal(text,
        "# HELP app_feedback_total Feedback.\n"
        "# TYPE app_feedback_total counter\n"
        "app_feedback_total{result=\"refused\",source=\"kafka\"} 3\n"
        "app_feedback_total{result=\"kafka\",source=\"refused\"} 1\n"
        "app_feedback_total{result=\"a\\\\b\\\"\",source=\"x\\\",source=\\\"y\\n\"} 5\n"
        "# HELP app_g G.\n"
        "# TYPE app_g gauge\n"
        "app_g{a=\"\",b=\"C:\\\\\",c=\"\\\"\\\"\"} 3\n");
    free(text);
    /* A value missing for the second label is refused, not read past. */
    vg_error err = {0};
    assert_null(vg_metrics_child(fb, (const char *const[]){"refused", NULL}, &err));
    assert_int_equal(err.code, VG_EARG);
    vg_metrics_free(reg);
}

static void labelled_histogram_and_special_values(void **state)
{
    (void)state;
    vg_metrics *reg = vg_metrics_new(4, NULL);
    vg_metric_family *h = reg_ok(reg, (vg_metric_desc){
        VG_METRIC_HISTOGRAM, "h_seconds", "H.", {"stage"}, 2, bounds, 3});
    vg_metric_family *g = reg_ok(reg, (vg_metric_desc){
        VG_METRIC_GAUGE, "g", "G.", {"v"}, 4, NULL, 0});
    vg_metric_family *c = reg_ok(reg, (vg_metric_desc){
        VG_METRIC_COUNTER, "c_seconds", "C.", {NULL}, 0, NULL, 0});
    vg_metrics_observe(child_ok(h, (const char *const[]){"parse"}), 0.2);
    vg_metrics_observe(child_ok(h, (const char *const[]){"parse"}), NAN);
    vg_metrics_set(child_ok(g, (const char *const[]){"inf"}), INFINITY);
    vg_metrics_set(child_ok(g, (const char *const[]){"-inf"}), -INFINITY);
    vg_metrics_set(child_ok(g, (const char *const[]){"nan"}), NAN);
    vg_metrics_set(child_ok(g, (const char *const[]){"tiny"}), 1e-7);
    vg_metrics_inc(vg_metrics_plain(c), 2);
    vg_metrics_add(vg_metrics_plain(c), 0.5);

    char *text = render(reg);
    assert_string_equal(text,
        "# HELP h_seconds H.\n"
        "# TYPE h_seconds histogram\n"
        "h_seconds_bucket{stage=\"parse\",le=\"0.1\"} 0\n"
        "h_seconds_bucket{stage=\"parse\",le=\"0.5\"} 1\n"
        "h_seconds_bucket{stage=\"parse\",le=\"2\"} 1\n"
        "h_seconds_bucket{stage=\"parse\",le=\"+Inf\"} 2\n"
        "h_seconds_sum{stage=\"parse\"} NaN\n"
        "h_seconds_count{stage=\"parse\"} 2\n"
        "# HELP g G.\n"
        "# TYPE g gauge\n"
        "g{v=\"inf\"} +Inf\n"
        "g{v=\"-inf\"} -Inf\n"
        "g{v=\"nan\"} NaN\n"
        "g{v=\"tiny\"} 1e-07\n"
        "# HELP c_seconds_total C.\n"
        "# TYPE c_seconds_total counter\n"
        "c_seconds_total 2.5\n");
    free(text);
    assert_double_near(vg_metrics_value(vg_metrics_plain(c)), 2.5, 0);
    vg_metrics_free(reg);
}

static void histogram_buckets_are_cumulative(void **state)
{
    (void)state;
    static const double b[] = {1, 2, 4, 8, 16};
    vg_metrics *reg = vg_metrics_new(1, NULL);
    vg_metric_family *h = reg_ok(reg, (vg_metric_desc){
        VG_METRIC_HISTOGRAM, "x", "X.", {NULL}, 0, b, 5});
    vg_metric_child *c = vg_metrics_plain(h);
    uint64_t expect[6] = {0};
    uint64_t seed = 7;
    double sum = 0;
    for (int i = 0; i < 1000; i++) {
        double v = vg_test_uniform(&seed) * 20;
        vg_metrics_observe(c, v);
        sum += v;
        for (size_t k = 0; k < 5; k++)
            if (v <= b[k])
                expect[k]++;
        expect[5]++;
    }
    char *text = render(reg);
    uint64_t prev = 0;
    const char *les[] = {"1", "2", "4", "8", "16", "+Inf"};
    for (size_t k = 0; k < 6; k++) {
        char key[64];
        snprintf(key, sizeof(key), "x_bucket{le=\"%s\"} ", les[k]);
        const char *line = strstr(text, key);
        assert_non_null(line);
        uint64_t n = strtoull(line + strlen(key), NULL, 10);
        assert_int_equal(n, expect[k]);
        assert_true(n >= prev);
        prev = n;
    }
    const char *s = strstr(text, "x_sum ");
    assert_non_null(s);
    assert_double_near(strtod(s + 6, NULL), sum, 1e-9 * sum);
    assert_non_null(strstr(text, "x_count 1000\n"));
    assert_double_near(vg_metrics_value(c), 1000, 0);
    free(text);
    vg_metrics_free(reg);
}

static void expect_register_error(vg_metrics *reg, vg_metric_desc d, int code)
{
    vg_error err = {0};
    assert_null(vg_metrics_register(reg, &d, &err));
    assert_int_equal(err.code, code);
    assert_true(err.msg[0] != '\0');
}

static void rejects_bad_registrations(void **state)
{
    (void)state;
    static const double unsorted[] = {1, 1};
    static const double inf[] = {1, INFINITY};
    vg_metrics *reg = vg_metrics_new(2, NULL);
    expect_register_error(reg, (vg_metric_desc){VG_METRIC_GAUGE, "9x", "h", {NULL}, 0, NULL, 0},
                          VG_EARG);
    expect_register_error(reg, (vg_metric_desc){VG_METRIC_GAUGE, "a-b", "h", {NULL}, 0, NULL, 0},
                          VG_EARG);
    expect_register_error(reg, (vg_metric_desc){VG_METRIC_GAUGE, "a", NULL, {NULL}, 0, NULL, 0},
                          VG_EARG);
    expect_register_error(reg, (vg_metric_desc){VG_METRIC_COUNTER, "a_total", "h", {NULL}, 0,
                                                NULL, 0}, VG_EARG);
    expect_register_error(reg, (vg_metric_desc){VG_METRIC_GAUGE, "a", "h", {"__x"}, 1, NULL, 0},
                          VG_EARG);
    expect_register_error(reg, (vg_metric_desc){VG_METRIC_GAUGE, "a", "h", {"x:y"}, 1, NULL, 0},
                          VG_EARG);
    expect_register_error(reg, (vg_metric_desc){VG_METRIC_GAUGE, "a", "h", {"x", "x"}, 1, NULL,
                                                0}, VG_EARG);
    expect_register_error(reg, (vg_metric_desc){VG_METRIC_GAUGE, "a", "h", {"x"}, 0, NULL, 0},
                          VG_EARG);
    expect_register_error(reg, (vg_metric_desc){VG_METRIC_HISTOGRAM, "a", "h", {"le"}, 1, bounds,
                                                3}, VG_EARG);
    expect_register_error(reg, (vg_metric_desc){VG_METRIC_HISTOGRAM, "a", "h", {NULL}, 0, NULL,
                                                0}, VG_EARG);
    expect_register_error(reg, (vg_metric_desc){VG_METRIC_HISTOGRAM, "a", "h", {NULL}, 0,
                                                unsorted, 2}, VG_EARG);
    expect_register_error(reg, (vg_metric_desc){VG_METRIC_HISTOGRAM, "a", "h", {NULL}, 0, inf, 2},
                          VG_EARG);
    reg_ok(reg, (vg_metric_desc){VG_METRIC_GAUGE, "ns:a", "h", {NULL}, 0, NULL, 0});
    expect_register_error(reg, (vg_metric_desc){VG_METRIC_COUNTER, "ns:a", "h", {NULL}, 0, NULL,
                                                0}, VG_ESTATE);
    reg_ok(reg, (vg_metric_desc){VG_METRIC_GAUGE, "b", "h", {NULL}, 0, NULL, 0});
    expect_register_error(reg, (vg_metric_desc){VG_METRIC_GAUGE, "c", "h", {NULL}, 0, NULL, 0},
                          VG_EFULL);
    char *text = render(reg);  /* the failures left nothing behind */
    assert_string_equal(text, "# HELP ns:a h\n# TYPE ns:a gauge\nns:a 0\n"
                              "# HELP b h\n# TYPE b gauge\nb 0\n");
    free(text);
    vg_metrics_free(reg);
}

static void children_are_bounded_checked_and_droppable(void **state)
{
    (void)state;
    vg_metrics *reg = vg_metrics_new(2, NULL);
    vg_metric_family *f = reg_ok(reg, (vg_metric_desc){
        VG_METRIC_GAUGE, "lag", "L.", {"p"}, 2, NULL, 0});
    vg_metric_child *a = child_ok(f, (const char *const[]){"0"});
    vg_metric_child *b = child_ok(f, (const char *const[]){"1"});
    assert_ptr_equal(child_ok(f, (const char *const[]){"0"}), a);  /* found, not added */

    vg_error err = {0};
    assert_null(vg_metrics_child(f, (const char *const[]){"2"}, &err));
    assert_int_equal(err.code, VG_EFULL);
    assert_null(vg_metrics_child(f, (const char *const[]){NULL}, &err));
    assert_int_equal(err.code, VG_EARG);
    assert_null(vg_metrics_child(f, (const char *const[]){"\xC3\x28"}, &err));
    assert_int_equal(err.code, VG_EARG);
    assert_null(vg_metrics_child(f, (const char *const[]){"\xE0\x80\x80"}, &err));  /* overlong */
    assert_int_equal(err.code, VG_EARG);
    assert_null(vg_metrics_find(f, (const char *const[]){"9"}));

    vg_metrics_set(a, 5);
    vg_metrics_set(b, 7);
    vg_metrics_drop(vg_metrics_find(f, (const char *const[]){"0"}));
    char *text = render(reg);
    assert_string_equal(text, "# HELP lag L.\n# TYPE lag gauge\nlag{p=\"1\"} 7\n");
    free(text);
    assert_ptr_equal(child_ok(f, (const char *const[]){"0"}), a);  /* back, at zero */
    text = render(reg);
    assert_string_equal(text, "# HELP lag L.\n# TYPE lag gauge\nlag{p=\"0\"} 0\nlag{p=\"1\"} 7\n");
    free(text);
    vg_metrics_drop(b);  /* a dropped child keeps its slot */
    assert_null(vg_metrics_child(f, (const char *const[]){"3"}, &err));
    assert_int_equal(err.code, VG_EFULL);

    vg_metric_family *u = reg_ok(reg, (vg_metric_desc){
        VG_METRIC_GAUGE, "utf", "U.", {"name"}, 1, NULL, 0});
    child_ok(u, (const char *const[]){"\xC3\xA9t\xC3\xA9 \xF0\x9F\x94\xA5"});
    text = render(reg);
    assert_non_null(strstr(text, "utf{name=\"\xC3\xA9t\xC3\xA9 \xF0\x9F\x94\xA5\"} 0\n"));
    free(text);
    vg_metrics_free(reg);
}

enum { ROUNDS = 200000 };

typedef struct shared {
    vg_metrics      *reg;
    vg_metric_child *counter, *seconds, *gauge, *hist;
    int              done;
    int              torn;   /* scrapes whose +Inf bucket differed from _count */
    int              scrapes;
    pthread_mutex_t  lock;
} shared;

static void *writer(void *arg)
{
    shared *s = arg;
    for (int i = 0; i < ROUNDS; i++) {
        vg_metrics_inc(s->counter, 3);
        vg_metrics_add(s->seconds, 0.5);
        vg_metrics_add(s->gauge, i % 2 ? 1.0 : -1.0);
        vg_metrics_observe(s->hist, (double)(i % 4));
    }
    return NULL;
}

/* A scrape racing the writers must still see a well-formed histogram. */
static void *scraper(void *arg)
{
    shared *s = arg;
    for (;;) {
        pthread_mutex_lock(&s->lock);
        int done = s->done;
        pthread_mutex_unlock(&s->lock);
        char *text = vg_metrics_render(s->reg, &(size_t){0}, NULL);
        const char *inf = text != NULL ? strstr(text, "hist_bucket{le=\"+Inf\"} ") : NULL;
        const char *count = text != NULL ? strstr(text, "hist_count ") : NULL;
        s->scrapes++;
        if (inf == NULL || count == NULL ||
            strtoull(inf + strlen("hist_bucket{le=\"+Inf\"} "), NULL, 10) !=
                strtoull(count + strlen("hist_count "), NULL, 10))
            s->torn++;
        free(text);
        if (done)
            return NULL;
    }
}

static void two_threads_sum_exactly(void **state)
{
    (void)state;
    static const double b[] = {0.5, 1.5, 2.5};
    shared s = {0};
    s.reg = vg_metrics_new(4, NULL);
    pthread_mutex_init(&s.lock, NULL);
    s.counter = vg_metrics_plain(reg_ok(s.reg, (vg_metric_desc){
        VG_METRIC_COUNTER, "n", "N.", {NULL}, 0, NULL, 0}));
    s.seconds = vg_metrics_plain(reg_ok(s.reg, (vg_metric_desc){
        VG_METRIC_COUNTER, "secs", "S.", {NULL}, 0, NULL, 0}));
    s.gauge = vg_metrics_plain(reg_ok(s.reg, (vg_metric_desc){
        VG_METRIC_GAUGE, "g", "G.", {NULL}, 0, NULL, 0}));
    s.hist = vg_metrics_plain(reg_ok(s.reg, (vg_metric_desc){
        VG_METRIC_HISTOGRAM, "hist", "H.", {NULL}, 0, b, 3}));

    pthread_t t[3];
    assert_int_equal(pthread_create(&t[0], NULL, writer, &s), 0);
    assert_int_equal(pthread_create(&t[1], NULL, writer, &s), 0);
    assert_int_equal(pthread_create(&t[2], NULL, scraper, &s), 0);
    pthread_join(t[0], NULL);
    pthread_join(t[1], NULL);
    pthread_mutex_lock(&s.lock);
    s.done = 1;
    pthread_mutex_unlock(&s.lock);
    pthread_join(t[2], NULL);
    assert_true(s.scrapes > 0);
    assert_int_equal(s.torn, 0);  /* cmocka asserts only on this thread */

    assert_double_near(vg_metrics_value(s.counter), 2.0 * 3 * ROUNDS, 0);
    assert_double_near(vg_metrics_value(s.seconds), 2.0 * 0.5 * ROUNDS, 0);
    assert_double_near(vg_metrics_value(s.gauge), 0, 0);
    assert_double_near(vg_metrics_value(s.hist), 2.0 * ROUNDS, 0);
    char *text = render(s.reg);
    char want[256];
    snprintf(want, sizeof(want),
             "hist_bucket{le=\"0.5\"} %d\nhist_bucket{le=\"1.5\"} %d\n"
             "hist_bucket{le=\"2.5\"} %d\nhist_bucket{le=\"+Inf\"} %d\n"
             "hist_sum %d\nhist_count %d\n",
             ROUNDS / 2, ROUNDS, 3 * ROUNDS / 2, 2 * ROUNDS, 3 * ROUNDS, 2 * ROUNDS);
    assert_non_null(strstr(text, want));
    free(text);
    pthread_mutex_destroy(&s.lock);
    vg_metrics_free(s.reg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(renders_exact_text),
        cmocka_unit_test(several_labels_escaped),
        cmocka_unit_test(labelled_histogram_and_special_values),
        cmocka_unit_test(histogram_buckets_are_cumulative),
        cmocka_unit_test(rejects_bad_registrations),
        cmocka_unit_test(children_are_bounded_checked_and_droppable),
        cmocka_unit_test(two_threads_sum_exactly),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
