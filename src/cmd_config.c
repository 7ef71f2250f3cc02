/* `vigil config check -c vigil.json [--series KEY]...`: validates a config
 * the way `vigil run` and `vigil replay` would, opening nothing (every key,
 * rule and detector parameter, the input and its parsers, the CSV source,
 * every output, state and metrics, with file:line:col on errors) and
 * prints, for each series key given, which rule applies and the effective
 * settings. `vigil config reference` prints every key of every section and
 * plug-in with its type, default, range and meaning, all from the modules'
 * own config tables. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "detectors/detector.h"
#include "detectors/ensemble.h"
#include "src/cli.h"
#include "engine/guard.h"
#include "engine/config.h"
#include "engine/pipeline.h"
#include "engine/rules.h"
#include "models/snapshot.h"
#include "src/run.h"
#include "src/http_server.h"
#include "streams/parse.h"
#include "streams/stream.h"

static void config_help(void)
{
    printf("usage: vigil config check -c vigil.json [--state FILE.vgstate] [--series KEY]...\n"
           "       vigil config reference\n"
           "\n"
           "check      validates the file as 'vigil run' and 'vigil replay' would, input\n"
           "           and outputs included (exit 1 with file:line:col: key: problem),\n"
           "           and shows, for each --series (a canonical key such as\n"
           "           'latency_ms{host=\"db-1\"}'), the rule that applies and the\n"
           "           effective detectors, parameters, thresholds and severity\n"
           "           (with --state, a saved state loaded first: also the series'\n"
           "           feedback floors)\n"
           "reference  every key with its type, default, range and meaning\n");
}

/* What `vigil run` and `vigil replay` validate beyond the pipeline, opening
 * nothing: the sources' objects (input, csv), every output, state and
 * metrics. */
static int check_io(const vg_config *cfg, vg_error *err)
{
    const json_t *root = vg_conf_doc_root(cfg->doc);
    int rc = VG_OK;
    for (size_t i = 0; i < vg_source_type_count() && rc == VG_OK; i++) {
        const vg_source_ops *src = vg_source_type_at(i);
        const json_t *obj = json_object_get(root, src->config_key);
        if (obj != NULL)
            rc = src->check(cfg->doc, obj, err);
    }
    for (size_t i = 0; i < json_array_size(cfg->outputs) && rc == VG_OK; i++) {
        const char *type = vg_config_output_type(cfg, i, err);
        rc = type != NULL ? vg_sink_check(type, cfg->doc, json_array_get(cfg->outputs, i), err)
                          : VG_ECONFIG;
    }
    return rc == VG_OK ? vg_run_check_config(cfg, err) : rc;
}

static int check(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"series", required_argument, NULL, 's'},
        {"state", required_argument, NULL, 'S'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *path = NULL, *state = NULL;
    const char *series[64];
    size_t n_series = 0;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:s:S:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'c': path = optarg; break;
        case 'S': state = optarg; break;
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
    if (p != NULL && (check_io(cfg, &err) != VG_OK ||
                      (state != NULL && vg_snapshot_load(p, state, NULL, &err) != VG_OK))) {
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

static void section(const char *title)
{
    printf("\n# %s\n", title);
}

/* The parsers: the keys every format reads, then each format's own. */
static void describe_parsers(void)
{
    vg_conf_field common[8];
    char choices[256], title[96];
    size_t n = vg_parser_common_fields(common, 8, choices, sizeof(choices));
    section("input.topics[]: every format (and \"name\", the topic)");
    vg_conf_describe(common, n, "input.topics[]", stdout);
    for (size_t i = 0; i < vg_parser_type_count(); i++) {
        const vg_parser_ops *ps = vg_parser_type_at(i);
        if (ps->n_fields == 0)
            continue;
        snprintf(title, sizeof(title), "input.topics[] with \"format\": \"%s\"", ps->name);
        section(title);
        vg_conf_describe(ps->fields, ps->n_fields, "input.topics[]", stdout);
    }
}

static void describe_io(void)
{
    char title[96];
    for (size_t i = 0; i < vg_source_type_count(); i++) {
        const vg_source_ops *src = vg_source_type_at(i);
        snprintf(title, sizeof(title), "%s: the %s source", src->config_key, src->name);
        section(title);
        vg_conf_describe(src->fields, src->n_fields, src->config_key, stdout);
    }
    describe_parsers();
    section("outputs[]: every output");
    printf("%-32s %-8s %-12s ", "outputs[].type", "choice", "none");
    for (size_t i = 0; i < vg_sink_type_count(); i++)
        printf("%s%s", i ? "|" : "", vg_sink_type_at(i)->name);
    printf("  which output (required)\n");
    for (size_t i = 0; i < vg_sink_type_count(); i++) {
        const vg_sink_ops *sink = vg_sink_type_at(i);
        snprintf(title, sizeof(title), "outputs[] with \"type\": \"%s\"%s", sink->name,
                 sink->n_fields == 0 ? " (no other keys)" : "");
        section(title);
        vg_conf_describe(sink->fields, sink->n_fields, "outputs[]", stdout);
    }
}

/* Every section, in the order of the README's reference. */
static void reference(void)
{
    section("top level, alert, log");
    vg_config_describe(stdout);
    section("rules (rules[], first match wins)");
    vg_rules_describe(stdout);
    section("state (vigil run)");
    vg_run_describe(stdout);
    section("metrics (vigil run)");
    vg_http_describe(stdout);
    describe_io();
    section("guards");
    vg_guard_describe(stdout);
    section("ensemble");
    vg_ensemble_describe(stdout);
    for (size_t i = 0; i < vg_detector_count(); i++) {
        const vg_detector_ops *d = vg_detector_at(i);
        char path[64];
        snprintf(path, sizeof(path), "detectors.%s", d->name);
        section(path);
        vg_conf_describe(d->fields, d->n_fields, path, stdout);
    }
}

int vg_cmd_config(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "check") == 0)
        return check(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "reference") == 0) {
        reference();
        return 0;
    }
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        config_help();
        return 0;
    }
    return vg_cli_usage_error("config", "expected 'check' or 'reference'");
}
