/* The Kafka feedback topic's consumer; see kafka_feedback.h. */
#include "streams/kafka_feedback.h"

#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/log.h"
#include "streams/kafka_conf.h"

struct vg_kafka_feedback {
    rd_kafka_t  *rk;
    vg_ratelimit log;
    char         topic[256];
};

static rd_kafka_conf_t *feedback_conf(const char *brokers, const char *group,
                                      const vg_conf_doc *doc, const json_t *props,
                                      const char *path, vg_error *err)
{
    rd_kafka_conf_t *conf = vg__kafka_conf_new();
    if (conf == NULL) {
        vg_error_set(err, VG_ENOMEM, "kafka feedback");
        return NULL;
    }
    /* Before the user's properties (which may change them), then what the
     * design needs after them: see kafka_feedback.h. */
    if (vg__kafka_conf_set(conf, NULL, "auto.offset.reset", "earliest", err) != VG_OK ||
        vg__kafka_conf_apply_json(conf, doc, props, path, err) != VG_OK ||
        vg__kafka_conf_set(conf, NULL, "bootstrap.servers", brokers, err) != VG_OK ||
        vg__kafka_conf_set(conf, NULL, "group.id", group, err) != VG_OK ||
        vg__kafka_conf_set(conf, NULL, "enable.auto.commit", "true", err) != VG_OK ||
        vg__kafka_conf_set(conf, NULL, "enable.auto.offset.store", "true", err) != VG_OK) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    return conf;
}

vg_kafka_feedback *vg_kafka_feedback_open(const char *brokers, const char *group,
                                          const char *topic, const vg_conf_doc *doc,
                                          const json_t *props, const char *path,
                                          vg_error *err)
{
    vg_kafka_feedback *kf = calloc(1, sizeof(*kf));
    if (kf == NULL) {
        vg_error_set(err, VG_ENOMEM, "kafka feedback");
        return NULL;
    }
    snprintf(kf->topic, sizeof(kf->topic), "%s", topic);
    rd_kafka_conf_t *conf = feedback_conf(brokers, group, doc, props, path, err);
    char why[256];
    if (conf != NULL && (kf->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, why, sizeof(why))) == NULL) {
        rd_kafka_conf_destroy(conf);
        vg_error_set(err, VG_EKAFKA, "kafka feedback consumer: %s", why);
    }
    if (kf->rk == NULL) {
        free(kf);
        return NULL;
    }
    rd_kafka_poll_set_consumer(kf->rk);
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(list, topic, RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t e = rd_kafka_subscribe(kf->rk, list);
    rd_kafka_topic_partition_list_destroy(list);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
        vg_error_set(err, VG_EKAFKA, "kafka feedback: subscribe to %s: %s", topic,
                     rd_kafka_err2str(e));
        rd_kafka_destroy(kf->rk);
        free(kf);
        return NULL;
    }
    vg_info("kafka feedback: reading %s in group %s", topic, group);
    return kf;
}

size_t vg_kafka_feedback_poll(vg_kafka_feedback *kf,
                              void (*fn)(void *ctx, const char *payload, size_t len),
                              void *ctx)
{
    size_t n = 0;
    while (n < VG_KAFKA_FEEDBACK_POLL_MAX) {
        rd_kafka_message_t *msg = rd_kafka_consumer_poll(kf->rk, 0);
        if (msg == NULL)
            break;
        if (msg->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
            fn(ctx, msg->payload != NULL ? msg->payload : "", msg->len);
            n++;
        } else if (msg->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            vg_log_limited(&kf->log, VG_LOG_WARN, "kafka feedback %s: %s", kf->topic,
                           rd_kafka_message_errstr(msg));
        }
        rd_kafka_message_destroy(msg);
    }
    return n;
}

void vg_kafka_feedback_close(vg_kafka_feedback *kf)
{
    if (kf == NULL)
        return;
    rd_kafka_resp_err_t e = rd_kafka_consumer_close(kf->rk);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR)
        vg_warn("kafka feedback: close: %s", rd_kafka_err2str(e));
    rd_kafka_destroy(kf->rk);
    free(kf);
}
