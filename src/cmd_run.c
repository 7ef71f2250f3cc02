/* `vigil run -c vigil.json`: the stream processor (src/run.c) under
 * signals: SIGTERM and SIGINT stop it cleanly (finish the batch, flush,
 * save state, commit, leave the group, exit 0). */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "src/cli.h"
#include "core/log.h"
#include "src/run.h"

static volatile sig_atomic_t stop_requested, reload_requested;

static void on_stop_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static void on_reload_signal(int sig)
{
    (void)sig;
    reload_requested = 1;
}

static void run_help(void)
{
    printf("usage: vigil run -c vigil.json\n"
           "\n"
           "Consumes metrics from Kafka in a consumer group, scores every point, and\n"
           "sends incidents to the configured outputs (alert topic, NDJSON log, ...).\n"
           "Offsets are committed only after the events they caused are out and the\n"
           "partitions' state is saved; a restart resumes warm.\n"
           "\n"
           "options:\n"
           "  -c, --config FILE    vigil.json (required; see examples/)\n"
           "  -h, --help           this text\n"
           "\n"
           "SIGTERM or SIGINT stop it cleanly; SIGHUP re-reads the config (thresholds,\n"
           "rules, detectors and outputs change, series keep their state; an invalid\n"
           "file is rejected and the running config stays).\n");
}

/* SIGTERM/SIGINT set the stop flag; no SA_RESTART, so a blocking poll
 * returns early. SIGPIPE is ignored: a peer that hangs up (an HTTP client,
 * Alertmanager, a broker) is a write error to count and retry, never a
 * reason for a long-running process to die without a word. */
void vg_cli_catch_stop_signals(volatile sig_atomic_t **flag)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    *flag = &stop_requested;
}

int vg_cmd_run(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *config = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'c': config = optarg; break;
        case 'h': run_help(); return 0;
        default:  return vg_cli_usage_error("run", "bad option");
        }
    }
    if (config == NULL)
        return vg_cli_usage_error("run", "-c vigil.json is required");

    vg_error err = {0};
    char msg[256];
    vg_config *cfg = vg_config_load(config, &err);
    if (cfg == NULL) {
        fprintf(stderr, "vigil run: %s\n", vg_error_format(&err, msg, sizeof(msg)));
        return 1;
    }
    vg_log_set_level((vg_log_level)cfg->log_level);

    vg_run_options opt = {0};
    vg_cli_catch_stop_signals(&opt.stop);
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_reload_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGHUP, &sa, NULL);
    opt.reload = &reload_requested;
    opt.config_path = config;
    vg_run_stats st;
    int rc = vg_run(cfg, &opt, &st, &err);
    if (rc != VG_OK)
        fprintf(stderr, "vigil run: %s\n", vg_error_format(&err, msg, sizeof(msg)));
    else
        vg_info("stopped: %llu points, %llu events, %llu checkpoints",
                (unsigned long long)st.points, (unsigned long long)st.events,
                (unsigned long long)st.checkpoints);
    vg_config_free(cfg);
    return rc == VG_OK ? 0 : 1;
}
