/* The pipeline: series table -> detectors -> ensemble -> alert -> sinks.
 *
 * A profile is one way of scoring a series: its detectors with their
 * params, its ensemble and alert settings. Profile 0 is the top-level
 * config; rule i (engine/rules.h) makes profile i + 1. A series gets its
 * profile once, when first seen, and owns one fixed-size block:
 *
 *   [series_head][window: header + cap doubles][detector states...][ensemble]
 *
 * (blocks are as large as the largest profile needs), so scoring a point
 * is a table lookup and a few calls over that block, with no allocation.
 * The detectors' scores land in columns: every detector any profile uses,
 * in registry order, NaN where a series' profile does not run it. */
#include "engine/pipeline.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "detectors/detector.h"
#include "detectors/ensemble.h"
#include "engine/guard.h"
#include "core/log.h"
#include "engine/rules.h"
#include "core/series_key.h"
#include "core/vigil_metrics.h"

/* The part of a series' block the pipeline itself owns. */
typedef struct series_head {
    vg_alert alert;
    vg_guard guard;
    int64_t  last_ts;
    uint64_t points;
    int32_t  partition;  /* the Kafka partition that last fed it; -1 for files */
    uint32_t profile;
} series_head;

typedef struct detector_slot {
    const vg_detector_ops *ops;
    void                  *params;
    size_t                 offset;   /* of its state in the series block */
    size_t                 column;   /* of its score in vg_point_result.raw */
    vg_metric_child       *seconds;  /* vigil_detector_seconds_total{detector} */
} detector_slot;

typedef struct profile {
    size_t             n_detectors;
    detector_slot      detectors[VG_MAX_DETECTORS];
    vg_ensemble_params ensemble;
    vg_alert_params    alert;
    int                severity;        /* -1: from the peak score */
    size_t             ensemble_offset;
    size_t             block_size;
    uint64_t           state_id;
} profile;

struct vg_pipeline {
    const vg_config       *cfg;
    vg_rules               rules;
    profile               *profiles;    /* [0] top level, [i + 1] rule i */
    size_t                 n_profiles;
    const vg_detector_ops *columns[VG_MAX_DETECTORS];
    size_t                 n_columns;
    vg_series_table       *series;
    size_t                 block_size;  /* the largest profile's */
    size_t                 window_offset;
    vg_guard_params        guards;
    vg_sink              **sinks;
    size_t                 n_sinks;
    vg_point_hook          hook;
    void                  *hook_ctx;
    vg_pipeline_stats      stats;
    vg_ratelimit           sink_log;
    uint64_t               firing_now;     /* series whose incident is firing */
    uint64_t               evicted_seen;   /* evictions already counted in metrics */
    uint64_t               timing_tick;    /* points since the last timed one */
};

/* Detector time is measured on one point in TIME_EVERY and scaled up:
 * reading the clock around every call would cost more than some detectors. */
#define TIME_EVERY 64

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

static const profile *profile_of(const vg_pipeline *p, const void *block)
{
    return &p->profiles[((const series_head *)block)->profile];
}

/* Makes block a fresh series of profile `prof`. */
static void series_reset(vg_pipeline *p, void *state, uint32_t prof, uint64_t hash)
{
    char *block = state;
    series_head *head = state;
    const profile *pr = &p->profiles[prof];
    vg_alert_init(&head->alert);
    vg_guard_init(&head->guard);
    head->last_ts = INT64_MIN;
    head->points = 0;
    head->partition = -1;
    head->profile = prof;
    vg_window_init((vg_window *)(block + p->window_offset), p->cfg->window);
    uint64_t seed = mix_seed((uint64_t)p->cfg->seed, hash);
    for (size_t i = 0; i < pr->n_detectors; i++) {
        const detector_slot *d = &pr->detectors[i];
        d->ops->init(block + d->offset, d->params, seed);
    }
    vg_ensemble_init(block + pr->ensemble_offset, &pr->ensemble);
}

static uint32_t profile_for_key(const vg_pipeline *p, const char *key, size_t key_len)
{
    return (uint32_t)(vg_rules_match(&p->rules, key, key_len) + 1);
}

static void series_init(void *ctx, void *state, const char *key, size_t key_len,
                        uint64_t hash)
{
    vg_pipeline *p = ctx;
    series_reset(p, state, profile_for_key(p, key, key_len), hash);
}

/* Enables the detectors named in `wanted` (every registered one when NULL),
 * in registry order so the score columns do not depend on key order. */
static int configure_detectors(vg_pipeline *p, profile *pr, const json_t *wanted,
                               const char *path, vg_error *err)
{
    const vg_conf_doc *doc = p->cfg->doc;
    const char *name;
    json_t *v;
    json_object_foreach((json_t *)wanted, name, v) {
        if (vg_detector_find(name) == NULL) {
            char where[64];
            vg_conf_where(doc, wanted, name, 0, where, sizeof(where));
            return vg_error_set_at(err, VG_ECONFIG, where, "%s.%s: no such detector", path,
                                   name);
        }
    }
    for (size_t i = 0; i < vg_detector_count(); i++) {
        const vg_detector_ops *ops = vg_detector_at(i);
        const json_t *dcfg = wanted ? json_object_get(wanted, ops->name) : NULL;
        if (wanted != NULL && dcfg == NULL)
            continue;
        vg_assert(pr->n_detectors < VG_MAX_DETECTORS);
        detector_slot *d = &pr->detectors[pr->n_detectors];
        d->ops = ops;
        d->params = calloc(1, ops->params_size ? ops->params_size : 1);
        if (d->params == NULL)
            return vg_error_set(err, VG_ENOMEM, "detector params");
        pr->n_detectors++;
        d->seconds = vg_metric_with(VG_M_DETECTOR_SECONDS, (const char *const[]){ops->name});
        int rc = ops->configure(d->params, doc, dcfg, p->cfg->window, err);
        if (rc != VG_OK)
            return rc;
    }
    return VG_OK;
}

/* Lays out a profile's part of the block and fingerprints it: window
 * length, detectors in order with their params, ensemble. Params are plain
 * calloc'ed structs filled from tables, so their bytes identify them. */
static void layout_profile(vg_pipeline *p, profile *pr)
{
    size_t off = align8(p->window_offset + vg_window_bytes(p->cfg->window));
    uint64_t id = vg_hash64(&p->cfg->window, sizeof(p->cfg->window), 1);
    for (size_t i = 0; i < pr->n_detectors; i++) {
        detector_slot *d = &pr->detectors[i];
        d->offset = off;
        off = align8(off + d->ops->state_size(d->params));
        id = vg_hash64(d->ops->name, strlen(d->ops->name), id);
        id = vg_hash64(d->params, d->ops->params_size, id);
    }
    pr->ensemble_offset = off;
    pr->block_size = align8(off + vg_ensemble_state_size(&pr->ensemble));
    pr->state_id = vg_hash64(&pr->ensemble, sizeof(pr->ensemble), id);
}

static int configure_profile(vg_pipeline *p, profile *pr, const vg_rule *rule, size_t index,
                             vg_error *err)
{
    const vg_config *cfg = p->cfg;
    char path[48] = "detectors";
    if (rule != NULL)
        snprintf(path, sizeof(path), "rules[%zu].detectors", index);
    const json_t *detectors = rule && rule->detectors ? rule->detectors : cfg->detectors;
    const json_t *ensemble = rule && rule->ensemble ? rule->ensemble : cfg->ensemble;
    int rc = configure_detectors(p, pr, detectors, rule && rule->detectors ? path : "detectors",
                                 err);
    if (rc == VG_OK)
        rc = vg_ensemble_configure(&pr->ensemble, cfg->doc, ensemble, pr->n_detectors, err);
    pr->alert = cfg->alert;
    pr->severity = -1;
    if (rc == VG_OK && rule != NULL) {
        snprintf(path, sizeof(path), "rules[%zu].alert", index);
        rc = vg_config_alert_over(cfg, rule->alert, path, &pr->alert, err);
        pr->severity = rule->severity;
    }
    return rc;
}

/* The score columns: every detector some profile runs, in registry order. */
static void assign_columns(vg_pipeline *p)
{
    for (size_t i = 0; i < vg_detector_count(); i++) {
        const vg_detector_ops *ops = vg_detector_at(i);
        int used = 0;
        for (size_t k = 0; k < p->n_profiles; k++)
            for (size_t j = 0; j < p->profiles[k].n_detectors; j++)
                if (p->profiles[k].detectors[j].ops == ops) {
                    p->profiles[k].detectors[j].column = p->n_columns;
                    used = 1;
                }
        if (used)
            p->columns[p->n_columns++] = ops;
    }
}

static int build_profiles(vg_pipeline *p, vg_error *err)
{
    int rc = vg_rules_parse(&p->rules, p->cfg->doc, p->cfg->rules, err);
    if (rc != VG_OK)
        return rc;
    p->profiles = calloc(p->rules.n + 1, sizeof(*p->profiles));
    if (p->profiles == NULL)
        return vg_error_set(err, VG_ENOMEM, "profiles");
    p->n_profiles = p->rules.n + 1;
    p->window_offset = align8(sizeof(series_head));
    for (size_t k = 0; k < p->n_profiles; k++) {
        profile *pr = &p->profiles[k];
        rc = configure_profile(p, pr, k ? &p->rules.rules[k - 1] : NULL, k - 1, err);
        if (rc != VG_OK)
            return rc;
        layout_profile(p, pr);
        if (pr->block_size > p->block_size)
            p->block_size = pr->block_size;
    }
    assign_columns(p);
    return VG_OK;
}

vg_pipeline *vg_pipeline_new(const vg_config *cfg, vg_error *err)
{
    vg_pipeline *p = calloc(1, sizeof(*p));
    if (p == NULL) {
        vg_error_set(err, VG_ENOMEM, "pipeline");
        return NULL;
    }
    p->cfg = cfg;
    if (build_profiles(p, err) != VG_OK)
        goto out_free_pipeline;
    if (vg_guard_configure(&p->guards, cfg->doc, cfg->guards, err) != VG_OK)
        goto out_free_pipeline;
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
    for (size_t k = 0; k < p->n_profiles; k++)
        for (size_t i = 0; i < p->profiles[k].n_detectors; i++)
            free(p->profiles[k].detectors[i].params);
    free(p->profiles);
    vg_rules_release(&p->rules);
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
        const char *type = vg_config_output_type(cfg, i, err);
        if (type == NULL)
            return VG_ECONFIG;
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

/* Everything one point's scoring produced, in the profile's slot order
 * (the result's arrays are in column order). */
typedef struct scored {
    const profile *pr;
    double         raw[VG_MAX_DETECTORS];
    double         calibrated[VG_MAX_DETECTORS];
    vg_explain     why[VG_MAX_DETECTORS];
} scored;

/* The explanation an event and a scores row show: the detector that found
 * the point most anomalous, among those that have an expectation. */
static size_t lead_detector(const scored *sc)
{
    size_t lead = SIZE_MAX;
    for (size_t i = 0; i < sc->pr->n_detectors; i++) {
        if (isnan(sc->why[i].expected))
            continue;
        if (lead == SIZE_MAX || sc->calibrated[i] > sc->calibrated[lead])
            lead = i;
    }
    return lead;
}

static void emit_event(vg_pipeline *p, const vg_batch *b, const vg_point *pt,
                       const series_head *head, const vg_point_result *r, const scored *sc)
{
    const profile *pr = sc->pr;
    vg_event ev;
    memset(&ev, 0, sizeof(ev));
    ev.state = r->event;
    ev.severity = pr->severity >= 0 ? (vg_severity)pr->severity
                                    : vg_alert_severity(&head->alert, &pr->alert);
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
    ev.n_detectors = pr->n_detectors;
    for (size_t i = 0; i < pr->n_detectors; i++) {
        vg_event_detector *d = &ev.detectors[i];
        d->name = pr->detectors[i].ops->name;
        d->score = sc->raw[i];
        d->expected = sc->why[i].expected;
        d->lower = sc->why[i].lower;
        d->upper = sc->why[i].upper;
        memcpy(d->detail, sc->why[i].detail, sizeof(d->detail));
    }
    vg_event_make_id(&ev);

    if (r->event == VG_ALERT_FIRING) {
        p->stats.events_firing++;
        p->firing_now++;
    } else {
        p->stats.events_resolved++;
        p->firing_now -= p->firing_now > 0;
    }
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
    scored sc;
    sc.pr = profile_of(p, block);
    const profile *pr = sc.pr;

    if (pt->ts_ms < head->last_ts)
        p->stats.out_of_order++;
    head->last_ts = pt->ts_ms;
    head->points++;
    head->partition = pt->origin.partition;

    int timed = ++p->timing_tick == TIME_EVERY;
    if (timed)
        p->timing_tick = 0;
    for (size_t i = 0; i < pr->n_detectors; i++) {
        const detector_slot *d = &pr->detectors[i];
        sc.why[i].expected = sc.why[i].lower = sc.why[i].upper = NAN;
        sc.why[i].detail[0] = '\0';
        double t0 = timed ? vg_metric_seconds() : 0.0;
        sc.raw[i] = d->ops->score(block + d->offset, d->params, w, pt->ts_ms, pt->value,
                                  &sc.why[i]);
        if (timed && d->seconds != NULL)
            vg_metrics_add(d->seconds, (vg_metric_seconds() - t0) * TIME_EVERY);
    }
    vg_point_result r;
    r.score = vg_ensemble_score(block + pr->ensemble_offset, &pr->ensemble, sc.raw,
                                sc.calibrated);
    r.score = vg_guard_apply(&head->guard, &p->guards, pt->ts_ms, pt->value, r.score);
    r.n_detectors = p->n_columns;
    for (size_t c = 0; c < p->n_columns; c++)
        r.raw[c] = r.calibrated[c] = NAN;
    for (size_t i = 0; i < pr->n_detectors; i++) {
        r.raw[pr->detectors[i].column] = sc.raw[i];
        r.calibrated[pr->detectors[i].column] = sc.calibrated[i];
    }
    size_t lead = lead_detector(&sc);
    r.expected = lead == SIZE_MAX ? NAN : sc.why[lead].expected;
    r.lower = lead == SIZE_MAX ? NAN : sc.why[lead].lower;
    r.upper = lead == SIZE_MAX ? NAN : sc.why[lead].upper;

    r.event = vg_alert_step(&head->alert, &pr->alert, pt->ts_ms, r.score);
    r.alert = (vg_alert_state)head->alert.state;
    vg_window_push(w, pt->value);
    p->stats.points++;

    if (r.event != VG_ALERT_NORMAL) {
        emit_event(p, b, pt, head, &r, &sc);
        (*events)++;
    }
    if (p->hook != NULL)
        p->hook(p->hook_ctx, b, pt, &r);
}

/* Self-metrics, once per batch: a handful of atomic adds. */
static void publish_metrics(vg_pipeline *p, const vg_batch *b, uint64_t firing0,
                            uint64_t resolved0, double t0)
{
    vg_metric_inc(VG_M_POINTS_SCORED, b->n);
    if (p->stats.events_firing > firing0)
        vg_metric_label_inc(VG_M_EVENTS, "firing", p->stats.events_firing - firing0);
    if (p->stats.events_resolved > resolved0)
        vg_metric_label_inc(VG_M_EVENTS, "resolved", p->stats.events_resolved - resolved0);
    vg_metric_set(VG_M_INCIDENTS_FIRING, (double)p->firing_now);
    vg_metric_set(VG_M_SERIES_ACTIVE, (double)vg_series_table_count(p->series));
    uint64_t evicted = vg_series_table_evicted(p->series);
    vg_metric_inc(VG_M_SERIES_EVICTED, evicted - p->evicted_seen);
    p->evicted_seen = evicted;
    vg_metric_observe(VG_M_BATCH_SECONDS, vg_metric_seconds() - t0);
}

int vg_pipeline_process(vg_pipeline *p, const vg_batch *b)
{
    double t0 = vg_metric_seconds();
    uint64_t firing0 = p->stats.events_firing, resolved0 = p->stats.events_resolved;
    int events = 0;
    for (size_t i = 0; i < b->n; i++)
        score_point(p, b, &b->points[i], &events);
    publish_metrics(p, b, firing0, resolved0, t0);
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
    return p->n_columns;
}

const char *vg_pipeline_detector_name(const vg_pipeline *p, size_t i)
{
    return i < p->n_columns ? p->columns[i]->name : NULL;
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
    uint64_t id = vg_hash64(&p->n_profiles, sizeof(p->n_profiles), 2);
    for (size_t k = 0; k < p->n_profiles; k++)
        id = vg_hash64(&p->profiles[k].state_id, sizeof(uint64_t), id);
    return id;
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

/* A record starts with its profile's state id, so a series whose rule now
 * picks another profile (a config reload) starts fresh instead of reading
 * another layout. */
int vg_pipeline_save_series(const vg_pipeline *p, const void *block, vg_writer *out)
{
    const char *b = block;
    const profile *pr = profile_of(p, block);
    vg_writer_u64(out, pr->state_id);
    save_head(block, out);
    const vg_window *w = (const vg_window *)(b + p->window_offset);
    vg_writer_u32(out, w->len);
    vg_writer_u32(out, w->next);
    vg_writer_f64s(out, w->values, w->cap);
    for (size_t i = 0; i < pr->n_detectors; i++) {
        const detector_slot *d = &pr->detectors[i];
        int rc = d->ops->save(b + d->offset, d->params, out);
        if (rc != VG_OK)
            return rc;
    }
    int rc = vg_ensemble_save(b + pr->ensemble_offset, &pr->ensemble, out);
    return rc != VG_OK ? rc : out->failed ? VG_ENOMEM : VG_OK;
}

int vg_pipeline_load_series(vg_pipeline *p, const char *key, size_t key_len,
                            vg_reader *in, vg_error *err)
{
    char *block = vg_series_table_insert_raw(p->series, key, key_len);
    if (block == NULL)
        return vg_error_set(err, VG_ENOMEM, "series table");
    uint64_t hash = vg_hash64(key, key_len, 0);
    uint32_t prof = profile_for_key(p, key, key_len);
    const profile *pr = &p->profiles[prof];
    /* A fresh series first, so that a failed load leaves a usable one. */
    series_reset(p, block, prof, hash);
    uint64_t id;
    vg_reader_u64(in, &id);
    if (in->failed)
        return vg_error_set(err, VG_EPARSE, "series %.*s: truncated record", (int)key_len, key);
    if (id != pr->state_id) {
        p->stats.state_mismatch++;
        return VG_OK;  /* its rule now scores it differently: start it fresh */
    }
    load_head((series_head *)block, in);
    ((series_head *)block)->profile = prof;
    vg_window *w = (vg_window *)(block + p->window_offset);
    vg_reader_u32(in, &w->len);
    vg_reader_u32(in, &w->next);
    vg_reader_f64s(in, w->values, w->cap);
    int rc = VG_OK;
    if (in->failed || w->len > w->cap || w->next >= w->cap)
        rc = vg_error_set(err, VG_EPARSE, "series %.*s: bad window record", (int)key_len, key);
    for (size_t i = 0; rc == VG_OK && i < pr->n_detectors; i++) {
        const detector_slot *d = &pr->detectors[i];
        rc = d->ops->load(block + d->offset, d->params, in, err);
    }
    if (rc == VG_OK)
        rc = vg_ensemble_load(block + pr->ensemble_offset, &pr->ensemble, in, err);
    if (rc != VG_OK)
        series_reset(p, block, prof, hash);
    return rc;
}

void vg_pipeline_describe_series(const vg_pipeline *p, const char *key, size_t key_len,
                                 FILE *out)
{
    uint32_t k = profile_for_key(p, key, key_len);
    const profile *pr = &p->profiles[k];
    if (k == 0) {
        fprintf(out, "%.*s: no rule matches; the top-level settings apply\n", (int)key_len, key);
    } else {
        char *rule = json_dumps(p->rules.rules[k - 1].object,
                                JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15));
        fprintf(out, "%.*s: rules[%u] applies: %s\n", (int)key_len, key, k - 1,
                rule ? rule : "?");
        free(rule);
    }
    fprintf(out, "  window = %u\n", p->cfg->window);
    for (size_t i = 0; i < pr->n_detectors; i++) {
        const detector_slot *d = &pr->detectors[i];
        char path[64];
        snprintf(path, sizeof(path), "detectors.%s", d->ops->name);
        vg_conf_dump(d->ops->fields, d->ops->n_fields, d->params, path, out);
    }
    vg_ensemble_dump(&pr->ensemble, out);
    vg_config_dump_alert(&pr->alert, out);
    fprintf(out, "  severity = %s\n",
            pr->severity < 0 ? "from the peak score (alert.critical)"
                             : vg_severity_name((vg_severity)pr->severity));
    fprintf(out, "  state per series = %zu bytes\n", pr->block_size);
}
