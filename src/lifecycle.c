/* The partition lifecycle; see lifecycle.h. */
#include "src/lifecycle.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "core/grow.h"
#include "core/log.h"
#include "core/vigil_metrics.h"
#include "models/state_store.h"

#define ASSIGNED_MAX   4096
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000
#define FLUSH_MS       30000
#define STOP_FLUSH_MS  5000
#define IN_FLIGHT      1      /* a checkpoint's saves still running (not a VG_E*) */   /* at shutdown: well inside systemd's TimeoutStopSec */

typedef struct state_params {
    char    dir[1024];
    int64_t checkpoint_ms;
    int64_t hold_max_ms;
    int64_t compact_percent;
} state_params;

static const vg_conf_field state_fields[] = {
    {"dir", VG_CONF_STRING, offsetof(state_params, dir), 0, 0, 1024, "",
     "directory of the partitions' saved state; empty: no saved state (cold restarts)"},
    {"checkpoint_ms", VG_CONF_INT, offsetof(state_params, checkpoint_ms), 5000, 100,
     86400000, NULL, "how often state is saved and offsets committed"},
    {"hold_max_ms", VG_CONF_INT, offsetof(state_params, hold_max_ms), 60000, 0, 86400000,
     NULL, "how long checkpoints may keep failing (an output or a state save not durable) "
     "before vigil pauses its partitions and reports not ready"},
    {"compact_percent", VG_CONF_INT, offsetof(state_params, compact_percent), 50, 1, 10000,
     NULL, "a partition's log of changes is merged into a new whole snapshot once it "
     "reaches this percentage of the snapshot's size"},
};

/* The checkpoint in flight: its state saves run on the state writer, and
 * its offsets are committed once every one of them is durable. */
typedef struct ticket {
    int        active;
    size_t     waiting;  /* saves whose outcome is not in yet */
    vg_offsets commit;
    int32_t    failed;   /* the first partition whose save failed, or -1 */
    vg_error   err;
} ticket;

/* A checkpoint that could not complete, retried with backoff. */
typedef struct hold {
    int64_t since_ms;    /* 0: not held */
    int64_t next_try_ms;
    int64_t backoff_ms;
    int     paused;
    char    reason[256];
} hold;

struct vg_lifecycle {
    state_params         state;
    char                 group[256];
    vg_pipeline         *p;
    vg_kafka_source     *ks;
    vg_state_store      *store;  /* NULL: no saved state */
    ticket               tk;
    int32_t              assigned[ASSIGNED_MAX];  /* partition numbers, unique */
    size_t               n_assigned;
    int64_t              last_checkpoint;
    int64_t              last_complete;  /* of the last checkpoint that saved and committed all */
    hold                 held;
    vg_ratelimit         hold_log;
    char                 not_ready[300];
    size_t               polled;  /* messages the last poll consumed */
    int                  flush_ms;
    vg_lifecycle_stats   st;
};

void vg_lifecycle_describe(FILE *out)
{
    vg_conf_describe(state_fields, VG_CONF_COUNT(state_fields), "state", out);
}

int vg_lifecycle_check_config(const vg_config *cfg, vg_error *err)
{
    state_params state;
    return vg_conf_apply(cfg->doc, cfg->state, "state", state_fields,
                         VG_CONF_COUNT(state_fields), NULL, &state, err);
}

/* ---- holding a checkpoint back ----------------------------------------- */

static void hold_back(vg_lifecycle *lc, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void hold_back(vg_lifecycle *lc, const char *fmt, ...)
{
    hold *h = &lc->held;
    int64_t now = vg_now_ms();
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(h->reason, sizeof(h->reason), fmt, ap);
    va_end(ap);
    if (h->since_ms == 0) {
        h->since_ms = now;
        h->backoff_ms = BACKOFF_MIN_MS;
    } else {
        h->backoff_ms = h->backoff_ms * 2 < BACKOFF_MAX_MS ? h->backoff_ms * 2 : BACKOFF_MAX_MS;
    }
    h->next_try_ms = now + h->backoff_ms;
    lc->st.held++;
    vg_metric_inc(VG_M_CHECKPOINTS_HELD, 1);
    vg_log_limited(&lc->hold_log, VG_LOG_WARN,
                   "checkpoint held back (offsets not committed), retrying: %s", h->reason);
    if (!h->paused && now - h->since_ms >= lc->state.hold_max_ms) {
        h->paused = vg_kafka_source_pause(lc->ks, NULL, 0, 1) >= 0;
        vg_err("checkpoints failing for %lld ms: consumption paused, not ready: %s",
               (long long)(now - h->since_ms), h->reason);
    }
}

static void hold_release(vg_lifecycle *lc)
{
    hold *h = &lc->held;
    if (h->since_ms == 0)
        return;
    vg_info("checkpoint succeeded after %lld ms held back%s",
            (long long)(vg_now_ms() - h->since_ms), h->paused ? "; consumption resumed" : "");
    if (h->paused)
        vg_kafka_source_pause(lc->ks, NULL, 0, 0);
    memset(h, 0, sizeof(*h));
}

/* ---- checkpoints ------------------------------------------------------- */

/* The positions of partition (one per input topic) in at: saved in the
 * same file as its state, so a restart or the partition's next owner
 * resumes from exactly there, whether or not the commit that follows
 * reaches the broker. */
static void positions_of(const vg_offsets *at, int32_t partition, vg_snapshot_positions *pos)
{
    pos->n = 0;
    for (size_t i = 0; i < at->n && pos->n < VG_SNAPSHOT_POSITIONS_MAX; i++) {
        if (at->v[i].partition != partition || at->v[i].next < 0)
            continue;
        vg_snapshot_position *sp = &pos->v[pos->n++];
        snprintf(sp->topic, sizeof(sp->topic), "%s", at->v[i].topic);
        sp->partition = partition;
        sp->next_offset = at->v[i].next;
    }
}

/* Commits the ticket's offsets (but those of partitions whose state is not
 * durable) and settles the hold. */
static int complete(vg_lifecycle *lc)
{
    ticket *tk = &lc->tk;
    if (vg_kafka_source_commit(lc->ks, &tk->commit) == VG_OK)
        lc->st.commits++;
    vg_offsets_release(&tk->commit);
    lc->st.checkpoints++;
    vg_metric_inc(VG_M_CHECKPOINTS, 1);
    tk->active = 0;
    if (tk->failed < 0) {
        hold_release(lc);
        lc->last_complete = vg_now_ms();
        vg_metric_set(VG_M_CHECKPOINT_LAST, (double)time(NULL));  /* wall clock: Unix time */
        return VG_OK;
    }
    hold_back(lc, "state of partition %d not saved: %s: %s", (int)tk->failed, tk->err.where,
              tk->err.msg);
    return tk->err.code != VG_OK ? tk->err.code : VG_EIO;
}

/* Takes in the outcomes of the ticket's saves (waiting for them with
 * wait); completes it once all are in. Returns its result, or IN_FLIGHT
 * while saves are still running. */
static int collect(vg_lifecycle *lc, int wait)
{
    ticket *tk = &lc->tk;
    vg_state_saved r[64];
    while (tk->waiting > 0) {
        size_t got = vg_state_store_results(lc->store, wait, r, 64);
        for (size_t i = 0; i < got; i++) {
            tk->waiting--;
            vg_metric_label_inc(VG_M_STATE_BYTES, r[i].full ? "whole" : "changes", r[i].bytes);
            if (r[i].rc == VG_OK)
                continue;
            vg_metric_not_durable("state", "save", 1);
            vg_offsets_forget(&tk->commit, r[i].partition);  /* they wait for the state */
            if (tk->failed < 0) {
                tk->failed = r[i].partition;
                tk->err = r[i].err;
            }
        }
        if (got == 0)
            break;
    }
    return tk->waiting > 0 ? IN_FLIGHT : complete(lc);
}

/* Events durable, state saved, then offsets committed: in that order, so a
 * committed offset never runs ahead of a durable event or the saved state.
 * Only the listed partitions are saved and committed; `full` saves their
 * state whole rather than its changes. The saves run in the background:
 * without `wait` this returns IN_FLIGHT and vg_lifecycle_step completes
 * the checkpoint once they are durable. */
static int checkpoint(vg_lifecycle *lc, const int32_t *parts, size_t n, int full, int wait)
{
    lc->last_checkpoint = vg_now_ms();
    int rc = vg_pipeline_flush(lc->p, lc->flush_ms);
    if (rc != VG_OK) {
        hold_back(lc, "outputs not durable: %s", vg_strerror(rc));
        return rc;
    }
    const vg_offsets *at = vg_kafka_source_position(lc->ks);
    ticket *tk = &lc->tk;
    *tk = (ticket){.active = 1, .failed = -1};
    vg_offsets_init(&tk->commit);
    for (size_t i = 0; i < at->n; i++) {
        size_t j = 0;
        while (j < n && parts[j] != at->v[i].partition)
            j++;
        if (j < n)
            vg_offsets_set(&tk->commit, at->v[i].topic, at->v[i].partition, at->v[i].next);
    }
    for (size_t i = 0; i < n && lc->store != NULL; i++) {
        vg_snapshot_positions pos;
        vg_error ignored = {0};  /* an encoding error comes back as the save's result */
        positions_of(at, parts[i], &pos);
        vg_state_store_save(lc->store, lc->p, parts[i], &pos, full, &ignored);
        tk->waiting++;
    }
    return collect(lc, wait);
}

/* Completes the checkpoint in flight, if any. */
static void settle(vg_lifecycle *lc)
{
    if (lc->tk.active)
        collect(lc, 1);
}

static int checkpoint_all(vg_lifecycle *lc)
{
    return checkpoint(lc, lc->assigned, lc->n_assigned, 0, 0);
}

/* The last checkpoint saves every partition whole: the state is one file
 * per partition again, logs merged, as a full rewrite left it. */
int vg_lifecycle_stop(vg_lifecycle *lc)
{
    lc->flush_ms = STOP_FLUSH_MS;
    settle(lc);
    return checkpoint(lc, lc->assigned, lc->n_assigned, 1, 1);
}

void vg_lifecycle_step(vg_lifecycle *lc)
{
    int64_t now = vg_now_ms();
    size_t n = lc->polled;
    if (lc->tk.active && collect(lc, 0) == IN_FLIGHT) {
        if (n > 0)  /* saves still running: alerts go out meanwhile */
            vg_pipeline_flush(lc->p, lc->flush_ms);
    } else if (lc->held.since_ms != 0) {
        if (now >= lc->held.next_try_ms)
            checkpoint_all(lc);
    } else if (lc->state.dir[0] == '\0') {
        if (n > 0)  /* no saved state: commit as soon as the events are out */
            checkpoint_all(lc);
    } else if (now - lc->last_checkpoint >= lc->state.checkpoint_ms) {
        checkpoint_all(lc);
    } else if (n > 0) {
        vg_pipeline_flush(lc->p, lc->flush_ms);  /* alerts go out within a batch */
    }
}

/* ---- assign and revoke ------------------------------------------------- */

typedef struct key_list {
    const vg_pipeline *p;
    int32_t            partition;
    char             **keys;
    size_t             n, cap;
} key_list;

static void collect_partition(void *ctx, void *state, const char *key, size_t key_len)
{
    key_list *l = ctx;
    (void)key_len;
    if (vg_pipeline_series_partition(l->p, state) != l->partition)
        return;
    l->keys = vg_grow(l->keys, &l->cap, l->n, sizeof(*l->keys), 64);
    vg_assert(l->keys != NULL);
    l->keys[l->n] = strdup(key);
    vg_assert(l->keys[l->n] != NULL);
    l->n++;
}

/* Forgets the series of a partition that another instance now owns
 * (collected first: the table cannot change under foreach); the outputs
 * stop re-posting their firing incidents. */
static void drop_partition(vg_lifecycle *lc, int32_t partition)
{
    key_list owned = {lc->p, partition, NULL, 0, 0};
    vg_series_table *t = vg_pipeline_series(lc->p);
    vg_series_table_foreach(t, collect_partition, &owned);
    for (size_t i = 0; i < owned.n; i++) {
        vg_pipeline_drop_series(lc->p, owned.keys[i], strlen(owned.keys[i]));
        free(owned.keys[i]);
    }
    free(owned.keys);
    for (size_t j = 0; j < lc->n_assigned; j++)
        if (lc->assigned[j] == partition)
            lc->assigned[j--] = lc->assigned[--lc->n_assigned];
    vg_metric_set(VG_M_SERIES_ACTIVE, (double)vg_series_table_count(t));
}

/* The distinct partition numbers of parts (several topics share them). */
static size_t unique_partitions(const vg_kafka_partition *parts, size_t n, int32_t *out)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        size_t j = 0;
        while (j < m && out[j] != parts[i].partition)
            j++;
        if (j == m)
            out[m++] = parts[i].partition;
    }
    return m;
}

static void on_revoke(void *ctx, vg_kafka_partition *parts, size_t n)
{
    vg_lifecycle *lc = ctx;
    int32_t *nums = calloc(n ? n : 1, sizeof(*nums));
    vg_assert(nums != NULL);
    size_t m = unique_partitions(parts, n, nums);
    settle(lc);
    int rc = checkpoint(lc, nums, m, 0, 1);
    for (size_t i = 0; i < n; i++)
        vg_metric_lag_drop(parts[i].topic, parts[i].partition);
    for (size_t i = 0; i < m; i++) {
        drop_partition(lc, nums[i]);
        if (lc->store != NULL)
            vg_state_store_forget(lc->store, nums[i]);
    }
    if (rc == VG_OK)
        vg_info("partitions revoked: %zu; state saved", m);
    else  /* the next owner resumes from the last good checkpoint */
        vg_warn("partitions revoked: %zu; checkpoint failed: %s", m, vg_strerror(rc));
    free(nums);
}

/* Points the assigned partitions at the offsets saved with their state;
 * the source takes them as the floor below which nothing is re-applied. */
static void resume_from(vg_kafka_partition *parts, size_t n, const vg_snapshot_positions *pos)
{
    for (size_t i = 0; i < pos->n; i++)
        for (size_t k = 0; k < n; k++)
            if (parts[k].partition == pos->v[i].partition &&
                strcmp(parts[k].topic, pos->v[i].topic) == 0)
                parts[k].offset = pos->v[i].next_offset;
}

static void load_partition(vg_lifecycle *lc, int32_t partition, vg_kafka_partition *parts,
                           size_t n)
{
    size_t loaded = 0;
    vg_error err = {0};
    vg_snapshot_positions pos = {0};
    vg_snapshot_merge_info log = {0};
    int rc = vg_state_store_load(lc->store, lc->p, partition, &loaded, &pos, &log, &err);
    if (rc == VG_OK) {
        lc->st.state_loaded += loaded;
        resume_from(parts, n, &pos);
        vg_metric_inc(VG_M_STATE_TORN_BYTES, log.torn);
        if (log.torn > 0)  /* a crash mid-save: the checkpoint before it counts */
            vg_warn("state of partition %d: %zu bytes of an unfinished save ignored",
                    (int)partition, log.torn);
    } else if (rc != VG_ENOTFOUND) {  /* corrupt or foreign: start cold, loudly */
        vg_err("state of partition %d not loaded, starting cold: %s: %s", (int)partition,
               err.where, err.msg);
    }
}

static void on_assign(void *ctx, vg_kafka_partition *parts, size_t n)
{
    vg_lifecycle *lc = ctx;
    int32_t *nums = calloc(n ? n : 1, sizeof(*nums));
    vg_assert(nums != NULL);
    size_t m = unique_partitions(parts, n, nums);
    for (size_t i = 0; i < m; i++) {
        size_t j = 0;
        while (j < lc->n_assigned && lc->assigned[j] != nums[i])
            j++;
        if (j < lc->n_assigned || lc->n_assigned == ASSIGNED_MAX)
            continue;
        lc->assigned[lc->n_assigned++] = nums[i];
        if (lc->store != NULL)
            load_partition(lc, nums[i], parts, n);
    }
    vg_info("partitions assigned: %zu; %llu series loaded", m,
            (unsigned long long)lc->st.state_loaded);
    free(nums);
}

/* ---- the rest ---------------------------------------------------------- */

vg_lifecycle *vg_lifecycle_open(const vg_config *cfg, vg_pipeline *p, vg_error *err)
{
    vg_lifecycle *lc = calloc(1, sizeof(*lc));
    if (lc == NULL) {
        vg_error_set(err, VG_ENOMEM, "lifecycle");
        return NULL;
    }
    lc->p = p;
    lc->flush_ms = FLUSH_MS;
    if (vg_conf_apply(cfg->doc, cfg->state, "state", state_fields,
                      VG_CONF_COUNT(state_fields), NULL, &lc->state, err) != VG_OK)
        goto out_free_lifecycle;
    if (lc->state.dir[0] != '\0' && mkdir(lc->state.dir, 0777) != 0 && errno != EEXIST) {
        vg_error_set_at(err, VG_EIO, lc->state.dir, "state directory: %s", strerror(errno));
        goto out_free_lifecycle;
    }
    const char *group = json_string_value(json_object_get(cfg->input, "group"));
    snprintf(lc->group, sizeof(lc->group), "%s", group ? group : "vigil");
    vg_kafka_hooks hooks = {on_revoke, on_assign, lc};
    if (lc->state.dir[0] != '\0') {
        lc->store = vg_state_store_open(lc->state.dir, lc->group, (int)lc->state.compact_percent,
                                        err);
        if (lc->store == NULL)
            goto out_free_lifecycle;
    }
    lc->ks = vg_kafka_source_new(cfg->doc, cfg->input, &hooks, err);
    if (lc->ks == NULL)
        goto out_close_store;
    lc->last_checkpoint = lc->last_complete = vg_now_ms();
    return lc;

out_close_store:
    vg_state_store_close(lc->store);
out_free_lifecycle:
    free(lc);
    return NULL;
}

void vg_lifecycle_set_pipeline(vg_lifecycle *lc, vg_pipeline *p)
{
    settle(lc);  /* the writer may still encode with the old pipeline */
    lc->p = p;
    if (lc->store != NULL)  /* its series table starts over: save whole */
        vg_state_store_reset(lc->store);
}

int vg_lifecycle_poll(vg_lifecycle *lc, vg_batch *out, int timeout_ms)
{
    uint64_t before = vg_kafka_source_get_stats(lc->ks)->messages;
    int n = vg_kafka_source_poll(lc->ks, out, timeout_ms);
    lc->polled = (size_t)(vg_kafka_source_get_stats(lc->ks)->messages - before);
    return n;
}

const char *vg_lifecycle_not_ready(vg_lifecycle *lc)
{
    vg_kafka_source_report_lag(lc->ks);
    vg_metric_set(VG_M_CHECKPOINT_AGE, (double)(vg_now_ms() - lc->last_complete) / 1000.0);
    if (lc->held.paused) {
        snprintf(lc->not_ready, sizeof(lc->not_ready), "consumption paused: %s",
                 lc->held.reason);
        return lc->not_ready;
    }
    return vg_kafka_source_assigned(lc->ks) > 0 ? NULL : "no partitions assigned";
}

const vg_lifecycle_stats *vg_lifecycle_get_stats(const vg_lifecycle *lc)
{
    return &lc->st;
}

const vg_kafka_source *vg_lifecycle_source(const vg_lifecycle *lc)
{
    return lc->ks;
}

const vg_kafka_source_stats *vg_lifecycle_source_stats(const vg_lifecycle *lc)
{
    return vg_kafka_source_get_stats(lc->ks);
}

void vg_lifecycle_close(vg_lifecycle *lc)
{
    if (lc == NULL)
        return;
    vg_kafka_source_close(lc->ks);  /* the last revoke checkpoints */
    settle(lc);
    vg_state_store_close(lc->store);
    free(lc);
}
