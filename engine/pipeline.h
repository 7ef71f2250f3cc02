/* The pipeline: points in, scores and events out.
 *
 * For each point: find the series (creating or evicting), score it with
 * every enabled detector against the series' window, combine the scores in
 * the ensemble, step the alert state machine, push the value into the
 * window, and hand any event to every sink. With `workers` > 1 the points
 * are scored by that many threads, each owning a share of the series
 * (engine/shard.h); the sinks and the hook still see every point and event
 * in input order, on the caller's thread. Not thread-safe itself: one
 * caller thread. Deterministic for a given config and input, whatever the
 * number of workers. */
#ifndef VG_ENGINE_PIPELINE_H
#define VG_ENGINE_PIPELINE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "engine/alert.h"
#include "core/codec.h"
#include "engine/config.h"
#include "engine/feedback.h"
#include "core/error.h"
#include "core/event.h"
#include "core/point.h"
#include "engine/series_table.h"
#include "streams/stream.h"

typedef struct vg_pipeline vg_pipeline;

/* Everything the pipeline knows about one scored point. */
typedef struct vg_point_result {
    double         score;                /* final, [0,1] */
    double         expected, lower, upper;  /* NaN when no detector has one */
    double         swing;                /* the lead's season's swing (vg_explain); NaN: none */
    size_t         n_detectors;
    double         raw[VG_MAX_DETECTORS];        /* each detector's own score */
    double         calibrated[VG_MAX_DETECTORS]; /* after per-series calibration */
    vg_alert_state alert;                /* the series' state after this point */
    vg_alert_state event;                /* FIRING or RESOLVED if an event was emitted, else NORMAL */
    int            joined;               /* bool: the firing joined another series' incident
                                            (alert.group_window_s): recorded, not paged */
} vg_point_result;

/* Called for every point, in input order, after it is scored. */
typedef void (*vg_point_hook)(void *ctx, const vg_batch *b, const vg_point *pt,
                              const vg_point_result *r);

typedef struct vg_pipeline_stats {
    uint64_t points;
    uint64_t events_firing;
    uint64_t events_resolved;
    uint64_t sink_errors;
    uint64_t out_of_order;   /* points older than their series' last point (scored anyway) */
    uint64_t multi_partition; /* series seen on a second Kafka partition */
    uint64_t state_mismatch; /* saved series started fresh: their rule changed */
} vg_pipeline_stats;

/* Returns a new pipeline for cfg (borrowed: must outlive the pipeline), or
 * NULL with err naming the bad config key. */
vg_pipeline *vg_pipeline_new(const vg_config *cfg, vg_error *err);
void vg_pipeline_free(vg_pipeline *p);

/* Takes sink: the pipeline closes it when freed, even if this fails. */
int vg_pipeline_add_sink(vg_pipeline *p, vg_sink *sink);
void vg_pipeline_set_hook(vg_pipeline *p, vg_point_hook hook, void *ctx);
/* Names the instance in events (copied), replacing the config's `instance`
 * or the host name. */
void vg_pipeline_set_instance(vg_pipeline *p, const char *instance);
/* The instance named in events (borrowed). */
const char *vg_pipeline_instance(const vg_pipeline *p);

/* Flushes (bounded) and closes every sink; later events go nowhere. For an
 * orderly shutdown where the sinks must go before their broker does. */
void vg_pipeline_close_outputs(vg_pipeline *p);

/* Opens and adds every sink listed in the config's "outputs" array.
 * Returns 0, or VG_ECONFIG naming the output (its position in the file). */
int vg_pipeline_open_outputs(vg_pipeline *p, vg_error *err);

/* Scores every point of b in order. Returns the number of events emitted or
 * a negative VG_E* (a sink failure is counted and logged, not returned).
 * Pipelined (below), the events counted are those delivered during the
 * call: the previous batch's. */
int vg_pipeline_process(vg_pipeline *p, const vg_batch *b);

/* With workers: on, vg_pipeline_process copies b and returns while the
 * workers score it, so that the caller reads the next batch meanwhile (the
 * replay). Its events and hook calls come during the next
 * vg_pipeline_process, or the next call that shows events or state:
 * _flush, _series, _get_stats, _set_hook, _set_instance, _load_series,
 * _drop_series, _close_outputs, _free. Off (the default), each batch is
 * done when vg_pipeline_process returns. No effect with one worker. */
void vg_pipeline_set_pipelined(vg_pipeline *p, int on);

/* Flushes every sink: returns 0 once all events so far are durable. */
int vg_pipeline_flush(vg_pipeline *p, int timeout_ms);

const vg_pipeline_stats *vg_pipeline_get_stats(const vg_pipeline *p);
size_t vg_pipeline_detector_count(const vg_pipeline *p);
const char *vg_pipeline_detector_name(const vg_pipeline *p, size_t i);
/* Scoring workers (config `workers`); 1: no threads. */
size_t vg_pipeline_workers(const vg_pipeline *p);
/* Bytes of state per series (window, detectors, ensemble, alert). */
size_t vg_pipeline_series_bytes(const vg_pipeline *p);
/* The series table (borrowed), for saving and loading state. */
vg_series_table *vg_pipeline_series(vg_pipeline *p);
/* The config the pipeline was made with (borrowed, as given to _new). */
const vg_config *vg_pipeline_config(const vg_pipeline *p);

/* A verdict as received (engine/feedback.h), on an incident of a series
 * or of a group (engine/group.h): applied when it is the series' latest
 * incident, or to each member of the group whose latest incident is the
 * one in the group; else refused (VG_ENOTFOUND, or VG_EARG for a message
 * refused as received) with err saying why. Either way the pipeline's
 * recording outputs (event log, console) get a feedback record
 * (core/event.h) with its source, and it is logged; the caller counts it.
 * Call from the thread that processes points. */
int vg_pipeline_feedback(vg_pipeline *p, const vg_feedback_msg *m, vg_error *err);

/* Prints how the series `key` would be scored: the rule that matches it
 * (first match wins) or the top level, then its effective detectors with
 * their params, ensemble and alert settings and severity. */
void vg_pipeline_describe_series(const vg_pipeline *p, const char *key, size_t key_len,
                                 FILE *out);

/* Saved state, one series at a time (models/ frames these records into
 * files). A record holds the series' alert and guard state, its window,
 * every detector's model and its calibration. */

/* A fingerprint of everything that shapes a series' state: window length,
 * detectors in order with their params, ensemble. State saved under another
 * fingerprint cannot be loaded. */
uint64_t vg_pipeline_state_id(const vg_pipeline *p);

/* The Kafka partition that last fed the series of `block` (-1 for files). */
int32_t vg_pipeline_series_partition(const vg_pipeline *p, const void *block);

/* Appends the state of the series whose block is `block` to out. */
int vg_pipeline_save_series(const vg_pipeline *p, const void *block, vg_writer *out);

/* Forgets series `key`, whose partition another instance now owns: an
 * incident it has firing leaves vigil_incidents_firing, and every sink is
 * told to stop notifying it (vg_sink_disown); no event (the new owner
 * resolves it). Returns 0 or VG_ENOTFOUND. */
int vg_pipeline_drop_series(vg_pipeline *p, const char *key, size_t key_len);

/* Creates (or replaces) series `key` from a record written by
 * vg_pipeline_save_series under the same state id. Returns 0, or VG_EPARSE
 * with err set when the record does not match. */
int vg_pipeline_load_series(vg_pipeline *p, const char *key, size_t key_len,
                            vg_reader *in, vg_error *err);

#endif
