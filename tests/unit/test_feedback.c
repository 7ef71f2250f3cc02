/* Feedback on incidents (engine/feedback.c, vg_pipeline_feedback): after
 * "not anomalous" on an incident, a repeat of the same deviation on that
 * series does not fire, one twice as large still does, the other side is
 * untouched; "anomalous" takes it back; only the series' latest incident
 * takes a verdict; the floors survive a save and load. The same run
 * without the verdict fires on the repeat (the control). Every verdict,
 * accepted or refused, is a feedback record in the event log with its
 * source; a verdict on a grouped incident applies to its members; groups
 * are not in the saved state (what a restart does to them, group.h). */
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <unistd.h>

#include "core/vigil_metrics.h"
#include "engine/config.h"
#include "engine/pipeline.h"
#include "src/feedback_http.h"
#include "src/http_server.h"
#include "tests/unit/helpers.h"

#define MINUTE 60000
#define KEY "disk{host=\"a\"}"
#define MAX_FIRED 16

/* What a notifying output (Alertmanager, the alert topic) gets: its pages
 * (a firing incident, a group opened) and resolves. */
typedef struct fired {
    int64_t ts[MAX_FIRED];
    char    id[MAX_FIRED][33];
    char    series[MAX_FIRED][64];
    size_t  n;
    size_t  resolved;
    char    resolved_series[MAX_FIRED][64];
} fired;

static void *fired_open(const vg_conf_doc *doc, const json_t *cfg, vg_error *err)
{
    (void)doc;
    (void)cfg;
    (void)err;
    return calloc(1, sizeof(fired));
}

static int fired_emit(void *self, const vg_event *ev)
{
    fired *f = self;
    int page = ev->group == NULL || strcmp(ev->group->change, "opened") == 0;
    if (ev->state == VG_ALERT_FIRING && page && f->n < MAX_FIRED) {
        f->ts[f->n] = ev->ts_ms / MINUTE;
        snprintf(f->series[f->n], sizeof(f->series[0]), "%.*s", (int)ev->series_len,
                 ev->series);
        memcpy(f->id[f->n++], ev->id, 33);
    } else if (ev->state == VG_ALERT_RESOLVED && f->resolved < MAX_FIRED) {
        snprintf(f->resolved_series[f->resolved++], sizeof(f->resolved_series[0]), "%.*s",
                 (int)ev->series_len, ev->series);
    }
    return 0;
}

static const vg_sink_ops fired_ops = {
    .name = "fired", .open = fired_open, .emit = fired_emit, .flush = vg_test_sink_flush,
    .close = free,
};

/* What the event log gets of feedback: the records, the last one's JSON. */
typedef struct recorded {
    size_t n;
    char   last[1024];
} recorded;

static void *recorded_open(const vg_conf_doc *doc, const json_t *cfg, vg_error *err)
{
    (void)doc;
    (void)cfg;
    (void)err;
    return calloc(1, sizeof(recorded));
}

static int recorded_emit(void *self, const vg_event *ev)
{
    recorded *r = self;
    if (ev->feedback != NULL) {
        r->n++;
        assert_true(vg_event_encode(ev, r->last, sizeof(r->last)) > 0);
    }
    return 0;
}

static const vg_sink_ops recorded_ops = {
    .name = "recorded", .open = recorded_open, .emit = recorded_emit, .flush = vg_test_sink_flush,
    .close = free, .records_muted = 1,
};

typedef struct run {
    vg_config   *cfg;
    vg_pipeline *p;
    fired       *fired;
    recorded    *log;
    uint64_t     rng;
    size_t       at;
} run;

static void *add_sink(vg_pipeline *p, const vg_sink_ops *ops)
{
    vg_sink *sink = malloc(sizeof(*sink));
    sink->ops = ops;
    sink->self = ops->open(NULL, NULL, NULL);
    assert_int_equal(vg_pipeline_add_sink(p, sink), 0);
    return sink->self;
}

/* One point fires: the test is about which point pages, not confirmation. */
#define ONE_POINT_FIRES "{\"alert\": {\"fire_after\": 1}"
/* ... and the series of one host are one incident. */
#define GROUPED ONE_POINT_FIRES ", \"rules\": [{\"match\": {\"name\": \"*\"}, \"name\": \"host\", " \
                "\"group\": {\"by\": [\"host\"]}}]"

/* seed: of the noise, chosen with no false alarm before the jumps. */
static void run_open_with(run *r, const char *config, uint64_t seed)
{
    vg_error err = {0};
    r->cfg = vg_config_load_string(config, "<test>", &err);
    assert_non_null(r->cfg);
    r->p = vg_pipeline_new(r->cfg, &err);
    assert_non_null(r->p);
    r->fired = add_sink(r->p, &fired_ops);
    r->log = add_sink(r->p, &recorded_ops);
    r->rng = seed;
    r->at = 0;
}

static void run_open(run *r)
{
    run_open_with(r, ONE_POINT_FIRES "}", 7);
}

static void run_close(run *r)
{
    vg_pipeline_free(r->p);
    vg_config_free(r->cfg);
}

/* Points of each of keys[n] up to minute `until`: 100 with noise, `jump`
 * added for three minutes from minute `from` (none when from == 0). */
static void feed_keys(run *r, const char *const *keys, size_t n, size_t until, size_t from,
                      double jump)
{
    vg_batch b;
    vg_batch_init(&b);
    for (; r->at < until; r->at++) {
        for (size_t k = 0; k < n; k++) {
            double v = 100.0 + vg_test_normal(&r->rng);
            if (from > 0 && r->at >= from && r->at < from + 3)
                v += jump;
            vg_batch_push(&b, keys[k], strlen(keys[k]), (int64_t)r->at * MINUTE, v, NULL);
        }
        if (b.n >= 500) {
            assert_true(vg_pipeline_process(r->p, &b) >= 0);
            vg_batch_reset(&b);
        }
    }
    if (b.n > 0)
        assert_true(vg_pipeline_process(r->p, &b) >= 0);
    vg_batch_release(&b);
}

static void feed(run *r, size_t until, size_t from, double jump)
{
    const char *keys[] = {KEY};
    feed_keys(r, keys, 1, until, from, jump);
}

/* A verdict from `source` on incident `id` of `series`. */
static int verdict_on(run *r, const char *source, const char *series, const char *id,
                      vg_verdict v)
{
    vg_error err = {0};
    vg_feedback_msg m = {source, id, series, strlen(series), (int)v, NULL};
    return vg_pipeline_feedback(r->p, &m, &err);
}

static int verdict(run *r, const char *id, vg_verdict v)
{
    return verdict_on(r, "http", KEY, id, v);
}

static void repeat_silenced_larger_still_fires(void **state)
{
    (void)state;
    run r, control;
    run_open(&r);
    run_open(&control);
    feed(&r, 2000, 1500, 15);
    feed(&control, 2000, 1500, 15);
    assert_int_equal(r.fired->n, 1);
    assert_int_equal(r.fired->ts[0], 1500);
    assert_int_equal(verdict(&r, "00000000000000000000000000000000", VG_VERDICT_NOT_ANOMALOUS),
                     VG_ENOTFOUND);
    assert_int_equal(verdict(&r, r.fired->id[0], VG_VERDICT_NOT_ANOMALOUS), VG_OK);

    feed(&r, 4000, 3500, 15);  /* the same deviation again */
    feed(&control, 4000, 3500, 15);
    assert_int_equal(control.fired->n, 2);  /* without the verdict it fires */
    assert_int_equal(r.fired->n, 1);
    feed(&r, 6000, 5500, 30);   /* twice as large */
    assert_int_equal(r.fired->n, 2);
    assert_int_equal(r.fired->ts[1], 5500);
    feed(&r, 8000, 7500, -15);  /* the other side is not covered */
    assert_int_equal(r.fired->n, 3);
    assert_int_equal(r.fired->ts[2], 7500);

    /* the floors are part of the saved state */
    vg_writer w;
    vg_writer_init(&w);
    const void *block = vg_series_table_find(vg_pipeline_series(r.p), KEY, strlen(KEY));
    assert_int_equal(vg_pipeline_save_series(r.p, block, &w), VG_OK);
    vg_error err = {0};
    vg_reader in;
    vg_reader_init(&in, w.buf, w.len);
    assert_int_equal(vg_pipeline_load_series(control.p, KEY, strlen(KEY), &in, &err), VG_OK);
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    vg_pipeline_describe_series(control.p, KEY, strlen(KEY), out);
    fclose(out);
    const char *up = strstr(text, "feedback: floor up = ");
    assert_non_null(up);
    double floor_up = atof(up + strlen("feedback: floor up = "));
    assert_true(floor_up > 15 * 1.25 && floor_up < 30);  /* the jump, plus noise, x 1.25 */
    assert_non_null(strstr(text, "(1 not anomalous, 0 anomalous)"));
    free(text);
    vg_writer_release(&w);

    /* "anomalous" on the latest incident takes the floors back off (the
     * silenced repeat was learned into the long-run range, whose own floor
     * now keeps a +15 quiet for a while: so the floors are read here) */
    assert_int_equal(verdict(&r, r.fired->id[2], VG_VERDICT_ANOMALOUS), VG_OK);
    out = open_memstream(&text, &len);
    vg_pipeline_describe_series(r.p, KEY, strlen(KEY), out);
    fclose(out);
    assert_non_null(strstr(text, "floor up = 0, floor down = 0 (1 not anomalous, 1 anomalous)"));
    free(text);
    run_close(&r);
    run_close(&control);
}

/* Each verdict, accepted or refused, is one feedback record in the event
 * log (not in a notifying output) naming its source and what became of it. */
static void every_verdict_recorded(void **state)
{
    (void)state;
    run r;
    run_open(&r);
    feed(&r, 2000, 1500, 15);
    assert_int_equal(r.fired->n, 1);
    assert_int_equal(verdict_on(&r, "kafka", KEY, "0123456789abcdef0123456789abcdef",
                                VG_VERDICT_NOT_ANOMALOUS), VG_ENOTFOUND);
    assert_int_equal(r.log->n, 1);
    assert_non_null(strstr(r.log->last, "\"kind\":\"feedback\""));
    assert_non_null(strstr(r.log->last, "\"id\":\"0123456789abcdef0123456789abcdef\""));
    assert_non_null(strstr(r.log->last, "\"source\":\"kafka\""));
    assert_non_null(strstr(r.log->last, "\"result\":\"refused\""));
    assert_non_null(strstr(r.log->last, "not the latest"));

    vg_error err = {0};
    vg_feedback_msg bad = {"kafka", r.fired->id[0], KEY, strlen(KEY), -1,
                           "\"verdict\" must be \"not_anomalous\" or \"anomalous\""};
    assert_int_equal(vg_pipeline_feedback(r.p, &bad, &err), VG_EARG);
    assert_int_equal(r.log->n, 2);
    assert_non_null(strstr(r.log->last, "\"verdict\":null"));
    assert_non_null(strstr(r.log->last, "\"result\":\"refused\""));

    assert_int_equal(verdict_on(&r, "http", KEY, r.fired->id[0], VG_VERDICT_NOT_ANOMALOUS),
                     VG_OK);
    assert_int_equal(r.log->n, 3);
    assert_non_null(strstr(r.log->last, "\"verdict\":\"not_anomalous\""));
    assert_non_null(strstr(r.log->last, "\"source\":\"http\""));
    assert_non_null(strstr(r.log->last, "\"result\":\"accepted\""));
    assert_int_equal(r.fired->n, 1);  /* records are not notified */
    run_close(&r);
}

#define CPU "cpu{host=\"a\"}"
#define MEM "mem{host=\"a\"}"
#define HOST "host{host=\"a\"}"

/* "not anomalous" on a grouped incident: each member's floors rise, so
 * the same deviation on both no longer pages the group; twice as large
 * does. Without the verdict (the control) the repeat pages. */
static void group_verdict_applies_to_members(void **state)
{
    (void)state;
    const char *keys[] = {CPU, MEM};
    run r, control;
    run_open_with(&r, GROUPED "}", 1);
    run_open_with(&control, GROUPED "}", 1);
    feed_keys(&r, keys, 2, 2000, 1500, 15);
    feed_keys(&control, keys, 2, 2000, 1500, 15);
    assert_int_equal(r.fired->n, 1);  /* the group opened: one page */
    assert_string_equal(r.fired->series[0], HOST);
    assert_int_equal(verdict_on(&r, "kafka", HOST, r.fired->id[0], VG_VERDICT_NOT_ANOMALOUS),
                     VG_OK);
    assert_non_null(strstr(r.log->last, "applied to 2 of the group's 2 member series"));

    feed_keys(&r, keys, 2, 4000, 3500, 15);
    feed_keys(&control, keys, 2, 4000, 3500, 15);
    assert_int_equal(control.fired->n, 2);
    assert_int_equal(r.fired->n, 1);  /* silenced, both members */
    feed_keys(&r, keys, 2, 6000, 5500, 30);
    assert_int_equal(r.fired->n, 2);
    assert_int_equal(r.fired->ts[1], 5500);
    /* the old group incident's members have had later ones: refused */
    assert_int_equal(verdict_on(&r, "kafka", HOST, r.fired->id[0], VG_VERDICT_ANOMALOUS),
                     VG_ENOTFOUND);
    run_close(&r);
    run_close(&control);
}

/* Moves every series' saved state from one run to another (a restart). */
static void restart(run *from, run *to, const char *const *keys, size_t n)
{
    vg_writer w;
    vg_writer_init(&w);
    for (size_t k = 0; k < n; k++) {
        vg_writer_reset(&w);
        const void *block = vg_series_table_find(vg_pipeline_series(from->p), keys[k],
                                                 strlen(keys[k]));
        assert_int_equal(vg_pipeline_save_series(from->p, block, &w), VG_OK);
        vg_error err = {0};
        vg_reader in;
        vg_reader_init(&in, w.buf, w.len);
        assert_int_equal(vg_pipeline_load_series(to->p, keys[k], strlen(keys[k]), &in, &err),
                         VG_OK);
    }
    vg_writer_release(&w);
    to->rng = from->rng;
    to->at = from->at;
}

/* Groups are not saved (engine/group.h): after a restart with a group
 * open, its members resolve on their own (notified alone, no group
 * event), and the next firing opens a new group with a new id. */
static void restart_forgets_open_groups(void **state)
{
    (void)state;
    const char *keys[] = {CPU, MEM};
    run before, after;
    run_open_with(&before, GROUPED "}", 1);
    run_open_with(&after, GROUPED "}", 1);
    feed_keys(&before, keys, 2, 1501, 1500, 15);
    assert_int_equal(before.fired->n, 1);  /* the group open, both members in */
    restart(&before, &after, keys, 2);
    feed_keys(&after, keys, 2, 2000, 1500, 15);
    assert_int_equal(after.fired->n, 0);
    assert_int_equal(after.fired->resolved, 2);  /* each member's own */
    assert_string_equal(after.fired->resolved_series[0], CPU);
    assert_string_equal(after.fired->resolved_series[1], MEM);
    feed_keys(&after, keys, 2, 4000, 3500, 30);
    assert_true(after.fired->n >= 1);
    assert_string_equal(after.fired->series[0], HOST);  /* a new group */
    assert_string_not_equal(after.fired->id[0], before.fired->id[0]);
    /* feedback on the group from before the restart: not known here */
    assert_int_equal(verdict_on(&after, "http", HOST, before.fired->id[0],
                                VG_VERDICT_NOT_ANOMALOUS), VG_ENOTFOUND);
    run_close(&before);
    run_close(&after);
}

#define CORPUS VG_TEST_FIXTURES "/../corpus/feedback"

/* The bad-input corpus of POST /feedback bodies: each case's `expect` is
 * the status and a piece of the reply ("400 \"series\""). */
static void body_corpus(void **state)
{
    (void)state;
    vg_feedback_inbox *in = vg_feedback_inbox_new("token\n");
    assert_non_null(in);
    assert_null(vg_feedback_inbox_new(""));
    struct dirent **names;
    int n = scandir(CORPUS, &names, NULL, alphasort);
    assert_true(n > 2);
    int cases = 0;
    for (int i = 0; i < n; i++) {
        if (names[i]->d_name[0] != '.') {
            char *input, want[128], reply[256];
            size_t len;
            unsigned status;
            FILE *f = vg_test_corpus_case(CORPUS, names[i]->d_name, &input, &len);
            assert_int_equal(fscanf(f, "%u %127[^\n]", &status, want), 2);
            fclose(f);
            unsigned got = vg_feedback_inbox_post(in, "Bearer token", input, len, reply,
                                                  sizeof(reply));
            if (got != status || strstr(reply, want) == NULL)
                fail_msg("%s: %u %s, expected %u ... %s", names[i]->d_name, got, reply, status,
                         want);
            free(input);
            cases++;
        }
        free(names[i]);
    }
    free(names);
    assert_true(cases >= 10);
    vg_feedback_inbox_free(in);  /* frees the queued one */
}

#ifdef VIGIL_HAVE_MHD
/* POST /feedback with `auth` (NULL: no header) and `body`; the status. */
static int post(uint16_t port, const char *auth, const char *body, char *text, size_t cap)
{
    char req[1024], head[1024];
    char auth_line[160] = "";
    if (auth != NULL)
        snprintf(auth_line, sizeof(auth_line), "Authorization: %s\r\n", auth);
    snprintf(req, sizeof(req),
             "POST /feedback HTTP/1.0\r\nHost: 127.0.0.1\r\n%sContent-Type: application/json"
             "\r\nContent-Length: %zu\r\n\r\n%s", auth_line, strlen(body), body);
    return vg_test_http(port, req, head, sizeof(head), text, cap);
}

/* The endpoint: 401 without the token (or with another), 400 for a body
 * that is not a verdict, 202 queued; the run loop's apply then silences
 * the repeat as the direct call does; /metrics counts each with
 * source="http". */
static void http_endpoint_needs_the_token(void **state)
{
    (void)state;
    char path[] = "/tmp/vigil-token-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "s3cret\n", 7), 7);
    close(fd);
    vg_http_params prm = {0};
    snprintf(prm.listen, sizeof(prm.listen), "127.0.0.1:0");
    snprintf(prm.feedback_token_file, sizeof(prm.feedback_token_file), "%s", path);
    vg_error err = {0};
    vg_http_server *srv = vg_http_start(&prm, vg_metric_registry(), &err);
    assert_non_null(srv);
    uint16_t port = vg_http_port(srv);

    run r;
    run_open(&r);
    feed(&r, 2000, 1500, 15);
    assert_int_equal(r.fired->n, 1);
    char body[256], text[512];
    snprintf(body, sizeof(body),
             "{\"incident\": \"%s\", \"series\": \"disk{host=\\\"a\\\"}\", "
             "\"verdict\": \"not_anomalous\"}", r.fired->id[0]);
    assert_int_equal(post(port, NULL, body, text, sizeof(text)), 401);
    assert_int_equal(post(port, "Bearer s3creT", body, text, sizeof(text)), 401);
    assert_int_equal(post(port, "Bearer s3cret", "{\"verdict\": \"maybe\"}", text,
                          sizeof(text)), 400);
    assert_non_null(strstr(text, "incident"));
    /* the malformed one is recorded as refused, nothing applied */
    assert_int_equal(vg_feedback_inbox_apply(vg_http_feedback(srv), r.p), 1);
    assert_non_null(strstr(r.log->last, "\"source\":\"http\""));
    assert_non_null(strstr(r.log->last, "\"result\":\"refused\""));
    assert_int_equal(r.fired->n, 1);
    assert_int_equal(post(port, "Bearer s3cret", body, text, sizeof(text)), 202);
    assert_int_equal(vg_feedback_inbox_apply(vg_http_feedback(srv), r.p), 1);
    assert_non_null(strstr(r.log->last, "\"result\":\"accepted\""));
    assert_int_equal(r.log->n, 2);  /* the unauthorized ones are not recorded */
    feed(&r, 4000, 3500, 15);
    assert_int_equal(r.fired->n, 1);  /* the repeat is silenced */
    /* Counted by result and source, as GET /metrics shows them. */
    static char scraped[1 << 16];
    char head[1024];
    assert_int_equal(vg_test_http(port, "GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n",
                                  head, sizeof(head), scraped, sizeof(scraped)), 200);
    assert_non_null(strstr(scraped, "\nvigil_feedback_total{result=\"unauthorized\","
                                     "source=\"http\"} 2\n"));
    assert_non_null(strstr(scraped, "\nvigil_feedback_total{result=\"refused\","
                                     "source=\"http\"} 1\n"));
    assert_non_null(strstr(scraped, "\nvigil_feedback_total{result=\"not_anomalous\","
                                     "source=\"http\"} 1\n"));
    assert_non_null(strstr(scraped, "\nvigil_feedback_total{result=\"not_anomalous\","
                                     "source=\"kafka\"} 0\n"));
    run_close(&r);
    vg_http_stop(srv);
    unlink(path);
}
#define HTTP_TESTS cmocka_unit_test(http_endpoint_needs_the_token),
#else
#define HTTP_TESTS
#endif

int main(void)
{
    const struct CMUnitTest tests[] = {
        HTTP_TESTS
        cmocka_unit_test(body_corpus),
        cmocka_unit_test(repeat_silenced_larger_still_fires),
        cmocka_unit_test(every_verdict_recorded),
        cmocka_unit_test(group_verdict_applies_to_members),
        cmocka_unit_test(restart_forgets_open_groups),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
