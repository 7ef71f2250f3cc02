/* The Kafka input's rebalances: assignments (resuming from the offsets
 * the on_assign hook chose), revokes (the on_revoke hook checkpoints, then
 * what is done is committed before the partitions go), commit reports, and
 * what is assigned now (lag, count, pause). */
#include <stdlib.h>
#include <string.h>

#include "core/vigil_metrics.h"
#include "streams/kafka_source_internal.h"

source_topic *vg__kafka_source_topic(vg_kafka_source *ks, const char *name)
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
        source_topic *t = vg__kafka_source_topic(ks, parts->elems[i].topic);
        if (t != NULL) {
            elem[n] = i;
            v[n++] = (vg_kafka_partition){t->name, parts->elems[i].partition, -1};
        }
    }
    hook(ks->hooks.ctx, v, n);
    for (size_t i = 0; i < n; i++) {
        if (v[i].offset < 0)
            continue;
        parts->elems[elem[i]].offset = v[i].offset;
        /* The floor below which a fetched message is a rewind. */
        vg_offsets_set(&ks->returned, v[i].topic, v[i].partition, v[i].offset);
    }
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

/* Drops the points of revoked partitions from the batch being filled (they
 * were not committed, and their state is saved without them) and what that
 * poll consumed of them. */
static void drop_unprocessed(vg_kafka_source *ks, const rd_kafka_topic_partition_list_t *parts)
{
    vg_batch *b = ks->filling;
    if (b != NULL) {
        size_t kept = 0;
        for (size_t i = 0; i < b->n; i++)
            if (!is_listed(parts, b->points[i].origin.source, b->points[i].origin.partition))
                b->points[kept++] = b->points[i];
        b->n = kept;
    }
    for (int i = 0; i < parts->cnt; i++)
        vg_offsets_forget(&ks->polling, parts->elems[i].partition);
}

void vg__kafka_rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t e,
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
        drop_unprocessed(ks, parts);
        call_hook(ks, ks->hooks.on_revoke, parts);
        /* Hand over what the hook committed, synchronously, before letting
         * go; the next owner resumes from there (or its saved state). */
        rd_kafka_resp_err_t ce = rd_kafka_commit(rk, NULL, 0);
        if (ce != RD_KAFKA_RESP_ERR_NO_ERROR && ce != RD_KAFKA_RESP_ERR__NO_OFFSET)
            vg_warn("kafka input: commit on revoke: %s", rd_kafka_err2str(ce));
        for (int i = 0; i < parts->cnt; i++)
            vg_offsets_forget(&ks->returned, parts->elems[i].partition);
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

void vg__kafka_offset_commit_cb(rd_kafka_t *rk, rd_kafka_resp_err_t e,
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

int vg_kafka_source_pause(vg_kafka_source *ks, const int32_t *nums, size_t n, int pause)
{
    rd_kafka_topic_partition_list_t *parts = NULL;
    if (rd_kafka_assignment(ks->rk, &parts) != RD_KAFKA_RESP_ERR_NO_ERROR)
        return VG_EKAFKA;
    rd_kafka_topic_partition_list_t *pick = rd_kafka_topic_partition_list_new(parts->cnt);
    for (int i = 0; i < parts->cnt; i++) {
        size_t j = 0;
        while (nums != NULL && j < n && nums[j] != parts->elems[i].partition)
            j++;
        if (nums == NULL || j < n)
            rd_kafka_topic_partition_list_add(pick, parts->elems[i].topic,
                                              parts->elems[i].partition);
    }
    rd_kafka_resp_err_t e = pause ? rd_kafka_pause_partitions(ks->rk, pick)
                                  : rd_kafka_resume_partitions(ks->rk, pick);
    int count = pick->cnt;
    rd_kafka_topic_partition_list_destroy(pick);
    rd_kafka_topic_partition_list_destroy(parts);
    return e == RD_KAFKA_RESP_ERR_NO_ERROR ? count : VG_EKAFKA;
}
