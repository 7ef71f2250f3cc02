/* `vigil demo`: the zero-setup way to see vigil work. An embedded Kafka
 * broker, a synthetic fleet of 24 metric series with four injected
 * anomalies, and `vigil run` over them, together in one process: incidents
 * print as they fire, alerts go to the alert topic, and the end shows which
 * injected anomaly each incident caught. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "src/cli.h"
#include "engine/config.h"
#include "core/event.h"
#include "core/log.h"
#include "src/run.h"
#include "streams/demo_producer.h"

typedef struct demo_opts {
    int    steps;
    double seconds;
} demo_opts;

/* Silence after which a demo whose producer is done stops even though
 * fewer points were read than sent (a message lost must not hang it). */
#define DEMO_GIVE_UP_IDLE_MS 30000

/* Done once the producer is done and every message it sent (one point
 * each) has been read. A pause in the input says nothing: on a loaded
 * machine the consumer can stall for seconds mid-stream, and stopping
 * then reported a demo that had read half its data. */
static int demo_should_stop(void *ctx, uint64_t idle_ms, const vg_run_stats *so_far)
{
    vg_demo_producer *producer = ctx;
    if (!vg_demo_producer_done(producer))
        return 0;
    return so_far->points >= vg_demo_producer_sent(producer) || idle_ms > DEMO_GIVE_UP_IDLE_MS;
}

/* The injected anomaly an incident of `series` starting at start_ms
 * caught (it began inside it or within an hour of its end), or -1: a
 * false incident. */
static int matching_anomaly(const vg_demo_anomaly *injected, size_t n, const char *series,
                            json_int_t start)
{
    for (size_t k = 0; k < n && series != NULL; k++)
        if (strcmp(series, injected[k].series) == 0 && start >= injected[k].start_ms &&
            start <= injected[k].end_ms + 12 * 300000)
            return (int)k;
    return -1;
}

/* Prints, for every injected anomaly, whether an incident caught it, and
 * how many incidents caught none (false incidents). */
static void report(const char *events_path)
{
    size_t n;
    const vg_demo_anomaly *injected = vg_demo_anomalies(&n);
    json_error_t jerr;
    size_t caught = 0, incidents = 0, resolved = 0, false_incidents = 0;
    int found[16] = {0};
    FILE *f = fopen(events_path, "r");
    char line[65536];
    while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
        json_t *ev = json_loads(line, 0, &jerr);
        const char *state = json_string_value(json_object_get(ev, "state"));
        const char *series = json_string_value(json_object_get(ev, "series"));
        json_int_t start = json_integer_value(json_object_get(ev, "start_ms"));
        if (state != NULL && strcmp(state, "firing") == 0) {
            incidents++;
            int k = matching_anomaly(injected, n, series, start);
            if (k >= 0)
                found[k] = 1;
            else  /* one joining another series' incident pages no one, unless it escalates */
                false_incidents += json_object_get(ev, "group_id") == NULL ||
                                   json_is_true(json_object_get(ev, "escalated"));
        } else if (state != NULL) {
            resolved++;
        }
        json_decref(ev);
    }
    if (f != NULL)
        fclose(f);
    printf("\ninjected anomalies:\n");
    for (size_t k = 0; k < n; k++) {
        char at[32];
        vg_format_rfc3339(injected[k].start_ms, at);
        printf("  %-12s %-34s from %s  %s\n", injected[k].kind, injected[k].series, at,
               found[k] ? "caught" : "missed");
        caught += (size_t)found[k];
    }
    printf("%zu of %zu injected anomalies caught; %zu false incidents "
           "(%zu incidents, %zu resolved, over %zu series)\n",
           caught, n, false_incidents, incidents, resolved, vg_demo_series_count());
}

int vg_cmd_demo(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"steps", required_argument, NULL, 's'},
        {"seconds", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    demo_opts o = {2400, 10.0};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 's': o.steps = atoi(optarg); break;
        case 't': o.seconds = atof(optarg); break;
        case 'h':
            printf("usage: vigil demo [--steps N] [--seconds S]\n\n"
                   "Starts an embedded Kafka broker, produces N points (default 2400:\n"
                   "about 8 days at 5-minute steps) for each of 24 synthetic series with\n"
                   "four injected anomalies over about S seconds (default 10), and runs\n"
                   "the detector on them, printing incidents as they fire.\n");
            return 0;
        default:
            return vg_cli_usage_error("demo", "bad option");
        }
    }
    if (o.steps < 1000 || o.seconds < 0)
        return vg_cli_usage_error("demo", "--steps must be at least 1000");

    char events[64];
    snprintf(events, sizeof(events), "/tmp/vigil-demo-%d.ndjson", (int)getpid());
    char text[1024];
    snprintf(text, sizeof(text),
             "{\"input\": {\"brokers\": \"embedded\", \"group\": \"vigil-demo\", \"partitions\": 4,"
             "  \"topics\": [{\"name\": \"metrics\", \"format\": \"json\"}]},"
             " \"outputs\": [{\"type\": \"console\"},"
             "  {\"type\": \"kafka\", \"brokers\": \"embedded\", \"topic\": \"vigil-alerts\"},"
             "  {\"type\": \"ndjson\", \"path\": \"%s\", \"fsync\": \"never\"}],"
             " \"log\": {\"level\": \"warn\"}}",
             events);
    vg_error err = {0};
    char msg[256];
    vg_config *cfg = vg_config_load_string(text, "<demo>", &err);
    if (cfg == NULL) {
        fprintf(stderr, "vigil demo: %s\n", vg_error_format(&err, msg, sizeof(msg)));
        return 1;
    }
    vg_log_set_level((vg_log_level)cfg->log_level);
    printf("vigil demo: embedded broker, %zu series x %d points (5-minute steps), "
           "incidents as they fire\n(each series learns a day before it may page: "
           "alert.warmup_s):\n\n", vg_demo_series_count(), o.steps);
    fflush(stdout);

    vg_demo_producer *dp = vg_demo_producer_start("metrics", o.steps, o.seconds, &err);
    vg_run_options opt = {.should_stop = demo_should_stop, .ctx = dp};
    vg_cli_catch_stop_signals(&opt.stop);
    vg_run_stats st = {0};
    int rc = dp ? vg_run(cfg, &opt, &st, &err) : err.code;
    if (rc != VG_OK) {
        vg_demo_producer_stop(dp);
        fprintf(stderr, "vigil demo: %s\n", vg_error_format(&err, msg, sizeof(msg)));
        vg_config_free(cfg);
        unlink(events);
        return 1;
    }
    printf("\nproduced %llu messages; processed %llu points in %llu batches; %llu events\n"
           "to the console, the vigil-alerts topic and the event log\n",
           (unsigned long long)vg_demo_producer_sent(dp), (unsigned long long)st.points,
           (unsigned long long)st.batches, (unsigned long long)st.events);
    vg_demo_producer_stop(dp);
    report(events);
    unlink(events);
    vg_config_free(cfg);
    return 0;
}
