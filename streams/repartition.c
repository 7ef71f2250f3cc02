/* Re-keying producer of the Kafka input; see repartition.h.
 *
 * Idempotent, like the dead-letter producer: a retried record is not
 * doubled. Delivery reports are served by send/flush on the input's
 * thread. */
#include "streams/repartition.h"

#include <ctype.h>
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "streams/kafka_conf.h"

#define METADATA_MS    10000
#define CREATE_MS      5000
#define QUEUE_FULL_MS  30000  /* how long a full local queue may block a send */
#define REPLICAS_MAX   3      /* replication factor of a created topic, at most */

struct vg_repartition {
    rd_kafka_t  *rk;
    uint64_t     queued, delivered, failed;
    uint64_t     failed_seen;  /* failures a flush already reported */
    vg_ratelimit fail_log;
};

static void dr_msg_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    vg_repartition *rp = opaque;
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        rp->delivered++;
        return;
    }
    rp->failed++;
    vg_log_limited(&rp->fail_log, VG_LOG_ERROR, "repartition topic %s: %s",
                   rd_kafka_topic_name(m->rkt), rd_kafka_err2str(m->err));
}

vg_repartition *vg__repartition_new(const char *brokers, vg_error *err)
{
    vg_repartition *rp = calloc(1, sizeof(*rp));
    rd_kafka_conf_t *conf = rp ? vg__kafka_conf_new() : NULL;
    if (conf == NULL) {
        vg_error_set(err, VG_ENOMEM, "repartition producer");
        goto out_free_rp;
    }
    /* A poll may re-key many points per message (OTLP, remote-write): a
     * deep local queue, short linger (the poll waits for the acks). */
    static const char *const props[][2] = {
        {"enable.idempotence", "true"},
        {"linger.ms", "2"},
        {"queue.buffering.max.messages", "1000000"},
    };
    if (vg__kafka_conf_set(conf, "input.topics[].repartition", "bootstrap.servers", brokers,
                           err) != VG_OK)
        goto out_destroy_conf;
    for (size_t i = 0; i < sizeof(props) / sizeof(props[0]); i++)
        if (vg__kafka_conf_set(conf, "input.topics[].repartition", props[i][0], props[i][1],
                               err) != VG_OK)
            goto out_destroy_conf;
    rd_kafka_conf_set_dr_msg_cb(conf, dr_msg_cb);
    rd_kafka_conf_set_opaque(conf, rp);
    char why[256];
    rp->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, sizeof(why));
    if (rp->rk == NULL) {
        vg_error_set_at(err, VG_EKAFKA, "input.topics[].repartition", "producer: %s", why);
        goto out_destroy_conf;
    }
    return rp;

out_destroy_conf:
    rd_kafka_conf_destroy(conf);
out_free_rp:
    free(rp);
    return NULL;
}

void vg__repartition_free(vg_repartition *rp)
{
    if (rp == NULL)
        return;
    if (vg__repartition_flush(rp, 5000) == VG_ETIMEOUT)
        vg_warn("repartition: closing with %llu record(s) in flight (their source messages "
                "are not committed: they are re-read)",
                (unsigned long long)(rp->queued - rp->delivered - rp->failed));
    rd_kafka_destroy(rp->rk);
    free(rp);
}

int vg__repartition_topic_name(const char *group, const char *topic, char *out, size_t cap)
{
    int n = snprintf(out, cap, "%s-%s-repartition", group, topic);
    return n > 0 && (size_t)n < cap && n <= 249 ? VG_OK : VG_ERANGE;
}

/* The partition count of `topic` from the cluster's metadata, or -1. */
static int partition_count(vg_repartition *rp, const char *topic, int *brokers)
{
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rp->rk, topic, NULL);
    const struct rd_kafka_metadata *md = NULL;
    int n = -1;
    if (rkt != NULL &&
        rd_kafka_metadata(rp->rk, 0, rkt, &md, METADATA_MS) == RD_KAFKA_RESP_ERR_NO_ERROR &&
        md->topic_cnt == 1 && md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        n = md->topics[0].partition_cnt;
        *brokers = md->broker_cnt;
    }
    if (md != NULL)
        rd_kafka_metadata_destroy(md);
    if (rkt != NULL)
        rd_kafka_topic_destroy(rkt);
    return n;
}

/* CreateTopics through the admin API; "already exists" is success. */
static rd_kafka_resp_err_t create_topic(vg_repartition *rp, const char *topic, int partitions,
                                        int replicas, char *why, size_t why_cap)
{
    rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(topic, partitions, replicas, why,
                                                    why_cap);
    if (nt == NULL)
        return RD_KAFKA_RESP_ERR__INVALID_ARG;
    rd_kafka_queue_t *q = rd_kafka_queue_new(rp->rk);
    rd_kafka_CreateTopics(rp->rk, &nt, 1, NULL, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, CREATE_MS);
    rd_kafka_resp_err_t e = RD_KAFKA_RESP_ERR__TIMED_OUT;
    const rd_kafka_CreateTopics_result_t *res = ev ? rd_kafka_event_CreateTopics_result(ev) : NULL;
    if (ev != NULL && rd_kafka_event_error(ev) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        e = rd_kafka_event_error(ev);
        snprintf(why, why_cap, "%s", rd_kafka_event_error_string(ev));
    } else if (res != NULL) {
        size_t cnt = 0;
        const rd_kafka_topic_result_t **tr = rd_kafka_CreateTopics_result_topics(res, &cnt);
        e = cnt == 1 ? rd_kafka_topic_result_error(tr[0]) : RD_KAFKA_RESP_ERR__FAIL;
        if (cnt == 1 && rd_kafka_topic_result_error_string(tr[0]) != NULL)
            snprintf(why, why_cap, "%s", rd_kafka_topic_result_error_string(tr[0]));
    }
    if (ev != NULL)
        rd_kafka_event_destroy(ev);
    rd_kafka_queue_destroy(q);
    rd_kafka_NewTopic_destroy(nt);
    return e == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS ? RD_KAFKA_RESP_ERR_NO_ERROR : e;
}

int vg__repartition_ensure_topic(vg_repartition *rp, const char *source, const char *internal,
                                 vg_error *err)
{
    int brokers = 1;
    int n = partition_count(rp, source, &brokers);
    if (n <= 0)
        return vg_error_set_at(err, VG_EKAFKA, source,
                               "repartition: no metadata for input topic %s (it must exist: "
                               "its partition count is the internal topic's)", source);
    char why[512] = "";
    int replicas = brokers < REPLICAS_MAX ? brokers : REPLICAS_MAX;
    rd_kafka_resp_err_t e = create_topic(rp, internal, n, replicas, why, sizeof(why));
    /* A broker without CreateTopics (librdkafka's mock cluster, `vigil
     * broker`) never answers: then the topic is auto-created by asking for
     * its metadata, with the broker's default partition count. */
    if (e == RD_KAFKA_RESP_ERR__TIMED_OUT)
        vg_warn("repartition: the broker did not answer CreateTopics for %s; relying on "
                "topic auto-creation", internal);
    else if (e != RD_KAFKA_RESP_ERR_NO_ERROR)
        return vg_error_set_at(err, VG_EKAFKA, internal, "repartition: creating topic: %s%s%s",
                               rd_kafka_err2str(e), why[0] ? ": " : "", why);
    int have = partition_count(rp, internal, &brokers);
    if (have <= 0)
        return vg_error_set_at(err, VG_EKAFKA, internal,
                               "repartition: topic %s could not be created (create it with %d "
                               "partitions)", internal, n);
    if (have != n)
        vg_warn("repartition: topic %s has %d partitions, input topic %s has %d: state is "
                "kept by the internal topic's partitions", internal, have, source, n);
    else
        vg_info("repartition: %s re-keyed by series into %s (%d partitions)", source,
                internal, n);
    return VG_OK;
}

/* Produces one record, waiting while the local queue is full (back-pressure
 * from a slow broker), up to QUEUE_FULL_MS. */
static rd_kafka_resp_err_t produce(vg_repartition *rp, const char *internal, const char *key,
                                   size_t key_len, int64_t ts, const char *val, size_t len)
{
    rd_kafka_resp_err_t e;
    int64_t deadline = vg_now_ms() + QUEUE_FULL_MS;
    do {
        e = rd_kafka_producev(rp->rk, RD_KAFKA_V_TOPIC(internal),
                              RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                              RD_KAFKA_V_KEY(key, key_len), RD_KAFKA_V_VALUE((void *)val, len),
                              RD_KAFKA_V_TIMESTAMP(ts), RD_KAFKA_V_END);
        if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL)
            rd_kafka_poll(rp->rk, 10);
    } while (e == RD_KAFKA_RESP_ERR__QUEUE_FULL && vg_now_ms() < deadline);
    return e;
}

int vg__repartition_send(vg_repartition *rp, const char *internal, const vg_batch *b,
                         size_t from)
{
    int rc = VG_OK;
    for (size_t i = from; i < b->n; i++) {
        const vg_point *pt = &b->points[i];
        char val[64];
        int len = snprintf(val, sizeof(val), "%lld %.17g", (long long)pt->ts_ms, pt->value);
        rd_kafka_resp_err_t e = produce(rp, internal, vg_batch_key(b, pt), pt->key_len,
                                        pt->ts_ms, val, (size_t)len);
        rp->queued++;
        if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
            rp->failed++;
            vg_log_limited(&rp->fail_log, VG_LOG_ERROR, "repartition topic %s: %s", internal,
                           rd_kafka_err2str(e));
            rc = VG_EKAFKA;
        }
    }
    rd_kafka_poll(rp->rk, 0);
    return rc;
}

int vg__repartition_flush(vg_repartition *rp, int timeout_ms)
{
    if (rp->queued > rp->delivered + rp->failed)
        rd_kafka_flush(rp->rk, timeout_ms);
    if (rp->queued > rp->delivered + rp->failed)
        return VG_ETIMEOUT;
    if (rp->failed > rp->failed_seen) {
        rp->failed_seen = rp->failed;
        return VG_EKAFKA;
    }
    return VG_OK;
}

int vg__repartition_decode(const void *payload, size_t len, int64_t *ts_ms, double *value)
{
    char text[64], *end;
    if (payload == NULL || len == 0 || len >= sizeof(text))
        return VG_EPARSE;
    memcpy(text, payload, len);
    text[len] = '\0';
    /* strtoll and strtod skip leading blanks: the format has none. */
    if (isspace((unsigned char)text[0]))
        return VG_EPARSE;
    long long ts = strtoll(text, &end, 10);
    if (end == text || *end != ' ')
        return VG_EPARSE;
    const char *v = end + 1;
    if (isspace((unsigned char)*v))
        return VG_EPARSE;
    *value = strtod(v, &end);
    if (end == v || *end != '\0')
        return VG_EPARSE;
    *ts_ms = (int64_t)ts;
    return VG_OK;
}

uint64_t vg__repartition_delivered(const vg_repartition *rp)
{
    return rp->delivered;
}
