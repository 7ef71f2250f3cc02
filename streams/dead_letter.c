/* Dead-letter producer for the Kafka input; see dead_letter.h.
 *
 * Idempotent, like the alert sink: a retried dead letter is not doubled.
 * Delivery reports are served by poll/flush on the input's thread. */
#include "streams/dead_letter.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "streams/kafka_conf.h"

struct vg_dead_letter {
    rd_kafka_t  *rk;
    char         topic[256];
    uint64_t     queued, delivered, failed;
    vg_ratelimit fail_log;
};

static void dr_msg_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    vg_dead_letter *dl = opaque;
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        dl->delivered++;
        return;
    }
    dl->failed++;
    vg_log_limited(&dl->fail_log, VG_LOG_ERROR, "dead-letter topic %s: %s", dl->topic,
                   rd_kafka_err2str(m->err));
}

vg_dead_letter *vg__dead_letter_new(const char *brokers, const char *topic, vg_error *err)
{
    vg_dead_letter *dl = calloc(1, sizeof(*dl));
    rd_kafka_conf_t *conf = dl ? vg__kafka_conf_new() : NULL;
    if (conf == NULL) {
        vg_error_set(err, VG_ENOMEM, "dead-letter producer");
        goto out_free_dl;
    }
    snprintf(dl->topic, sizeof(dl->topic), "%s", topic);
    if (vg__kafka_conf_set(conf, "input.dead_letter_topic", "bootstrap.servers", brokers,
                           err) != VG_OK ||
        vg__kafka_conf_set(conf, "input.dead_letter_topic", "enable.idempotence", "true",
                           err) != VG_OK)
        goto out_destroy_conf;
    rd_kafka_conf_set_dr_msg_cb(conf, dr_msg_cb);
    rd_kafka_conf_set_opaque(conf, dl);
    char why[256];
    dl->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, sizeof(why));
    if (dl->rk == NULL) {
        vg_error_set_at(err, VG_EKAFKA, "input.dead_letter_topic", "producer: %s", why);
        goto out_destroy_conf;
    }
    return dl;

out_destroy_conf:
    rd_kafka_conf_destroy(conf);
out_free_dl:
    free(dl);
    return NULL;
}

void vg__dead_letter_free(vg_dead_letter *dl)
{
    if (dl == NULL)
        return;
    if (vg__dead_letter_flush(dl, 5000) != VG_OK)
        vg_warn("dead-letter topic %s: closing with %llu message(s) in flight", dl->topic,
                (unsigned long long)(dl->queued - dl->delivered - dl->failed));
    rd_kafka_destroy(dl->rk);
    free(dl);
}

int vg__dead_letter_send(vg_dead_letter *dl, const rd_kafka_message_t *msg,
                         const char *reason, const char *error)
{
    char origin[320];
    snprintf(origin, sizeof(origin), "%s/%d@%lld", rd_kafka_topic_name(msg->rkt),
             (int)msg->partition, (long long)msg->offset);
    rd_kafka_resp_err_t e = rd_kafka_producev(
        dl->rk, RD_KAFKA_V_TOPIC(dl->topic), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_VALUE(msg->payload, msg->len), RD_KAFKA_V_KEY(msg->key, msg->key_len),
        RD_KAFKA_V_HEADER("vigil-reason", reason, -1),
        RD_KAFKA_V_HEADER("vigil-error", error, -1),
        RD_KAFKA_V_HEADER("vigil-origin", origin, -1), RD_KAFKA_V_END);
    rd_kafka_poll(dl->rk, 0);
    dl->queued++;
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
        dl->failed++;
        vg_log_limited(&dl->fail_log, VG_LOG_ERROR, "dead-letter topic %s: %s: %s", dl->topic,
                       origin, rd_kafka_err2str(e));
        return VG_EKAFKA;
    }
    return VG_OK;
}

int vg__dead_letter_flush(vg_dead_letter *dl, int timeout_ms)
{
    if (dl->queued > dl->delivered + dl->failed)
        rd_kafka_flush(dl->rk, timeout_ms);
    return dl->queued > dl->delivered + dl->failed ? VG_ETIMEOUT : VG_OK;
}

void vg__dead_letter_poll(vg_dead_letter *dl)
{
    rd_kafka_poll(dl->rk, 0);
}

uint64_t vg__dead_letter_delivered(const vg_dead_letter *dl)
{
    return dl->delivered;
}

uint64_t vg__dead_letter_failed(const vg_dead_letter *dl)
{
    return dl->failed;
}
