/* The pipeline, built from the config: profiles (detectors, ensemble,
 * alert settings per rule; see pipeline_internal.h for the block layout),
 * the series table, the sinks, and what callers may ask of it. Scoring is
 * in pipeline_score.c, saved state in pipeline_state.c. */
#include "engine/pipeline_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/series_key.h"
#include "engine/shard.h"

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

void vg__series_reset(vg_pipeline *p, void *state, uint32_t prof, uint64_t hash)
{
    char *block = state;
    series_head *head = state;
    const profile *pr = &p->profiles[prof];
    vg_alert_init(&head->alert);
    vg_guard_init(&head->guard);
    vg_baseline_init(&head->baseline);
    vg_feedback_init(&head->feedback);
    head->last_ts = INT64_MIN;
    head->points = 0;
    head->partition = -1;
    head->profile = prof;
    head->multi_partition = 0;
    head->group = 0;
    head->score_gen = 0;  /* the pipeline's starts at 1: worked out at its first score */
    vg__series_restart(p, block, hash);
    vg_ensemble_init(block + pr->ensemble_offset, &pr->ensemble);
}

void vg__series_restart(vg_pipeline *p, void *state, uint64_t hash)
{
    char *block = state;
    const profile *pr = vg__profile_of(p, block);
    vg_window_init((vg_window *)(block + p->window_offset), p->cfg->window);
    uint64_t seed = mix_seed((uint64_t)p->cfg->seed, hash);
    for (size_t i = 0; i < pr->n_detectors; i++) {
        const detector_slot *d = &pr->detectors[i];
        d->ops->init(block + d->offset, d->params, seed);
    }
}

uint32_t vg__profile_for_key(const vg_pipeline *p, const char *key, size_t key_len)
{
    return (uint32_t)(vg_rules_match(&p->rules, key, key_len) + 1);
}

static void series_init(void *ctx, void *state, const char *key, size_t key_len,
                        uint64_t hash)
{
    vg_pipeline *p = ctx;
    vg__series_reset(p, state, vg__profile_for_key(p, key, key_len), hash);
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
    pr->ensemble_size = vg_ensemble_state_size(&pr->ensemble);
    pr->before_offset = align8(off + pr->ensemble_size);
    pr->block_size = align8(pr->before_offset + pr->ensemble_size);
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
        pr->rule = rule;
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

/* vigil_incidents_firing{rule,severity}: one child per profile and
 * severity, so its cardinality is bounded by the config. */
static int firing_gauges(vg_pipeline *p, vg_error *err)
{
    p->firing = calloc(p->n_profiles * 2, sizeof(*p->firing));
    p->firing_gauge = calloc(p->n_profiles * 2, sizeof(*p->firing_gauge));
    p->firing_published = calloc(p->n_profiles * 2, sizeof(*p->firing_published));
    if (p->firing == NULL || p->firing_gauge == NULL || p->firing_published == NULL)
        return vg_error_set(err, VG_ENOMEM, "firing gauges");
    for (size_t k = 0; k < p->n_profiles; k++) {
        const char *rule = k == 0 ? "default" : p->rules.rules[k - 1].name;
        for (int s = 0; s < 2; s++) {
            const char *values[] = {rule, vg_severity_name((vg_severity)s)};
            p->firing_gauge[k * 2 + (size_t)s] = vg_metric_with(VG_M_INCIDENTS_FIRING, values);
        }
    }
    return VG_OK;
}

int32_t vg__firing_slot(const series_head *head)
{
    if (head->alert.muted)
        return -1;
    return (int32_t)(head->profile * 2 + (head->alert.severity ? 1 : 0));
}

void vg__firing_add(vg_pipeline *p, int32_t slot, int delta)
{
    if (slot < 0)
        return;
    uint64_t *n = &p->firing[slot];
    *n = delta > 0 ? *n + 1 : *n - (*n > 0);
}

void vg__firing_count(vg_pipeline *p, const series_head *head, int delta)
{
    vg__firing_add(p, vg__firing_slot(head), delta);
}

int vg__scorer_init(vg_pipeline *p, vg_scorer *s)
{
    memset(s, 0, sizeof(*s));
    s->scratch = malloc(p->block_size);
    s->undo = malloc(p->block_size);
    s->corroboration = vg_corroboration_new();
    return s->scratch != NULL && s->undo != NULL && s->corroboration != NULL ? VG_OK
                                                                               : VG_ENOMEM;
}

void vg__scorer_release(vg_scorer *s)
{
    free(s->scratch);
    free(s->undo);
    vg_corroboration_free(s->corroboration);
    free(s->kept);
    free(s->picked);
    free(s->kept_mask);
    s->scratch = s->undo = NULL;
    s->corroboration = NULL;
    s->kept = s->picked = NULL;
    s->kept_mask = NULL;
    s->n_kept = s->cap_kept = 0;
}

void vg__scorer_collect(vg_pipeline *p, vg_scorer *s)
{
    p->stats.points += s->points;
    p->stats.out_of_order += s->out_of_order;
    p->stats.multi_partition += s->multi_partition;
    s->points = s->out_of_order = s->multi_partition = 0;
}

/* The scoring threads the config asks for: 0 means one per online CPU. */
static size_t worker_count(const vg_config *cfg)
{
    long n = cfg->workers > 0 ? (long)cfg->workers : sysconf(_SC_NPROCESSORS_ONLN);
    return n > 1 ? (size_t)n : 1;
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
    return firing_gauges(p, err);
}

vg_pipeline *vg_pipeline_new(const vg_config *cfg, vg_error *err)
{
    vg_pipeline *p = calloc(1, sizeof(*p));
    if (p == NULL) {
        vg_error_set(err, VG_ENOMEM, "pipeline");
        return NULL;
    }
    p->cfg = cfg;
    p->score_gen = 1;
    if (cfg->instance[0] != '\0' || gethostname(p->instance, sizeof(p->instance)) != 0)
        snprintf(p->instance, sizeof(p->instance), "%s", cfg->instance);
    p->instance[sizeof(p->instance) - 1] = '\0';  /* gethostname may not terminate */
    if (build_profiles(p, err) != VG_OK)
        goto out_free_pipeline;
    if (vg_guard_configure(&p->guards, cfg->doc, cfg->guards, err) != VG_OK)
        goto out_free_pipeline;
    p->series = vg_series_table_new(p->block_size, (size_t)cfg->max_series, series_init,
                                    vg__series_evicted, p, err);
    if (p->series == NULL)
        goto out_free_pipeline;
    p->groups = vg_groups_new();
    p->joins = vg_joins_new(vg__page_changed, p);
    p->group_event = malloc(sizeof(*p->group_event));
    if (vg__scorer_init(p, &p->direct) != VG_OK || p->groups == NULL || p->joins == NULL ||
        p->group_event == NULL) {
        vg_error_set(err, VG_ENOMEM, "pipeline scratch blocks");
        goto out_free_pipeline;
    }
    size_t workers = worker_count(cfg);
    if (workers > 1 && (p->shards = vg__shards_new(p, workers, err)) == NULL)
        goto out_free_pipeline;
    return p;

out_free_pipeline:
    vg_pipeline_free(p);
    return NULL;
}

void vg_pipeline_close_outputs(vg_pipeline *p)
{
    vg__shards_drain(p->shards);
    for (size_t i = 0; i < p->n_sinks; i++)
        vg_sink_close(p->sinks[i]);
    free(p->sinks);
    p->sinks = NULL;
    p->n_sinks = p->n_score_sinks = 0;
    p->score_gen++;
}

void vg_pipeline_free(vg_pipeline *p)
{
    if (p == NULL)
        return;
    vg__shards_drain(p->shards);  /* the batch in flight reaches the sinks */
    vg__shards_free(p->shards);
    p->shards = NULL;
    vg_pipeline_close_outputs(p);
    if (p->firing != NULL && p->firing_gauge != NULL && p->firing_published != NULL) {
        /* its incidents leave the gauge (a removed rule's reads 0) */
        memset(p->firing, 0, p->n_profiles * 2 * sizeof(*p->firing));
        vg__publish_firing(p);
    }
    for (size_t k = 0; k < p->n_profiles; k++)
        for (size_t i = 0; i < p->profiles[k].n_detectors; i++)
            free(p->profiles[k].detectors[i].params);
    free(p->profiles);
    vg_rules_release(&p->rules);
    vg_series_table_free(p->series);
    vg__scorer_release(&p->direct);
    vg_groups_free(p->groups);
    vg_joins_free(p->joins);
    free(p->group_event);
    free(p->firing);
    free(p->firing_gauge);
    free(p->firing_published);
    free(p);
}

int vg_pipeline_add_sink(vg_pipeline *p, vg_sink *sink)
{
    /* A series keeps which outputs write its scores as bits of a uint64_t. */
    if (sink->ops->score != NULL && p->n_sinks >= 64) {
        vg_sink_close(sink);
        return VG_ERANGE;
    }
    vg_sink **sinks = realloc(p->sinks, (p->n_sinks + 1) * sizeof(*sinks));
    if (sinks == NULL) {
        vg_sink_close(sink);
        return VG_ENOMEM;
    }
    p->sinks = sinks;
    p->sinks[p->n_sinks++] = sink;
    p->n_score_sinks += sink->ops->score != NULL;
    p->score_gen++;  /* every series works its outputs out again */
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

const char *vg_pipeline_instance(const vg_pipeline *p)
{
    return p->instance;
}

void vg_pipeline_set_instance(vg_pipeline *p, const char *instance)
{
    vg__shards_drain(p->shards);  /* the workers name it in events */
    snprintf(p->instance, sizeof(p->instance), "%s", instance);
}

void vg_pipeline_set_hook(vg_pipeline *p, vg_point_hook hook, void *ctx)
{
    vg__shards_drain(p->shards);  /* the old hook sees its points */
    p->hook = hook;
    p->hook_ctx = ctx;
}

void vg_pipeline_set_pipelined(vg_pipeline *p, int on)
{
    if (p->shards != NULL)
        vg__shards_pipeline(p->shards, on);
}

const vg_pipeline_stats *vg_pipeline_get_stats(const vg_pipeline *p)
{
    vg__shards_drain(p->shards);  /* counts include the batch in flight */
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

size_t vg_pipeline_workers(const vg_pipeline *p)
{
    return p->shards != NULL ? vg__shards_count(p->shards) : 1;
}

size_t vg_pipeline_series_bytes(const vg_pipeline *p)
{
    return p->block_size;
}

vg_series_table *vg_pipeline_series(vg_pipeline *p)
{
    vg__shards_drain(p->shards);  /* no worker touches a block after this */
    return p->series;
}

const vg_config *vg_pipeline_config(const vg_pipeline *p)
{
    return p->cfg;
}

