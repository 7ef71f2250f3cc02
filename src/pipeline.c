/* The pipeline: series table -> detectors -> ensemble -> alert -> sinks.
 *
 * Every series owns one fixed-size block laid out once at start-up:
 *
 *   [series_head][window: header + cap doubles][detector 0 state]...[ensemble]
 *
 * so scoring a point is a table lookup and a few calls over that block,
 * with no allocation. The detectors, their params and the block layout are
 * fixed for the pipeline's life. */
#include "src/pipeline.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "detectors/detector.h"
#include "detectors/ensemble.h"
#include "src/guard.h"
#include "src/log.h"
#include "src/series_key.h"

/* The part of a series' block the pipeline itself owns. */
typedef struct series_head {
    vg_alert alert;
    vg_guard guard;
    int64_t  last_ts;
    uint64_t points;
    int32_t  partition;  /* the Kafka partition that last fed it; -1 for files */
} series_head;

typedef struct detector_slot {
    const vg_detector_ops *ops;
    void                  *params;
    size_t                 offset;   /* of its state in the series block */
} detector_slot;

struct vg_pipeline {
    const vg_config    *cfg;
    vg_series_table    *series;
    size_t              block_size;
    size_t              window_offset;
    size_t              ensemble_offset;
    size_t              n_detectors;
    detector_slot       detectors[VG_MAX_DETECTORS];
    vg_ensemble_params  ensemble;
    vg_guard_params     guards;
    vg_sink           **sinks;
    size_t              n_sinks;
    vg_point_hook       hook;
    void               *hook_ctx;
    vg_pipeline_stats   stats;
    vg_ratelimit        sink_log;
};

static size_t align8(size_t n)
{
    return (n + 7) & ~(size_t)7;
}

/* Splitmix64 step: decorrelates the config seed and the key hash. */
static uint64_t mix_seed(uint64_t seed, uint64_t hash)
{
    uint64_t z = seed ^ hash;
    z += 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static void series_init(void *ctx, void *state, const char *key, size_t key_len,
                        uint64_t hash)
{
    (void)key;
    (void)key_len;
    vg_pipeline *p = ctx;
    char *block = state;
    series_head *head = state;
    vg_alert_init(&head->alert);
    vg_guard_init(&head->guard);
    head->last_ts = INT64_MIN;
    head->points = 0;
    head->partition = -1;
    vg_window_init((vg_window *)(block + p->window_offset), p->cfg->window);
    uint64_t seed = mix_seed((uint64_t)p->cfg->seed, hash);
    for (size_t i = 0; i < p->n_detectors; i++) {
        const detector_slot *d = &p->detectors[i];
        d->ops->init(block + d->offset, d->params, seed);
    }
    vg_ensemble_init(block + p->ensemble_offset, &p->ensemble);
}

/* Enables the detectors named in cfg->detectors (all of them when absent),
 * in registry order so the score columns do not depend on key order. */
static int configure_detectors(vg_pipeline *p, vg_error *err)
{
    const json_t *wanted = p->cfg->detectors;
    const vg_conf_doc *doc = p->cfg->doc;
    if (wanted != NULL) {
        const char *name;
        json_t *v;
        json_object_foreach((json_t *)wanted, name, v) {
            if (vg_detector_find(name) == NULL) {
                char where[64];
                vg_conf_where(doc, wanted, name, 0, where, sizeof(where));
                return vg_error_set_at(err, VG_ECONFIG, where,
                                       "detectors.%s: no such detector", name);
            }
        }
    }
    for (size_t i = 0; i < vg_detector_count(); i++) {
        const vg_detector_ops *ops = vg_detector_at(i);
        const json_t *dcfg = wanted ? json_object_get(wanted, ops->name) : NULL;
        if (wanted != NULL && dcfg == NULL)
            continue;
        vg_assert(p->n_detectors < VG_MAX_DETECTORS);
        detector_slot *d = &p->detectors[p->n_detectors];
        d->ops = ops;
        d->params = calloc(1, ops->params_size ? ops->params_size : 1);
        if (d->params == NULL)
            return vg_error_set(err, VG_ENOMEM, "detector params");
        p->n_detectors++;
        int rc = ops->configure(d->params, doc, dcfg, p->cfg->window, err);
        if (rc != VG_OK)
            return rc;
    }
    return VG_OK;
}

static void layout_block(vg_pipeline *p)
{
    size_t off = align8(sizeof(series_head));
    p->window_offset = off;
    off = align8(off + vg_window_bytes(p->cfg->window));
    for (size_t i = 0; i < p->n_detectors; i++) {
        detector_slot *d = &p->detectors[i];
        d->offset = off;
        off = align8(off + d->ops->state_size(d->params));
    }
    p->ensemble_offset = off;
    off = align8(off + vg_ensemble_state_size(&p->ensemble));
    p->block_size = off;
}

vg_pipeline *vg_pipeline_new(const vg_config *cfg, vg_error *err)
{
    vg_pipeline *p = calloc(1, sizeof(*p));
    if (p == NULL) {
        vg_error_set(err, VG_ENOMEM, "pipeline");
        return NULL;
    }
    p->cfg = cfg;
    if (configure_detectors(p, err) != VG_OK)
        goto out_free_pipeline;
    if (vg_ensemble_configure(&p->ensemble, cfg->doc, cfg->ensemble, p->n_detectors,
                              err) != VG_OK)
        goto out_free_pipeline;
    if (vg_guard_configure(&p->guards, cfg->doc, cfg->guards, err) != VG_OK)
        goto out_free_pipeline;
    layout_block(p);
    p->series = vg_series_table_new(p->block_size, (size_t)cfg->max_series, series_init,
                                    NULL, p, err);
    if (p->series == NULL)
        goto out_free_pipeline;
    return p;

out_free_pipeline:
    vg_pipeline_free(p);
    return NULL;
}

void vg_pipeline_close_outputs(vg_pipeline *p)
{
    for (size_t i = 0; i < p->n_sinks; i++)
        vg_sink_close(p->sinks[i]);
    free(p->sinks);
    p->sinks = NULL;
    p->n_sinks = 0;
}

void vg_pipeline_free(vg_pipeline *p)
{
    if (p == NULL)
        return;
    vg_pipeline_close_outputs(p);
    for (size_t i = 0; i < p->n_detectors; i++)
        free(p->detectors[i].params);
    vg_series_table_free(p->series);
    free(p);
}

int vg_pipeline_add_sink(vg_pipeline *p, vg_sink *sink)
{
    vg_sink **sinks = realloc(p->sinks, (p->n_sinks + 1) * sizeof(*sinks));
    if (sinks == NULL) {
        vg_sink_close(sink);
        return VG_ENOMEM;
    }
    p->sinks = sinks;
    p->sinks[p->n_sinks++] = sink;
    return VG_OK;
}

int vg_pipeline_open_outputs(vg_pipeline *p, vg_error *err)
{
    const vg_config *cfg = p->cfg;
    size_t i;
    json_t *out;
    json_array_foreach(cfg->outputs, i, out) {
        const char *type = json_string_value(json_object_get(out, "type"));
        if (type == NULL) {
            char where[64];
            vg_conf_where(cfg->doc, cfg->outputs, NULL, i, where, sizeof(where));
            return vg_error_set_at(err, VG_ECONFIG, where,
                                   "outputs[%zu].type: must be a string", i);
        }
        vg_sink *sink = vg_sink_open(type, cfg->doc, out, err);
        if (sink == NULL)
            return err->code ? err->code : VG_ECONFIG;
        int rc = vg_pipeline_add_sink(p, sink);
        if (rc != VG_OK)
            return vg_error_set(err, rc, "outputs[%zu]", i);
    }
    return VG_OK;
}

void vg_pipeline_set_hook(vg_pipeline *p, vg_point_hook hook, void *ctx)
{
    p->hook = hook;
    p->hook_ctx = ctx;
}

/* The explanation an event and a scores row show: the detector that found
 * the point most anomalous, among those that have an expectation. */
static size_t lead_detector(const vg_point_result *r, const vg_explain *why)
{
    size_t lead = SIZE_MAX;
    for (size_t i = 0; i < r->n_detectors; i++) {
        if (isnan(why[i].expected))
            continue;
        if (lead == SIZE_MAX || r->calibrated[i] > r->calibrated[lead])
            lead = i;
    }
    return lead;
}

static void emit_event(vg_pipeline *p, const vg_batch *b, const vg_point *pt,
                       const series_head *head, const vg_point_result *r,
                       const vg_explain *why)
{
    vg_event ev;
    memset(&ev, 0, sizeof(ev));
    ev.state = r->event;
    ev.severity = vg_alert_severity(&head->alert, &p->cfg->alert);
    ev.series = vg_batch_key(b, pt);
    ev.series_len = pt->key_len;
    ev.ts_ms = pt->ts_ms;
    ev.start_ms = head->alert.start_ms;
    ev.value = pt->value;
    ev.expected = r->expected;
    ev.lower = r->lower;
    ev.upper = r->upper;
    ev.score = r->score;
    ev.peak = head->alert.peak;
    ev.origin = pt->origin;
    ev.n_detectors = r->n_detectors;
    for (size_t i = 0; i < r->n_detectors; i++) {
        vg_event_detector *d = &ev.detectors[i];
        d->name = p->detectors[i].ops->name;
        d->score = r->raw[i];
        d->expected = why[i].expected;
        d->lower = why[i].lower;
        d->upper = why[i].upper;
        memcpy(d->detail, why[i].detail, sizeof(d->detail));
    }
    vg_event_make_id(&ev);

    if (r->event == VG_ALERT_FIRING)
        p->stats.events_firing++;
    else
        p->stats.events_resolved++;
    for (size_t i = 0; i < p->n_sinks; i++) {
        int rc = vg_sink_emit(p->sinks[i], &ev);
        if (rc != VG_OK) {
            p->stats.sink_errors++;
            vg_log_limited(&p->sink_log, VG_LOG_ERROR, "output %s: event %s not sent: %s",
                           p->sinks[i]->ops->name, ev.id, vg_strerror(rc));
        }
    }
}

static void score_point(vg_pipeline *p, const vg_batch *b, const vg_point *pt, int *events)
{
    char *block = vg_series_table_get(p->series, vg_batch_key(b, pt), pt->key_len, NULL);
    vg_assert(block != NULL);  /* the slab is preallocated up to max_series */
    series_head *head = (series_head *)block;
    vg_window *w = (vg_window *)(block + p->window_offset);

    if (pt->ts_ms < head->last_ts)
        p->stats.out_of_order++;
    head->last_ts = pt->ts_ms;
    head->points++;
    head->partition = pt->origin.partition;

    vg_point_result r;
    vg_explain why[VG_MAX_DETECTORS];
    r.n_detectors = p->n_detectors;
    for (size_t i = 0; i < p->n_detectors; i++) {
        const detector_slot *d = &p->detectors[i];
        why[i].expected = why[i].lower = why[i].upper = NAN;
        why[i].detail[0] = '\0';
        r.raw[i] = d->ops->score(block + d->offset, d->params, w, pt->ts_ms, pt->value,
                                 &why[i]);
    }
    r.score = vg_ensemble_score(block + p->ensemble_offset, &p->ensemble, r.raw,
                                r.calibrated);
    r.score = vg_guard_apply(&head->guard, &p->guards, pt->ts_ms, pt->value, r.score);
    size_t lead = lead_detector(&r, why);
    r.expected = lead == SIZE_MAX ? NAN : why[lead].expected;
    r.lower = lead == SIZE_MAX ? NAN : why[lead].lower;
    r.upper = lead == SIZE_MAX ? NAN : why[lead].upper;

    r.event = vg_alert_step(&head->alert, &p->cfg->alert, pt->ts_ms, r.score);
    r.alert = (vg_alert_state)head->alert.state;
    vg_window_push(w, pt->value);
    p->stats.points++;

    if (r.event != VG_ALERT_NORMAL) {
        emit_event(p, b, pt, head, &r, why);
        (*events)++;
    }
    if (p->hook != NULL)
        p->hook(p->hook_ctx, b, pt, &r);
}

int vg_pipeline_process(vg_pipeline *p, const vg_batch *b)
{
    int events = 0;
    for (size_t i = 0; i < b->n; i++)
        score_point(p, b, &b->points[i], &events);
    return events;
}

int vg_pipeline_flush(vg_pipeline *p, int timeout_ms)
{
    int rc = VG_OK;
    for (size_t i = 0; i < p->n_sinks; i++) {
        int src = vg_sink_flush(p->sinks[i], timeout_ms);
        if (src != VG_OK)
            rc = src;
    }
    return rc;
}

const vg_pipeline_stats *vg_pipeline_get_stats(const vg_pipeline *p)
{
    return &p->stats;
}

size_t vg_pipeline_detector_count(const vg_pipeline *p)
{
    return p->n_detectors;
}

const char *vg_pipeline_detector_name(const vg_pipeline *p, size_t i)
{
    return i < p->n_detectors ? p->detectors[i].ops->name : NULL;
}

size_t vg_pipeline_series_bytes(const vg_pipeline *p)
{
    return p->block_size;
}

vg_series_table *vg_pipeline_series(vg_pipeline *p)
{
    return p->series;
}

const vg_config *vg_pipeline_config(const vg_pipeline *p)
{
    return p->cfg;
}

uint64_t vg_pipeline_state_id(const vg_pipeline *p)
{
    /* Params are plain structs filled from defaults then config (no pointers
     * or padding garbage: they are calloc'ed), so their bytes identify them. */
    uint64_t h = vg_hash64(&p->cfg->window, sizeof(p->cfg->window), 1);
    for (size_t i = 0; i < p->n_detectors; i++) {
        const detector_slot *d = &p->detectors[i];
        h = vg_hash64(d->ops->name, strlen(d->ops->name), h);
        h = vg_hash64(d->params, d->ops->params_size, h);
    }
    return vg_hash64(&p->ensemble, sizeof(p->ensemble), h);
}

int32_t vg_pipeline_series_partition(const vg_pipeline *p, const void *block)
{
    (void)p;
    return ((const series_head *)block)->partition;
}

static void save_head(const series_head *head, vg_writer *out)
{
    const vg_alert *a = &head->alert;
    vg_writer_u8(out, a->state);
    vg_writer_u32(out, a->streak);
    vg_writer_i64(out, a->start_ms);
    vg_writer_f64(out, a->peak);
    vg_writer_u64(out, a->incidents);
    const vg_guard *g = &head->guard;
    vg_writer_f64(out, g->prev_value);
    vg_writer_f64(out, g->step_ms);
    vg_writer_i64(out, g->prev_ts);
    vg_writer_u32(out, g->rises);
    vg_writer_u32(out, g->grace);
    vg_writer_i64(out, head->last_ts);
    vg_writer_u64(out, head->points);
    vg_writer_u32(out, (uint32_t)head->partition);
}

static void load_head(series_head *head, vg_reader *in)
{
    vg_alert *a = &head->alert;
    uint32_t partition;
    vg_reader_u8(in, &a->state);
    vg_reader_u32(in, &a->streak);
    vg_reader_i64(in, &a->start_ms);
    vg_reader_f64(in, &a->peak);
    vg_reader_u64(in, &a->incidents);
    vg_guard *g = &head->guard;
    vg_reader_f64(in, &g->prev_value);
    vg_reader_f64(in, &g->step_ms);
    vg_reader_i64(in, &g->prev_ts);
    vg_reader_u32(in, &g->rises);
    vg_reader_u32(in, &g->grace);
    vg_reader_i64(in, &head->last_ts);
    vg_reader_u64(in, &head->points);
    vg_reader_u32(in, &partition);
    head->partition = (int32_t)partition;
}

int vg_pipeline_save_series(const vg_pipeline *p, const void *block, vg_writer *out)
{
    const char *b = block;
    save_head(block, out);
    const vg_window *w = (const vg_window *)(b + p->window_offset);
    vg_writer_u32(out, w->len);
    vg_writer_u32(out, w->next);
    vg_writer_f64s(out, w->values, w->cap);
    for (size_t i = 0; i < p->n_detectors; i++) {
        const detector_slot *d = &p->detectors[i];
        int rc = d->ops->save(b + d->offset, d->params, out);
        if (rc != VG_OK)
            return rc;
    }
    int rc = vg_ensemble_save(b + p->ensemble_offset, &p->ensemble, out);
    return rc != VG_OK ? rc : out->failed ? VG_ENOMEM : VG_OK;
}

int vg_pipeline_load_series(vg_pipeline *p, const char *key, size_t key_len,
                            vg_reader *in, vg_error *err)
{
    char *block = vg_series_table_insert_raw(p->series, key, key_len);
    if (block == NULL)
        return vg_error_set(err, VG_ENOMEM, "series table");
    /* A fresh series first, so that a failed load leaves a usable one. */
    series_init(p, block, key, key_len, vg_hash64(key, key_len, 0));
    load_head((series_head *)block, in);
    vg_window *w = (vg_window *)(block + p->window_offset);
    vg_reader_u32(in, &w->len);
    vg_reader_u32(in, &w->next);
    vg_reader_f64s(in, w->values, w->cap);
    if (in->failed || w->len > w->cap || w->next >= w->cap) {
        series_init(p, block, key, key_len, vg_hash64(key, key_len, 0));
        return vg_error_set(err, VG_EPARSE, "series %.*s: bad window record", (int)key_len, key);
    }
    for (size_t i = 0; i < p->n_detectors; i++) {
        const detector_slot *d = &p->detectors[i];
        int rc = d->ops->load(block + d->offset, d->params, in, err);
        if (rc != VG_OK) {
            series_init(p, block, key, key_len, vg_hash64(key, key_len, 0));
            return rc;
        }
    }
    int rc = vg_ensemble_load(block + p->ensemble_offset, &p->ensemble, in, err);
    if (rc != VG_OK)
        series_init(p, block, key, key_len, vg_hash64(key, key_len, 0));
    return rc;
}
