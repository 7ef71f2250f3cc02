/* Scores out on Kafka, in Influx line protocol: for stores that read a
 * Kafka topic (Telegraf's kafka_consumer into InfluxDB, QuestDB, ClickHouse's
 * Kafka engine, VictoriaMetrics' vmagent...). One line per scored point of
 * the matching series:
 *
 *   vigil,host=db-1,metric=latency_ms value=12.5,expected=11.9,lower=9.1,upper=14.7,anomaly_score=0.8 1700000000000000000
 *
 * measurement `measurement` (default vigil), the series' labels as tags plus
 * metric="<name>" (which replaces an input label called metric), fields
 * value, expected, lower, upper and anomaly_score (in "nines",
 * -log10(1 - score), capped at 16), NaN ones left out, the time in ns.
 *
 * Config: {"type": "kafka-influx", "brokers": "127.0.0.1:9092" | "embedded",
 * "topic": "vigil-scores", "match": "*", "measurement": "vigil",
 * "message_bytes": 65536, "kafka": {librdkafka producer properties}}.
 *
 * Batched and never blocking: score() gets a scoring thread's share of a
 * batch and writes its lines into messages of up to message_bytes, handed to
 * librdkafka without a copy (unkeyed: a message carries many series, and
 * every line has its own time). A full producer queue drops the message
 * (counted), it never waits; delivery reports count the lines sent or
 * dropped (vigil_score_points_total{result}). It has no flush (scores
 * are derived data and never hold a checkpoint back); close() waits 5 s at
 * most for what is queued. Called from several scoring threads at once:
 * librdkafka's produce is thread-safe, the rest is per call; the delivery
 * reports are served by the output's own thread, so they are counted even
 * when no batch comes. */
#include <librdkafka/rdkafka.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/numfmt.h"
#include "core/series_key.h"
#include "core/vigil_metrics.h"
#include "streams/broker.h"
#include "streams/kafka_conf.h"
#include "streams/score_out.h"
#include "streams/stream.h"

#define CLOSE_WAIT_MS 5000
#define N_FIELDS      5
#define FIELD_BYTES   48  /* ",anomaly_score=" and a number */

static const char *const field_names[N_FIELDS] = {
    "value", "expected", "lower", "upper", "anomaly_score",
};

typedef struct influx_params {
    char          brokers[512];
    char          topic[256];
    char          match[256];
    char          measurement[128];
    uint32_t      message_bytes;
    const json_t *kafka;  /* borrowed from the config: read while opening only */
} influx_params;

#define P(f) offsetof(influx_params, f)
static const vg_conf_field influx_fields[] = {
    {"brokers", VG_CONF_STRING, P(brokers), 0, 0, 512, "127.0.0.1:9092",
     "bootstrap servers, or \"embedded\" for the in-process broker"},
    {"topic", VG_CONF_STRING, P(topic), 0, 0, 256, "vigil-scores", "scores topic"},
    {"match", VG_CONF_STRING, P(match), 0, 0, 256, "*",
     "shell glob on the series name: only matching series are written"},
    {"measurement", VG_CONF_STRING, P(measurement), 0, 0, 128, "vigil",
     "Influx measurement of the lines"},
    {"message_bytes", VG_CONF_UINT32, P(message_bytes), 65536, 1024, 16777216, NULL,
     "largest Kafka message: lines are batched up to it"},
    {"kafka", VG_CONF_OBJECT, P(kafka), 0, 0, 0, NULL,
     "librdkafka producer properties (linger.ms 50 unless set)"},
};
#undef P
static const char *const influx_also[] = {"type", NULL};

typedef struct influx_sink {
    influx_params     prm;
    rd_kafka_t       *rk;
    rd_kafka_topic_t *rkt;
    pthread_t         poller;  /* serves the delivery reports */
    atomic_int        stop;
    vg_ratelimit      fail_log;
} influx_sink;

static int configure(const vg_conf_doc *doc, const json_t *cfg, influx_params *prm,
                     vg_error *err)
{
    int rc = vg_conf_apply(doc, cfg, "outputs.kafka-influx", influx_fields,
                           VG_CONF_COUNT(influx_fields), influx_also, prm, err);
    if (rc == VG_OK && prm->measurement[0] == '\0') {
        char where[64];
        vg_conf_where(doc, cfg, "measurement", 0, where, sizeof(where));
        return vg_error_set_at(err, VG_ECONFIG, where,
                               "outputs.kafka-influx.measurement: must not be empty");
    }
    return rc;
}

static int influx_check(const vg_conf_doc *doc, const json_t *cfg, vg_error *err)
{
    influx_params prm;
    int rc = configure(doc, cfg, &prm, err);
    return rc != VG_OK ? rc
                       : vg__kafka_conf_check(doc, prm.kafka, "outputs.kafka-influx.kafka", err);
}

/* The message's line count travels as its opaque. */
static void dr_msg_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    influx_sink *s = opaque;
    uint64_t lines = (uint64_t)(uintptr_t)m->_private;
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        vg_metric_label_inc(VG_M_SCORE_POINTS, "sent", lines);
        return;
    }
    vg_metric_label_inc(VG_M_SCORE_POINTS, "dropped", lines);
    vg_log_limited(&s->fail_log, VG_LOG_WARN, "kafka-influx output: %llu score line(s) not "
                   "delivered to %s: %s", (unsigned long long)lines, s->prm.topic,
                   rd_kafka_err2str(m->err));
}

static void *poll_reports(void *arg)
{
    influx_sink *s = arg;
    while (!atomic_load(&s->stop))
        rd_kafka_poll(s->rk, 100);
    return NULL;
}

static void *influx_open(const vg_conf_doc *doc, const json_t *cfg, vg_error *err)
{
    influx_sink *s = calloc(1, sizeof(*s));
    if (s == NULL) {
        vg_error_set(err, VG_ENOMEM, "kafka-influx output");
        return NULL;
    }
    char brokers[1024];
    rd_kafka_conf_t *conf = NULL;
    if (configure(doc, cfg, &s->prm, err) != VG_OK ||
        vg_broker_resolve(s->prm.brokers, brokers, sizeof(brokers), err) != VG_OK)
        goto out_free;
    conf = vg__kafka_conf_new();
    if (conf == NULL) {
        vg_error_set(err, VG_ENOMEM, "kafka-influx output");
        goto out_free;
    }
    /* Scores are many small lines: a longer linger makes fewer requests. */
    if (vg__kafka_conf_set(conf, NULL, "bootstrap.servers", brokers, err) != VG_OK ||
        vg__kafka_conf_set(conf, NULL, "linger.ms", "50", err) != VG_OK ||
        vg__kafka_conf_apply_json(conf, doc, s->prm.kafka, "outputs.kafka-influx.kafka", err) !=
            VG_OK)
        goto out_free;
    rd_kafka_conf_set_dr_msg_cb(conf, dr_msg_cb);
    rd_kafka_conf_set_opaque(conf, s);
    char why[256];
    s->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, sizeof(why));
    if (s->rk == NULL) {
        vg_error_set_at(err, VG_EKAFKA, "outputs.kafka-influx", "producer: %s", why);
        goto out_free;
    }
    conf = NULL;  /* the producer owns it */
    s->rkt = rd_kafka_topic_new(s->rk, s->prm.topic, NULL);
    if (s->rkt == NULL) {
        vg_error_set_at(err, VG_EKAFKA, "outputs.kafka-influx.topic", "%s: %s", s->prm.topic,
                        rd_kafka_err2str(rd_kafka_last_error()));
        rd_kafka_destroy(s->rk);
        goto out_free;
    }
    if (pthread_create(&s->poller, NULL, poll_reports, s) != 0) {
        vg_error_set(err, VG_EIO, "kafka-influx output: cannot start its thread");
        rd_kafka_topic_destroy(s->rkt);
        rd_kafka_destroy(s->rk);
        goto out_free;
    }
    return s;

out_free:
    if (conf != NULL)
        rd_kafka_conf_destroy(conf);
    free(s);
    return NULL;
}

static int influx_selects(void *self, const char *key, size_t key_len)
{
    const influx_sink *s = self;
    return vg__score_out_selects(s->prm.match, key, key_len);
}

/* Appends text[n] escaped for line protocol: measurement (comma, space) or
 * tag (also '='); a newline, which would end the line, as `\n`. */
static char *escape(char *out, const char *text, size_t n, int tag)
{
    for (size_t i = 0; i < n; i++) {
        char c = text[i];
        if (c == '\n' || c == '\r') {
            *out++ = '\\';
            *out++ = 'n';
            continue;
        }
        if (c == ',' || c == ' ' || (tag && c == '='))
            *out++ = '\\';
        *out++ = c;
    }
    return out;
}

static char *tag(char *out, const char *name, size_t name_len, const char *value,
                 size_t value_len)
{
    *out++ = ',';
    out = escape(out, name, name_len, 1);
    *out++ = '=';
    return escape(out, value, value_len, 1);
}

/* Bytes one line may take, at most (every key byte escaped into two). */
static size_t line_bound(const influx_sink *s, const vg_score_sample *smp)
{
    return 2 * strlen(s->prm.measurement) + 4 * smp->key_len + 16 + N_FIELDS * FIELD_BYTES + 24;
}

/* Writes one line at out (line_bound bytes of room); returns its end, or out
 * itself when the key does not split (keys come from the parsers: always
 * canonical) or no field is a number. Tags with an empty value are left
 * out: line protocol has none. */
static char *write_line(const influx_sink *s, char *out, const vg_score_sample *smp)
{
    vg_label labels[VG_MAX_LABELS];
    char scratch[4096];
    size_t name_len;
    int n = vg_series_key_split(smp->key, smp->key_len, &name_len, labels, VG_MAX_LABELS,
                                scratch, sizeof(scratch));
    if (n < 0)
        return out;
    double v[N_FIELDS] = {smp->value, smp->expected, smp->lower, smp->upper,
                          vg__score_nines(smp->score)};
    char *p = escape(out, s->prm.measurement, strlen(s->prm.measurement), 0);
    for (int i = 0; i < n; i++)
        if (labels[i].value_len > 0 &&
            !(labels[i].name_len == 6 && memcmp(labels[i].name, "metric", 6) == 0))
            p = tag(p, labels[i].name, labels[i].name_len, labels[i].value,
                    labels[i].value_len);
    p = tag(p, "metric", 6, smp->key, name_len);
    char sep = ' ';
    for (size_t k = 0; k < N_FIELDS; k++) {
        if (isnan(v[k]) || isinf(v[k]))
            continue;
        *p++ = sep;
        sep = ',';
        size_t len = strlen(field_names[k]);
        memcpy(p, field_names[k], len);
        p += len;
        *p++ = '=';
        p += vg_fmt_sig(p, v[k], 15);
    }
    if (sep == ' ')
        return out;
    *p++ = ' ';
    p += vg_fmt_i64(p, (long long)smp->ts_ms * 1000000LL);
    *p++ = '\n';
    return p;
}

/* Hands buf[len] (lines of them) to the producer, which frees it; a full
 * queue or any error drops it, counted: never waits. */
static void produce(influx_sink *s, char *buf, size_t len, size_t lines)
{
    if (rd_kafka_produce(s->rkt, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_FREE, buf, len, NULL, 0,
                         (void *)(uintptr_t)lines) != 0) {
        vg_metric_label_inc(VG_M_SCORE_POINTS, "dropped", lines);
        vg_log_limited(&s->fail_log, VG_LOG_WARN, "kafka-influx output: %zu score line(s) "
                       "dropped: %s", lines, rd_kafka_err2str(rd_kafka_last_error()));
        free(buf);
    }
}

static void influx_score(void *self, const vg_score_sample *smp, size_t n)
{
    influx_sink *s = self;
    size_t cap = s->prm.message_bytes;
    char *buf = NULL;
    size_t len = 0, lines = 0;
    for (size_t i = 0; i < n; i++) {
        size_t need = line_bound(s, &smp[i]);
        if (buf != NULL && len + need > cap) {
            produce(s, buf, len, lines);
            buf = NULL;
        }
        if (buf == NULL) {
            /* a line longer than message_bytes goes alone */
            buf = malloc(need > cap ? need : cap);
            len = lines = 0;
            if (buf == NULL) {
                vg_metric_label_inc(VG_M_SCORE_POINTS, "dropped", n - i);
                return;
            }
        }
        char *end = write_line(s, buf + len, &smp[i]);
        lines += end != buf + len;
        len = (size_t)(end - buf);
    }
    if (lines > 0)
        produce(s, buf, len, lines);
    else
        free(buf);
}

static void influx_close(void *self)
{
    influx_sink *s = self;
    atomic_store(&s->stop, 1);
    pthread_join(s->poller, NULL);
    if (rd_kafka_flush(s->rk, CLOSE_WAIT_MS) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        /* What is still queued is reported (dropped) by the purge. */
        rd_kafka_purge(s->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        rd_kafka_poll(s->rk, 0);
    }
    rd_kafka_topic_destroy(s->rkt);
    rd_kafka_destroy(s->rk);
    free(s);
}

const vg_sink_ops vg_influx_kafka_sink_ops = {
    .name     = "kafka-influx",
    .fields   = influx_fields,
    .n_fields = VG_CONF_COUNT(influx_fields),
    .check    = influx_check,
    .open     = influx_open,
    .emit     = vg__score_out_emit,
    .close    = influx_close,
    .score    = influx_score,
    .selects  = influx_selects,
};
