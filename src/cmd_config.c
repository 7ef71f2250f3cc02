/* `vigil config check -c vigil.json [--series KEY]...`: validates a config
 * the way `vigil run` would (every key, rule and detector parameter, with
 * file:line:col on errors) and prints, for each series key given, which
 * rule applies and the effective settings. `vigil config reference` prints
 * every core key with its type, default and range. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "detectors/detector.h"
#include "detectors/ensemble.h"
#include "src/cli.h"
#include "engine/guard.h"
#include "engine/config.h"
#include "engine/pipeline.h"
#include "src/run.h"
#include "streams/stream.h"

static void config_help(void)
{
    printf("usage: vigil config check -c vigil.json [--series KEY]...\n"
           "       vigil config reference\n"
           "\n"
           "check      validates the file (exit 1 with file:line:col: key: problem);\n"
           "           outputs and the Kafka input are checked when vigil opens them\n"
           "           and shows, for each --series (a canonical key such as\n"
           "           'latency_ms{host=\"db-1\"}'), the rule that applies and the\n"
           "           effective detectors, parameters, thresholds and severity\n"
           "reference  the core keys with their types, defaults and ranges\n");
}

static int check(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"series", required_argument, NULL, 's'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *path = NULL;
    const char *series[64];
    size_t n_series = 0;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:s:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'c': path = optarg; break;
        case 's':
            if (n_series == sizeof(series) / sizeof(series[0]))
                return vg_cli_usage_error("config", "at most 64 --series");
            series[n_series++] = optarg;
            break;
        case 'h': config_help(); return 0;
        default:  return vg_cli_usage_error("config", "bad option");
        }
    }
    if (path == NULL)
        return vg_cli_usage_error("config", "check needs -c vigil.json");
    vg_error err = {0};
    char msg[256];
    vg_config *cfg = vg_config_load(path, &err);
    vg_pipeline *p = cfg ? vg_pipeline_new(cfg, &err) : NULL;
    if (p != NULL && vg_run_check_config(cfg, &err) != VG_OK) {
        vg_pipeline_free(p);
        p = NULL;
    }
    if (p == NULL) {
        fprintf(stderr, "%s\n", vg_error_format(&err, msg, sizeof(msg)));
        vg_config_free(cfg);
        return 1;
    }
    printf("%s: ok (%zu detector column%s, %zu bytes per series at most)\n", path,
           vg_pipeline_detector_count(p), vg_pipeline_detector_count(p) == 1 ? "" : "s",
           vg_pipeline_series_bytes(p));
    for (size_t i = 0; i < n_series; i++)
        vg_pipeline_describe_series(p, series[i], strlen(series[i]), stdout);
    vg_pipeline_free(p);
    vg_config_free(cfg);
    return 0;
}

int vg_cmd_config(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "check") == 0)
        return check(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "reference") == 0) {
        vg_config_describe(stdout);
        vg_guard_describe(stdout);
        vg_ensemble_describe(stdout);
        for (size_t i = 0; i < vg_detector_count(); i++) {
            const vg_detector_ops *d = vg_detector_at(i);
            char path[64];
            snprintf(path, sizeof(path), "detectors.%s", d->name);
            vg_conf_describe(d->fields, d->n_fields, path, stdout);
        }
        printf("outputs[].type                   choice   ");
        for (size_t i = 0; i < vg_sink_type_count(); i++)
            printf("%s%s", i ? "|" : "", vg_sink_type_at(i)->name);
        printf("  where events go (README: Outputs)\n");
        return 0;
    }
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        config_help();
        return 0;
    }
    return vg_cli_usage_error("config", "expected 'check' or 'reference'");
}
