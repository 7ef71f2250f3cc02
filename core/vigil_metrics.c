/* vigil's metric set, defined once in the table below, and the calls that
 * update it; see vigil_metrics.h.
 *
 * Names follow Prometheus conventions: a vigil_ prefix, base units (seconds,
 * bytes) spelled out as a suffix, counters rendered with _total. Labels with
 * a known, closed set of values (event state, reload result) are created at
 * start-up so they show zeros before the first event; open sets (parse
 * reasons, detectors, partitions) grow as values appear, up to a bound. */
#include "core/vigil_metrics.h"

#include <pthread.h>
#include <stdio.h>
#include <time.h>

#include "core/log.h"

/* Batch processing time: from 100 µs (a few thousand points) to 10 s. */
static const double batch_bounds[] = {
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
    0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
};

typedef struct vigil_metric {
    vg_metric_desc     d;
    /* Children created at start-up: their label values one label after
     * the other (one string per label of the metric, so pairs for two
     * labels), NULL-terminated. */
    const char *const *preset;
} vigil_metric;

static const char *const event_states[] = {"firing", "resolved", NULL};
static const char *const reload_results[] = {"success", "failure", NULL};
static const char *const state_kinds[] = {"changes", "whole", NULL};
/* (result, source) pairs: only HTTP has a token to lack. */
static const char *const feedback_results[] = {
    "not_anomalous", "http",  "anomalous", "http",  "refused", "http",
    "unauthorized",  "http",  "dropped",   "http",  "not_anomalous", "kafka",
    "anomalous",     "kafka", "refused",   "kafka", "dropped", "kafka", NULL};
static const char *const rw_codes[] = {"204", "400", "413", "503", NULL};
static const char *const score_results[] = {"sent", "dropped", "rejected", NULL};

#define COUNTER(id, name, help) \
    [id] = {{VG_METRIC_COUNTER, name, help, {NULL}, 0, NULL, 0}, NULL}
#define COUNTER_BY(id, name, help, label, max, preset) \
    [id] = {{VG_METRIC_COUNTER, name, help, {label}, max, NULL, 0}, preset}
#define GAUGE(id, name, help) \
    [id] = {{VG_METRIC_GAUGE, name, help, {NULL}, 0, NULL, 0}, NULL}

static const vigil_metric table[VG_M__COUNT] = {
    COUNTER(VG_M_POINTS_READ, "vigil_points_read",
            "Points parsed from the input, before scoring."),
    COUNTER(VG_M_POINTS_SCORED, "vigil_points_scored",
            "Points scored by the detectors."),
    COUNTER(VG_M_CSV_MALFORMED_ROWS, "vigil_csv_malformed_rows",
            "CSV rows skipped because they could not be read."),
    COUNTER(VG_M_SERIES_EVICTED, "vigil_series_evicted",
            "Series dropped from the series table to make room for new ones."),
    COUNTER(VG_M_ALERT_DELIVERY_FAILURES, "vigil_alert_delivery_failures",
            "Events the alert topic did not acknowledge."),
    COUNTER(VG_M_EVENT_LOG_BYTES, "vigil_event_log_written_bytes",
            "Bytes written to the NDJSON event log."),
    COUNTER(VG_M_ALERTMANAGER_POSTS, "vigil_alertmanager_posts",
            "Alert batches posted to Alertmanager."),
    COUNTER(VG_M_ALERTMANAGER_FAILURES, "vigil_alertmanager_post_failures",
            "Alertmanager posts that failed."),
    COUNTER(VG_M_OFFSET_REWINDS, "vigil_offset_rewinds",
            "Messages fetched below the saved position (an offset reset): skipped."),
    COUNTER(VG_M_EVENT_LOG_TORN, "vigil_event_log_torn_lines",
            "Partial last lines found in the event log on open and cut off."),
    COUNTER(VG_M_CHECKPOINTS_HELD, "vigil_checkpoints_held",
            "Checkpoints held back (offsets not committed) because something was not durable."),
    COUNTER(VG_M_CHECKPOINTS, "vigil_checkpoints",
            "Checkpoints completed: outputs flushed, state saved, offsets committed."),
    COUNTER(VG_M_STATE_TORN_BYTES, "vigil_state_torn_bytes",
            "Bytes of unfinished state saves (a crash mid-save) ignored when loading."),
    COUNTER(VG_M_POINTS_REPARTITIONED, "vigil_points_repartitioned",
            "Points of \"repartition\" topics re-keyed by series to their internal topic."),
    COUNTER(VG_M_POINTS_OUT_OF_ORDER, "vigil_points_out_of_order",
            "Points older than their series' last point (scored anyway)."),
    COUNTER(VG_M_SERIES_MULTI_PARTITION, "vigil_series_multi_partition",
            "Series seen arriving on a second partition (an unkeyed topic: set "
            "\"repartition\" on it)."),
    COUNTER(VG_M_SCORE_POST_FAILURES, "vigil_score_post_failures",
            "Remote-write output requests that failed (retried unless rejected)."),
    COUNTER(VG_M_ALERTMANAGER_DROPPED, "vigil_alertmanager_dropped",
            "Alerts dropped unsent: the queue was full, or vigil closed."),
    COUNTER(VG_M_JOINS_FORGOTTEN, "vigil_incident_joins_forgotten",
            "Series forgotten by their group incident while firing (alert.group_window_s: "
            "a day past its leader's firing, or too many remembered)."),
    COUNTER(VG_M_PROCESS_CPU, "process_cpu_seconds",
            "Total user and system CPU time spent, in seconds."),
    COUNTER_BY(VG_M_PARSE_ERRORS, "vigil_parse_errors",
               "Input messages or lines rejected by a parser, by reason.",
               "reason", 32, NULL),
    COUNTER_BY(VG_M_EVENTS, "vigil_events",
               "Anomaly events emitted, by state.", "state", 2, event_states),
    COUNTER_BY(VG_M_DETECTOR_SECONDS, "vigil_detector_seconds",
               "Time spent scoring, by detector.", "detector", 16, NULL),
    COUNTER_BY(VG_M_CONFIG_RELOADS, "vigil_config_reloads",
               "Configuration reloads, by result.", "result", 2, reload_results),
    COUNTER_BY(VG_M_STATE_BYTES, "vigil_state_written_bytes",
               "Bytes of saved state written: logs of changes, or whole snapshots.", "kind", 2,
               state_kinds),
    [VG_M_FEEDBACK] = {{VG_METRIC_COUNTER, "vigil_feedback",
                        "Verdicts on incidents by source (POST /feedback: http, the Kafka "
                        "feedback topic: kafka): applied by verdict, refused, without the "
                        "token, or dropped (queue full).", {"result", "source"}, 10, NULL, 0},
                       feedback_results},
    COUNTER_BY(VG_M_REMOTE_WRITE_REQUESTS, "vigil_remote_write_requests",
               "Remote-write requests received, by the HTTP status answered.", "code", 8,
               rw_codes),
    COUNTER_BY(VG_M_SCORE_POINTS, "vigil_score_points",
               "Scored points of the score outputs (remote-write, Influx on Kafka), by result.", "result", 3,
               score_results),
    COUNTER_BY(VG_M_DEAD_LETTERS, "vigil_dead_letters",
               "Rejected messages sent to the dead-letter topic, by parser reason.", "reason",
               32, NULL),
    /* One child per rule and severity (the config bounds them): 2 x 257. */
    [VG_M_INCIDENTS_FIRING] = {{VG_METRIC_GAUGE, "vigil_incidents_firing",
                                "Incidents firing now and notified (not muted), by rule and "
                                "severity.",
                                {"rule", "severity"}, 514, NULL, 0}, NULL},
    GAUGE(VG_M_SERIES_ACTIVE, "vigil_series_active",
          "Series held in the series table."),
    [VG_M_CONSUMER_LAG] = {{VG_METRIC_GAUGE, "vigil_consumer_lag_messages",
                            "Messages between the consumer's position and the end of "
                            "the partition.", {"topic", "partition"}, 1024, NULL, 0}, NULL},
    [VG_M_NOT_DURABLE] = {{VG_METRIC_COUNTER, "vigil_not_durable",
                           "Events or state an output failed to make durable, by output and "
                           "reason (retried; the checkpoint waits).", {"sink", "reason"}, 64,
                           NULL, 0}, NULL},
    [VG_M_BUILD_INFO] = {{VG_METRIC_GAUGE, "vigil_build_info",
                          "Always 1; the version of this vigil as a label.", {"version"}, 1,
                          NULL, 0}, NULL},
    GAUGE(VG_M_CHECKPOINT_LAST, "vigil_last_checkpoint_timestamp_seconds",
          "Unix time of the last checkpoint that saved every partition and committed."),
    GAUGE(VG_M_CHECKPOINT_AGE, "vigil_checkpoint_age_seconds",
          "Seconds since the last complete checkpoint (since the start before the first)."),
    GAUGE(VG_M_ALERTMANAGER_QUEUE, "vigil_alertmanager_queue_depth",
          "Alerts waiting to be posted to Alertmanager (held resolutions included)."),
    GAUGE(VG_M_PROCESS_RSS, "process_resident_memory_bytes", "Resident memory size in bytes."),
    GAUGE(VG_M_PROCESS_FDS, "process_open_fds", "Number of open file descriptors."),
    GAUGE(VG_M_PROCESS_MAX_FDS, "process_max_fds", "Maximum number of open file descriptors."),
    GAUGE(VG_M_PROCESS_START, "process_start_time_seconds",
          "Start time of the process since the Unix epoch, in seconds."),
    [VG_M_BATCH_SECONDS] = {{VG_METRIC_HISTOGRAM, "vigil_batch_duration_seconds",
                             "Time to score one batch of points.", {NULL}, 0, batch_bounds,
                             sizeof(batch_bounds) / sizeof(batch_bounds[0])}, NULL},
};

static pthread_once_t once = PTHREAD_ONCE_INIT;
static vg_metrics *registry;
static vg_metric_family *families[VG_M__COUNT];
static vg_metric_child *plain[VG_M__COUNT];  /* unlabelled metrics' only child */

static pthread_mutex_t warn_lock = PTHREAD_MUTEX_INITIALIZER;
static vg_ratelimit warn_limit;

static int register_all(vg_metrics *reg, vg_error *err)
{
    for (size_t id = 0; id < VG_M__COUNT; id++) {
        const vigil_metric *m = &table[id];
        families[id] = vg_metrics_register(reg, &m->d, err);
        if (families[id] == NULL)
            return err->code;
        if (m->d.labels[0] == NULL)
            plain[id] = vg_metrics_plain(families[id]);
        size_t n_labels = 0;
        while (n_labels < VG_METRICS_MAX_LABELS && m->d.labels[n_labels] != NULL)
            n_labels++;
        for (size_t i = 0; m->preset != NULL && m->preset[i] != NULL; i += n_labels)
            if (vg_metrics_child(families[id], &m->preset[i], err) == NULL)
                return err->code;
    }
    return VG_OK;
}

static void init(void)
{
    vg_error err = {0};
    vg_metrics *reg = vg_metrics_new(VG_M__COUNT, &err);
    if (reg == NULL || register_all(reg, &err) != VG_OK) {
        char buf[256];
        vg_err("self-metrics disabled: %s", vg_error_format(&err, buf, sizeof(buf)));
        vg_metrics_free(reg);
        for (size_t id = 0; id < VG_M__COUNT; id++)
            families[id] = NULL, plain[id] = NULL;
        return;
    }
    registry = reg;
}

vg_metrics *vg_metric_registry(void)
{
    pthread_once(&once, init);
    return registry;
}

/* The unlabelled metric id's child, or NULL when metrics are disabled. */
static vg_metric_child *plain_child(vg_metric_id id)
{
    vg_assert((unsigned)id < VG_M__COUNT);
    if (vg_metric_registry() == NULL)
        return NULL;
    vg_assert(plain[id] != NULL);  /* a labelled metric needs its label values */
    return plain[id];
}

void vg_metric_inc(vg_metric_id id, uint64_t n)
{
    vg_metric_child *c = plain_child(id);
    if (c != NULL)
        vg_metrics_inc(c, n);
}

void vg_metric_add(vg_metric_id id, double v)
{
    vg_metric_child *c = plain_child(id);
    if (c != NULL)
        vg_metrics_add(c, v);
}

void vg_metric_set(vg_metric_id id, double v)
{
    vg_metric_child *c = plain_child(id);
    if (c != NULL)
        vg_metrics_set(c, v);
}

void vg_metric_observe(vg_metric_id id, double v)
{
    vg_metric_child *c = plain_child(id);
    if (c != NULL)
        vg_metrics_observe(c, v);
}

vg_metric_child *vg_metric_with(vg_metric_id id, const char *const *values)
{
    vg_assert((unsigned)id < VG_M__COUNT);
    if (vg_metric_registry() == NULL)
        return NULL;
    vg_assert(plain[id] == NULL);  /* an unlabelled metric has no children to pick */
    vg_error err = {0};
    vg_metric_child *c = vg_metrics_child(families[id], values, &err);
    if (c == NULL) {
        char buf[256];
        pthread_mutex_lock(&warn_lock);
        vg_log_limited(&warn_limit, VG_LOG_WARN, "update dropped: %s",
                       vg_error_format(&err, buf, sizeof(buf)));
        pthread_mutex_unlock(&warn_lock);
    }
    return c;
}

/* The child of one-label metric id for value, or NULL. */
static vg_metric_child *with_one(vg_metric_id id, const char *value)
{
    vg_assert((unsigned)id < VG_M__COUNT && table[id].d.labels[1] == NULL);
    return vg_metric_with(id, &value);
}

void vg_metric_label_inc(vg_metric_id id, const char *value, uint64_t n)
{
    vg_metric_child *c = with_one(id, value);
    if (c != NULL)
        vg_metrics_inc(c, n);
}

void vg_metric_labels_inc(vg_metric_id id, const char *const *values, uint64_t n)
{
    vg_metric_child *c = vg_metric_with(id, values);
    if (c != NULL)
        vg_metrics_inc(c, n);
}

void vg_metric_label_add(vg_metric_id id, const char *value, double v)
{
    vg_metric_child *c = with_one(id, value);
    if (c != NULL)
        vg_metrics_add(c, v);
}

double vg_metric_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void vg_metric_lag_set(const char *topic, int32_t partition, int64_t lag)
{
    char part[16];
    snprintf(part, sizeof(part), "%d", (int)partition);
    vg_metric_child *c = vg_metric_with(VG_M_CONSUMER_LAG, (const char *const[]){topic, part});
    if (c != NULL)
        vg_metrics_set(c, (double)lag);
}

void vg_metric_lag_drop(const char *topic, int32_t partition)
{
    char part[16];
    snprintf(part, sizeof(part), "%d", (int)partition);
    if (vg_metric_registry() == NULL)
        return;
    vg_metric_child *c = vg_metrics_find(families[VG_M_CONSUMER_LAG],
                                         (const char *const[]){topic, part});
    if (c != NULL)
        vg_metrics_drop(c);
}

void vg_metric_not_durable(const char *sink, const char *reason, uint64_t n)
{
    vg_metric_labels_inc(VG_M_NOT_DURABLE, (const char *const[]){sink, reason}, n);
}
