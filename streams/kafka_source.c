/* The Kafka input; see kafka_source.h for the config and the contract.
 *
 * At-least-once rests on three things: librdkafka never stores or commits an
 * offset by itself (auto commit and auto offset store are off), commit()
 * stores offset+1 only for what the caller declared done, and on a revoke
 * the points of the revoked partitions still in the batch being filled are
 * dropped, so no point is processed by an owner that saved its state
 * without it. */
#include "streams/kafka_source.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/vigil_metrics.h"
#include "streams/broker.h"
#include "streams/dead_letter.h"
#include "streams/kafka_conf.h"
#include "streams/parse.h"

#define TOPICS_MAX  64
#define REASONS_MAX 32

typedef struct source_params {
    char     brokers[512];
    char     group[256];
    char     dead_letter_topic[256];
    uint32_t batch;
    uint32_t partitions;
    const json_t *topics;  /* borrowed from the config: read while opening only */
    const json_t *kafka;
} source_params;

static const vg_conf_field source_fields[] = {
    {"brokers", VG_CONF_STRING, offsetof(source_params, brokers), 0, 0, 512, "127.0.0.1:9092",
     "bootstrap servers, or \"embedded\" to start a broker in this process"},
    {"group", VG_CONF_STRING, offsetof(source_params, group), 0, 0, 256, "vigil",
     "consumer group id: instances with one group share the partitions"},
    {"dead_letter_topic", VG_CONF_STRING, offsetof(source_params, dead_letter_topic), 0, 0,
     256, "", "topic for messages the parsers reject; empty: none"},
    {"batch", VG_CONF_UINT32, offsetof(source_params, batch), 10000, 1, 1000000, NULL,
     "most messages per poll"},
    {"partitions", VG_CONF_UINT32, offsetof(source_params, partitions), 4, 1, 10000, NULL,
     "partitions of each topic the embedded broker creates"},
    {"topics", VG_CONF_ARRAY, offsetof(source_params, topics), 0, 0, 0, NULL,
     "[{\"name\": topic, \"format\": ..., parser keys}]: 1..64 topics (input.topics[].*)"},
    {"kafka", VG_CONF_OBJECT, offsetof(source_params, kafka), 0, 0, 0, NULL,
     "librdkafka consumer properties (auto-commit and offset store stay off)"},
};

typedef struct source_topic {
    char      *name;
    vg_parser *ps;
} source_topic;

/* The highest offset of one partition seen by the last poll. */
typedef struct partition_mark {
    const char *topic;  /* a source_topic name */
    int32_t     partition;
    int64_t     offset;
} partition_mark;

typedef struct reason_count {
    char     reason[32];
    uint64_t n;
} reason_count;

struct vg_kafka_source {
    source_params         params;
    rd_kafka_t           *rk;
    vg_broker            *broker;  /* NULL unless "embedded" */
    vg_dead_letter       *dlq;     /* NULL without a dead-letter topic */
    char                  brokers[1024];
    source_topic          topics[TOPICS_MAX];
    size_t                n_topics;
    vg_kafka_hooks        hooks;
    vg_kafka_source_stats stats;
    reason_count          reasons[REASONS_MAX];
    vg_ratelimit          bad_log, error_log;
    /* The batch the current (or last) poll fills, and its partition marks. */
    vg_batch             *filling;
    const vg_batch       *last_out;
    partition_mark       *marks;
    size_t                n_marks, cap_marks;
    int                   fatal;
};

/* ---- configuration ----------------------------------------------------- */

static int add_topic(vg_kafka_source *ks, const vg_conf_doc *doc, const json_t *topics,
                     size_t i, vg_error *err)
{
    const json_t *t = json_array_get(topics, i);
    const json_t *name = json_object_get(t, "name");
    char where[64];
    vg_conf_where(doc, topics, NULL, i, where, sizeof(where));
    if (!json_is_object(t) || !json_is_string(name) || json_string_length(name) == 0 ||
        json_string_length(name) > 249)
        return vg_error_set_at(err, VG_ECONFIG, where,
                               "input.topics[%zu]: must be an object with a \"name\" of "
                               "1..249 characters", i);
    /* The parser validates every other key; "name" is ours. */
    json_t *parser_cfg = json_copy((json_t *)t);
    if (parser_cfg == NULL || (ks->topics[i].name = strdup(json_string_value(name))) == NULL) {
        json_decref(parser_cfg);
        return vg_error_set(err, VG_ENOMEM, "input.topics");
    }
    json_object_del(parser_cfg, "name");
    ks->n_topics = i + 1;
    ks->topics[i].ps = vg_parser_new(doc, parser_cfg, err);
    json_decref(parser_cfg);
    if (ks->topics[i].ps == NULL) {
        /* The copy has no position of its own: point at the topic object. */
        if (err != NULL) {
            char msg[sizeof(err->msg)];
            snprintf(msg, sizeof(msg), "%s", err->msg);
            vg_error_set_at(err, VG_ECONFIG, where, "input.topics[%zu]: %s", i, msg);
        }
        return VG_ECONFIG;
    }
    return VG_OK;
}

static int configure(vg_kafka_source *ks, const vg_conf_doc *doc, const json_t *cfg,
                     vg_error *err)
{
    int rc = vg_conf_apply(doc, cfg, "input", source_fields, VG_CONF_COUNT(source_fields),
                           NULL, &ks->params, err);
    if (rc != VG_OK)
        return rc;
    const json_t *topics = json_object_get(cfg, "topics");
    if (!json_is_array(topics) || json_array_size(topics) == 0 ||
        json_array_size(topics) > TOPICS_MAX) {
        char where[64];
        vg_conf_where(doc, cfg, "topics", 0, where, sizeof(where));
        return vg_error_set_at(err, VG_ECONFIG, where,
                               "input.topics: must be an array of 1..%d topic objects",
                               TOPICS_MAX);
    }
    for (size_t i = 0; i < json_array_size(topics); i++)
        if ((rc = add_topic(ks, doc, topics, i, err)) != VG_OK)
            return rc;
    return VG_OK;
}

static int start_embedded(vg_kafka_source *ks, vg_error *err)
{
    vg_broker_topic topics[TOPICS_MAX + 1];
    size_t n = 0;
    for (; n < ks->n_topics; n++)
        topics[n] = (vg_broker_topic){ks->topics[n].name, (int)ks->params.partitions};
    if (ks->params.dead_letter_topic[0] != '\0')
        topics[n++] = (vg_broker_topic){ks->params.dead_letter_topic, 1};
    vg_broker_options opt = {.brokers = 1, .topics = topics, .n_topics = n};
    ks->broker = vg_broker_start(&opt, err);
    if (ks->broker == NULL)
        return err ? err->code : VG_EKAFKA;
    snprintf(ks->brokers, sizeof(ks->brokers), "%s", vg_broker_bootstrap(ks->broker));
    vg_info("kafka input: embedded broker on %s", ks->brokers);
    return VG_OK;
}

/* ---- rebalancing ------------------------------------------------------- */

static source_topic *find_topic(vg_kafka_source *ks, const char *name)
{
    for (size_t i = 0; i < ks->n_topics; i++)
        if (strcmp(ks->topics[i].name, name) == 0)
            return &ks->topics[i];
    return NULL;
}

/* Calls hook over parts; offsets the hook chose (on assign) are written
 * back into parts, which are then assigned from there. */
static void call_hook(vg_kafka_source *ks,
                      void (*hook)(void *, vg_kafka_partition *, size_t),
                      rd_kafka_topic_partition_list_t *parts)
{
    if (hook == NULL || parts->cnt == 0)
        return;
    vg_kafka_partition *v = calloc((size_t)parts->cnt, sizeof(*v));
    int *elem = calloc((size_t)parts->cnt, sizeof(*elem));
    vg_assert(v != NULL && elem != NULL);
    size_t n = 0;
    for (int i = 0; i < parts->cnt; i++) {
        source_topic *t = find_topic(ks, parts->elems[i].topic);
        if (t != NULL) {
            elem[n] = i;
            v[n++] = (vg_kafka_partition){t->name, parts->elems[i].partition, -1};
        }
    }
    hook(ks->hooks.ctx, v, n);
    for (size_t i = 0; i < n; i++)
        if (v[i].offset >= 0)
            parts->elems[elem[i]].offset = v[i].offset;
    free(elem);
    free(v);
}

static int is_listed(const rd_kafka_topic_partition_list_t *parts, const char *topic,
                     int32_t partition)
{
    for (int i = 0; i < parts->cnt && topic != NULL; i++)
        if (parts->elems[i].partition == partition && strcmp(parts->elems[i].topic, topic) == 0)
            return 1;
    return 0;
}

/* Drops the points and marks of revoked partitions from the batch being
 * filled: they were not committed, and their state is saved without them. */
static void drop_revoked(vg_kafka_source *ks, const rd_kafka_topic_partition_list_t *parts)
{
    vg_batch *b = ks->filling;
    if (b != NULL) {
        size_t kept = 0;
        for (size_t i = 0; i < b->n; i++)
            if (!is_listed(parts, b->points[i].origin.source, b->points[i].origin.partition))
                b->points[kept++] = b->points[i];
        b->n = kept;
    }
    size_t kept = 0;
    for (size_t i = 0; i < ks->n_marks; i++)
        if (!is_listed(parts, ks->marks[i].topic, ks->marks[i].partition))
            ks->marks[kept++] = ks->marks[i];
    ks->n_marks = kept;
}

static void rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t e,
                         rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    vg_kafka_source *ks = opaque;
    int cooperative = strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
    rd_kafka_error_t *error = NULL;
    rd_kafka_resp_err_t assign_err = RD_KAFKA_RESP_ERR_NO_ERROR;
    if (e == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        vg_info("kafka input: %d partition(s) assigned", parts->cnt);
        call_hook(ks, ks->hooks.on_assign, parts);
        if (cooperative)
            error = rd_kafka_incremental_assign(rk, parts);
        else
            assign_err = rd_kafka_assign(rk, parts);
    } else {
        vg_info("kafka input: %d partition(s) revoked", parts->cnt);
        drop_revoked(ks, parts);
        call_hook(ks, ks->hooks.on_revoke, parts);
        /* Hand over what is done, synchronously, before letting go. */
        rd_kafka_resp_err_t ce = rd_kafka_commit(rk, NULL, 0);
        if (ce != RD_KAFKA_RESP_ERR_NO_ERROR && ce != RD_KAFKA_RESP_ERR__NO_OFFSET)
            vg_warn("kafka input: commit on revoke: %s", rd_kafka_err2str(ce));
        if (cooperative)
            error = rd_kafka_incremental_unassign(rk, parts);
        else
            assign_err = rd_kafka_assign(rk, NULL);
    }
    if (error != NULL) {
        vg_err("kafka input: rebalance: %s", rd_kafka_error_string(error));
        rd_kafka_error_destroy(error);
    } else if (assign_err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        vg_err("kafka input: rebalance: %s", rd_kafka_err2str(assign_err));
    }
}

static void offset_commit_cb(rd_kafka_t *rk, rd_kafka_resp_err_t e,
                             rd_kafka_topic_partition_list_t *offsets, void *opaque)
{
    (void)rk;
    (void)offsets;
    vg_kafka_source *ks = opaque;
    if (e == RD_KAFKA_RESP_ERR_NO_ERROR || e == RD_KAFKA_RESP_ERR__NO_OFFSET)
        return;
    ks->stats.commit_failures++;
    vg_log_limited(&ks->error_log, VG_LOG_WARN, "kafka input: commit failed: %s",
                   rd_kafka_err2str(e));
}

/* ---- construction ------------------------------------------------------ */

static rd_kafka_conf_t *consumer_conf(vg_kafka_source *ks, const vg_conf_doc *doc,
                                      const json_t *cfg, vg_error *err)
{
    rd_kafka_conf_t *conf = vg__kafka_conf_new();
    if (conf == NULL) {
        vg_error_set(err, VG_ENOMEM, "kafka input");
        return NULL;
    }
    static const char *const defaults[][2] = {
        {"auto.offset.reset", "earliest"},
        {"queued.min.messages", "1000000"},
        {"fetch.wait.max.ms", "10"},
    };
    for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++)
        if (vg__kafka_conf_set(conf, NULL, defaults[i][0], defaults[i][1], err) != VG_OK)
            goto out_destroy_conf;
    if (vg__kafka_conf_apply_json(conf, doc, json_object_get(cfg, "kafka"), "input.kafka",
                                  err) != VG_OK)
        goto out_destroy_conf;
    /* After the user's properties: at-least-once is not negotiable. */
    if (vg__kafka_conf_set(conf, NULL, "bootstrap.servers", ks->brokers, err) != VG_OK ||
        vg__kafka_conf_set(conf, NULL, "group.id", ks->params.group, err) != VG_OK ||
        vg__kafka_conf_set(conf, NULL, "enable.auto.commit", "false", err) != VG_OK ||
        vg__kafka_conf_set(conf, NULL, "enable.auto.offset.store", "false", err) != VG_OK)
        goto out_destroy_conf;
    rd_kafka_conf_set_rebalance_cb(conf, rebalance_cb);
    rd_kafka_conf_set_offset_commit_cb(conf, offset_commit_cb);
    rd_kafka_conf_set_opaque(conf, ks);
    return conf;

out_destroy_conf:
    rd_kafka_conf_destroy(conf);
    return NULL;
}

static int subscribe(vg_kafka_source *ks, vg_error *err)
{
    rd_kafka_topic_partition_list_t *list =
        rd_kafka_topic_partition_list_new((int)ks->n_topics);
    for (size_t i = 0; i < ks->n_topics; i++)
        rd_kafka_topic_partition_list_add(list, ks->topics[i].name, RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t e = rd_kafka_subscribe(ks->rk, list);
    rd_kafka_topic_partition_list_destroy(list);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR)
        return vg_error_set_at(err, VG_EKAFKA, "input.topics", "subscribe: %s",
                               rd_kafka_err2str(e));
    return VG_OK;
}

static void free_source(vg_kafka_source *ks)
{
    vg__dead_letter_free(ks->dlq);
    vg_broker_stop(ks->broker);
    for (size_t i = 0; i < ks->n_topics; i++) {
        vg_parser_free(ks->topics[i].ps);
        free(ks->topics[i].name);
    }
    free(ks->marks);
    free(ks);
}

vg_kafka_source *vg_kafka_source_new(const vg_conf_doc *doc, const json_t *cfg,
                                     const vg_kafka_hooks *hooks, vg_error *err)
{
    vg_kafka_source *ks = calloc(1, sizeof(*ks));
    if (ks == NULL) {
        vg_error_set(err, VG_ENOMEM, "kafka input");
        return NULL;
    }
    if (hooks != NULL)
        ks->hooks = *hooks;
    if (configure(ks, doc, cfg, err) != VG_OK)
        goto out_free_source;
    if (strcmp(ks->params.brokers, "embedded") == 0) {
        if (start_embedded(ks, err) != VG_OK)
            goto out_free_source;
    } else if (vg_broker_resolve(ks->params.brokers, ks->brokers, sizeof(ks->brokers),
                                 err) != VG_OK) {
        goto out_free_source;
    }
    if (ks->params.dead_letter_topic[0] != '\0') {
        ks->dlq = vg__dead_letter_new(ks->brokers, ks->params.dead_letter_topic, err);
        if (ks->dlq == NULL)
            goto out_free_source;
    }
    rd_kafka_conf_t *conf = consumer_conf(ks, doc, cfg, err);
    if (conf == NULL)
        goto out_free_source;
    char why[256];
    ks->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, why, sizeof(why));
    if (ks->rk == NULL) {
        rd_kafka_conf_destroy(conf);
        vg_error_set_at(err, VG_EKAFKA, "input", "consumer: %s", why);
        goto out_free_source;
    }
    rd_kafka_poll_set_consumer(ks->rk);
    if (subscribe(ks, err) != VG_OK)
        goto out_destroy_consumer;
    return ks;

out_destroy_consumer:
    rd_kafka_destroy(ks->rk);
out_free_source:
    free_source(ks);
    return NULL;
}

void vg_kafka_source_close(vg_kafka_source *ks)
{
    if (ks == NULL)
        return;
    /* Leaving the group runs the revoke hook and the final commit. */
    rd_kafka_resp_err_t e = rd_kafka_consumer_close(ks->rk);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR)
        vg_warn("kafka input: close: %s", rd_kafka_err2str(e));
    rd_kafka_destroy(ks->rk);
    free_source(ks);
}

/* ---- consuming --------------------------------------------------------- */

static void count_reason(vg_kafka_source *ks, const char *reason)
{
    for (size_t i = 0; i < REASONS_MAX; i++) {
        reason_count *r = &ks->reasons[i];
        if (r->reason[0] == '\0')
            snprintf(r->reason, sizeof(r->reason), "%s", reason);
        if (strcmp(r->reason, reason) == 0) {
            r->n++;
            return;
        }
    }
    /* More distinct reasons than slots: the last one collects the rest. */
    ks->reasons[REASONS_MAX - 1].n++;
}

uint64_t vg_kafka_source_bad_count(const vg_kafka_source *ks, const char *reason)
{
    for (size_t i = 0; i < REASONS_MAX && ks->reasons[i].reason[0] != '\0'; i++)
        if (strcmp(ks->reasons[i].reason, reason) == 0)
            return ks->reasons[i].n;
    return 0;
}

/* Records that offset of topic/partition was consumed by this poll. */
static void mark(vg_kafka_source *ks, const char *topic, int32_t partition, int64_t offset)
{
    for (size_t i = ks->n_marks; i-- > 0;) {
        partition_mark *m = &ks->marks[i];
        if (m->partition == partition && m->topic == topic) {
            if (offset > m->offset)
                m->offset = offset;
            return;
        }
    }
    if (ks->n_marks == ks->cap_marks) {
        size_t cap = ks->cap_marks ? ks->cap_marks * 2 : 16;
        partition_mark *m = realloc(ks->marks, cap * sizeof(*m));
        vg_assert(m != NULL);
        ks->marks = m;
        ks->cap_marks = cap;
    }
    ks->marks[ks->n_marks++] = (partition_mark){topic, partition, offset};
}

static void bad_message(vg_kafka_source *ks, const rd_kafka_message_t *msg,
                        const source_topic *t, const vg_error *perr)
{
    const char *reason = vg_parser_last_reason(t->ps);
    ks->stats.bad++;
    count_reason(ks, reason);
    vg_metric_label_inc(VG_M_PARSE_ERRORS, reason, 1);
    char text[256];
    vg_error_format(perr, text, sizeof(text));
    if (perr->where[0] != '\0')
        vg_log_limited(&ks->bad_log, VG_LOG_WARN, "kafka input: %s (%s)", text, reason);
    else
        vg_log_limited(&ks->bad_log, VG_LOG_WARN, "kafka input: %s/%d@%lld: %s (%s)", t->name,
                       (int)msg->partition, (long long)msg->offset, text, reason);
    if (ks->dlq != NULL)
        vg__dead_letter_send(ks->dlq, msg, reason, text);
}

/* A consumer error: fatal ones stop the source, the rest are logged. */
static void consumer_error(vg_kafka_source *ks, const rd_kafka_message_t *msg)
{
    if (msg->err == RD_KAFKA_RESP_ERR__PARTITION_EOF)
        return;
    ks->stats.consumer_errors++;
    char why[256];
    if (rd_kafka_fatal_error(ks->rk, why, sizeof(why)) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        vg_err("kafka input: fatal: %s", why);
        ks->fatal = 1;
        return;
    }
    vg_log_limited(&ks->error_log, VG_LOG_WARN, "kafka input: %s",
                   rd_kafka_message_errstr(msg));
}

static void consume(vg_kafka_source *ks, const rd_kafka_message_t *msg, vg_batch *out)
{
    ks->stats.messages++;
    source_topic *t = find_topic(ks, rd_kafka_topic_name(msg->rkt));
    if (t == NULL)
        return;  /* not subscribed: cannot happen with subscribe() */
    mark(ks, t->name, msg->partition, msg->offset);
    vg_origin origin = {t->name, msg->partition, msg->offset};
    int64_t ts = rd_kafka_message_timestamp(msg, NULL);
    vg_error perr;
    vg_error_clear(&perr);
    size_t before = out->n;
    int n = vg_parser_parse(t->ps, msg->payload ? msg->payload : "", msg->len, ts, &origin, out,
                            &perr);
    if (n < 0)
        bad_message(ks, msg, t, &perr);
    ks->stats.points += out->n - before;
}

static void update_dead_letter_stats(vg_kafka_source *ks)
{
    if (ks->dlq != NULL) {
        ks->stats.dead_letters = vg__dead_letter_delivered(ks->dlq);
        ks->stats.dead_letter_failures = vg__dead_letter_failed(ks->dlq);
    }
}

int vg_kafka_source_poll(vg_kafka_source *ks, vg_batch *out, int timeout_ms)
{
    if (ks->fatal)
        return VG_EKAFKA;
    size_t before = out->n;
    ks->filling = out;
    ks->last_out = out;
    ks->n_marks = 0;
    for (uint32_t i = 0; i < ks->params.batch && !ks->fatal; i++) {
        rd_kafka_message_t *msg = rd_kafka_consumer_poll(ks->rk, i == 0 ? timeout_ms : 0);
        if (msg == NULL)
            break;
        if (msg->err != RD_KAFKA_RESP_ERR_NO_ERROR)
            consumer_error(ks, msg);
        else
            consume(ks, msg, out);
        rd_kafka_message_destroy(msg);
    }
    ks->filling = NULL;
    if (ks->dlq != NULL)
        vg__dead_letter_poll(ks->dlq);
    update_dead_letter_stats(ks);
    if (ks->fatal)
        return VG_EKAFKA;
    /* A revoke may have dropped points from before this call's first one. */
    return out->n > before ? (int)(out->n - before) : 0;
}

/* ---- committing -------------------------------------------------------- */

int vg_kafka_source_commit(vg_kafka_source *ks, const vg_batch *done)
{
    int flushed = ks->dlq != NULL ? vg__dead_letter_flush(ks->dlq, 10000) : VG_OK;
    update_dead_letter_stats(ks);
    if (flushed != VG_OK) {
        vg_warn("kafka input: dead letters still in flight; not committing yet");
        return VG_ETIMEOUT;
    }
    /* Highest offset per partition: the poll's marks when done is what it
     * filled (they include messages without points), plus every point. */
    if (done != ks->last_out)
        ks->n_marks = 0;
    for (size_t i = 0; i < done->n; i++) {
        const vg_origin *o = &done->points[i].origin;
        source_topic *t = o->source ? find_topic(ks, o->source) : NULL;
        if (t != NULL)
            mark(ks, t->name, o->partition, o->offset);
    }
    if (ks->n_marks == 0)
        return VG_OK;
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new((int)ks->n_marks);
    for (size_t i = 0; i < ks->n_marks; i++)
        rd_kafka_topic_partition_list_add(list, ks->marks[i].topic, ks->marks[i].partition)
            ->offset = ks->marks[i].offset + 1;
    ks->n_marks = 0;
    /* A partition revoked in the meantime fails to store: its new owner
     * starts from the last commit, which is what at-least-once wants. */
    rd_kafka_resp_err_t e = rd_kafka_offsets_store(ks->rk, list);
    rd_kafka_topic_partition_list_destroy(list);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR && e != RD_KAFKA_RESP_ERR__STATE)
        vg_debug("kafka input: store offsets: %s", rd_kafka_err2str(e));
    e = rd_kafka_commit(ks->rk, NULL, 1);
    ks->stats.commits++;
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR && e != RD_KAFKA_RESP_ERR__NO_OFFSET) {
        ks->stats.commit_failures++;
        vg_log_limited(&ks->error_log, VG_LOG_WARN, "kafka input: commit: %s",
                       rd_kafka_err2str(e));
        return VG_EKAFKA;
    }
    return VG_OK;
}

const vg_kafka_source_stats *vg_kafka_source_get_stats(const vg_kafka_source *ks)
{
    return &ks->stats;
}

const char *vg_kafka_source_brokers(const vg_kafka_source *ks)
{
    return ks->brokers;
}

/* ---- the source interface ---------------------------------------------- */

static int ops_poll(void *self, vg_batch *out, int timeout_ms)
{
    return vg_kafka_source_poll(self, out, timeout_ms);
}

static int ops_commit(void *self, const vg_batch *done)
{
    return vg_kafka_source_commit(self, done);
}

static void ops_close(void *self)
{
    vg_kafka_source_close(self);
}

/* Everything vg_kafka_source_new validates, opening nothing: the keys,
 * every topic's parser and the librdkafka properties. */
static int ops_check(const vg_conf_doc *doc, const json_t *cfg, vg_error *err)
{
    vg_kafka_source *ks = calloc(1, sizeof(*ks));
    if (ks == NULL)
        return vg_error_set(err, VG_ENOMEM, "kafka input");
    int rc = configure(ks, doc, cfg, err);
    if (rc == VG_OK)
        rc = vg__kafka_conf_check(doc, ks->params.kafka, "input.kafka", err);
    free_source(ks);
    return rc;
}

const vg_source_ops vg_kafka_source_ops = {
    .name       = "kafka",
    .config_key = "input",
    .fields     = source_fields,
    .n_fields   = VG_CONF_COUNT(source_fields),
    .check      = ops_check,
    .poll   = ops_poll,
    .commit = ops_commit,
    .close  = ops_close,
};

vg_source *vg_kafka_source_open(const vg_conf_doc *doc, const json_t *cfg,
                                const vg_kafka_hooks *hooks, vg_kafka_source **ks_out,
                                vg_error *err)
{
    vg_source *src = malloc(sizeof(*src));
    if (src == NULL) {
        vg_error_set(err, VG_ENOMEM, "kafka input");
        return NULL;
    }
    vg_kafka_source *ks = vg_kafka_source_new(doc, cfg, hooks, err);
    if (ks == NULL) {
        free(src);
        return NULL;
    }
    src->ops = &vg_kafka_source_ops;
    src->self = ks;
    if (ks_out != NULL)
        *ks_out = ks;
    return src;
}

void vg_kafka_source_report_lag(vg_kafka_source *ks)
{
    rd_kafka_topic_partition_list_t *parts = NULL;
    if (rd_kafka_assignment(ks->rk, &parts) != RD_KAFKA_RESP_ERR_NO_ERROR)
        return;
    /* Positions and the cached high watermarks: neither blocks. */
    rd_kafka_position(ks->rk, parts);
    for (int i = 0; i < parts->cnt; i++) {
        const rd_kafka_topic_partition_t *tp = &parts->elems[i];
        int64_t low, high;
        if (rd_kafka_get_watermark_offsets(ks->rk, tp->topic, tp->partition, &low, &high) !=
                RD_KAFKA_RESP_ERR_NO_ERROR || high < 0)
            continue;
        int64_t pos = tp->offset >= 0 ? tp->offset : low;
        vg_metric_lag_set(tp->topic, tp->partition, high > pos ? high - pos : 0);
    }
    rd_kafka_topic_partition_list_destroy(parts);
}

int vg_kafka_source_assigned(const vg_kafka_source *ks)
{
    rd_kafka_topic_partition_list_t *parts = NULL;
    if (rd_kafka_assignment(ks->rk, &parts) != RD_KAFKA_RESP_ERR_NO_ERROR)
        return 0;
    int n = parts->cnt;
    rd_kafka_topic_partition_list_destroy(parts);
    return n;
}
