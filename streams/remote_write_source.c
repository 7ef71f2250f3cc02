/* The remote-write receiver's forwarding half; see remote_write_source.h. */
#include "streams/remote_write_source.h"

#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/listen_addr.h"
#include "core/log.h"
#include "core/vigil_metrics.h"
#include "streams/broker.h"
#include "streams/kafka_conf.h"
#include "streams/prom_rw_split.h"

/* Remote-write requests compress about 5-10x: the uncompressed bound. */
#define EXPANSION 16

static const vg_conf_field rw_fields[] = {
    {"listen", VG_CONF_STRING, offsetof(vg_rw_params, listen), 0, 0, 64, "127.0.0.1:9201",
     "address and port of POST /api/v1/write; port 0 picks a free one"},
    {"brokers", VG_CONF_STRING, offsetof(vg_rw_params, brokers), 0, 0, 512, "127.0.0.1:9092",
     "bootstrap servers, or \"embedded\" for the in-process broker"},
    {"topic", VG_CONF_STRING, offsetof(vg_rw_params, topic), 0, 0, 256, "prometheus",
     "topic the series go to, one message per series and request, keyed by series (read it "
     "with \"format\": \"prometheus-remote-write\")"},
    {"max_bytes", VG_CONF_INT, offsetof(vg_rw_params, max_bytes), 8388608, 1, 268435456, NULL,
     "largest request body (compressed) accepted; larger ones are answered 413"},
    {"timeout_ms", VG_CONF_INT, offsetof(vg_rw_params, timeout_ms), 10000, 100, 600000, NULL,
     "how long a request waits for Kafka's acknowledgement before it is answered 503 "
     "(Prometheus retries)"},
    {"kafka", VG_CONF_OBJECT, offsetof(vg_rw_params, kafka), 0, 0, 0, NULL,
     "librdkafka producer properties (enable.idempotence true and linger.ms 2 unless set)"},
};

struct vg_rw_receiver {
    vg_rw_params params;
    rd_kafka_t  *rk;
    uint64_t     acked, failed;  /* delivery reports so far */
    vg_ratelimit fail_log;
};

static int configure(const vg_conf_doc *doc, const json_t *cfg, vg_rw_params *prm,
                     vg_error *err)
{
    int rc = vg_conf_apply(doc, cfg, "remote_write", rw_fields, VG_CONF_COUNT(rw_fields), NULL,
                           prm, err);
    return rc == VG_OK ? vg_listen_check(doc, cfg, "remote_write", prm->listen, err) : rc;
}

static int rw_check(const vg_conf_doc *doc, const json_t *cfg, vg_error *err)
{
    vg_rw_params prm;
    int rc = configure(doc, cfg, &prm, err);
    return rc == VG_OK ? vg__kafka_conf_check(doc, prm.kafka, "remote_write.kafka", err) : rc;
}

static void dr_msg_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    vg_rw_receiver *rx = opaque;
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        rx->acked++;
        return;
    }
    rx->failed++;
    vg_log_limited(&rx->fail_log, VG_LOG_ERROR, "remote-write: series %.*s not delivered to %s: %s",
                   (int)m->key_len, (const char *)m->key, rx->params.topic,
                   rd_kafka_err2str(m->err));
}

static rd_kafka_conf_t *producer_conf(vg_rw_receiver *rx, const vg_conf_doc *doc,
                                      vg_error *err)
{
    char brokers[1024];
    if (vg_broker_resolve(rx->params.brokers, brokers, sizeof(brokers), err) != VG_OK)
        return NULL;
    rd_kafka_conf_t *conf = vg__kafka_conf_new();
    if (conf == NULL) {
        vg_error_set(err, VG_ENOMEM, "remote-write producer");
        return NULL;
    }
    /* Defaults first, so that the user's "kafka" object can override them. */
    if (vg__kafka_conf_set(conf, NULL, "bootstrap.servers", brokers, err) != VG_OK ||
        vg__kafka_conf_set(conf, NULL, "enable.idempotence", "true", err) != VG_OK ||
        vg__kafka_conf_set(conf, NULL, "linger.ms", "2", err) != VG_OK ||
        vg__kafka_conf_apply_json(conf, doc, rx->params.kafka, "remote_write.kafka", err) !=
            VG_OK) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rd_kafka_conf_set_dr_msg_cb(conf, dr_msg_cb);
    rd_kafka_conf_set_opaque(conf, rx);
    return conf;
}

vg_rw_receiver *vg_rw_receiver_new(const vg_conf_doc *doc, const json_t *cfg, vg_error *err)
{
    vg_rw_receiver *rx = calloc(1, sizeof(*rx));
    if (rx == NULL) {
        vg_error_set(err, VG_ENOMEM, "remote-write receiver");
        return NULL;
    }
    rd_kafka_conf_t *conf = NULL;
    if (configure(doc, cfg, &rx->params, err) != VG_OK ||
        (conf = producer_conf(rx, doc, err)) == NULL)
        goto out_free_rx;
    char why[256];
    rx->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, sizeof(why));
    if (rx->rk == NULL) {
        rd_kafka_conf_destroy(conf);
        vg_error_set_at(err, VG_EKAFKA, "remote_write", "producer: %s", why);
        goto out_free_rx;
    }
    return rx;

out_free_rx:
    free(rx);
    return NULL;
}

void vg_rw_receiver_free(vg_rw_receiver *rx)
{
    if (rx == NULL)
        return;
    if (rd_kafka_flush(rx->rk, 5000) != RD_KAFKA_RESP_ERR_NO_ERROR)
        vg_warn("remote-write: closing with %d series in flight (their requests were "
                "answered 503: Prometheus sends them again)", rd_kafka_outq_len(rx->rk));
    rd_kafka_destroy(rx->rk);
    free(rx);
}

const vg_rw_params *vg_rw_receiver_params(const vg_rw_receiver *rx)
{
    return &rx->params;
}

static int produce_piece(void *ctx, const char *key, size_t key_len, const void *piece,
                         size_t len)
{
    vg_rw_receiver *rx = ctx;
    rd_kafka_resp_err_t e = rd_kafka_producev(
        rx->rk, RD_KAFKA_V_TOPIC(rx->params.topic), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_KEY(key, key_len), RD_KAFKA_V_VALUE((void *)piece, len), RD_KAFKA_V_END);
    if (e == RD_KAFKA_RESP_ERR_NO_ERROR)
        return 0;
    vg_log_limited(&rx->fail_log, VG_LOG_ERROR, "remote-write: cannot queue to %s: %s",
                   rx->params.topic, rd_kafka_err2str(e));
    return VG_EKAFKA;
}

static int reply(int status, char *why, size_t cap, const char *fmt, const char *detail)
{
    snprintf(why, cap, fmt, detail);
    char code[8];
    snprintf(code, sizeof(code), "%d", status);
    vg_metric_label_inc(VG_M_REMOTE_WRITE_REQUESTS, code, 1);
    return status;
}

int vg_rw_receiver_accept(vg_rw_receiver *rx, const void *body, size_t len, char *why,
                          size_t cap)
{
    if (len > (size_t)rx->params.max_bytes)
        return reply(413, why, cap, "request body over remote_write.max_bytes%s", "");
    uint64_t failed = rx->failed;
    vg_error err = {0};
    size_t skipped = 0;
    int n = vg_prom_rw_split(body, len, (size_t)rx->params.max_bytes * EXPANSION, produce_piece,
                             rx, &skipped, &err);
    if (skipped > 0) {
        vg_metric_label_inc(VG_M_PARSE_ERRORS, "key", skipped);
        vg_log_limited(&rx->fail_log, VG_LOG_WARN, "remote-write: %zu series without a usable "
                       "key (no __name__, too many labels) left out", skipped);
    }
    if (n == VG_EPARSE || n == VG_ERANGE) {
        vg_metric_label_inc(VG_M_PARSE_ERRORS, n == VG_ERANGE ? "too_large" : "remote_write", 1);
        return reply(400, why, cap, "not a remote-write request: %s", err.msg);
    }
    /* Queued pieces of a failed split still go out: the retry doubles them
     * (at-least-once), never loses any. */
    rd_kafka_flush(rx->rk, (int)rx->params.timeout_ms);
    if (n < 0)
        return reply(503, why, cap, "%s", n == VG_EKAFKA ? "Kafka refused the series"
                                                         : "out of memory");
    if (rd_kafka_outq_len(rx->rk) > 0 || rx->failed > failed)
        return reply(503, why, cap, "%s", "Kafka did not acknowledge every series in time");
    return reply(204, why, cap, "%s", "");
}

const vg_source_ops vg_rw_source_ops = {
    .name       = "remote-write",
    .config_key = "remote_write",
    .fields     = rw_fields,
    .n_fields   = VG_CONF_COUNT(rw_fields),
    .check      = rw_check,
};
