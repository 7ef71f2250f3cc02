/* The stream processor loop; see run.h. */
#include "src/run.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/vigil_metrics.h"
#include "engine/pipeline.h"
#include "core/codec.h"
#include "src/feedback_http.h"
#include "src/http_server.h"
#include "src/lifecycle.h"
#include "src/remote_write_http.h"
#include "streams/kafka_feedback.h"

/* Longest wait for the outputs after verdicts were recorded. */
#define FEEDBACK_FLUSH_MS 5000

typedef struct runner {
    const vg_config *cfg;      /* the first config: the input and state settings */
    vg_config       *reloaded; /* the config the pipeline runs now, after a reload */
    vg_http_server  *http;
    vg_rw_receiver  *rw;       /* NULL without "remote_write" */
    vg_rw_http      *rw_http;
    vg_pipeline     *p;
    vg_lifecycle    *lc;
    vg_kafka_feedback *kf;     /* NULL without "input.feedback_topic" */
    vg_feedback_inbox *kf_inbox;
    vg_run_stats     st;
} runner;

void vg_run_describe(FILE *out)
{
    vg_lifecycle_describe(out);
}

int vg_run_check_config(const vg_config *cfg, vg_error *err)
{
    int rc = vg_lifecycle_check_config(cfg, err);
    vg_http_params prm;
    if (rc == VG_OK && cfg->metrics != NULL)
        rc = vg_http_configure(cfg->doc, cfg->metrics, &prm, err);
    return rc;
}

/* The feedback topic's consumer, in this instance's own group (see
 * streams/kafka_feedback.h), feeding an inbox of its own. */
static int open_feedback_topic(runner *r, const vg_config *cfg, vg_error *err)
{
    const vg_kafka_source *ks = vg_lifecycle_source(r->lc);
    const char *topic = vg_kafka_source_feedback_topic(ks);
    if (topic == NULL)
        return VG_OK;
    char group[512];
    snprintf(group, sizeof(group), "%s-feedback-%s", vg_kafka_source_group(ks),
             vg_pipeline_instance(r->p));
    if ((r->kf_inbox = vg_feedback_inbox_new(NULL)) == NULL)
        return vg_error_set(err, VG_ENOMEM, "kafka feedback");
    r->kf = vg_kafka_feedback_open(vg_kafka_source_brokers(ks), group, topic, cfg->doc,
                                   json_object_get(cfg->input, "kafka"), "input.kafka", err);
    return r->kf != NULL ? VG_OK : err->code;
}

static void push_kafka_feedback(void *ctx, const char *payload, size_t len)
{
    char reply[256];
    vg_feedback_inbox_push(ctx, "kafka", payload, len, reply, sizeof(reply));
}

/* Verdicts touch series state: applied on this, the scoring, thread. Their
 * records go out at once (no batch may come to flush them). */
static void apply_feedback(runner *r)
{
    vg_feedback_inbox *http = vg_http_feedback(r->http);
    size_t n = http != NULL ? vg_feedback_inbox_apply(http, r->p) : 0;
    if (r->kf != NULL && vg_kafka_feedback_poll(r->kf, push_kafka_feedback, r->kf_inbox) > 0)
        n += vg_feedback_inbox_apply(r->kf_inbox, r->p);
    if (n > 0)
        vg_pipeline_flush(r->p, FEEDBACK_FLUSH_MS);
}

static int runner_open(runner *r, const vg_config *cfg, vg_error *err)
{
    memset(r, 0, sizeof(*r));
    r->cfg = cfg;
    if (cfg->input == NULL)
        return vg_error_set(err, VG_ECONFIG, "input: a Kafka input is required by 'vigil run'");
    r->p = vg_pipeline_new(cfg, err);
    if (r->p == NULL)
        return err->code;
    /* The source first: with "brokers": "embedded" it starts the broker
     * that a Kafka output then finds. */
    r->lc = vg_lifecycle_open(cfg, r->p, err);
    if (r->lc == NULL)
        return err->code;
    int rc;
    if ((rc = vg_pipeline_open_outputs(r->p, err)) != VG_OK ||
        (rc = open_feedback_topic(r, cfg, err)) != VG_OK)
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
    /* After the source: "embedded" finds the broker it started. */
    if (cfg->remote_write != NULL &&
        ((r->rw = vg_rw_receiver_new(cfg->doc, cfg->remote_write, err)) == NULL ||
         (r->rw_http = vg_rw_http_start(r->rw, err)) == NULL))
        return err->code;
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
    vg_lifecycle_set_pipeline(r->lc, p);  /* before the old one goes: see lifecycle.h */
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
    vg_kafka_feedback_close(r->kf);
    vg_feedback_inbox_free(r->kf_inbox);
    vg_rw_http_stop(r->rw_http);
    vg_rw_receiver_free(r->rw);
    /* Outputs go first: an embedded broker stops with the source. Leaving
     * the group then saves the state once more (nothing is in flight). */
    if (r->p != NULL)
        vg_pipeline_close_outputs(r->p);
    vg_lifecycle_close(r->lc);
    vg_pipeline_free(r->p);
    vg_config_free(r->reloaded);
}

/* The counters, for operators and the end-to-end tests. */
static void log_totals(runner *r)
{
    const vg_kafka_source_stats *ks = vg_lifecycle_source_stats(r->lc);
    vg_info("kafka input: %llu messages, %llu points, %llu bad, %llu dead letters, "
            "%llu dead letter failures, %llu consumer errors, %llu rewound",
            (unsigned long long)ks->messages, (unsigned long long)ks->points,
            (unsigned long long)ks->bad, (unsigned long long)ks->dead_letters,
            (unsigned long long)ks->dead_letter_failures,
            (unsigned long long)ks->consumer_errors, (unsigned long long)ks->rewound);
    const vg_lifecycle_stats *ls = vg_lifecycle_get_stats(r->lc);
    r->st.checkpoints = ls->checkpoints;
    r->st.commits = ls->commits;
    r->st.held = ls->held;
    r->st.state_loaded = ls->state_loaded;
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
            const char *why = vg_lifecycle_not_ready(r.lc);
            if (r.http != NULL)
                vg_http_set_ready(r.http, why);
            last_lag = vg_now_ms();
        }
        apply_feedback(&r);
        vg_batch_reset(&batch);
        int n = vg_lifecycle_poll(r.lc, &batch, 100);
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
            last_data = vg_now_ms();
        }
        vg_lifecycle_step(r.lc);
        if (opt->should_stop &&
            opt->should_stop(opt->ctx, (uint64_t)(vg_now_ms() - last_data), &r.st))
            break;
    }
    if (r.lc != NULL) {
        vg_lifecycle_stop(r.lc);
        log_totals(&r);
    }
    if (stats != NULL)
        *stats = r.st;
    vg_batch_release(&batch);
    runner_close(&r);
    return rc;
}
