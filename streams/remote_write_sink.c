/* Scores out: every scored point of the matching series, written as
 * Prometheus remote-write 1.0 to a time-series database (Prometheus with
 * --web.enable-remote-write-receiver, VictoriaMetrics' /api/v1/write), so
 * that a dashboard graphs a series beside its expectation and its score.
 *
 * Config: {"type": "remote-write", "url": "http://127.0.0.1:9090/api/v1/write",
 * "match": "*", "batch": 2000, "queue": 100000, "interval_ms": 1000,
 * "timeout_ms": 5000, "backoff_max_ms": 30000, "label_cache": 100000}.
 *
 * Per scored point of series `name{labels}`, one sample each (NaN ones left
 * out) of vigil_value, vigil_expected, vigil_lower, vigil_upper and
 * vigil_anomaly_score, with the series' labels plus metric="name" (which
 * replaces an input label called metric). The score is in "nines",
 * -log10(1 - score) (capped at 16), so a threshold of 0.9999 reads 4.
 *
 * Never blocks scoring: the pipeline asks selects() once per series (the
 * glob) and hands score() a scoring thread's share of a batch at once,
 * which is copied into one chunk (points and their keys in two
 * allocations) queued under one lock; beyond `queue` points the oldest
 * chunks are dropped (counted). One worker thread takes the queued chunks
 * and posts them, `batch` points per request at most, at least every
 * interval_ms while points wait.
 * A network error, a 5xx or a 429 is retried with backoff (100 ms doubling
 * to backoff_max_ms) while the queue keeps filling; any other 4xx drops the
 * request (counted, logged). flush() does not wait: scores are derived data
 * and never hold a checkpoint back. close() posts what is queued, trying
 * each request once. */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/series_key.h"
#include "core/vigil_metrics.h"
#include "streams/http_client.h"
#include "streams/prom_rw_encode.h"
#include "streams/rw_label_cache.h"
#include "streams/score_out.h"
#include "streams/stream.h"

#define BACKOFF_FIRST_MS 100
#define N_VALUES         5

static const char *const value_names[N_VALUES] = {
    "vigil_value", "vigil_expected", "vigil_lower", "vigil_upper", "vigil_anomaly_score",
};

typedef struct rw_out_params {
    char     url[1024];
    char     match[256];
    uint32_t batch, queue, label_cache;
    int64_t  interval_ms, timeout_ms, backoff_max_ms;
} rw_out_params;

#define P(f) offsetof(rw_out_params, f)
static const vg_conf_field rw_out_fields[] = {
    {"url", VG_CONF_STRING, P(url), 0, 0, 1024, "http://127.0.0.1:9090/api/v1/write",
     "remote-write endpoint (Prometheus: /api/v1/write with --web.enable-remote-write-"
     "receiver; VictoriaMetrics: /api/v1/write)"},
    {"match", VG_CONF_STRING, P(match), 0, 0, 256, "*",
     "shell glob on the series name: only matching series are written"},
    {"batch", VG_CONF_UINT32, P(batch), 2000, 1, 1000000, NULL, "scored points per request at most"},
    {"queue", VG_CONF_UINT32, P(queue), 100000, 1, 100000000, NULL,
     "scored points waiting to be written (the oldest dropped beyond)"},
    {"label_cache", VG_CONF_UINT32, P(label_cache), 100000, 0, 10000000, NULL,
     "series whose encoded labels are kept (two generations of this many at most: "
     "memory at most about 2 x this x (2 x key bytes + 80 B)); 0: encoded for every sample"},
    {"interval_ms", VG_CONF_INT, P(interval_ms), 1000, 10, 600000, NULL,
     "longest wait before waiting points are written"},
    {"timeout_ms", VG_CONF_INT, P(timeout_ms), 5000, 100, 600000, NULL, "time limit of one POST"},
    {"backoff_max_ms", VG_CONF_INT, P(backoff_max_ms), 30000, 100, 3600000, NULL,
     "longest wait between retries of a failed POST"},
};
#undef P
static const char *const rw_out_also[] = {"type", NULL};

typedef struct pending {
    const char *key;  /* in its chunk's keys */
    size_t      key_len;
    int64_t     ts_ms;
    double      v[N_VALUES];
} pending;

/* One handed-over share of a batch: its points and their keys. */
typedef struct chunk {
    struct chunk *next;
    pending      *pts;
    char         *keys;
    size_t        n;
} chunk;

typedef struct rw_out {
    rw_out_params   prm;
    pthread_mutex_t lock;
    pthread_cond_t  wake;
    chunk          *head, *tail;  /* queued, oldest first */
    size_t          n;            /* points queued */
    int             stop;
    atomic_int      abort;     /* ends a post in flight at close */
    pthread_t       worker;
    vg_http        *http;
    vg_rw_request   rq;
    vg_rw_label_cache *labels;  /* NULL with label_cache 0; the worker's only */
    vg_ratelimit    fail_log;
} rw_out;

static int configure(const vg_conf_doc *doc, const json_t *cfg, rw_out_params *prm,
                     vg_error *err)
{
    int rc = vg_conf_apply(doc, cfg, "outputs.remote-write", rw_out_fields,
                           VG_CONF_COUNT(rw_out_fields), rw_out_also, prm, err);
    if (rc == VG_OK && strncmp(prm->url, "http://", 7) != 0 &&
        strncmp(prm->url, "https://", 8) != 0) {
        char where[64];
        vg_conf_where(doc, cfg, "url", 0, where, sizeof(where));
        return vg_error_set_at(err, VG_ECONFIG, where,
                               "outputs.remote-write.url: must start with http:// or https://");
    }
    return rc;
}

static int rw_out_check(const vg_conf_doc *doc, const json_t *cfg, vg_error *err)
{
    rw_out_params prm;
    return configure(doc, cfg, &prm, err);
}

static int rw_out_selects(void *self, const char *key, size_t key_len)
{
    const rw_out *s = self;
    return vg__score_out_selects(s->prm.match, key, key_len);
}

static void chunk_free(chunk *c)
{
    free(c->pts);
    free(c->keys);
    free(c);
}

/* The points of smp[n] with their keys, copied. NULL when out of memory. */
static chunk *chunk_new(const vg_score_sample *smp, size_t n)
{
    size_t key_bytes = 0;
    for (size_t i = 0; i < n; i++)
        key_bytes += smp[i].key_len;
    chunk *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return NULL;
    c->pts = malloc(n * sizeof(*c->pts));
    c->keys = malloc(key_bytes + 1);
    if (c->pts == NULL || c->keys == NULL) {
        chunk_free(c);
        return NULL;
    }
    char *at = c->keys;
    for (size_t i = 0; i < n; i++, c->n++) {
        memcpy(at, smp[i].key, smp[i].key_len);
        c->pts[i] = (pending){at, smp[i].key_len, smp[i].ts_ms,
                              {smp[i].value, smp[i].expected, smp[i].lower, smp[i].upper,
                               vg__score_nines(smp[i].score)}};
        at += smp[i].key_len;
    }
    return c;
}

/* Under the lock: drops the oldest chunks (counted) until `room` more
 * points fit in the queue. */
static void make_room(rw_out *s, size_t room)
{
    while (s->head != NULL && s->n + room > s->prm.queue) {
        chunk *c = s->head;
        s->head = c->next;
        if (s->head == NULL)
            s->tail = NULL;
        s->n -= c->n;
        vg_metric_label_inc(VG_M_SCORE_POINTS, "dropped", c->n);
        chunk_free(c);
    }
}

static void rw_out_score(void *self, const vg_score_sample *smp, size_t n)
{
    rw_out *s = self;
    if (n > s->prm.queue) {  /* more than the queue holds: its newest points */
        vg_metric_label_inc(VG_M_SCORE_POINTS, "dropped", n - s->prm.queue);
        smp += n - s->prm.queue;
        n = s->prm.queue;
    }
    chunk *c = chunk_new(smp, n);
    if (c == NULL) {
        vg_metric_label_inc(VG_M_SCORE_POINTS, "dropped", n);
        return;
    }
    pthread_mutex_lock(&s->lock);
    make_room(s, n);
    if (s->tail != NULL)
        s->tail->next = c;
    else
        s->head = c;
    s->tail = c;
    s->n += n;
    if (s->n >= s->prm.batch)
        pthread_cond_signal(&s->wake);
    pthread_mutex_unlock(&s->lock);
}

/* CLOCK_REALTIME in ms from now, for pthread_cond_timedwait. */
static struct timespec deadline_in(int64_t ms)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    t.tv_sec += (time_t)(ms / 1000);
    t.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (t.tv_nsec >= 1000000000L) {
        t.tv_sec++;
        t.tv_nsec -= 1000000000L;
    }
    return t;
}

/* Sleeps ms unless the sink closes first; 1 when it closes. */
static int nap(rw_out *s, int64_t ms)
{
    struct timespec until = deadline_in(ms);
    pthread_mutex_lock(&s->lock);
    if (!s->stop)
        pthread_cond_timedwait(&s->wake, &s->lock, &until);
    int stop = s->stop;
    pthread_mutex_unlock(&s->lock);
    return stop;
}

/* One status: 1 done (sent or rejected for good), 0 retry. */
static int settle(rw_out *s, int status, size_t points, const char *reply, const vg_error *err)
{
    if (status >= 200 && status < 300) {
        vg_metric_label_inc(VG_M_SCORE_POINTS, "sent", points);
        return 1;
    }
    int retry = status < 0 || status >= 500 || status == 429;
    vg_metric_inc(VG_M_SCORE_POST_FAILURES, 1);
    char shown[1100];
    vg_url_redact(s->prm.url, shown, sizeof(shown));
    if (status < 0)
        vg_log_limited(&s->fail_log, VG_LOG_WARN, "remote-write output: no answer from %s: %s "
                       "(retrying)", shown, err->msg);
    else
        vg_log_limited(&s->fail_log, VG_LOG_WARN, "remote-write output: HTTP %d from %s: %s (%s)",
                       status, shown, reply, retry ? "retrying" : "rejected, dropped");
    if (!retry)
        vg_metric_label_inc(VG_M_SCORE_POINTS, "rejected", points);
    return !retry;
}

/* Posts the request encoded in s->rq (n points), retried with backoff
 * until done or the sink closes (then once more at most). Returns 1 when
 * the request is settled, 0 when it was given up at close. */
static int post(rw_out *s, size_t n)
{
    size_t len = 0;
    char *body = vg_rw_request_compress(&s->rq, &len);
    vg_rw_request_reset(&s->rq);
    if (body == NULL) {
        vg_metric_label_inc(VG_M_SCORE_POINTS, "dropped", n);
        return 1;
    }
    int64_t backoff = BACKOFF_FIRST_MS;
    int settled = 0;
    for (int closing = 0; !settled;) {
        char reply[256];
        vg_error err = {0};
        int status = vg_http_post(s->http, body, len, reply, sizeof(reply), &err);
        settled = settle(s, status, n, reply, &err);
        if (closing)
            break;
        if (!settled)
            closing = nap(s, backoff);
        backoff = backoff * 2 < s->prm.backoff_max_ms ? backoff * 2 : s->prm.backoff_max_ms;
    }
    free(body);
    if (!settled)
        vg_metric_label_inc(VG_M_SCORE_POINTS, "dropped", n);
    return settled;
}

static void free_chunks(chunk *c)
{
    while (c != NULL) {
        chunk *next = c->next;
        chunk_free(c);
        c = next;
    }
}

/* Waits for a batch (or interval_ms with points waiting, or the close) and
 * takes every queued chunk (*n points); NULL once closed and empty. */
static chunk *take(rw_out *s, size_t *n)
{
    struct timespec until = deadline_in(s->prm.interval_ms);
    pthread_mutex_lock(&s->lock);
    while (!s->stop && s->n < s->prm.batch &&
           pthread_cond_timedwait(&s->wake, &s->lock, &until) == 0)
        ;
    chunk *taken = s->head;
    *n = s->n;
    s->head = s->tail = NULL;
    s->n = 0;
    pthread_mutex_unlock(&s->lock);
    return taken;
}

/* Posts the taken chunks (n points), `batch` points per request at most.
 * Returns the points left unposted once a request was given up at close
 * (that request's own are counted by post()), 0 when all were settled. */
static size_t post_chunks(rw_out *s, const chunk *c, size_t n)
{
    size_t in_request = 0, done = 0;
    for (; c != NULL; c = c->next)
        for (size_t i = 0; i < c->n; i++) {
            vg_rw_score_encode(&s->rq, s->labels, c->pts[i].key, c->pts[i].key_len,
                               value_names, c->pts[i].v, N_VALUES, c->pts[i].ts_ms);
            if (++in_request == s->prm.batch) {
                if (!post(s, in_request))
                    return n - done - in_request;
                done += in_request;
                in_request = 0;
            }
        }
    return in_request == 0 || post(s, in_request) ? 0 : n - done - in_request;
}

static void *worker(void *arg)
{
    rw_out *s = arg;
    for (;;) {
        size_t n;
        chunk *taken = take(s, &n);
        size_t left = taken != NULL ? post_chunks(s, taken, n) : 0;
        free_chunks(taken);
        pthread_mutex_lock(&s->lock);
        if (left > 0) {
            /* Given up at close: what waits is dropped (counted), so that a
             * down database cannot stretch a shutdown by a timeout per batch. */
            vg_metric_label_inc(VG_M_SCORE_POINTS, "dropped", left + s->n);
            free_chunks(s->head);
            s->head = s->tail = NULL;
            s->n = 0;
        }
        int done = s->stop && s->n == 0;
        pthread_mutex_unlock(&s->lock);
        if (done)
            break;
    }
    return NULL;
}

static void *rw_out_open(const vg_conf_doc *doc, const json_t *cfg, vg_error *err)
{
    static const char *const headers[] = {
        "Content-Type: application/x-protobuf", "Content-Encoding: snappy",
        "X-Prometheus-Remote-Write-Version: 0.1.0", NULL};
    rw_out *s = calloc(1, sizeof(*s));
    if (s == NULL) {
        vg_error_set(err, VG_ENOMEM, "remote-write output");
        return NULL;
    }
    if (configure(doc, cfg, &s->prm, err) != VG_OK)
        goto out_free;
    s->http = vg_http_new_with(s->prm.url, (int)s->prm.timeout_ms, &s->abort, headers, err);
    if (s->http == NULL)
        goto out_free;
    vg_rw_request_init(&s->rq);
    if (s->prm.label_cache > 0 &&
        (s->labels = vg_rw_label_cache_new(s->prm.label_cache)) == NULL) {
        vg_error_set(err, VG_ENOMEM, "remote-write output: label cache");
        vg_http_free(s->http);
        goto out_free;
    }
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->wake, NULL);
    if (pthread_create(&s->worker, NULL, worker, s) != 0) {
        vg_error_set(err, VG_EIO, "remote-write output: cannot start its thread");
        pthread_cond_destroy(&s->wake);
        pthread_mutex_destroy(&s->lock);
        vg_rw_label_cache_free(s->labels);
        vg_http_free(s->http);
        goto out_free;
    }
    return s;

out_free:
    free(s);
    return NULL;
}

static void rw_out_close(void *self)
{
    rw_out *s = self;
    pthread_mutex_lock(&s->lock);
    s->stop = 1;
    pthread_cond_broadcast(&s->wake);
    pthread_mutex_unlock(&s->lock);
    pthread_join(s->worker, NULL);  /* it posts what is queued, each request once */
    vg_http_free(s->http);
    vg_rw_request_release(&s->rq);
    vg_rw_label_cache_free(s->labels);
    pthread_cond_destroy(&s->wake);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

const vg_sink_ops vg_remote_write_sink_ops = {
    .name     = "remote-write",
    .fields   = rw_out_fields,
    .n_fields = VG_CONF_COUNT(rw_out_fields),
    .check    = rw_out_check,
    .open     = rw_out_open,
    .emit     = vg__score_out_emit,
    .close    = rw_out_close,
    .score    = rw_out_score,
    .selects  = rw_out_selects,
};
