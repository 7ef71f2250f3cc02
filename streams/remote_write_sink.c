/* Scores out: every scored point of the matching series, written as
 * Prometheus remote-write 1.0 to a time-series database (Prometheus with
 * --web.enable-remote-write-receiver, VictoriaMetrics' /api/v1/write), so
 * that a dashboard graphs a series beside its expectation and its score.
 *
 * Config: {"type": "remote-write", "url": "http://127.0.0.1:9090/api/v1/write",
 * "match": "*", "batch": 2000, "queue": 100000, "interval_ms": 1000,
 * "timeout_ms": 5000, "backoff_max_ms": 30000}.
 *
 * Per scored point of series `name{labels}`, one sample each (NaN ones left
 * out) of vigil_value, vigil_expected, vigil_lower, vigil_upper and
 * vigil_anomaly_score, with the series' labels plus metric="name" (which
 * replaces an input label called metric). The score is in "nines",
 * -log10(1 - score) (capped at 16), so a threshold of 0.9999 reads 4.
 *
 * Never blocks scoring: score() copies the point into a bounded queue (the
 * oldest dropped and counted beyond `queue`); one worker thread posts up to
 * `batch` points per request, at least every interval_ms while points wait.
 * A network error, a 5xx or a 429 is retried with backoff (100 ms doubling
 * to backoff_max_ms) while the queue keeps filling; any other 4xx drops the
 * request (counted, logged). flush() does not wait: scores are derived data
 * and never hold a checkpoint back. close() posts what is queued, trying
 * each request once. */
#include <fnmatch.h>
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
#include "streams/stream.h"

#define BACKOFF_FIRST_MS 100
#define NINES_MAX        16.0
#define N_VALUES         5

static const char *const value_names[N_VALUES] = {
    "vigil_value", "vigil_expected", "vigil_lower", "vigil_upper", "vigil_anomaly_score",
};

typedef struct rw_out_params {
    char     url[1024];
    char     match[256];
    uint32_t batch, queue;
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
    {"interval_ms", VG_CONF_INT, P(interval_ms), 1000, 10, 600000, NULL,
     "longest wait before waiting points are written"},
    {"timeout_ms", VG_CONF_INT, P(timeout_ms), 5000, 100, 600000, NULL, "time limit of one POST"},
    {"backoff_max_ms", VG_CONF_INT, P(backoff_max_ms), 30000, 100, 3600000, NULL,
     "longest wait between retries of a failed POST"},
};
#undef P
static const char *const rw_out_also[] = {"type", NULL};

typedef struct pending {
    char    *key;
    size_t   key_len;
    int64_t  ts_ms;
    double   v[N_VALUES];
} pending;

typedef struct rw_out {
    rw_out_params   prm;
    pthread_mutex_t lock;
    pthread_cond_t  wake;
    pending        *ring;      /* prm.queue slots */
    size_t          head, n;
    int             stop;
    atomic_int      abort;     /* ends a post in flight at close */
    pthread_t       worker;
    vg_http        *http;
    vg_rw_request   rq;
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

static double nines(double score)
{
    if (isnan(score))
        return NAN;
    return score >= 1 ? NINES_MAX : fmin(NINES_MAX, -log10(1 - score));
}

static int matches(const rw_out *s, const char *key, size_t key_len)
{
    char name[256];
    size_t n = strcspn(key, "{");
    if (n > key_len)
        n = key_len;
    if (n >= sizeof(name))
        return 0;
    memcpy(name, key, n);
    name[n] = '\0';
    return fnmatch(s->prm.match, name, 0) == 0;
}

static void rw_out_score(void *self, const vg_score_sample *smp)
{
    rw_out *s = self;
    if (!matches(s, smp->key, smp->key_len))
        return;
    char *key = malloc(smp->key_len + 1);
    if (key == NULL)
        return;
    memcpy(key, smp->key, smp->key_len);
    key[smp->key_len] = '\0';
    pthread_mutex_lock(&s->lock);
    if (s->n == s->prm.queue) {  /* full: the oldest point goes */
        free(s->ring[s->head].key);
        s->head = (s->head + 1) % s->prm.queue;
        s->n--;
        vg_metric_label_inc(VG_M_SCORE_POINTS, "dropped", 1);
    }
    s->ring[(s->head + s->n++) % s->prm.queue] = (pending){
        key, smp->key_len, smp->ts_ms,
        {smp->value, smp->expected, smp->lower, smp->upper, nines(smp->score)}};
    if (s->n >= s->prm.batch)
        pthread_cond_signal(&s->wake);
    pthread_mutex_unlock(&s->lock);
}

/* Adds one point's samples: its labels (from its key), metric="name",
 * __name__ per value. */
static void encode_point(vg_rw_request *rq, const pending *pt)
{
    vg_label labels[VG_MAX_LABELS + 2];
    char scratch[4096];
    size_t name_len;
    int n = vg_series_key_split(pt->key, pt->key_len, &name_len, labels, VG_MAX_LABELS,
                                scratch, sizeof(scratch));
    if (n < 0)
        return;  /* keys come from the parsers: always canonical */
    size_t m = 0;
    for (int i = 0; i < n; i++)
        if (!(labels[i].name_len == 6 && memcmp(labels[i].name, "metric", 6) == 0))
            labels[m++] = labels[i];
    labels[m++] = (vg_label){"metric", 6, pt->key, name_len};
    for (size_t k = 0; k < N_VALUES; k++) {
        if (isnan(pt->v[k]))
            continue;
        vg_label all[VG_MAX_LABELS + 2];
        memcpy(all, labels, m * sizeof(*all));
        all[m] = (vg_label){"__name__", 8, value_names[k], strlen(value_names[k])};
        vg_rw_request_add(rq, all, m + 1, pt->v[k], pt->ts_ms);
    }
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

/* Posts points[n], retried with backoff until done or the sink closes
 * (then once more at most). Returns 1 when the request is settled, 0 when
 * it was given up at close. */
static int post(rw_out *s, const pending *points, size_t n)
{
    vg_rw_request_reset(&s->rq);
    for (size_t i = 0; i < n; i++)
        encode_point(&s->rq, &points[i]);
    size_t len = 0;
    char *body = vg_rw_request_compress(&s->rq, &len);
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

/* Closing with the endpoint failing: what waits is dropped (counted), so
 * that a down database cannot stretch a shutdown by a timeout per batch. */
static void drop_queued(rw_out *s)
{
    pthread_mutex_lock(&s->lock);
    vg_metric_label_inc(VG_M_SCORE_POINTS, "dropped", s->n);
    for (; s->n > 0; s->n--, s->head = (s->head + 1) % s->prm.queue)
        free(s->ring[s->head].key);
    pthread_mutex_unlock(&s->lock);
}

/* Waits for a batch (or interval_ms with points waiting, or the close),
 * moves it into out; returns its size, 0 once closed and empty. */
static size_t take(rw_out *s, pending *out)
{
    struct timespec until = deadline_in(s->prm.interval_ms);
    pthread_mutex_lock(&s->lock);
    while (!s->stop && s->n < s->prm.batch &&
           pthread_cond_timedwait(&s->wake, &s->lock, &until) == 0)
        ;
    size_t n = s->n < s->prm.batch ? s->n : s->prm.batch;
    for (size_t i = 0; i < n; i++)
        out[i] = s->ring[(s->head + i) % s->prm.queue];
    s->head = (s->head + n) % s->prm.queue;
    s->n -= n;
    pthread_mutex_unlock(&s->lock);
    return n;
}

static void *worker(void *arg)
{
    rw_out *s = arg;
    pending *batch = malloc(s->prm.batch * sizeof(*batch));
    vg_assert(batch != NULL);
    for (;;) {
        size_t n = take(s, batch);
        if (n > 0 && !post(s, batch, n))
            drop_queued(s);
        for (size_t i = 0; i < n; i++)
            free(batch[i].key);
        pthread_mutex_lock(&s->lock);
        int done = s->stop && s->n == 0;
        pthread_mutex_unlock(&s->lock);
        if (done)
            break;
    }
    free(batch);
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
    s->ring = calloc(s->prm.queue, sizeof(*s->ring));
    if (s->ring == NULL) {
        vg_error_set(err, VG_ENOMEM, "remote-write output queue");
        goto out_free;
    }
    s->http = vg_http_new_with(s->prm.url, (int)s->prm.timeout_ms, &s->abort, headers, err);
    if (s->http == NULL)
        goto out_free;
    vg_rw_request_init(&s->rq);
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->wake, NULL);
    if (pthread_create(&s->worker, NULL, worker, s) != 0) {
        vg_error_set(err, VG_EIO, "remote-write output: cannot start its thread");
        pthread_cond_destroy(&s->wake);
        pthread_mutex_destroy(&s->lock);
        vg_http_free(s->http);
        goto out_free;
    }
    return s;

out_free:
    free(s->ring);
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
    pthread_cond_destroy(&s->wake);
    pthread_mutex_destroy(&s->lock);
    free(s->ring);
    free(s);
}

/* Incidents are the other outputs' business. */
static int rw_out_emit(void *self, const vg_event *ev)
{
    (void)self;
    (void)ev;
    return VG_OK;
}

const vg_sink_ops vg_remote_write_sink_ops = {
    .name     = "remote-write",
    .fields   = rw_out_fields,
    .n_fields = VG_CONF_COUNT(rw_out_fields),
    .check    = rw_out_check,
    .open     = rw_out_open,
    .emit     = rw_out_emit,
    .close    = rw_out_close,
    .score    = rw_out_score,
};
