/* Incidents to Prometheus Alertmanager: POST /api/v2/alerts.
 *
 * Config: {"type": "alertmanager", "url": "http://127.0.0.1:9093",
 * "alertname": "VigilAnomaly", "timeout_ms": 5000, "batch": 64,
 * "queue": 10000, "resend_interval_s": 60, "resolve_hold_s": 330,
 * "backoff_max_ms": 30000, "generator_url": ""}.
 *
 * Alertmanager semantics drive the design. An alert posted without endsAt
 * stays firing for resolve_timeout (5 min by default) after the last post,
 * so a firing alert is re-posted every resend_interval_s until its incident
 * resolves; if vigil stops, Alertmanager resolves it by itself after that
 * timeout. A resolved alert is the same label set with endsAt.
 *
 * The resolve hold. Alertmanager notifies a group group_wait (30 s by
 * default) after its first alert arrives, then every group_interval (5 min)
 * while it changes, and never notifies a resolved alert it did not notify
 * as firing: a resolved that arrives before the firing's notification is
 * either dropped (a new group: the incident never reaches the receiver) or
 * shows up as resolved, never seen firing (a group already notified). So a
 * resolved is held until its firing was first posted resolve_hold_s ago;
 * the default, 330 s, is Alertmanager's group_wait + group_interval, the
 * longest a firing can wait for its notification in either case. Only
 * short incidents wait: a resolved posted later than that goes at once,
 * with its true endsAt. At close, a resolve whose hold has more than half
 * the close budget to run is posted at once with endsAt at the end of its
 * hold (in the future: Alertmanager keeps the alert firing until then, so
 * the order still holds; the event log keeps the true end).
 *
 * A group incident's page (alert.group_window_s, engine/incident_join.h)
 * is its leader's alert: re-posted with the series that joined it as they
 * join and resolve (annotations members, members_firing, members_listed),
 * and, when the leader resolves while some of them fire, kept firing
 * (leader_resolved) until the last resolves: its resolved is then the
 * firing's text with endsAt at that time. A member that escalates pages
 * with its own alert (annotation group_id).
 *
 * Delivery never blocks the pipeline: emit() encodes the alert and queues
 * it (oldest dropped and counted when the queue is full); one worker thread
 * posts whatever is due, up to `batch` alerts per request (bursts batch by
 * themselves while a post is in flight, so no linger delay is added). A
 * network error or a 5xx is retried with exponential backoff (100 ms
 * doubling up to backoff_max_ms) for as long as the sink is open; a 4xx is
 * not retried: counted as failed and logged. flush() never waits: an alert
 * queued in the outbox is as durable as this output gets (the worker owns
 * it from there), so a slow or down Alertmanager never stalls a batch or a
 * checkpoint. vg_alertmanager_sink_drain() waits for the queue to empty.
 * close() drains for at most CLOSE_DRAIN_MS, then waits at most for the
 * post in flight (timeout_ms): the bound `vigil run` shutdown counts on. */
#include "streams/alertmanager_sink.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/vigil_metrics.h"
#include "streams/alertmanager_alert.h"
#include "streams/alertmanager_outbox.h"

#define CLOSE_DRAIN_MS 10000  /* replay ends and SIGTERM: the last alerts' chance */
#include "streams/http_client.h"

#define BACKOFF_FIRST_MS 100

typedef struct am_params {
    char    url[1024];
    char    alertname[128];
    int64_t timeout_ms;
    int64_t batch;
    int64_t queue;
    double  resend_interval_s;
    double  resolve_hold_s;
    int64_t backoff_max_ms;
    char    generator_url[1024];
} am_params;

static const vg_conf_field am_fields[] = {
    {"url", VG_CONF_STRING, offsetof(am_params, url), 0, 0, 1024, "http://127.0.0.1:9093",
     "Alertmanager base URL; alerts go to URL/api/v2/alerts"},
    {"alertname", VG_CONF_STRING, offsetof(am_params, alertname), 0, 0, 128, "VigilAnomaly",
     "the alertname label of every alert"},
    {"timeout_ms", VG_CONF_INT, offsetof(am_params, timeout_ms), 5000, 100, 600000, NULL,
     "time limit of one POST"},
    {"batch", VG_CONF_INT, offsetof(am_params, batch), 64, 1, 10000, NULL,
     "alerts per POST at most"},
    {"queue", VG_CONF_INT, offsetof(am_params, queue), 10000, 1, 1000000, NULL,
     "alerts waiting to be posted (oldest dropped beyond), and firing incidents re-posted"},
    {"resend_interval_s", VG_CONF_DOUBLE, offsetof(am_params, resend_interval_s), 60, 0.01,
     86400, NULL, "re-post firing alerts this often (keep it under resolve_timeout)"},
    {"resolve_hold_s", VG_CONF_DOUBLE, offsetof(am_params, resolve_hold_s), 330, 0, 86400, NULL,
     "post a resolved alert no sooner than this after its firing, so Alertmanager notifies the "
     "firing first: at least the route's group_wait + group_interval (defaults 30 s + 5 min)"},
    {"backoff_max_ms", VG_CONF_INT, offsetof(am_params, backoff_max_ms), 30000, 100, 3600000,
     NULL, "longest wait between retries of a failed POST"},
    {"generator_url", VG_CONF_STRING, offsetof(am_params, generator_url), 0, 0, 1024, "",
     "generatorURL of every alert (a dashboard link); empty leaves it out"},
};

static const char *const am_also[] = {"type", NULL};

typedef struct am_sink {
    am_params       params;
    char            post_url[1100];
    char            log_url[1100];  /* post_url without credentials, for logs */
    pthread_mutex_t lock;
    pthread_cond_t  wake;     /* worker: something queued, or closing */
    pthread_cond_t  drained;  /* flush: a post finished */
    vg_am_outbox   *outbox;   /* under lock */
    size_t          in_flight;
    int             idle;     /* the worker waits on `wake`: only then signal it */
    atomic_int      closing;
    pthread_t       worker;
    vg_http        *http;     /* worker thread only */
    vg_am_item     *items;    /* the batch in flight; worker thread only */
    vg_ratelimit    post_log; /* worker thread only */
    vg_ratelimit    emit_log; /* emit thread only */
    _Atomic uint64_t posted, failed, dropped, retries;
} am_sink;

/* Waits on cond until the monotonic time deadline_ms (INT64_MAX: no limit). */
static void wait_until(pthread_cond_t *cond, pthread_mutex_t *lock, int64_t deadline_ms)
{
    if (deadline_ms == INT64_MAX) {
        pthread_cond_wait(cond, lock);
        return;
    }
    struct timespec ts = {.tv_sec = (time_t)(deadline_ms / 1000),
                          .tv_nsec = (long)(deadline_ms % 1000) * 1000000L};
    pthread_cond_timedwait(cond, lock, &ts);
}

/* "[a,b,...]" from the items' texts; NULL when out of memory. */
static char *batch_body(const vg_am_item *items, size_t n, size_t *len)
{
    size_t need = 3;
    for (size_t i = 0; i < n; i++)
        need += strlen(items[i].json) + 1;
    char *body = malloc(need);
    if (body == NULL)
        return NULL;
    size_t at = 0;
    body[at++] = '[';
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            body[at++] = ',';
        size_t k = strlen(items[i].json);
        memcpy(body + at, items[i].json, k);
        at += k;
    }
    body[at++] = ']';
    body[at] = '\0';
    *len = at;
    return body;
}

/* Posts one batch until it is accepted, rejected, or the sink closes.
 * Called without the lock; takes it only to sleep between retries. */

/* Alerts lost unsent: the sink's count and vigil_alertmanager_dropped_total. */
static void count_dropped(am_sink *s, uint64_t n)
{
    atomic_fetch_add(&s->dropped, n);
    vg_metric_inc(VG_M_ALERTMANAGER_DROPPED, n);
}

/* The queue's depth for /metrics; under s->lock. */
static void show_depth(am_sink *s)
{
    vg_metric_set(VG_M_ALERTMANAGER_QUEUE, (double)vg_am_outbox_queued(s->outbox));
}

static void post_batch(am_sink *s, const vg_am_item *items, size_t n)
{
    size_t len;
    char *body = batch_body(items, n, &len);
    if (body == NULL) {
        atomic_fetch_add(&s->failed, n);
        vg_log_limited(&s->post_log, VG_LOG_ERROR, "alertmanager: out of memory: %zu alerts lost",
                       n);
        return;
    }
    int64_t backoff = BACKOFF_FIRST_MS;
    for (;;) {
        char reply[256];
        vg_error err = {0};
        int status = vg_http_post_json(s->http, body, len, reply, sizeof(reply), &err);
        if (status >= 200 && status < 300) {
            atomic_fetch_add(&s->posted, n);
            vg_metric_inc(VG_M_ALERTMANAGER_POSTS, 1);
            break;
        }
        vg_metric_inc(VG_M_ALERTMANAGER_FAILURES, 1);
        if (status >= 400 && status < 500) {
            atomic_fetch_add(&s->failed, n);
            vg_log_limited(&s->post_log, VG_LOG_ERROR,
                           "alertmanager: %s rejected %zu alerts: HTTP %d: %s", s->log_url, n,
                           status, reply);
            break;
        }
        if (atomic_load(&s->closing)) {
            count_dropped(s, n);
            break;
        }
        atomic_fetch_add(&s->retries, 1);
        if (status > 0)
            vg_log_limited(&s->post_log, VG_LOG_WARN,
                           "alertmanager: %s: HTTP %d, retrying in %lld ms", s->log_url, status,
                           (long long)backoff);
        else
            vg_log_limited(&s->post_log, VG_LOG_WARN, "alertmanager: %s: %s, retrying in %lld ms",
                           s->log_url, err.msg, (long long)backoff);
        pthread_mutex_lock(&s->lock);
        int64_t until = vg_now_ms() + backoff;
        while (!atomic_load(&s->closing) && vg_now_ms() < until)
            wait_until(&s->wake, &s->lock, until);
        pthread_mutex_unlock(&s->lock);
        backoff = backoff * 2 < s->params.backoff_max_ms ? backoff * 2 : s->params.backoff_max_ms;
    }
    free(body);
}

/* A resolved released at close before its hold ended gets endsAt at the
 * end of that hold (see the top of this file). */
static void extend_released(am_sink *s, vg_am_item *items, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (items[i].ends_in_ms > 0 &&
            vg_am_alert_set_end(&items[i].json, vg_wall_ms() + items[i].ends_in_ms) != VG_OK)
            vg_log_limited(&s->post_log, VG_LOG_ERROR,
                           "alertmanager: cannot extend a held resolved: posted as it is");
}

static void *worker_main(void *arg)
{
    am_sink *s = arg;
    vg_am_item *items = s->items;
    pthread_mutex_lock(&s->lock);
    while (!atomic_load(&s->closing)) {
        int64_t now = vg_now_ms();
        size_t n = vg_am_outbox_take(s->outbox, now, items, (size_t)s->params.batch);
        if (n == 0) {
            s->idle = 1;
            wait_until(&s->wake, &s->lock, vg_am_outbox_next_due(s->outbox, now));
            s->idle = 0;
            continue;
        }
        s->in_flight = n;
        pthread_mutex_unlock(&s->lock);
        extend_released(s, items, n);
        post_batch(s, items, n);
        pthread_mutex_lock(&s->lock);
        vg_am_outbox_done(s->outbox, items, n, vg_now_ms());
        show_depth(s);
        s->in_flight = 0;
        pthread_cond_broadcast(&s->drained);
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

static int init_sync(am_sink *s)
{
    pthread_condattr_t attr;
    if (pthread_condattr_init(&attr) != 0)
        return VG_ENOMEM;
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    int rc = pthread_mutex_init(&s->lock, NULL);
    if (rc == 0 && (rc = pthread_cond_init(&s->wake, &attr)) != 0)
        pthread_mutex_destroy(&s->lock);
    if (rc == 0 && (rc = pthread_cond_init(&s->drained, &attr)) != 0) {
        pthread_cond_destroy(&s->wake);
        pthread_mutex_destroy(&s->lock);
    }
    pthread_condattr_destroy(&attr);
    return rc == 0 ? VG_OK : VG_ENOMEM;
}

static void destroy_sync(am_sink *s)
{
    pthread_cond_destroy(&s->drained);
    pthread_cond_destroy(&s->wake);
    pthread_mutex_destroy(&s->lock);
}

/* The keys, and a base URL that is http(s). */
static int am_configure(const vg_conf_doc *doc, const json_t *cfg, am_params *prm,
                        vg_error *err)
{
    int rc = vg_conf_apply(doc, cfg, "outputs.alertmanager", am_fields,
                           VG_CONF_COUNT(am_fields), am_also, prm, err);
    if (rc != VG_OK)
        return rc;
    if (strncmp(prm->url, "http://", 7) != 0 && strncmp(prm->url, "https://", 8) != 0) {
        char where[64];
        vg_conf_where(doc, cfg, "url", 0, where, sizeof(where));
        return vg_error_set_at(err, VG_ECONFIG, where,
                               "outputs.alertmanager.url: must start with http:// or https://");
    }
    return VG_OK;
}

static int am_check(const vg_conf_doc *doc, const json_t *cfg, vg_error *err)
{
    am_params prm;
    return am_configure(doc, cfg, &prm, err);
}

/* The alerts path is appended once to the base URL. */
static void make_post_url(am_sink *s)
{
    const char *url = s->params.url;
    size_t len = strlen(url);
    while (len > 0 && url[len - 1] == '/')
        len--;
    snprintf(s->post_url, sizeof(s->post_url), "%.*s/api/v2/alerts", (int)len, url);
    vg_url_redact(s->post_url, s->log_url, sizeof(s->log_url));
}

static void *am_open(const vg_conf_doc *doc, const json_t *cfg, vg_error *err)
{
    am_sink *s = calloc(1, sizeof(*s));
    if (s == NULL) {
        vg_error_set(err, VG_ENOMEM, "alertmanager sink");
        return NULL;
    }
    if (am_configure(doc, cfg, &s->params, err) != VG_OK)
        goto out_free_sink;
    make_post_url(s);
    s->http = vg_http_new(s->post_url, (int)s->params.timeout_ms, &s->closing, err);
    if (s->http == NULL)
        goto out_free_sink;
    vg_am_outbox_params op = {
        .cap = (size_t)s->params.queue,
        .resend_ms = (int64_t)(s->params.resend_interval_s * 1000.0),
        .hold_ms = (int64_t)(s->params.resolve_hold_s * 1000.0),
    };
    s->outbox = vg_am_outbox_new(&op);
    s->items = calloc((size_t)s->params.batch, sizeof(*s->items));
    if (s->outbox == NULL || s->items == NULL || init_sync(s) != VG_OK) {
        vg_error_set(err, VG_ENOMEM, "alertmanager sink");
        goto out_free_outbox;
    }
    if (pthread_create(&s->worker, NULL, worker_main, s) != 0) {
        vg_error_set(err, VG_ENOMEM, "alertmanager sink: no thread");
        goto out_destroy_sync;
    }
    return s;

out_destroy_sync:
    destroy_sync(s);
out_free_outbox:
    free(s->items);
    vg_am_outbox_free(s->outbox);
    vg_http_free(s->http);
out_free_sink:
    free(s);
    return NULL;
}

/* Queues the alert text json (taken) of incident id and wakes the worker. */
static int queue_alert(am_sink *s, const char *id, int resolved, vg_severity severity,
                       char *json)
{
    uint64_t dropped = 0;
    pthread_mutex_lock(&s->lock);
    int rc = vg_am_outbox_push(s->outbox, id, resolved, severity, json, vg_now_ms(), &dropped);
    show_depth(s);
    if (s->idle)
        pthread_cond_signal(&s->wake);
    pthread_mutex_unlock(&s->lock);
    if (dropped > 0) {
        count_dropped(s, dropped);
        vg_log_limited(&s->emit_log, VG_LOG_WARN,
                       "alertmanager: queue full (%lld alerts): oldest dropped",
                       (long long)s->params.queue);
    }
    return rc;
}

/* A group incident's page changed (engine/incident_join.h): its alert, the
 * leader's firing as last posted, goes again at once with the page's
 * annotations (Alertmanager keeps an alert's latest annotations: its UI
 * and API show them, and its next notification of the alert's group), or
 * as the resolved when the page ended. An incident not tracked here (not
 * posted by this sink, disowned, or resolved already) is left alone. */
static void am_page(void *self, const vg_event_page *page)
{
    am_sink *s = self;
    pthread_mutex_lock(&s->lock);
    char *json = vg_am_outbox_firing(s->outbox, page->id);
    vg_severity severity = vg_am_outbox_severity(s->outbox, page->id, VG_SEVERITY_WARNING);
    pthread_mutex_unlock(&s->lock);
    if (json == NULL)
        return;
    if (vg_am_alert_set_page(&json, page, vg_wall_ms()) != VG_OK) {
        free(json);
        atomic_fetch_add(&s->failed, 1);
        vg_log_limited(&s->emit_log, VG_LOG_ERROR, "alertmanager: cannot update the page of %s",
                       page->id);
        return;
    }
    queue_alert(s, page->id, vg_event_page_ended(page), severity, json);
}

static int am_emit(void *self, const vg_event *ev)
{
    am_sink *s = self;
    if (ev->state != VG_ALERT_FIRING && ev->state != VG_ALERT_RESOLVED)
        return VG_EARG;
    /* A leader resolving while series that joined it fire: its page stays
     * open, and ends with the last of them (am_page). */
    if (ev->page != NULL && !vg_event_page_ended(ev->page)) {
        am_page(s, ev->page);
        return VG_OK;
    }
    int resolved = ev->state == VG_ALERT_RESOLVED;
    vg_event copy = *ev;
    if (resolved) {  /* the labels its firing was posted with */
        pthread_mutex_lock(&s->lock);
        copy.severity = vg_am_outbox_severity(s->outbox, ev->id, ev->severity);
        pthread_mutex_unlock(&s->lock);
    }
    json_t *alert = vg_am_alert_new(&copy, s->params.alertname, s->params.generator_url,
                                    vg_wall_ms());
    char *json = alert ? json_dumps(alert, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(alert);
    if (json == NULL) {
        atomic_fetch_add(&s->failed, 1);
        vg_log_limited(&s->emit_log, VG_LOG_ERROR,
                       "alertmanager: cannot encode the alert of %.*s (bad key or UTF-8)",
                       (int)ev->series_len, ev->series);
        return VG_EPARSE;
    }
    return queue_alert(s, ev->id, resolved, copy.severity, json);
}

static void am_disown(void *self, const char *id)
{
    am_sink *s = self;
    pthread_mutex_lock(&s->lock);
    vg_am_outbox_disown(s->outbox, id);
    pthread_mutex_unlock(&s->lock);
}

static int am_flush(void *self, int timeout_ms)
{
    (void)self;
    (void)timeout_ms;
    return VG_OK;
}

int vg_alertmanager_sink_drain(void *self, int timeout_ms)
{
    am_sink *s = self;
    int64_t deadline = vg_now_ms() + timeout_ms;
    int rc = VG_OK;
    pthread_mutex_lock(&s->lock);
    while (vg_am_outbox_queued(s->outbox) > 0 || s->in_flight > 0) {
        if (vg_now_ms() >= deadline) {
            rc = VG_ETIMEOUT;
            break;
        }
        wait_until(&s->drained, &s->lock, deadline);
    }
    pthread_mutex_unlock(&s->lock);
    return rc;
}

static void am_close(void *self)
{
    am_sink *s = self;
    pthread_mutex_lock(&s->lock);
    int64_t now = vg_now_ms();
    if (vg_am_outbox_release(s->outbox, now, now + CLOSE_DRAIN_MS / 2) > 0)
        pthread_cond_signal(&s->wake);
    pthread_mutex_unlock(&s->lock);
    vg_alertmanager_sink_drain(s, CLOSE_DRAIN_MS);
    pthread_mutex_lock(&s->lock);
    atomic_store(&s->closing, 1);
    pthread_cond_broadcast(&s->wake);
    pthread_mutex_unlock(&s->lock);
    pthread_join(s->worker, NULL);
    size_t lost = vg_am_outbox_clear(s->outbox);
    if (lost > 0) {
        count_dropped(s, lost);
        vg_warn("alertmanager: closed with %zu alerts unsent", lost);
    }
    destroy_sync(s);
    vg_am_outbox_free(s->outbox);
    free(s->items);
    vg_http_free(s->http);
    free(s);
}

void vg_alertmanager_sink_stats(const void *self, vg_alertmanager_stats *out)
{
    const am_sink *s = self;
    out->posted = atomic_load(&s->posted);
    out->failed = atomic_load(&s->failed);
    out->dropped = atomic_load(&s->dropped);
    out->retries = atomic_load(&s->retries);
}

const vg_sink_ops vg_alertmanager_sink_ops = {
    .name     = "alertmanager",
    .fields   = am_fields,
    .n_fields = VG_CONF_COUNT(am_fields),
    .check    = am_check,
    .open     = am_open,
    .emit     = am_emit,
    .flush    = am_flush,
    .close    = am_close,
    .disown   = am_disown,
    .page     = am_page,
};
