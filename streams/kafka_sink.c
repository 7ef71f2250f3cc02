/* The Kafka alert sink: one event per message on the alert topic, keyed by
 * series so that every event of a series lands in one partition, in order.
 *
 * Config: {"type": "kafka", "brokers": "host:port,..." | "embedded",
 * "topic": "vigil-alerts", "kafka": {librdkafka producer properties}}.
 * "embedded" is the broker the Kafka input started in this process: open
 * the input first, and flush this sink before the input closes (its revoke
 * hook does), since closing the input stops that broker.
 *
 * The producer is idempotent (no duplicates or reordering from its own
 * retries). Delivery reports come back through dr_msg_cb, served by
 * rd_kafka_poll()/rd_kafka_flush() on the caller's thread, so the counters
 * need no lock. flush() is the durability point the pipeline commits on: it
 * returns 0 only when every message emitted so far was acknowledged. A
 * message that failed (a delivery error, even a non-retriable one, or a
 * full queue at emit) is kept and produced again by the next flushes, with
 * backoff (100 ms doubling to 5 s); until it is acknowledged every flush
 * fails, which holds the checkpoint (and the commit) back. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/grow.h"
#include "core/log.h"
#include "core/vigil_metrics.h"
#include "streams/broker.h"
#include "streams/kafka_conf.h"
#include "streams/stream.h"

typedef struct kafka_sink_params {
    char brokers[512];
    char topic[256];
    const json_t *kafka;  /* borrowed from the config: read while opening only */
} kafka_sink_params;

static const vg_conf_field kafka_sink_fields[] = {
    {"brokers", VG_CONF_STRING, offsetof(kafka_sink_params, brokers), 0, 0, 512,
     "127.0.0.1:9092", "bootstrap servers, or \"embedded\" for the in-process broker"},
    {"topic", VG_CONF_STRING, offsetof(kafka_sink_params, topic), 0, 0, 256, "vigil-alerts",
     "alert topic"},
    {"kafka", VG_CONF_OBJECT, offsetof(kafka_sink_params, kafka), 0, 0, 0, NULL,
     "librdkafka producer properties (enable.idempotence true and linger.ms 5 unless set)"},
};

static const char *const kafka_sink_also[] = {"type", NULL};

#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000

/* A message to produce again: key and value copied. */
typedef struct kept_msg {
    char  *key, *value;
    size_t key_len, len;
} kept_msg;

typedef struct kafka_sink {
    kafka_sink_params params;
    rd_kafka_t       *rk;
    rd_kafka_topic_t *rkt;
    uint64_t          produced, acked, failed;
    kept_msg         *kept;            /* failed: produced again by flush */
    size_t            n_kept, cap_kept;
    int64_t           retry_at_ms, backoff_ms;
    vg_ratelimit      fail_log;
    char              value[65536];
} kafka_sink;

static void keep(kafka_sink *s, const void *key, size_t key_len, const void *value, size_t len)
{
    s->kept = vg_grow(s->kept, &s->cap_kept, s->n_kept, sizeof(*s->kept), 16);
    vg_assert(s->kept != NULL);
    kept_msg *k = &s->kept[s->n_kept++];
    k->key = malloc(key_len + 1);
    k->value = malloc(len + 1);
    vg_assert(k->key != NULL && k->value != NULL);
    memcpy(k->key, key, key_len);
    memcpy(k->value, value, len);
    k->key_len = key_len;
    k->len = len;
}

static void dr_msg_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    kafka_sink *s = opaque;
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        s->acked++;
        return;
    }
    s->failed++;
    keep(s, m->key, m->key_len, m->payload, m->len);
    vg_metric_inc(VG_M_ALERT_DELIVERY_FAILURES, 1);
    vg_metric_not_durable("kafka", "delivery", 1);
    vg_log_limited(&s->fail_log, VG_LOG_ERROR, "kafka sink: event for %.*s not delivered to %s: %s",
                   (int)m->key_len, (const char *)m->key, s->params.topic,
                   rd_kafka_err2str(m->err));
}

static rd_kafka_conf_t *producer_conf(kafka_sink *s, const vg_conf_doc *doc,
                                      const json_t *cfg, vg_error *err)
{
    char brokers[1024];
    if (vg_broker_resolve(s->params.brokers, brokers, sizeof(brokers), err) != VG_OK)
        return NULL;
    rd_kafka_conf_t *conf = vg__kafka_conf_new();
    if (conf == NULL) {
        vg_error_set(err, VG_ENOMEM, "kafka sink");
        return NULL;
    }
    /* Defaults first, so that the user's "kafka" object can override them. */
    if (vg__kafka_conf_set(conf, NULL, "bootstrap.servers", brokers, err) != VG_OK ||
        vg__kafka_conf_set(conf, NULL, "enable.idempotence", "true", err) != VG_OK ||
        vg__kafka_conf_set(conf, NULL, "linger.ms", "5", err) != VG_OK ||
        vg__kafka_conf_apply_json(conf, doc, json_object_get(cfg, "kafka"),
                                  "outputs.kafka.kafka", err) != VG_OK)
        goto out_destroy_conf;
    rd_kafka_conf_set_dr_msg_cb(conf, dr_msg_cb);
    rd_kafka_conf_set_opaque(conf, s);
    return conf;

out_destroy_conf:
    rd_kafka_conf_destroy(conf);
    return NULL;
}

static int kafka_sink_configure(const vg_conf_doc *doc, const json_t *cfg,
                                kafka_sink_params *prm, vg_error *err)
{
    return vg_conf_apply(doc, cfg, "outputs.kafka", kafka_sink_fields,
                         VG_CONF_COUNT(kafka_sink_fields), kafka_sink_also, prm, err);
}

/* The keys, and the librdkafka properties on a conf that is thrown away. */
static int kafka_sink_check(const vg_conf_doc *doc, const json_t *cfg, vg_error *err)
{
    kafka_sink_params prm;
    int rc = kafka_sink_configure(doc, cfg, &prm, err);
    return rc != VG_OK ? rc : vg__kafka_conf_check(doc, prm.kafka, "outputs.kafka.kafka", err);
}

static void *kafka_sink_open(const vg_conf_doc *doc, const json_t *cfg, vg_error *err)
{
    kafka_sink *s = calloc(1, sizeof(*s));
    if (s == NULL) {
        vg_error_set(err, VG_ENOMEM, "kafka sink");
        return NULL;
    }
    if (kafka_sink_configure(doc, cfg, &s->params, err) != VG_OK)
        goto out_free_sink;
    rd_kafka_conf_t *conf = producer_conf(s, doc, cfg, err);
    if (conf == NULL)
        goto out_free_sink;
    char why[256];
    s->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, sizeof(why));
    if (s->rk == NULL) {
        rd_kafka_conf_destroy(conf);
        vg_error_set_at(err, VG_EKAFKA, "outputs.kafka", "producer: %s", why);
        goto out_free_sink;
    }
    s->rkt = rd_kafka_topic_new(s->rk, s->params.topic, NULL);
    if (s->rkt == NULL) {
        vg_error_set_at(err, VG_EKAFKA, "outputs.kafka.topic", "%s: %s", s->params.topic,
                        rd_kafka_err2str(rd_kafka_last_error()));
        goto out_destroy_producer;
    }
    return s;

out_destroy_producer:
    rd_kafka_destroy(s->rk);
out_free_sink:
    free(s);
    return NULL;
}

/* Queues one message; a full local queue waits for deliveries to drain it,
 * bounded. Returns 0, VG_EFULL or VG_EKAFKA. */
static int produce(kafka_sink *s, const char *key, size_t key_len, const char *value,
                   size_t len)
{
    for (int tries = 0;; tries++) {
        if (rd_kafka_produce(s->rkt, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY, (void *)value,
                             len, key, key_len, NULL) == 0)
            break;
        rd_kafka_resp_err_t e = rd_kafka_last_error();
        if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL || tries == 100) {
            vg_log_limited(&s->fail_log, VG_LOG_ERROR, "kafka sink: cannot queue event: %s",
                           rd_kafka_err2str(e));
            return e == RD_KAFKA_RESP_ERR__QUEUE_FULL ? VG_EFULL : VG_EKAFKA;
        }
        rd_kafka_poll(s->rk, 100);
    }
    s->produced++;
    return VG_OK;
}

static int kafka_sink_emit(void *self, const vg_event *ev)
{
    kafka_sink *s = self;
    int n = vg_event_encode(ev, s->value, sizeof(s->value));
    if (n < 0)
        return n;
    /* Not queued now (a full queue, a failed producer): kept for the next
     * flush, which fails until it is delivered. */
    if (produce(s, ev->series, ev->series_len, s->value, (size_t)n) != VG_OK) {
        keep(s, ev->series, ev->series_len, s->value, (size_t)n);
        vg_metric_not_durable("kafka", "enqueue", 1);
    }
    rd_kafka_poll(s->rk, 0);
    return VG_OK;
}

/* Produces the kept messages again, oldest first, while they queue. */
static void produce_kept(kafka_sink *s)
{
    size_t done = 0;
    while (done < s->n_kept) {
        kept_msg *k = &s->kept[done];
        if (produce(s, k->key, k->key_len, k->value, k->len) != VG_OK)
            break;
        free(k->key);
        free(k->value);
        done++;
    }
    memmove(s->kept, s->kept + done, (s->n_kept - done) * sizeof(*s->kept));
    s->n_kept -= done;
    if (done > 0)
        vg_info("kafka sink: %zu undelivered event(s) produced again to %s", done,
                s->params.topic);
}

static int kafka_sink_flush(void *self, int timeout_ms)
{
    kafka_sink *s = self;
    int64_t now = vg_now_ms();
    if (s->n_kept > 0 && now >= s->retry_at_ms)
        produce_kept(s);
    /* librdkafka 2.0.2's rd_kafka_flush() looks for the last delivery
     * report only every 10 ms, so one flush per batch cost at least 10 ms
     * of latency. Flushing in 1 ms steps returns within a millisecond of
     * the last report; each step still sends at once, ignoring linger.ms. */
    int64_t end = now + timeout_ms;
    while (rd_kafka_flush(s->rk, timeout_ms > 0 ? 1 : 0) == RD_KAFKA_RESP_ERR__TIMED_OUT &&
           vg_now_ms() < end)
        ;
    /* rd_kafka_flush serves the delivery reports: what failed is kept. */
    if (s->n_kept > 0) {
        if (s->retry_at_ms <= now) {  /* tried now (or new failures): the next try */
            s->backoff_ms = s->backoff_ms == 0 ? BACKOFF_MIN_MS
                            : s->backoff_ms * 2 < BACKOFF_MAX_MS ? s->backoff_ms * 2
                                                                  : BACKOFF_MAX_MS;
            s->retry_at_ms = vg_now_ms() + s->backoff_ms;
        }
        vg_log_limited(&s->fail_log, VG_LOG_ERROR,
                       "kafka sink: %zu event(s) not delivered to %s yet; retrying",
                       s->n_kept, s->params.topic);
        return VG_EKAFKA;
    }
    s->backoff_ms = 0;
    return s->produced == s->acked + s->failed ? VG_OK : VG_ETIMEOUT;
}

static void kafka_sink_close(void *self)
{
    kafka_sink *s = self;
    uint64_t outstanding = s->produced - s->acked - s->failed + s->n_kept;
    if (outstanding > 0)
        vg_warn("kafka sink: closing with %llu event(s) not acknowledged by %s (their "
                "offsets are not committed: they are sent again after a restart)",
                (unsigned long long)outstanding, s->params.topic);
    for (size_t i = 0; i < s->n_kept; i++) {
        free(s->kept[i].key);
        free(s->kept[i].value);
    }
    free(s->kept);
    rd_kafka_topic_destroy(s->rkt);
    rd_kafka_destroy(s->rk);
    free(s);
}

const vg_sink_ops vg_kafka_sink_ops = {
    .name     = "kafka",
    .fields   = kafka_sink_fields,
    .n_fields = VG_CONF_COUNT(kafka_sink_fields),
    .check    = kafka_sink_check,
    .open     = kafka_sink_open,
    .emit     = kafka_sink_emit,
    .flush    = kafka_sink_flush,
    .close    = kafka_sink_close,
    .records_joined = 1,  /* every series' incident, joined ones with group_id */
};
