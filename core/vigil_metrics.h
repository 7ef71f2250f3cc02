/* vigil's own metrics: the one list of what /metrics exposes, and the calls
 * the other modules make to update it.
 *
 * The set lives in one process-wide registry, created on first use (so a
 * module can count without any set-up, in tests too). Every call is
 * lock-free and cheap, but the scoring loop should still count per batch,
 * not per point: vg_metric_inc(VG_M_POINTS_SCORED, b->len) after a batch.
 *
 * Labelled metrics take their label values as strings; a value not seen
 * before becomes a new child, up to a bound per metric (see the table in
 * vigil_metrics.c). Past the bound, updates for new values are dropped and a
 * warning is logged (rate-limited). Finding a child by value takes a mutex
 * and a short scan: in a hot path resolve it once with vg_metric_with() and
 * keep the pointer. All functions may be called from any thread. */
#ifndef VG_CORE_VIGIL_METRICS_H
#define VG_CORE_VIGIL_METRICS_H

#include <stdint.h>

#include "core/metrics.h"

typedef enum vg_metric_id {
    /* counters, no labels */
    VG_M_POINTS_READ,            /* vigil_points_read_total */
    VG_M_POINTS_SCORED,          /* vigil_points_scored_total */
    VG_M_CSV_MALFORMED_ROWS,     /* vigil_csv_malformed_rows_total */
    VG_M_SERIES_EVICTED,         /* vigil_series_evicted_total */
    VG_M_ALERT_DELIVERY_FAILURES,/* vigil_alert_delivery_failures_total */
    VG_M_EVENT_LOG_BYTES,        /* vigil_event_log_written_bytes_total */
    VG_M_ALERTMANAGER_POSTS,     /* vigil_alertmanager_posts_total */
    VG_M_ALERTMANAGER_FAILURES,  /* vigil_alertmanager_post_failures_total */
    VG_M_OFFSET_REWINDS,         /* vigil_offset_rewinds_total */
    VG_M_EVENT_LOG_TORN,         /* vigil_event_log_torn_lines_total */
    VG_M_CHECKPOINTS_HELD,       /* vigil_checkpoints_held_total */
    VG_M_CHECKPOINTS,            /* vigil_checkpoints_total */
    VG_M_STATE_TORN_BYTES,       /* vigil_state_torn_bytes_total */
    VG_M_POINTS_REPARTITIONED,   /* vigil_points_repartitioned_total */
    VG_M_POINTS_OUT_OF_ORDER,    /* vigil_points_out_of_order_total */
    VG_M_SERIES_MULTI_PARTITION, /* vigil_series_multi_partition_total */
    VG_M_SCORE_POST_FAILURES,    /* vigil_score_post_failures_total */
    VG_M_ALERTMANAGER_DROPPED,   /* vigil_alertmanager_dropped_total */
    VG_M_JOINS_FORGOTTEN,        /* vigil_incident_joins_forgotten_total */
    VG_M_PROCESS_CPU,            /* process_cpu_seconds_total */
    /* counters with one label */
    VG_M_PARSE_ERRORS,           /* vigil_parse_errors_total{reason} */
    VG_M_EVENTS,                 /* vigil_events_total{state="firing|resolved"} */
    VG_M_DETECTOR_SECONDS,       /* vigil_detector_seconds_total{detector} */
    VG_M_CONFIG_RELOADS,         /* vigil_config_reloads_total{result="success|failure"} */
    VG_M_STATE_BYTES,            /* vigil_state_written_bytes_total{kind="changes|whole"} */
    VG_M_FEEDBACK,               /* vigil_feedback_total{result="not_anomalous|anomalous|
                                    refused|unauthorized|dropped",source="http|kafka"}
                                    (two labels; in this place for the rendering order) */
    VG_M_REMOTE_WRITE_REQUESTS,  /* vigil_remote_write_requests_total{code} */
    VG_M_SCORE_POINTS,           /* vigil_score_points_total{result="sent|dropped|rejected"} */
    VG_M_DEAD_LETTERS,           /* vigil_dead_letters_total{reason} */
    /* gauges */
    VG_M_INCIDENTS_FIRING,       /* vigil_incidents_firing */
    VG_M_SERIES_ACTIVE,          /* vigil_series_active */
    VG_M_CONSUMER_LAG,           /* vigil_consumer_lag_messages{topic,partition} */
    VG_M_NOT_DURABLE,            /* vigil_not_durable_total{sink,reason} */
    VG_M_BUILD_INFO,             /* vigil_build_info{version} = 1 */
    VG_M_CHECKPOINT_LAST,        /* vigil_last_checkpoint_timestamp_seconds */
    VG_M_CHECKPOINT_AGE,         /* vigil_checkpoint_age_seconds */
    VG_M_ALERTMANAGER_QUEUE,     /* vigil_alertmanager_queue_depth */
    VG_M_PROCESS_RSS,            /* process_resident_memory_bytes */
    VG_M_PROCESS_FDS,            /* process_open_fds */
    VG_M_PROCESS_MAX_FDS,        /* process_max_fds */
    VG_M_PROCESS_START,          /* process_start_time_seconds */
    /* histograms */
    VG_M_BATCH_SECONDS,          /* vigil_batch_duration_seconds */
    VG_M__COUNT
} vg_metric_id;

/* The registry holding vigil's metrics (borrowed, lives until exit), for
 * the /metrics endpoint; NULL if it could not be allocated (then every
 * update below does nothing). */
vg_metrics *vg_metric_registry(void);

/* Unlabelled metrics; the metric's type is vg_assert()ed. */
void vg_metric_inc(vg_metric_id id, uint64_t n);   /* counter += n */
void vg_metric_add(vg_metric_id id, double v);     /* counter += v (seconds), gauge += v */
void vg_metric_set(vg_metric_id id, double v);     /* gauge = v */
void vg_metric_observe(vg_metric_id id, double v); /* histogram */

/* The child of a labelled metric for `values` (one string per label, in
 * the order the comments above give). Borrowed, lives until exit; NULL when
 * the metric's bound is reached or a value is not UTF-8 (logged). Update it
 * with vg_metrics_inc/add/set/observe (metrics.h). */
vg_metric_child *vg_metric_with(vg_metric_id id, const char *const *values);

/* One-label metrics by value: vg_metric_label_inc(VG_M_PARSE_ERRORS, "json", 1). */
void vg_metric_label_inc(vg_metric_id id, const char *value, uint64_t n);
/* Counters of any number of labels (up to VG_METRICS_MAX_LABELS, 3): one
 * value per label, in order: vg_metric_labels_inc(VG_M_FEEDBACK,
 * (const char *const[]){"refused", "kafka"}, 1). */
void vg_metric_labels_inc(vg_metric_id id, const char *const *values, uint64_t n);
void vg_metric_label_add(vg_metric_id id, const char *value, double v);

/* Monotonic seconds at nanosecond resolution, for timing a batch or a
 * detector: t0 = vg_metric_seconds(); ...; observe(now - t0). */
double vg_metric_seconds(void);

/* Consumer lag of one partition, in messages; drop it when the partition is
 * revoked so a stale value does not linger. */
void vg_metric_lag_set(const char *topic, int32_t partition, int64_t lag);
void vg_metric_lag_drop(const char *topic, int32_t partition);

/* Reads this process' CPU time, resident memory, open and allowed file
 * descriptors and start time from /proc into the process_* metrics (the
 * names every Prometheus client library uses). Call it before rendering. */
void vg_metric_process_refresh(void);

/* An output ("kafka", "ndjson", "state", ...) failed to make something
 * durable, for `reason` ("delivery", "enqueue", "write", "fsync", "save"):
 * vigil_not_durable_total{sink,reason} += n. */
void vg_metric_not_durable(const char *sink, const char *reason, uint64_t n);

#endif
