/* The Kafka input's configuration and construction; see kafka_source.h
 * for the config and the contract. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "streams/kafka_conf.h"
#include "streams/kafka_source_internal.h"

static const vg_conf_field source_fields[] = {
    {"brokers", VG_CONF_STRING, offsetof(source_params, brokers), 0, 0, 512, "127.0.0.1:9092",
     "bootstrap servers, or \"embedded\" to start a broker in this process"},
    {"group", VG_CONF_STRING, offsetof(source_params, group), 0, 0, 256, "vigil",
     "consumer group id: instances with one group share the partitions"},
    {"dead_letter_topic", VG_CONF_STRING, offsetof(source_params, dead_letter_topic), 0, 0,
     256, "", "topic for messages the parsers reject; empty: none"},
    {"feedback_topic", VG_CONF_STRING, offsetof(source_params, feedback_topic), 0, 0, 256, "",
     "topic of verdicts on incidents, as POST /feedback's bodies, read by every instance; "
     "empty: none"},
    {"batch", VG_CONF_UINT32, offsetof(source_params, batch), 10000, 1, 1000000, NULL,
     "most messages per poll"},
    {"partitions", VG_CONF_UINT32, offsetof(source_params, partitions), 4, 1, 10000, NULL,
     "partitions of each topic the embedded broker creates"},
    {"topics", VG_CONF_ARRAY, offsetof(source_params, topics), 0, 0, 0, NULL,
     "[{\"name\": topic, \"format\": ..., parser keys}]: 1..64 topics (input.topics[].*)"},
    {"kafka", VG_CONF_OBJECT, offsetof(source_params, kafka), 0, 0, 0, NULL,
     "librdkafka consumer properties (auto-commit and offset store stay off)"},
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
    ks->topics[i].rekey_to = -1;
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

/* Each "repartition" topic gets its internal topic, read like the others
 * (subscribed, assigned, saved with the state) but without a parser. */
static int add_internal_topics(vg_kafka_source *ks, const vg_conf_doc *doc,
                               const json_t *topics, vg_error *err)
{
    size_t configured = ks->n_topics;
    for (size_t i = 0; i < configured; i++) {
        if (!json_is_true(json_object_get(json_array_get(topics, i), "repartition")))
            continue;
        char name[256], where[64];
        if (vg__repartition_topic_name(ks->params.group, ks->topics[i].name, name,
                                       sizeof(name)) != VG_OK) {
            vg_conf_where(doc, topics, NULL, i, where, sizeof(where));
            return vg_error_set_at(err, VG_ECONFIG, where,
                                   "input.topics[%zu]: repartition: the internal topic name "
                                   "\"<group>-<topic>-repartition\" is over 249 characters", i);
        }
        source_topic *t = &ks->topics[ks->n_topics];
        if ((t->name = strdup(name)) == NULL)
            return vg_error_set(err, VG_ENOMEM, "input.topics");
        t->ps = NULL;
        t->rekey_to = -1;
        ks->topics[i].rekey_to = (int)ks->n_topics++;
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
    for (size_t i = 0; i < json_array_size(topics); i++) {
        if ((rc = add_topic(ks, doc, topics, i, err)) != VG_OK)
            return rc;
        /* Verdicts are not points: one topic cannot be both. */
        if (strcmp(ks->topics[i].name, ks->params.feedback_topic) == 0) {
            char where[64];
            vg_conf_where(doc, cfg, "feedback_topic", 0, where, sizeof(where));
            return vg_error_set_at(err, VG_ECONFIG, where,
                                   "input.feedback_topic: %s is also an input topic",
                                   ks->params.feedback_topic);
        }
    }
    return add_internal_topics(ks, doc, topics, err);
}

static int start_embedded(vg_kafka_source *ks, vg_error *err)
{
    vg_broker_topic topics[2 * TOPICS_MAX + 2];
    size_t n = 0;
    for (; n < ks->n_topics; n++)
        topics[n] = (vg_broker_topic){ks->topics[n].name, (int)ks->params.partitions};
    if (ks->params.dead_letter_topic[0] != '\0')
        topics[n++] = (vg_broker_topic){ks->params.dead_letter_topic, 1};
    if (ks->params.feedback_topic[0] != '\0')
        topics[n++] = (vg_broker_topic){ks->params.feedback_topic, 1};
    vg_broker_options opt = {.brokers = 1, .topics = topics, .n_topics = n};
    ks->broker = vg_broker_start(&opt, err);
    if (ks->broker == NULL)
        return err ? err->code : VG_EKAFKA;
    snprintf(ks->brokers, sizeof(ks->brokers), "%s", vg_broker_bootstrap(ks->broker));
    vg_info("kafka input: embedded broker on %s", ks->brokers);
    return VG_OK;
}

/* ---- construction ------------------------------------------------------ */

/* The producer of the "repartition" topics, and their internal topics. */
static int open_repartition(vg_kafka_source *ks, vg_error *err)
{
    for (size_t i = 0; i < ks->n_topics; i++) {
        if (ks->topics[i].rekey_to < 0)
            continue;
        if (ks->rp == NULL && (ks->rp = vg__repartition_new(ks->brokers, err)) == NULL)
            return err ? err->code : VG_EKAFKA;
        int rc = vg__repartition_ensure_topic(ks->rp, ks->topics[i].name,
                                              ks->topics[ks->topics[i].rekey_to].name, err);
        if (rc != VG_OK)
            return rc;
    }
    return VG_OK;
}

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
    rd_kafka_conf_set_rebalance_cb(conf, vg__kafka_rebalance_cb);
    rd_kafka_conf_set_offset_commit_cb(conf, vg__kafka_offset_commit_cb);
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
    vg__repartition_free(ks->rp);
    vg_batch_release(&ks->rekeyed);
    vg_broker_stop(ks->broker);
    for (size_t i = 0; i < ks->n_topics; i++) {
        vg_parser_free(ks->topics[i].ps);
        free(ks->topics[i].name);
    }
    vg_offsets_release(&ks->polling);
    vg_offsets_release(&ks->returned);
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
    if (open_repartition(ks, err) != VG_OK)
        goto out_free_source;
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

const char *vg_kafka_source_brokers(const vg_kafka_source *ks)
{
    return ks->brokers;
}

const char *vg_kafka_source_group(const vg_kafka_source *ks)
{
    return ks->params.group;
}

const char *vg_kafka_source_feedback_topic(const vg_kafka_source *ks)
{
    return ks->params.feedback_topic[0] != '\0' ? ks->params.feedback_topic : NULL;
}

/* ---- the source interface ---------------------------------------------- */

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

static int ops_poll(void *self, vg_batch *out, int timeout_ms)
{
    return vg_kafka_source_poll(self, out, timeout_ms);
}

static const vg_offsets *ops_position(void *self)
{
    return vg_kafka_source_position(self);
}

static int ops_commit(void *self, const vg_offsets *pos)
{
    return vg_kafka_source_commit(self, pos);
}

static void ops_close(void *self)
{
    vg_kafka_source_close(self);
}

const vg_source_ops vg_kafka_source_ops = {
    .name       = "kafka",
    .config_key = "input",
    .fields     = source_fields,
    .n_fields   = VG_CONF_COUNT(source_fields),
    .check      = ops_check,
    .poll       = ops_poll,
    .position   = ops_position,
    .commit     = ops_commit,
    .close      = ops_close,
};
