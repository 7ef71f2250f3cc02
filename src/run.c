/* The stream processor loop; see run.h. */
#include "src/run.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "models/snapshot.h"
#include "src/http_server.h"
#include "core/log.h"
#include "engine/pipeline.h"
#include "core/vigil_metrics.h"
#include "streams/kafka_source.h"

typedef struct state_params {
    char    dir[1024];
    int64_t checkpoint_ms;
} state_params;

static const vg_conf_field state_fields[] = {
    {"dir", VG_CONF_STRING, offsetof(state_params, dir), 0, 0, 1024, "",
     "directory of the partitions' saved state; empty: no saved state (cold restarts)"},
    {"checkpoint_ms", VG_CONF_INT, offsetof(state_params, checkpoint_ms), 5000, 100,
     86400000, NULL, "how often state is saved and offsets committed"},
};

/* The highest offset processed per (topic, partition) since the last
 * checkpoint: committed as one synthetic batch. */
typedef struct watermark {
    const char *topic;  /* borrowed from the source's config */
    int32_t     partition;
    int64_t     offset;
} watermark;

typedef struct runner {
    const vg_config *cfg;      /* the first config: the input and state settings */
    vg_config       *reloaded; /* the config the pipeline runs now, after a reload */
    vg_http_server  *http;
    state_params     state;
    char             group[256];
    vg_pipeline     *p;
    vg_source       *src;
    vg_kafka_source *ks;       /* borrowed from src */
    watermark       *marks;
    size_t           n_marks, cap_marks;
    int32_t          assigned[4096];  /* partition numbers, unique */
    size_t           n_assigned;
    int64_t          last_checkpoint;
    vg_run_stats     st;
} runner;

static void note_offset(runner *r, const vg_point *pt)
{
    for (size_t i = 0; i < r->n_marks; i++) {
        watermark *m = &r->marks[i];
        if (m->partition == pt->origin.partition && m->topic == pt->origin.source) {
            if (pt->origin.offset > m->offset)
                m->offset = pt->origin.offset;
            return;
        }
    }
    if (r->n_marks == r->cap_marks) {
        size_t cap = r->cap_marks ? r->cap_marks * 2 : 16;
        watermark *marks = realloc(r->marks, cap * sizeof(*marks));
        vg_assert(marks != NULL);  /* a few entries per partition: tiny */
        r->marks = marks;
        r->cap_marks = cap;
    }
    r->marks[r->n_marks++] = (watermark){pt->origin.source, pt->origin.partition,
                                         pt->origin.offset};
}

/* Commits every watermark: the messages up to them are processed, their
 * events durable and (with a state dir) their state saved. */
static void commit_marks(runner *r)
{
    if (r->n_marks == 0)
        return;
    vg_batch done;
    vg_batch_init(&done);
    for (size_t i = 0; i < r->n_marks; i++) {
        vg_origin o = {r->marks[i].topic, r->marks[i].partition, r->marks[i].offset};
        vg_batch_push(&done, "", 0, 0, 0.0, &o);
    }
    if (vg_kafka_source_commit(r->ks, &done) == VG_OK)
        r->st.commits++;
    vg_batch_release(&done);
}

static void state_path(const runner *r, int32_t partition, char *out, size_t cap)
{
    vg_snapshot_path(out, cap, r->state.dir, r->group, partition);
}

/* The state of a partition is saved with the offsets it corresponds to
 * (one per input topic), in one file: a restart or the partition's next
 * owner resumes from exactly there, whether or not the commit that
 * followed the save reached the broker. */
static void save_partition(runner *r, int32_t partition)
{
    char path[2048];
    vg_error err = {0};
    vg_snapshot_positions pos = {0};
    for (size_t i = 0; i < r->n_marks && pos.n < VG_SNAPSHOT_POSITIONS_MAX; i++) {
        if (r->marks[i].partition != partition)
            continue;
        vg_snapshot_position *sp = &pos.v[pos.n++];
        snprintf(sp->topic, sizeof(sp->topic), "%s", r->marks[i].topic);
        sp->partition = partition;
        sp->next_offset = r->marks[i].offset + 1;
    }
    state_path(r, partition, path, sizeof(path));
    if (vg_snapshot_save_at(r->p, path, partition, &pos, &err) != VG_OK)
        vg_err("state of partition %d not saved: %s: %s", (int)partition, err.where, err.msg);
}

/* Events durable, state saved, then offsets committed: in that order, so a
 * committed offset never runs ahead of the saved state. Only the listed
 * partitions' state is saved (all assigned ones when parts is NULL). */
static void checkpoint(runner *r, const int32_t *parts, size_t n)
{
    if (vg_pipeline_flush(r->p, 30000) != VG_OK) {
        vg_warn("outputs not flushed; offsets not committed this time");
        return;
    }
    if (r->state.dir[0] != '\0') {
        if (parts == NULL) {
            parts = r->assigned;
            n = r->n_assigned;
        }
        for (size_t i = 0; i < n; i++)
            save_partition(r, parts[i]);
    }
    commit_marks(r);
    r->st.checkpoints++;
    r->last_checkpoint = vg_now_ms();
}

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
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 64;
        l->keys = realloc(l->keys, l->cap * sizeof(*l->keys));
        vg_assert(l->keys != NULL);
    }
    l->keys[l->n] = strdup(key);
    vg_assert(l->keys[l->n] != NULL);
    l->n++;
}

/* Forgets the series of a partition that another instance now owns
 * (collected first: the table cannot change under foreach). */
static void drop_partition(runner *r, int32_t partition)
{
    key_list owned = {r->p, partition, NULL, 0, 0};
    vg_series_table *t = vg_pipeline_series(r->p);
    vg_series_table_foreach(t, collect_partition, &owned);
    for (size_t i = 0; i < owned.n; i++) {
        vg_series_table_remove(t, owned.keys[i], strlen(owned.keys[i]));
        free(owned.keys[i]);
    }
    free(owned.keys);
}

static int unique_partitions(const vg_kafka_partition *parts, size_t n, int32_t *out)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        size_t j = 0;
        while (j < m && out[j] != parts[i].partition)
            j++;
        if (j == m)
            out[m++] = parts[i].partition;
    }
    return (int)m;
}

static void on_revoke(void *ctx, vg_kafka_partition *parts, size_t n)
{
    runner *r = ctx;
    int32_t *nums = calloc(n ? n : 1, sizeof(*nums));
    vg_assert(nums != NULL);
    size_t m = (size_t)unique_partitions(parts, n, nums);
    checkpoint(r, nums, m);
    for (size_t i = 0; i < n; i++)
        vg_metric_lag_drop(parts[i].topic, parts[i].partition);
    for (size_t i = 0; i < m; i++) {
        drop_partition(r, nums[i]);
        for (size_t j = 0; j < r->n_assigned; j++)
            if (r->assigned[j] == nums[i])
                r->assigned[j--] = r->assigned[--r->n_assigned];
        /* Its marks are committed and saved; its next owner has them. */
        for (size_t j = 0; j < r->n_marks; j++)
            if (r->marks[j].partition == nums[i])
                r->marks[j--] = r->marks[--r->n_marks];
    }
    vg_info("partitions revoked: %zu; state saved", m);
    free(nums);
}

/* Points the assigned partitions at the offsets saved with their state,
 * and remembers them as marks so the next checkpoint saves them again even
 * if no message arrives before it. */
static void resume_from(runner *r, vg_kafka_partition *parts, size_t n,
                        const vg_snapshot_positions *pos)
{
    for (size_t i = 0; i < pos->n; i++) {
        for (size_t k = 0; k < n; k++) {
            if (parts[k].partition != pos->v[i].partition ||
                strcmp(parts[k].topic, pos->v[i].topic) != 0)
                continue;
            parts[k].offset = pos->v[i].next_offset;
            if (pos->v[i].next_offset > 0) {
                vg_point mark = {.origin = {parts[k].topic, parts[k].partition,
                                            pos->v[i].next_offset - 1}};
                note_offset(r, &mark);
            }
        }
    }
}

static void on_assign(void *ctx, vg_kafka_partition *parts, size_t n)
{
    runner *r = ctx;
    int32_t *nums = calloc(n ? n : 1, sizeof(*nums));
    vg_assert(nums != NULL);
    size_t m = (size_t)unique_partitions(parts, n, nums);
    for (size_t i = 0; i < m; i++) {
        size_t j = 0;
        while (j < r->n_assigned && r->assigned[j] != nums[i])
            j++;
        if (j < r->n_assigned || r->n_assigned == sizeof(r->assigned) / sizeof(r->assigned[0]))
            continue;
        r->assigned[r->n_assigned++] = nums[i];
        if (r->state.dir[0] == '\0')
            continue;
        char path[2048];
        size_t loaded = 0;
        vg_error err = {0};
        vg_snapshot_positions pos = {0};
        state_path(r, nums[i], path, sizeof(path));
        int rc = vg_snapshot_load_at(r->p, path, &loaded, &pos, &err);
        if (rc == VG_OK) {
            r->st.state_loaded += loaded;
            resume_from(r, parts, n, &pos);
        } else if (rc != VG_ENOTFOUND) {  /* corrupt or foreign: start cold, loudly */
            vg_err("state of partition %d not loaded, starting cold: %s: %s", (int)nums[i],
                   err.where, err.msg);
        }
    }
    vg_info("partitions assigned: %zu; %llu series loaded", m,
            (unsigned long long)r->st.state_loaded);
    free(nums);
}

void vg_run_describe(FILE *out)
{
    vg_conf_describe(state_fields, VG_CONF_COUNT(state_fields), "state", out);
}

int vg_run_check_config(const vg_config *cfg, vg_error *err)
{
    state_params state;
    int rc = vg_conf_apply(cfg->doc, cfg->state, "state", state_fields,
                           VG_CONF_COUNT(state_fields), NULL, &state, err);
    vg_http_params prm;
    if (rc == VG_OK && cfg->metrics != NULL)
        rc = vg_http_configure(cfg->doc, cfg->metrics, &prm, err);
    return rc;
}

static int runner_open(runner *r, const vg_config *cfg, vg_error *err)
{
    memset(r, 0, sizeof(*r));
    r->cfg = cfg;
    if (cfg->input == NULL)
        return vg_error_set(err, VG_ECONFIG, "input: a Kafka input is required by 'vigil run'");
    int rc = vg_conf_apply(cfg->doc, cfg->state, "state", state_fields,
                           VG_CONF_COUNT(state_fields), NULL, &r->state, err);
    if (rc != VG_OK)
        return rc;
    if (r->state.dir[0] != '\0' && mkdir(r->state.dir, 0777) != 0 && errno != EEXIST)
        return vg_error_set_at(err, VG_EIO, r->state.dir, "state directory: %s",
                               strerror(errno));
    const char *group = json_string_value(json_object_get(cfg->input, "group"));
    snprintf(r->group, sizeof(r->group), "%s", group ? group : "vigil");

    r->p = vg_pipeline_new(cfg, err);
    if (r->p == NULL)
        return err->code;
    /* The source first: with "brokers": "embedded" it starts the broker
     * that a Kafka output then finds. */
    vg_kafka_hooks hooks = {on_revoke, on_assign, r};
    r->src = vg_kafka_source_open(cfg->doc, cfg->input, &hooks, &r->ks, err);
    if (r->src == NULL)
        return err->code;
    if ((rc = vg_pipeline_open_outputs(r->p, err)) != VG_OK)
        return rc;
    if (cfg->metrics != NULL) {
        vg_http_params prm;
        if ((rc = vg_http_configure(cfg->doc, cfg->metrics, &prm, err)) != VG_OK)
            return rc;
        r->http = vg_http_start(&prm, vg_metric_registry(), err);
        if (r->http == NULL)
            return err->code;
        vg_http_set_ready(r->http, "no partitions assigned yet");
    }
    r->last_checkpoint = vg_now_ms();
    return VG_OK;
}

typedef struct transfer {
    vg_pipeline *from, *to;
    vg_writer    buf;
    size_t       kept, failed;
} transfer;

static void transfer_series(void *ctx, void *state, const char *key, size_t key_len)
{
    transfer *t = ctx;
    vg_reader in;
    vg_error err = {0};
    vg_writer_reset(&t->buf);
    if (vg_pipeline_save_series(t->from, state, &t->buf) != VG_OK) {
        t->failed++;
        return;
    }
    vg_reader_init(&in, t->buf.buf, t->buf.len);
    if (vg_pipeline_load_series(t->to, key, key_len, &in, &err) == VG_OK)
        t->kept++;
    else
        t->failed++;
}

/* SIGHUP: a new pipeline from the file, every series moved over through
 * the saved-state records (a series whose profile changed starts fresh),
 * the old outputs flushed and closed. Any error keeps the running config. */
static void reload(runner *r, const char *path)
{
    vg_error err = {0};
    char msg[256];
    vg_config *cfg = vg_config_load(path, &err);
    vg_pipeline *p = cfg ? vg_pipeline_new(cfg, &err) : NULL;
    if (p == NULL || vg_pipeline_open_outputs(p, &err) != VG_OK) {
        vg_err("config reload rejected, the running config stays: %s",
               vg_error_format(&err, msg, sizeof(msg)));
        vg_metric_label_inc(VG_M_CONFIG_RELOADS, "failure", 1);
        vg_pipeline_free(p);
        vg_config_free(cfg);
        return;
    }
    if (!json_equal((json_t *)cfg->input, (json_t *)r->cfg->input) ||
        !json_equal((json_t *)cfg->state, (json_t *)r->cfg->state))
        vg_warn("config reload: input and state settings take effect on the next start");
    vg_log_set_level((vg_log_level)cfg->log_level);

    transfer t = {r->p, p, {0}, 0, 0};
    vg_writer_init(&t.buf);
    vg_series_table_foreach(vg_pipeline_series(r->p), transfer_series, &t);
    vg_writer_release(&t.buf);
    size_t fresh = (size_t)vg_pipeline_get_stats(p)->state_mismatch;

    vg_pipeline_flush(r->p, 30000);
    vg_pipeline_free(r->p);
    vg_config_free(r->reloaded);
    r->p = p;
    r->reloaded = cfg;
    vg_metric_label_inc(VG_M_CONFIG_RELOADS, "success", 1);
    vg_info("config reloaded from %s: %zu series kept, %zu started fresh, %zu failed", path,
            t.kept - fresh, fresh, t.failed);
}

static void runner_close(runner *r)
{
    vg_http_stop(r->http);
    /* Outputs go first: an embedded broker stops with the source. Leaving
     * the group then saves the state once more (nothing is in flight). */
    if (r->p != NULL)
        vg_pipeline_close_outputs(r->p);
    vg_source_close(r->src);
    vg_pipeline_free(r->p);
    vg_config_free(r->reloaded);
    free(r->marks);
}

int vg_run(const vg_config *cfg, const vg_run_options *opt, vg_run_stats *stats,
           vg_error *err)
{
    runner r;
    int rc = runner_open(&r, cfg, err);
    vg_batch batch;
    vg_batch_init(&batch);
    int64_t last_data = vg_now_ms(), last_lag = 0;
    while (rc == VG_OK && !(opt->stop && *opt->stop)) {
        if (opt->reload && *opt->reload) {
            *opt->reload = 0;
            reload(&r, opt->config_path);
        }
        if (vg_now_ms() - last_lag >= 1000) {
            vg_kafka_source_report_lag(r.ks);
            if (r.http != NULL)
                vg_http_set_ready(r.http, vg_kafka_source_assigned(r.ks) > 0
                                              ? NULL : "no partitions assigned");
            last_lag = vg_now_ms();
        }
        vg_batch_reset(&batch);
        int n = vg_source_poll(r.src, &batch, 100);
        if (n < 0 && n != VG_EEOF) {
            rc = vg_error_set(err, n, "input failed: %s", vg_strerror(n));
            break;
        }
        if (batch.n > 0) {
            vg_metric_inc(VG_M_POINTS_READ, batch.n);
            int events = vg_pipeline_process(r.p, &batch);
            r.st.events += (uint64_t)(events > 0 ? events : 0);
            r.st.points += batch.n;
            r.st.batches++;
            /* Offsets only grow within a partition, so the last point of each
             * run of one partition carries its watermark: one lookup per run,
             * not per point. */
            for (size_t i = 0; r.state.dir[0] != '\0' && i < batch.n; i++) {
                const vg_origin *o = &batch.points[i].origin;
                const vg_origin *next = i + 1 < batch.n ? &batch.points[i + 1].origin : NULL;
                if (next == NULL || next->partition != o->partition || next->source != o->source)
                    note_offset(&r, &batch.points[i]);
            }
            last_data = vg_now_ms();
        }
        if (r.state.dir[0] == '\0') {
            /* No saved state: commit as soon as the events are out. */
            if (vg_pipeline_flush(r.p, 30000) == VG_OK && vg_source_commit(r.src, &batch) == VG_OK)
                r.st.commits++;
        } else if (vg_now_ms() - r.last_checkpoint >= r.state.checkpoint_ms) {
            checkpoint(&r, NULL, 0);
        } else if (batch.n > 0) {
            vg_pipeline_flush(r.p, 30000);  /* alerts go out within a batch */
        }
        if (opt->should_stop && opt->should_stop(opt->ctx, (uint64_t)(vg_now_ms() - last_data)))
            break;
    }
    if (r.p != NULL && r.src != NULL)
        checkpoint(&r, NULL, 0);
    if (r.ks != NULL) {
        /* The input's counters, for operators and the end-to-end tests. */
        const vg_kafka_source_stats *ks = vg_kafka_source_get_stats(r.ks);
        vg_info("kafka input: %llu messages, %llu points, %llu bad, %llu dead letters, "
                "%llu dead letter failures, %llu consumer errors",
                (unsigned long long)ks->messages, (unsigned long long)ks->points,
                (unsigned long long)ks->bad, (unsigned long long)ks->dead_letters,
                (unsigned long long)ks->dead_letter_failures,
                (unsigned long long)ks->consumer_errors);
    }
    if (stats != NULL)
        *stats = r.st;
    vg_batch_release(&batch);
    runner_close(&r);
    return rc;
}
