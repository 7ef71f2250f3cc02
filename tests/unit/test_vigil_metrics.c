/* vigil's metric set: every family is there under its Prometheus name, the
 * update calls reach the right sample, closed label sets start at zero,
 * partition lag comes and goes, and open label sets stop at their bound.
 * The registry is process-wide, so the tests run in order and look at the
 * samples each one touches. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tests/unit/helpers.h"

#include "core/vigil_metrics.h"

static char *render(void)
{
    vg_metrics *reg = vg_metric_registry();
    assert_non_null(reg);
    size_t len = 0;
    char *text = vg_metrics_render(reg, &len, NULL);
    assert_non_null(text);
    return text;
}

static void assert_has(const char *text, const char *line)
{
    if (strstr(text, line) == NULL)
        fail_msg("missing \"%s\" in:\n%s", line, text);
}

static void every_family_in_order(void **state)
{
    (void)state;
    static const char *const types[] = {
        "vigil_points_read_total counter",
        "vigil_points_scored_total counter",
        "vigil_csv_malformed_rows_total counter",
        "vigil_series_evicted_total counter",
        "vigil_alert_delivery_failures_total counter",
        "vigil_event_log_written_bytes_total counter",
        "vigil_alertmanager_posts_total counter",
        "vigil_alertmanager_post_failures_total counter",
        "vigil_offset_rewinds_total counter",
        "vigil_event_log_torn_lines_total counter",
        "vigil_checkpoints_held_total counter",
        "vigil_checkpoints_total counter",
        "vigil_state_torn_bytes_total counter",
        "vigil_points_repartitioned_total counter",
        "vigil_points_out_of_order_total counter",
        "vigil_series_multi_partition_total counter",
        "vigil_score_post_failures_total counter",
        "vigil_alertmanager_dropped_total counter",
        "vigil_incident_joins_forgotten_total counter",
        "process_cpu_seconds_total counter",
        "vigil_parse_errors_total counter",
        "vigil_events_total counter",
        "vigil_detector_seconds_total counter",
        "vigil_config_reloads_total counter",
        "vigil_state_written_bytes_total counter",
        "vigil_feedback_total counter",
        "vigil_remote_write_requests_total counter",
        "vigil_score_points_total counter",
        "vigil_dead_letters_total counter",
        "vigil_incidents_firing gauge",
        "vigil_series_active gauge",
        "vigil_consumer_lag_messages gauge",
        "vigil_not_durable_total counter",
        "vigil_build_info gauge",
        "vigil_last_checkpoint_timestamp_seconds gauge",
        "vigil_checkpoint_age_seconds gauge",
        "vigil_alertmanager_queue_depth gauge",
        "process_resident_memory_bytes gauge",
        "process_open_fds gauge",
        "process_max_fds gauge",
        "process_start_time_seconds gauge",
        "vigil_batch_duration_seconds histogram",
    };
    assert_int_equal(sizeof(types) / sizeof(types[0]), VG_M__COUNT);
    char *text = render();
    const char *at = text;
    for (size_t i = 0; i < VG_M__COUNT; i++) {
        char line[128];
        snprintf(line, sizeof(line), "# TYPE %s\n", types[i]);
        const char *next = strstr(at, line);
        if (next == NULL)
            fail_msg("missing or out of order: %s", line);
        at = next;
    }
    assert_has(text, "vigil_points_read_total 0\n");
    assert_has(text, "vigil_events_total{state=\"firing\"} 0\n"
                     "vigil_events_total{state=\"resolved\"} 0\n");
    assert_has(text, "vigil_config_reloads_total{result=\"success\"} 0\n"
                     "vigil_config_reloads_total{result=\"failure\"} 0\n");
    /* Two labels: each (result, source) pair there is, at zero. */
    assert_has(text, "vigil_feedback_total{result=\"not_anomalous\",source=\"http\"} 0\n"
                     "vigil_feedback_total{result=\"anomalous\",source=\"http\"} 0\n"
                     "vigil_feedback_total{result=\"refused\",source=\"http\"} 0\n"
                     "vigil_feedback_total{result=\"unauthorized\",source=\"http\"} 0\n"
                     "vigil_feedback_total{result=\"dropped\",source=\"http\"} 0\n"
                     "vigil_feedback_total{result=\"not_anomalous\",source=\"kafka\"} 0\n"
                     "vigil_feedback_total{result=\"anomalous\",source=\"kafka\"} 0\n"
                     "vigil_feedback_total{result=\"refused\",source=\"kafka\"} 0\n"
                     "vigil_feedback_total{result=\"dropped\",source=\"kafka\"} 0\n"
                     "# HELP");
    assert_has(text, "vigil_batch_duration_seconds_bucket{le=\"0.0001\"} 0\n");
    assert_has(text, "vigil_batch_duration_seconds_bucket{le=\"10\"} 0\n");
    free(text);
}

static void updates_reach_their_samples(void **state)
{
    (void)state;
    double t0 = vg_metric_seconds();
    vg_metric_inc(VG_M_POINTS_READ, 7);
    vg_metric_inc(VG_M_POINTS_SCORED, 5);
    vg_metric_inc(VG_M_POINTS_SCORED, 5);
    vg_metric_inc(VG_M_EVENT_LOG_BYTES, 4096);
    vg_metric_set(VG_M_SERIES_ACTIVE, 1200);
    vg_metrics_set(vg_metric_with(VG_M_INCIDENTS_FIRING, (const char *const[]){"db", "critical"}),
                   1);
    vg_metric_observe(VG_M_BATCH_SECONDS, 0.003);
    vg_metric_label_inc(VG_M_EVENTS, "firing", 3);
    vg_metric_label_inc(VG_M_PARSE_ERRORS, "bad_number", 2);
    vg_metric_label_add(VG_M_DETECTOR_SECONDS, "zscore", 0.25);
    vg_metric_label_add(VG_M_DETECTOR_SECONDS, "zscore", 0.5);
    vg_metrics_inc(vg_metric_with(VG_M_CONFIG_RELOADS, (const char *const[]){"failure"}), 1);
    vg_metric_labels_inc(VG_M_FEEDBACK, (const char *const[]){"refused", "kafka"}, 2);
    vg_metric_labels_inc(VG_M_FEEDBACK, (const char *const[]){"refused", "http"}, 1);
    assert_true(vg_metric_seconds() >= t0);  /* monotonic */

    char *text = render();
    assert_has(text, "vigil_points_read_total 7\n");
    assert_has(text, "vigil_points_scored_total 10\n");
    assert_has(text, "vigil_event_log_written_bytes_total 4096\n");
    assert_has(text, "vigil_series_active 1200\n");
    assert_has(text, "vigil_incidents_firing{rule=\"db\",severity=\"critical\"} 1\n");
    assert_has(text, "vigil_batch_duration_seconds_bucket{le=\"0.0025\"} 0\n"
                     "vigil_batch_duration_seconds_bucket{le=\"0.005\"} 1\n");
    assert_has(text, "vigil_batch_duration_seconds_sum 0.003\n"
                     "vigil_batch_duration_seconds_count 1\n");
    assert_has(text, "vigil_events_total{state=\"firing\"} 3\n"
                     "vigil_events_total{state=\"resolved\"} 0\n");
    assert_has(text, "vigil_parse_errors_total{reason=\"bad_number\"} 2\n");
    assert_has(text, "vigil_detector_seconds_total{detector=\"zscore\"} 0.75\n");
    assert_has(text, "vigil_config_reloads_total{result=\"failure\"} 1\n");
    assert_has(text, "vigil_feedback_total{result=\"refused\",source=\"http\"} 1\n");
    assert_has(text, "vigil_feedback_total{result=\"refused\",source=\"kafka\"} 2\n");
    free(text);
}

static void partition_lag_comes_and_goes(void **state)
{
    (void)state;
    vg_metric_lag_set("metrics", 3, 120);
    vg_metric_lag_set("metrics", 0, 5);
    vg_metric_lag_set("metrics", 3, 80);
    char *text = render();
    assert_has(text, "vigil_consumer_lag_messages{topic=\"metrics\",partition=\"3\"} 80\n"
                     "vigil_consumer_lag_messages{topic=\"metrics\",partition=\"0\"} 5\n");
    free(text);

    vg_metric_lag_drop("metrics", 3);
    vg_metric_lag_drop("other", 9);  /* never seen: nothing to do */
    text = render();
    assert_null(strstr(text, "partition=\"3\""));
    assert_has(text, "vigil_consumer_lag_messages{topic=\"metrics\",partition=\"0\"} 5\n");
    free(text);
}

static void open_label_sets_stop_at_their_bound(void **state)
{
    (void)state;
    size_t kept = 0;
    for (int i = 0; i < 40; i++) {  /* the bound is 32, one reason is already in */
        char reason[32];
        snprintf(reason, sizeof(reason), "reason_%02d", i);
        if (vg_metric_with(VG_M_PARSE_ERRORS, (const char *const[]){reason}) != NULL)
            kept++;
        vg_metric_label_inc(VG_M_PARSE_ERRORS, reason, 1);  /* dropped past the bound */
    }
    assert_int_equal(kept, 31);
    char *text = render();
    assert_has(text, "vigil_parse_errors_total{reason=\"reason_30\"} 1\n");
    assert_null(strstr(text, "reason_31"));
    assert_has(text, "vigil_parse_errors_total{reason=\"bad_number\"} 2\n");
    free(text);
    assert_null(vg_metric_with(VG_M_DETECTOR_SECONDS, (const char *const[]){"\xFF"}));
}

/* process_* from /proc: this very process, so known bounds. */
static void process_stats_of_this_process(void **state)
{
    (void)state;
    vg_metric_process_refresh();
    char *text = render();
    double rss = 0, fds = 0, max_fds = 0, start = 0;
    const char *at;
    assert_non_null(at = strstr(text, "\nprocess_resident_memory_bytes "));
    rss = strtod(strchr(at + 1, ' '), NULL);
    assert_non_null(at = strstr(text, "\nprocess_open_fds "));
    fds = strtod(strchr(at + 1, ' '), NULL);
    assert_non_null(at = strstr(text, "\nprocess_max_fds "));
    max_fds = strtod(strchr(at + 1, ' '), NULL);
    assert_non_null(at = strstr(text, "\nprocess_start_time_seconds "));
    start = strtod(strchr(at + 1, ' '), NULL);
    assert_non_null(strstr(text, "\nprocess_cpu_seconds_total "));
    assert_true(rss > 1e5 && rss < 1e10);
    assert_true(fds >= 3 && fds <= max_fds);
    double now = (double)time(NULL);
    assert_true(start > now - 3600 && start <= now + 1);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_family_in_order),
        cmocka_unit_test(updates_reach_their_samples),
        cmocka_unit_test(partition_lag_comes_and_goes),
        cmocka_unit_test(open_label_sets_stop_at_their_bound),
        cmocka_unit_test(process_stats_of_this_process),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
