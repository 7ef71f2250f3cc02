/* Unit tests for the Alertmanager sink (streams/alertmanager_sink.c)
 * against a tiny HTTP server in a thread on 127.0.0.1: the exact alerts
 * posted, retries on 5xx but not on 4xx, drops when the queue is full,
 * flush never waiting (drain timing out) while the server stalls, re-posts of firing alerts, and
 * config errors. Waits are on conditions (with a generous safety limit),
 * never on durations. */
#include "tests/unit/helpers.h"

#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/config_table.h"
#include "core/event.h"
#include "core/log.h"
#include "streams/alertmanager_alert.h"
#include "streams/alertmanager_sink.h"

#define MAX_REQUESTS 64
#define KEY "disk_used{host=\"db1\",mount=\"/var\"}"

/* ---- the server --------------------------------------------------------- */

typedef struct server {
    int             fd;
    int             port;
    pthread_t       thread;
    pthread_mutex_t lock;
    pthread_cond_t  changed;
    char           *request_line[MAX_REQUESTS];
    char           *content_type[MAX_REQUESTS];
    char           *body[MAX_REQUESTS];
    size_t          n;
    const int      *statuses;   /* answer to request i; 200 past the end */
    size_t          n_statuses;
    int             gate;       /* while set, answers wait */
} server;

/* Reads one request (headers, then Content-Length bytes) from conn into a
 * new buffer; *body_at is where the body starts. NULL at EOF. */
static char *read_request(int conn, size_t *body_at, size_t *body_len)
{
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap + 1);
    assert_non_null(buf);
    char *end = NULL;
    while (end == NULL) {
        ssize_t k = recv(conn, buf + len, cap - len, 0);
        if (k <= 0) {
            free(buf);
            return NULL;
        }
        len += (size_t)k;
        buf[len] = '\0';
        end = strstr(buf, "\r\n\r\n");
    }
    *body_at = (size_t)(end - buf) + 4;
    const char *cl = strcasestr(buf, "\r\nContent-Length:");
    *body_len = cl != NULL && cl < end ? (size_t)strtoul(cl + 17, NULL, 10) : 0;
    assert_true(*body_at + *body_len <= cap);
    while (len < *body_at + *body_len) {
        ssize_t k = recv(conn, buf + len, cap - len, 0);
        assert_true(k > 0);
        len += (size_t)k;
    }
    buf[*body_at + *body_len] = '\0';
    return buf;
}

static char *header_value(const char *req, const char *name)
{
    char pattern[64];
    snprintf(pattern, sizeof(pattern), "\r\n%s:", name);
    const char *at = strcasestr(req, pattern);
    if (at == NULL)
        return strdup("");
    at += strlen(pattern);
    while (*at == ' ')
        at++;
    return strndup(at, strcspn(at, "\r\n"));
}

static void *server_main(void *arg)
{
    server *s = arg;
    for (;;) {
        int conn = accept(s->fd, NULL, NULL);
        if (conn < 0)
            return NULL;  /* shut down */
        size_t body_at, body_len;
        char *req = read_request(conn, &body_at, &body_len);
        if (req == NULL) {
            close(conn);
            continue;
        }
        pthread_mutex_lock(&s->lock);
        size_t i = s->n;
        assert_true(i < MAX_REQUESTS);
        s->request_line[i] = strndup(req, strcspn(req, "\r\n"));
        s->content_type[i] = header_value(req, "Content-Type");
        s->body[i] = strdup(req + body_at);
        s->n++;
        pthread_cond_broadcast(&s->changed);
        while (s->gate)
            pthread_cond_wait(&s->changed, &s->lock);
        int status = i < s->n_statuses ? s->statuses[i] : 200;
        pthread_mutex_unlock(&s->lock);
        free(req);
        char answer[256];
        const char *text = status == 200 ? "ok" : "no";
        int len = snprintf(answer, sizeof(answer),
                           "HTTP/1.1 %d X\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n"
                           "Connection: close\r\n\r\n%s",
                           status, strlen(text), text);
        assert_int_equal(send(conn, answer, (size_t)len, MSG_NOSIGNAL), len);
        close(conn);
    }
}

static server *server_start(const int *statuses, size_t n_statuses)
{
    server *s = calloc(1, sizeof(*s));
    assert_non_null(s);
    s->statuses = statuses;
    s->n_statuses = n_statuses;
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->changed, NULL);
    s->fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(s->fd >= 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = 0};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(s->fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
    assert_int_equal(listen(s->fd, 16), 0);
    socklen_t len = sizeof(addr);
    assert_int_equal(getsockname(s->fd, (struct sockaddr *)&addr, &len), 0);
    s->port = ntohs(addr.sin_port);
    assert_int_equal(pthread_create(&s->thread, NULL, server_main, s), 0);
    return s;
}

static void server_stop(server *s)
{
    shutdown(s->fd, SHUT_RDWR);  /* accept() returns an error */
    pthread_join(s->thread, NULL);
    close(s->fd);
    for (size_t i = 0; i < s->n; i++) {
        free(s->request_line[i]);
        free(s->content_type[i]);
        free(s->body[i]);
    }
    pthread_cond_destroy(&s->changed);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

/* Waits until the server has seen n requests (fails after a minute: a
 * safety net for a hang, not a timing check). */
static void server_wait(server *s, size_t n)
{
    struct timespec limit;
    clock_gettime(CLOCK_REALTIME, &limit);
    limit.tv_sec += 60;
    pthread_mutex_lock(&s->lock);
    while (s->n < n)
        if (pthread_cond_timedwait(&s->changed, &s->lock, &limit) != 0)
            break;
    size_t got = s->n;
    pthread_mutex_unlock(&s->lock);
    assert_true(got >= n);
}

/* Requests seen so far. */
static size_t server_count(server *s)
{
    pthread_mutex_lock(&s->lock);
    size_t n = s->n;
    pthread_mutex_unlock(&s->lock);
    return n;
}

static void server_set_gate(server *s, int gate)
{
    pthread_mutex_lock(&s->lock);
    s->gate = gate;
    pthread_cond_broadcast(&s->changed);
    pthread_mutex_unlock(&s->lock);
}

/* Every alert the server received, in order, as one new JSON array. */
static json_t *all_alerts(server *s)
{
    json_t *all = json_array();
    for (size_t i = 0; i < s->n; i++) {
        json_error_t jerr;
        json_t *batch = json_loads(s->body[i], 0, &jerr);
        assert_non_null(batch);
        assert_true(json_is_array(batch));
        json_array_extend(all, batch);
        json_decref(batch);
    }
    return all;
}

/* ---- the sink ----------------------------------------------------------- */

static void *open_sink(int port, const char *extra)
{
    char text[512];
    snprintf(text, sizeof(text),
             "{\"type\": \"alertmanager\", \"url\": \"http://127.0.0.1:%d/\"%s%s}", port,
             extra[0] ? ", " : "", extra);
    vg_error err = {0};
    vg_conf_doc *doc = vg_conf_doc_load_string(text, "<test>", &err);
    assert_non_null(doc);
    void *sink = vg_alertmanager_sink_ops.open(doc, vg_conf_doc_root(doc), &err);
    if (sink == NULL)
        fail_msg("open: %s: %s", err.where, err.msg);
    vg_conf_doc_free(doc);
    return sink;
}

static vg_event incident(vg_alert_state state, int64_t start_ms, vg_severity severity)
{
    vg_event ev;
    memset(&ev, 0, sizeof(ev));
    ev.state = state;
    ev.severity = severity;
    ev.series = KEY;
    ev.series_len = strlen(KEY);
    ev.start_ms = start_ms;
    ev.ts_ms = state == VG_ALERT_RESOLVED ? start_ms + 300000 : start_ms + 60000;
    ev.value = state == VG_ALERT_RESOLVED ? 40 : 99.5;
    ev.expected = 41;
    ev.lower = 35;
    ev.upper = 47;
    ev.score = state == VG_ALERT_RESOLVED ? 0.1 : 0.9999;
    ev.peak = 0.99999;
    ev.n_detectors = 1;
    ev.detectors[0] = (vg_event_detector){"zscore", ev.score, NAN, NAN, NAN, ""};
    vg_event_make_id(&ev);
    return ev;
}

static vg_alertmanager_stats stats(void *sink)
{
    vg_alertmanager_stats st;
    vg_alertmanager_sink_stats(sink, &st);
    return st;
}

static void posts_exact_alerts(void **state)
{
    (void)state;
    server *s = server_start(NULL, 0);
    void *sink = open_sink(s->port, "\"generator_url\": \"http://g/x\", \"resolve_hold_s\": 0");
    vg_event fire = incident(VG_ALERT_FIRING, 1700000000000, VG_SEVERITY_WARNING);
    /* the incident peaked higher: the resolved event says critical */
    vg_event res = incident(VG_ALERT_RESOLVED, 1700000000000, VG_SEVERITY_CRITICAL);
    assert_int_equal(vg_alertmanager_sink_ops.emit(sink, &fire), VG_OK);
    assert_int_equal(vg_alertmanager_sink_ops.emit(sink, &res), VG_OK);
    assert_int_equal(vg_alertmanager_sink_drain(sink, 60000), VG_OK);
    vg_alertmanager_stats st = stats(sink);
    assert_int_equal(st.posted, 2);
    assert_int_equal(st.failed + st.dropped + st.retries, 0);
    vg_alertmanager_sink_ops.close(sink);

    for (size_t i = 0; i < s->n; i++) {
        assert_string_equal(s->request_line[i], "POST /api/v2/alerts HTTP/1.1");
        assert_string_equal(s->content_type[i], "application/json");
    }
    json_t *alerts = all_alerts(s);
    assert_int_equal(json_array_size(alerts), 2);
    /* exactly what the builder makes (times are in the past: no clamping),
     * the resolved with the firing's severity */
    json_t *want_fire = vg_am_alert_new(&fire, "VigilAnomaly", "http://g/x", INT64_MAX);
    res.severity = VG_SEVERITY_WARNING;
    json_t *want_res = vg_am_alert_new(&res, "VigilAnomaly", "http://g/x", INT64_MAX);
    assert_true(json_equal(json_array_get(alerts, 0), want_fire));
    assert_true(json_equal(json_array_get(alerts, 1), want_res));
    /* and, spelled out, what Alertmanager keys on and times by */
    char *labels = json_dumps(json_object_get(json_array_get(alerts, 1), "labels"),
                              JSON_COMPACT | JSON_PRESERVE_ORDER);
    assert_string_equal(labels, "{\"host\":\"db1\",\"mount\":\"/var\",\"alertname\":"
                                "\"VigilAnomaly\",\"series\":\"disk_used\",\"severity\":"
                                "\"warning\"}");
    free(labels);
    assert_true(json_equal(json_object_get(json_array_get(alerts, 0), "labels"),
                           json_object_get(json_array_get(alerts, 1), "labels")));
    json_t *a0 = json_array_get(alerts, 0), *a1 = json_array_get(alerts, 1);
    assert_string_equal(json_string_value(json_object_get(a0, "startsAt")),
                        "2023-11-14T22:13:20.000Z");
    assert_null(json_object_get(a0, "endsAt"));
    assert_string_equal(json_string_value(json_object_get(a1, "startsAt")),
                        "2023-11-14T22:13:20.000Z");
    assert_string_equal(json_string_value(json_object_get(a1, "endsAt")),
                        "2023-11-14T22:18:20.000Z");
    json_t *ann = json_object_get(a0, "annotations");
    assert_string_equal(json_string_value(json_object_get(ann, "value")), "99.5");
    assert_string_equal(json_string_value(json_object_get(ann, "expected")), "41");
    assert_string_equal(json_string_value(json_object_get(ann, "band")), "[35, 47]");
    assert_string_equal(json_string_value(json_object_get(ann, "score")), "0.9999");
    assert_string_equal(json_string_value(json_object_get(ann, "score_zscore")), "0.9999");
    assert_string_equal(json_string_value(json_object_get(ann, "incident")), fire.id);
    json_decref(want_fire);
    json_decref(want_res);
    json_decref(alerts);
    server_stop(s);
}

static void retries_5xx_not_4xx(void **state)
{
    (void)state;
    static const int script[] = {500, 503, 200, 400, 200};
    server *s = server_start(script, 5);
    void *sink = open_sink(s->port, "");
    vg_event a = incident(VG_ALERT_FIRING, 1700000000000, VG_SEVERITY_WARNING);
    assert_int_equal(vg_alertmanager_sink_ops.emit(sink, &a), VG_OK);
    assert_int_equal(vg_alertmanager_sink_drain(sink, 60000), VG_OK);
    vg_alertmanager_stats st = stats(sink);
    assert_int_equal(server_count(s), 3);
    assert_string_equal(s->body[0], s->body[1]);  /* the same batch, again */
    assert_string_equal(s->body[1], s->body[2]);
    assert_int_equal(st.retries, 2);
    assert_int_equal(st.posted, 1);
    assert_int_equal(st.failed, 0);

    /* a 400 is given up at once, and the sink goes on */
    vg_event b = incident(VG_ALERT_FIRING, 1700001000000, VG_SEVERITY_WARNING);
    assert_int_equal(vg_alertmanager_sink_ops.emit(sink, &b), VG_OK);
    assert_int_equal(vg_alertmanager_sink_drain(sink, 60000), VG_OK);
    st = stats(sink);
    assert_int_equal(server_count(s), 4);
    assert_int_equal(st.failed, 1);
    assert_int_equal(st.retries, 2);
    vg_event c = incident(VG_ALERT_FIRING, 1700002000000, VG_SEVERITY_WARNING);
    assert_int_equal(vg_alertmanager_sink_ops.emit(sink, &c), VG_OK);
    assert_int_equal(vg_alertmanager_sink_drain(sink, 60000), VG_OK);
    st = stats(sink);
    assert_int_equal(server_count(s), 5);
    assert_int_equal(st.posted, 2);
    assert_non_null(strstr(s->body[4], c.id));
    vg_alertmanager_sink_ops.close(sink);
    server_stop(s);
}

static void full_queue_drops_oldest(void **state)
{
    (void)state;
    server *s = server_start(NULL, 0);
    server_set_gate(s, 1);
    void *sink = open_sink(s->port, "\"queue\": 3");
    vg_event ev[6];
    for (int i = 0; i < 6; i++)
        ev[i] = incident(VG_ALERT_FIRING, 1700000000000 + i * 1000, VG_SEVERITY_WARNING);
    assert_int_equal(vg_alertmanager_sink_ops.emit(sink, &ev[0]), VG_OK);
    server_wait(s, 1);  /* ev[0] in flight, the server stalls */
    for (int i = 1; i < 6; i++)
        assert_int_equal(vg_alertmanager_sink_ops.emit(sink, &ev[i]), VG_OK);
    assert_int_equal(stats(sink).dropped, 2);  /* ev[1], ev[2] */
    assert_int_equal(vg_alertmanager_sink_drain(sink, 20), VG_ETIMEOUT);
    /* A stalled Alertmanager never holds a batch: flush returns at once. */
    int64_t t0 = vg_now_ms();
    assert_int_equal(vg_alertmanager_sink_ops.flush(sink, 60000), VG_OK);
    assert_true(vg_now_ms() - t0 < 1000);
    server_set_gate(s, 0);
    assert_int_equal(vg_alertmanager_sink_drain(sink, 60000), VG_OK);
    vg_alertmanager_stats st = stats(sink);
    assert_int_equal(st.posted, 4);
    assert_int_equal(st.dropped, 2);
    vg_alertmanager_sink_ops.close(sink);

    assert_int_equal(s->n, 2);
    assert_non_null(strstr(s->body[0], ev[0].id));
    json_t *alerts = all_alerts(s);
    assert_int_equal(json_array_size(alerts), 4);
    for (int i = 3; i < 6; i++) {
        json_t *ann = json_object_get(json_array_get(alerts, (size_t)(i - 2)), "annotations");
        assert_string_equal(json_string_value(json_object_get(ann, "incident")), ev[i].id);
    }
    json_decref(alerts);
    server_stop(s);
}

static void firing_reposted_until_resolved(void **state)
{
    (void)state;
    server *s = server_start(NULL, 0);
    void *sink = open_sink(s->port, "\"resend_interval_s\": 0.02, \"resolve_hold_s\": 0.05");
    vg_event fire = incident(VG_ALERT_FIRING, 1700000000000, VG_SEVERITY_CRITICAL);
    vg_event res = incident(VG_ALERT_RESOLVED, 1700000000000, VG_SEVERITY_CRITICAL);
    assert_int_equal(vg_alertmanager_sink_ops.emit(sink, &fire), VG_OK);
    server_wait(s, 3);  /* the post and two re-posts */
    assert_int_equal(vg_alertmanager_sink_ops.emit(sink, &res), VG_OK);
    assert_int_equal(vg_alertmanager_sink_drain(sink, 60000), VG_OK);
    vg_alertmanager_sink_ops.close(sink);  /* the worker has stopped: s->n is final */

    /* firing posts, all the same bytes, then one resolved, then nothing */
    size_t n = s->n;
    assert_true(n >= 4);
    for (size_t i = 1; i + 1 < n; i++)
        assert_string_equal(s->body[i], s->body[0]);
    assert_null(strstr(s->body[0], "endsAt"));
    json_error_t jerr;
    json_t *last = json_loads(s->body[n - 1], 0, &jerr);
    json_t *first = json_loads(s->body[0], 0, &jerr);
    assert_int_equal(json_array_size(last), 1);
    json_t *resolved = json_array_get(last, 0);
    assert_non_null(json_object_get(resolved, "endsAt"));
    assert_true(json_equal(json_object_get(resolved, "labels"),
                           json_object_get(json_array_get(first, 0), "labels")));
    json_decref(first);
    json_decref(last);
    server_stop(s);
}

/* With the default hold (Alertmanager's group_wait + group_interval) a
 * short incident's resolved waits; closing does not wait for it nor lose
 * it: it goes out at once, after its firing, with endsAt at the end of the
 * hold, so Alertmanager still notifies the firing first. */
static void close_releases_held_resolved(void **state)
{
    (void)state;
    server *s = server_start(NULL, 0);
    void *sink = open_sink(s->port, "");
    vg_event fire = incident(VG_ALERT_FIRING, 1700000000000, VG_SEVERITY_CRITICAL);
    vg_event res = incident(VG_ALERT_RESOLVED, 1700000000000, VG_SEVERITY_CRITICAL);
    assert_int_equal(vg_alertmanager_sink_ops.emit(sink, &fire), VG_OK);
    assert_int_equal(vg_alertmanager_sink_ops.emit(sink, &res), VG_OK);
    server_wait(s, 1);
    assert_int_equal(vg_alertmanager_sink_drain(sink, 300), VG_ETIMEOUT);  /* held */
    assert_int_equal(s->n, 1);
    char soon[32];
    vg_format_rfc3339(vg_wall_ms() + 320000, soon);
    int64_t t0 = vg_now_ms();
    vg_alertmanager_sink_ops.close(sink);
    assert_true(vg_now_ms() - t0 < 5000);
    assert_int_equal(s->n, 2);
    json_t *alerts = all_alerts(s);
    json_t *resolved = json_array_get(alerts, 1);
    const char *ends = json_string_value(json_object_get(resolved, "endsAt"));
    assert_non_null(ends);
    assert_true(strcmp(ends, soon) > 0);  /* ~330 s from the firing's post */
    /* the firing alert itself, ended: its words are what the page shows */
    json_object_del(resolved, "endsAt");
    assert_true(json_equal(resolved, json_array_get(alerts, 0)));
    json_decref(alerts);
    server_stop(s);
}

static void unreachable_server_times_out(void **state)
{
    (void)state;
    /* a port that was just free: connections are refused, retried forever */
    server *s = server_start(NULL, 0);
    int port = s->port;
    server_stop(s);
    void *sink = open_sink(port, "\"backoff_max_ms\": 100");
    vg_event ev = incident(VG_ALERT_FIRING, 1700000000000, VG_SEVERITY_WARNING);
    assert_int_equal(vg_alertmanager_sink_ops.emit(sink, &ev), VG_OK);
    assert_int_equal(vg_alertmanager_sink_drain(sink, 50), VG_ETIMEOUT);
    assert_int_equal(stats(sink).posted, 0);
    vg_alertmanager_sink_ops.close(sink);  /* returns: retries stop at close */
}

static void bad_config_and_events(void **state)
{
    (void)state;
    static const struct {
        const char *text, *where, *msg;
    } cases[] = {
        {"{\"type\": \"alertmanager\",\n \"url\": \"ftp://x\"}", "<test>:2:", "url"},
        {"{\"type\": \"alertmanager\", \"bogus\": 1}", "<test>:1:", "bogus"},
        {"{\"type\": \"alertmanager\", \"batch\": 0}", "<test>:1:", "batch"},
        {"{\"type\": \"alertmanager\", \"resend_interval_s\": \"1\"}", "<test>:1:",
         "resend_interval_s"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        vg_error err = {0};
        vg_conf_doc *doc = vg_conf_doc_load_string(cases[i].text, "<test>", &err);
        assert_non_null(doc);
        assert_null(vg_alertmanager_sink_ops.open(doc, vg_conf_doc_root(doc), &err));
        assert_int_equal(err.code, VG_ECONFIG);
        assert_non_null(strstr(err.where, cases[i].where));
        assert_non_null(strstr(err.msg, cases[i].msg));
        vg_conf_doc_free(doc);
    }
    /* only firing and resolved events are alerts; a bad key is an error, counted */
    server *s = server_start(NULL, 0);
    void *sink = open_sink(s->port, "");
    vg_event ev = incident(VG_ALERT_PENDING, 1700000000000, VG_SEVERITY_WARNING);
    assert_int_equal(vg_alertmanager_sink_ops.emit(sink, &ev), VG_EARG);
    ev = incident(VG_ALERT_FIRING, 1700000000000, VG_SEVERITY_WARNING);
    ev.series = "m{a=\"1\"";
    ev.series_len = strlen(ev.series);
    assert_int_equal(vg_alertmanager_sink_ops.emit(sink, &ev), VG_EPARSE);
    assert_int_equal(stats(sink).failed, 1);
    assert_int_equal(vg_alertmanager_sink_drain(sink, 60000), VG_OK);
    vg_alertmanager_sink_ops.close(sink);
    assert_int_equal(s->n, 0);
    server_stop(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(posts_exact_alerts),
        cmocka_unit_test(retries_5xx_not_4xx),
        cmocka_unit_test(full_queue_drops_oldest),
        cmocka_unit_test(firing_reposted_until_resolved),
        cmocka_unit_test(close_releases_held_resolved),
        cmocka_unit_test(unreachable_server_times_out),
        cmocka_unit_test(bad_config_and_events),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
