/* A series' saved state, one record per series (models/ frames records
 * into files), and the description of how a series is scored. */
#include "engine/pipeline_internal.h"

#include <stdlib.h>
#include <string.h>

#include "core/series_key.h"
#include "engine/shard.h"

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

int vg_pipeline_drop_series(vg_pipeline *p, const char *key, size_t key_len)
{
    vg__shards_drain(p->shards);
    series_head *head = vg_series_table_find(p->series, key, key_len);
    if (head != NULL && head->alert.state == VG_ALERT_FIRING) {
        vg__firing_count(p, head, -1);
        vg__publish_firing(p);
        vg_event ev = {.series = key, .series_len = key_len,
                       .start_ms = head->alert.start_ms};
        vg_event_make_id(&ev);
        for (size_t i = 0; i < p->n_sinks; i++)
            vg_sink_disown(p->sinks[i], ev.id);
        vg_joins_drop(p->joins, key, key_len);
    }
    return vg_series_table_remove(p->series, key, key_len);
}

static void save_head(const series_head *head, vg_writer *out)
{
    const vg_alert *a = &head->alert;
    vg_writer_u8(out, a->state);
    vg_writer_u8(out, a->quiet);
    vg_writer_u8(out, a->end);
    vg_writer_u8(out, a->muted);
    vg_writer_u8(out, a->severity);
    vg_writer_u32(out, a->streak);
    vg_writer_i64(out, a->start_ms);
    vg_writer_f64(out, a->peak);
    vg_writer_u64(out, a->incidents);
    vg_writer_i64(out, a->fired_ms);
    const vg_guard *g = &head->guard;
    vg_writer_f64(out, g->prev_value);
    vg_writer_f64(out, g->step_ms);
    vg_writer_i64(out, g->prev_ts);
    vg_writer_u32(out, g->rises);
    vg_writer_u32(out, g->grace);
    const vg_baseline *bl = &head->baseline;
    vg_writer_f64(out, bl->mean);
    vg_writer_f64(out, bl->hi);
    vg_writer_f64(out, bl->lo);
    vg_writer_f64(out, bl->n);
    vg_writer_f64(out, bl->expected);
    vg_writer_f64(out, bl->band);
    vg_writer_f64(out, bl->settled_hi);
    vg_writer_f64(out, bl->settled_lo);
    vg_writer_i64(out, bl->first_ms);
    vg_writer_i64(out, bl->day);
    vg_writer_u32(out, (uint32_t)bl->went_beyond);
    vg_writer_u32(out, (uint32_t)bl->calm_before);
    vg_writer_u32(out, (uint32_t)bl->calm);
    vg_writer_i64(out, bl->beyond_since);
    const vg_feedback *f = &head->feedback;
    vg_writer_f64(out, f->floor_up);
    vg_writer_f64(out, f->floor_down);
    vg_writer_f64(out, f->dev_up);
    vg_writer_f64(out, f->dev_down);
    vg_writer_u32(out, f->not_anomalous);
    vg_writer_u32(out, f->anomalous);
    vg_writer_i64(out, head->last_ts);
    vg_writer_u64(out, head->points);
    vg_writer_u32(out, (uint32_t)head->partition);
}

static void load_head(series_head *head, vg_reader *in)
{
    vg_alert *a = &head->alert;
    uint32_t partition;
    vg_reader_u8(in, &a->state);
    vg_reader_u8(in, &a->quiet);
    vg_reader_u8(in, &a->end);
    vg_reader_u8(in, &a->muted);
    vg_reader_u8(in, &a->severity);
    vg_reader_u32(in, &a->streak);
    vg_reader_i64(in, &a->start_ms);
    vg_reader_f64(in, &a->peak);
    vg_reader_u64(in, &a->incidents);
    vg_reader_i64(in, &a->fired_ms);
    vg_guard *g = &head->guard;
    vg_reader_f64(in, &g->prev_value);
    vg_reader_f64(in, &g->step_ms);
    vg_reader_i64(in, &g->prev_ts);
    vg_reader_u32(in, &g->rises);
    vg_reader_u32(in, &g->grace);
    vg_baseline *bl = &head->baseline;
    vg_reader_f64(in, &bl->mean);
    vg_reader_f64(in, &bl->hi);
    vg_reader_f64(in, &bl->lo);
    vg_reader_f64(in, &bl->n);
    vg_reader_f64(in, &bl->expected);
    vg_reader_f64(in, &bl->band);
    vg_reader_f64(in, &bl->settled_hi);
    vg_reader_f64(in, &bl->settled_lo);
    vg_reader_i64(in, &bl->first_ms);
    vg_reader_i64(in, &bl->day);
    uint32_t went_beyond = 0, calm_before = 0, calm = 0;
    vg_reader_u32(in, &went_beyond);
    vg_reader_u32(in, &calm_before);
    vg_reader_u32(in, &calm);
    vg_reader_i64(in, &bl->beyond_since);
    bl->went_beyond = went_beyond != 0;
    bl->calm_before = calm_before != 0;
    bl->calm = calm != 0;
    vg_feedback *f = &head->feedback;
    vg_reader_f64(in, &f->floor_up);
    vg_reader_f64(in, &f->floor_down);
    vg_reader_f64(in, &f->dev_up);
    vg_reader_f64(in, &f->dev_down);
    vg_reader_u32(in, &f->not_anomalous);
    vg_reader_u32(in, &f->anomalous);
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
    const profile *pr = vg__profile_of(p, block);
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
    if (rc == VG_OK)  /* what an open incident's points are judged by */
        rc = vg_ensemble_save(b + pr->before_offset, &pr->ensemble, out);
    return rc != VG_OK ? rc : out->failed ? VG_ENOMEM : VG_OK;
}

int vg_pipeline_load_series(vg_pipeline *p, const char *key, size_t key_len,
                            vg_reader *in, vg_error *err)
{
    vg__shards_drain(p->shards);
    char *block = vg_series_table_insert_raw(p->series, key, key_len);
    if (block == NULL)
        return vg_error_set(err, VG_ENOMEM, "series table");
    uint64_t hash = vg_hash64(key, key_len, 0);
    uint32_t prof = vg__profile_for_key(p, key, key_len);
    const profile *pr = &p->profiles[prof];
    /* A fresh series first, so that a failed load leaves a usable one. */
    vg__series_reset(p, block, prof, hash);
    uint64_t id;
    vg_reader_u64(in, &id);
    if (in->failed)
        return vg_error_set(err, VG_EPARSE, "series %.*s: truncated record", (int)key_len, key);
    if (id != pr->state_id) {
        p->stats.state_mismatch++;
        return VG_OK;  /* its rule now scores it differently: start it fresh */
    }
    series_head *head = (series_head *)block;
    load_head(head, in);
    head->profile = prof;
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
    if (rc == VG_OK)
        rc = vg_ensemble_load(block + pr->before_offset, &pr->ensemble, in, err);
    if (rc != VG_OK)
        vg__series_reset(p, block, prof, hash);
    else if (head->alert.state == VG_ALERT_FIRING) {
        vg__firing_count(p, head, 1);
        vg__publish_firing(p);  /* a reload's new pipeline shows it before its first batch */
    }
    return rc;
}

void vg_pipeline_describe_series(const vg_pipeline *p, const char *key, size_t key_len,
                                 FILE *out)
{
    uint32_t k = vg__profile_for_key(p, key, key_len);
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
    const series_head *head = vg_series_table_find(p->series, key, key_len);
    if (head != NULL)
        fprintf(out, "  feedback: floor up = %.6g, floor down = %.6g (%u not anomalous, %u "
                     "anomalous)\n",
                head->feedback.floor_up, head->feedback.floor_down,
                head->feedback.not_anomalous, head->feedback.anomalous);
}
