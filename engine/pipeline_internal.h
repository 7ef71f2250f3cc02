/* The pipeline's internals, shared by its files: pipeline.c (building it
 * from the config, sinks), pipeline_score.c (one point through detectors,
 * ensemble, alert and sinks) and pipeline_state.c (saving, loading and
 * describing series). Not for use outside engine/pipeline*.c.
 *
 * A profile is one way of scoring a series: its detectors with their
 * params, its ensemble and alert settings. Profile 0 is the top-level
 * config; rule i (engine/rules.h) makes profile i + 1. A series gets its
 * profile once, when first seen, and owns one fixed-size block:
 *
 *   [series_head][window: header + cap doubles][detector states...][ensemble]
 *   [ensemble before the incident's first point]
 *
 * (blocks are as large as the largest profile needs), so scoring a point
 * is a table lookup and a few calls over that block, with no allocation.
 * The detectors' scores land in columns: every detector any profile uses,
 * in registry order, NaN where a series' profile does not run it. */
#ifndef VG_ENGINE_PIPELINE_INTERNAL_H
#define VG_ENGINE_PIPELINE_INTERNAL_H

#include "detectors/detector.h"
#include "detectors/ensemble.h"
#include "engine/baseline.h"
#include "engine/corroborate.h"
#include "engine/group.h"
#include "engine/incident_join.h"
#include "engine/feedback.h"
#include "engine/guard.h"
#include "engine/pipeline.h"
#include "engine/rules.h"
#include "core/log.h"
#include "core/vigil_metrics.h"

/* The part of a series' block the pipeline itself owns. */
typedef struct series_head {
    vg_alert    alert;
    vg_guard    guard;
    vg_baseline baseline;
    vg_feedback feedback;   /* floors from verdicts on its incidents */
    int64_t     last_ts;
    uint64_t    points;
    int32_t     partition;  /* the Kafka partition that last fed it; -1 for files */
    uint32_t    profile;
    /* Its corroboration group (engine/corroborate.h), set at its first point
     * (from its key and where the point came from); 0: not yet. Not saved. */
    uint64_t    group;
    uint64_t    score_mask; /* bit i: output i writes this series' scores */
    uint32_t    score_gen;  /* the outputs score_mask was worked out for (not saved) */
    uint8_t     multi_partition;  /* seen on a second partition (reported once) */
    /* (ordered by size: no padding inside, every series has one) */
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
    const vg_rule     *rule;            /* NULL: the top level */
    size_t             ensemble_offset;
    size_t             ensemble_size;
    size_t             before_offset;   /* the ensemble as it was before the incident */
    size_t             block_size;
    uint64_t           state_id;
} profile;

/* Room for one rendered annotation of an event (summary, description,
 * runbook URL). */
#define VG_EVENT_TEXT_BYTES 1024

typedef struct vg_deferred vg_deferred;

/* What one scoring thread owns: its scratch blocks, its detector timing
 * and its counts (added into the pipeline's stats after each batch). With
 * workers (engine/shard.h) its events and results go to `deferred` for the
 * merge; NULL: they go to the sinks and the hook at once. */
typedef struct vg_scorer {
    char            *scratch;   /* block_size bytes: a series scored without learning */
    char            *undo;      /* block_size bytes: a model before its point */
    uint64_t         timing_tick;  /* points since the last timed one */
    uint64_t         points;
    uint64_t         out_of_order;
    uint64_t         multi_partition;  /* series seen on a second partition */
    vg_ratelimit     order_log, partition_log;  /* their log lines, per thread */
    vg_deferred     *deferred;
    vg_point_result *results;   /* with deferred and a hook: by batch index */
    vg_corroboration *corroboration;  /* the groups this scorer's series are in */
    /* Scores for the outputs that write them, held until the scorer's share
     * of the batch is scored, then handed over at once (one call per
     * output): kept[i] goes to output j when bit j of kept_mask[i] is set. */
    vg_score_sample *kept, *picked;
    uint64_t        *kept_mask;
    size_t           n_kept, cap_kept;
    uint64_t         kept_all;  /* the outputs every kept score goes to */
} vg_scorer;

typedef struct vg_shards vg_shards;

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
    vg_scorer              direct;      /* scores on the caller's thread (no workers) */
    vg_shards             *shards;      /* NULL: one worker, no threads */
    vg_guard_params        guards;
    vg_sink              **sinks;
    size_t                 n_sinks;
    size_t                 n_score_sinks;  /* of them, those with a score op */
    uint32_t               score_gen;      /* changes with the outputs (series_head) */
    vg_point_hook          hook;
    void                  *hook_ctx;
    vg_pipeline_stats      stats;
    vg_ratelimit           sink_log;
    char                   instance[64];   /* events' instance */
    /* Notified incidents firing now, by profile and severity ([k * 2 + s]),
     * their vigil_incidents_firing{rule,severity} children, and what this
     * pipeline added to each child so far (the gauge is a sum over the
     * pipelines alive: the old and new one of a reload, members in tests): */
    uint64_t              *firing;
    vg_metric_child      **firing_gauge;
    uint64_t              *firing_published;
    uint64_t               evicted_seen;   /* evictions already counted in metrics */
    const vg_point        *scoring;        /* the point whose series is being looked up */
    vg_groups             *groups;         /* grouped incidents (engine/group.h) */
    vg_group_event        *group_event;    /* the one being sent (too big for the stack) */
    vg_joins              *joins;          /* one page per host event (incident_join.h) */
    uint64_t               forgotten_seen; /* of the joins' forgotten, counted in metrics */
};

static inline const profile *vg__profile_of(const vg_pipeline *p, const void *block)
{
    return &p->profiles[((const series_head *)block)->profile];
}

/* The profile (0: top level) that scores series `key`. */
uint32_t vg__profile_for_key(const vg_pipeline *p, const char *key, size_t key_len);

/* Counts the incident of head (firing, not muted) in or out (delta +1/-1)
 * of the firing incidents of its rule and severity. */
void vg__firing_count(vg_pipeline *p, const series_head *head, int delta);

/* Where an incident of head counts among the firing ones (its profile
 * and severity), or -1 when it does not count (muted). */
int32_t vg__firing_slot(const series_head *head);

/* Counts an incident in (delta +1) or out (-1) of firing slot `slot`. */
void vg__firing_add(vg_pipeline *p, int32_t slot, int delta);

/* Sets vigil_incidents_firing from the counts. */
void vg__publish_firing(vg_pipeline *p);

/* The series table's eviction callback: resolves a firing incident. */
void vg__series_evicted(void *ctx, void *state, const char *key, size_t key_len);

/* 1 when a mute window of the rule of the series of `block` holds at ts. */
int vg__muted_now(vg_pipeline *p, const void *block, int64_t ts_ms);

/* The block of the series of pt (created, or evicting another, as the
 * series table does). Caller's thread only. */
char *vg__series_of(vg_pipeline *p, const vg_batch *b, const vg_point *pt);

/* Scores point i of b, whose series' block is `block`, on scorer s. */
void vg__score_point(vg_pipeline *p, vg_scorer *s, const vg_batch *b, size_t i, char *block,
                     int muted_now);

/* Counts event ev (firing slot `slot`, see vg__firing_slot) and hands it
 * to every sink. Caller's thread only. Returns 1 when ev is a firing that
 * joined another series' incident (alert.group_window_s), else 0. */
int vg__deliver(vg_pipeline *p, vg_event *ev, const vg_rule *rule, int32_t slot);

/* One page per host event (engine/pipeline_join.c): when ev's incident
 * joins another series' (a firing) or joined one (its resolved), sets
 * ev->group_id to that incident's id, kept in id[33], ev->joined and
 * ev->escalated (it pages itself), and returns 1; else 0, and a leader's
 * resolved gets ev->page when others joined it. Caller's thread only, in
 * input order. */
int vg__join(vg_pipeline *p, vg_event *ev, const vg_rule *rule, char id[33]);

/* The joins' page_fn (engine/incident_join.h), ctx the pipeline: tells
 * every output that has a page op. */
void vg__page_changed(void *ctx, const vg_event_page *page);

/* Hands ev to every sink that takes it (a muted, member or feedback event
 * only to the recording ones). Caller's thread only. */
void vg__send_event(vg_pipeline *p, const vg_event *ev);

/* Hands the scores the scorer kept to the outputs that write them; on the
 * scorer's thread, once its share of a batch is scored. */
void vg__scorer_send_scores(vg_pipeline *p, vg_scorer *s);

/* Adds the scorer's counts into the pipeline's stats and zeroes them. */
void vg__scorer_collect(vg_pipeline *p, vg_scorer *s);

/* Allocates a scorer's scratch blocks (0 or VG_ENOMEM); frees them. */
int vg__scorer_init(vg_pipeline *p, vg_scorer *s);
void vg__scorer_release(vg_scorer *s);

/* Makes block a fresh series of profile `prof`; hash is its key's. */
void vg__series_reset(vg_pipeline *p, void *block, uint32_t prof, uint64_t hash);

/* Restarts what block's detectors learned (its window and detector states,
 * as a new series of its profile has them), keeping everything else: the
 * ensemble's calibration, the alert, guard and baseline (a counter's
 * reset; engine/guard.h says why). hash is its key's. */
void vg__series_restart(vg_pipeline *p, void *block, uint64_t hash);

#endif
