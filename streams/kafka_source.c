/* The Kafka input's polls and commits; see kafka_source.h for the config
 * and the contract.
 *
 * At-least-once rests on three things: librdkafka never stores or commits an
 * offset by itself (auto commit and auto offset store are off), commit()
 * stores only the positions the caller passes (the lifecycle's checkpoint),
 * and on a revoke the points of the revoked partitions still in the batch
 * being filled are dropped, so no point is processed by an owner that saved
 * its state without it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/vigil_metrics.h"
#include "streams/kafka_source_internal.h"

/* How long a poll waits for its re-keyed points to be acknowledged. */
#define REKEY_FLUSH_MS 60000

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

static void bad_message(vg_kafka_source *ks, const rd_kafka_message_t *msg,
                        const source_topic *t, const char *reason, const vg_error *perr)
{
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
    if (ks->dlq != NULL && vg__dead_letter_send(ks->dlq, msg, reason, text) == VG_OK)
        vg_metric_label_inc(VG_M_DEAD_LETTERS, reason, 1);
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

/* Whether msg lies below what was already consumed or resumed from: the
 * fetch position moved back (an offset reset, auto.offset.reset=earliest
 * after OFFSET_OUT_OF_RANGE). Re-applying it would feed warm state twice,
 * so it is skipped, counted and logged: the stream resumes at the saved
 * position. */
static int is_rewind(vg_kafka_source *ks, const source_topic *t, const rd_kafka_message_t *msg)
{
    int64_t polled = vg_offsets_next(&ks->polling, t->name, msg->partition);
    int64_t floor = polled >= 0 ? polled : vg_offsets_next(&ks->returned, t->name, msg->partition);
    if (floor < 0 || msg->offset >= floor)
        return 0;
    ks->stats.rewound++;
    vg_metric_inc(VG_M_OFFSET_REWINDS, 1);
    vg_log_limited(&ks->rewind_log, VG_LOG_WARN,
                   "kafka input: %s/%d@%lld is behind the position %lld (offset reset?): "
                   "skipped, not re-applied", t->name, (int)msg->partition,
                   (long long)msg->offset, (long long)floor);
    return 1;
}

/* A record of an internal repartition topic: one point, keyed by series. */
static void consume_rekeyed(vg_kafka_source *ks, const rd_kafka_message_t *msg,
                            const source_topic *t, const vg_origin *origin, vg_batch *out)
{
    int64_t ts;
    double value;
    if (msg->key_len == 0 ||
        vg__repartition_decode(msg->payload, msg->len, &ts, &value) != VG_OK) {
        vg_error perr;
        vg_error_set(&perr, VG_EPARSE, "not a re-keyed point (\"<ts_ms> <value>\", keyed "
                     "by series)");
        bad_message(ks, msg, t, "repartition", &perr);
        return;
    }
    vg_assert(vg_batch_push(out, msg->key, msg->key_len, ts, value, origin) != NULL);
    ks->stats.points++;
}

/* A message of a re-keyed topic: its points go to the internal topic (and
 * come back through it), not to the batch. */
static int rekey(vg_kafka_source *ks, const source_topic *t, const vg_batch *points)
{
    ks->rekeyed_now = 1;
    ks->stats.rekeyed += points->n;
    vg_metric_inc(VG_M_POINTS_REPARTITIONED, points->n);
    return vg__repartition_send(ks->rp, ks->topics[t->rekey_to].name, points, 0);
}

static void consume(vg_kafka_source *ks, const rd_kafka_message_t *msg, vg_batch *out)
{
    ks->stats.messages++;
    source_topic *t = vg__kafka_source_topic(ks, rd_kafka_topic_name(msg->rkt));
    if (t == NULL)
        return;  /* not subscribed: cannot happen with subscribe() */
    if (is_rewind(ks, t, msg))
        return;
    vg_offsets_note(&ks->polling, t->name, msg->partition, msg->offset);
    vg_origin origin = {t->name, msg->partition, msg->offset};
    if (t->ps == NULL) {
        consume_rekeyed(ks, msg, t, &origin, out);
        return;
    }
    vg_batch *into = out;
    if (t->rekey_to >= 0) {
        into = &ks->rekeyed;
        vg_batch_reset(into);
    }
    int64_t ts = rd_kafka_message_timestamp(msg, NULL);
    vg_error perr;
    vg_error_clear(&perr);
    size_t before = into->n;
    int n = vg_parser_parse(t->ps, msg->payload ? msg->payload : "", msg->len, ts, &origin,
                            into, &perr);
    if (n < 0)
        bad_message(ks, msg, t, vg_parser_last_reason(t->ps), &perr);
    if (into != out)
        rekey(ks, t, into);  /* a failure fails this poll's flush */
    else
        ks->stats.points += out->n - before;
}

/* The re-keyed points of this poll acknowledged, or the source stops: the
 * positions of the messages that caused them must not move on (at-least-
 * once; a restart re-reads them from the last checkpoint). */
static void settle_rekeyed(vg_kafka_source *ks)
{
    if (!ks->rekeyed_now)
        return;
    ks->rekeyed_now = 0;
    int rc = vg__repartition_flush(ks->rp, REKEY_FLUSH_MS);
    if (rc != VG_OK) {
        vg_err("kafka input: re-keyed points not acknowledged by the repartition topic (%s): "
               "stopping; the input is re-read from the last checkpoint", vg_strerror(rc));
        ks->fatal = 1;
    }
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
    vg_offsets_clear(&ks->polling);
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
    settle_rekeyed(ks);
    if (ks->fatal)
        return VG_EKAFKA;
    /* What this poll returns, bad messages included, is processed before
     * the caller polls again: it becomes part of the position. */
    vg_offsets_merge(&ks->returned, &ks->polling);
    vg_offsets_clear(&ks->polling);
    if (ks->dlq != NULL)
        vg__dead_letter_poll(ks->dlq);
    update_dead_letter_stats(ks);
    if (ks->fatal)
        return VG_EKAFKA;
    /* A revoke may have dropped points from before this call's first one. */
    return out->n > before ? (int)(out->n - before) : 0;
}

const vg_offsets *vg_kafka_source_position(const vg_kafka_source *ks)
{
    return &ks->returned;
}

/* ---- committing -------------------------------------------------------- */

int vg_kafka_source_commit(vg_kafka_source *ks, const vg_offsets *pos)
{
    int flushed = ks->dlq != NULL ? vg__dead_letter_flush(ks->dlq, 10000) : VG_OK;
    update_dead_letter_stats(ks);
    if (flushed != VG_OK) {
        vg_warn("kafka input: dead letters still in flight; not committing yet");
        return VG_ETIMEOUT;
    }
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new((int)pos->n);
    for (size_t i = 0; i < pos->n; i++)
        if (pos->v[i].next >= 0)
            rd_kafka_topic_partition_list_add(list, pos->v[i].topic, pos->v[i].partition)
                ->offset = pos->v[i].next;
    if (list->cnt == 0) {
        rd_kafka_topic_partition_list_destroy(list);
        return VG_OK;
    }
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
