/* `vigil replay FILE.csv...`: the whole pipeline over CSV files, as fast as
 * the machine goes, deterministic: the same files and config give
 * byte-identical scores and events. */
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "models/snapshot.h"
#include "src/cli.h"
#include "engine/config.h"
#include "src/labels.h"
#include "core/log.h"
#include "src/nab.h"
#include "engine/pipeline.h"
#include "src/progress.h"
#include "src/report.h"
#include "core/vigil_metrics.h"
#include "streams/csv.h"
#include "src/replay_scores.h"
#include "streams/stream.h"

typedef struct replay_opts {
    const char *config;
    const char *scores;
    const char *events;
    const char *labels;
    const char *load_state;
    const char *save_state;
    const char *report;
    int         quiet;
} replay_opts;

/* What the point hook of one file feeds: the scores file and, for scoring
 * against labels, every point's timestamp and final score. */
typedef struct file_run {
    vg_scores_csv *scores;   /* NULL-able */
    vg_report     *report;   /* NULL-able */
    int            collect;
    int64_t       *ts;
    double        *score;
    size_t         n, cap;
    int            nomem;
} file_run;

typedef struct replay_totals {
    uint64_t    rows, points, malformed;
    uint64_t    bytes;      /* of the files done */
    int         files_failed;
    vg_report  *report;     /* NULL-able */
    vg_progress progress;
} replay_totals;

static void replay_help(void)
{
    printf("usage: vigil replay FILE.csv... [options]\n"
           "\n"
           "Scores CSV files with the same pipeline as 'vigil run', as fast as the\n"
           "machine goes. Same files and config give byte-identical outputs.\n"
           "\n"
           "options:\n"
           "  -c, --config FILE    vigil.json (default: built-in defaults)\n"
           "      --scores OUT     write one scores row per input point; with several\n"
           "                       files OUT is a directory of NAME.scores.csv files\n"
           "      --events OUT     write incidents as NDJSON events\n"
           "      --labels L.json  score against labelled anomaly windows (NAB's\n"
           "                       combined_windows.json shape) and print a table\n"
           "      --load-state DIR start from the state in DIR/replay.vgstate (saved\n"
           "                       under the same detector configuration)\n"
           "      --save-state DIR after the replay, save every series' state into\n"
           "                       DIR/replay.vgstate (DIR is created if needed)\n"
           "      --report R.html  write an HTML report: a chart per series with its\n"
           "                       flagged points, incidents and label windows, and a\n"
           "                       summary table (opens offline)\n"
           "  -q, --quiet          no summary on stderr\n"
           "  -h, --help           this text\n"
           "\n"
           "With no output option, incidents are printed as readable lines.\n"
           "CSV shapes: timestamp,value | timestamp,series,value | timestamp,a,b,...\n");
}

static int parse_args(int argc, char **argv, replay_opts *o)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"scores", required_argument, NULL, 's'},
        {"events", required_argument, NULL, 'e'},
        {"labels", required_argument, NULL, 'l'},
        {"load-state", required_argument, NULL, 'L'},
        {"save-state", required_argument, NULL, 'S'},
        {"report", required_argument, NULL, 'r'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:qh", longopts, NULL)) != -1) {
        switch (c) {
        case 'c': o->config = optarg; break;
        case 's': o->scores = optarg; break;
        case 'e': o->events = optarg; break;
        case 'l': o->labels = optarg; break;
        case 'L': o->load_state = optarg; break;
        case 'S': o->save_state = optarg; break;
        case 'r': o->report = optarg; break;
        case 'q': o->quiet = 1; break;
        case 'h': replay_help(); return 1;
        default:  return vg_cli_usage_error("replay", "bad option");
        }
    }
    if (optind >= argc)
        return vg_cli_usage_error("replay", "no CSV file given");
    return 0;
}

static void on_point(void *ctx, const vg_batch *b, const vg_point *p,
                     const vg_point_result *r)
{
    file_run *run = ctx;
    if (run->scores != NULL)
        vg_scores_csv_write(run->scores, b, p, r);
    if (run->report != NULL)
        vg_report_add(run->report, vg_batch_key(b, p), p->key_len, p->ts_ms, p->value, r);
    if (!run->collect || run->nomem)
        return;
    if (run->n == run->cap) {
        size_t cap = run->cap ? run->cap * 2 : 4096;
        int64_t *ts = realloc(run->ts, cap * sizeof(*ts));
        if (ts != NULL)
            run->ts = ts;
        double *score = realloc(run->score, cap * sizeof(*score));
        if (score != NULL)
            run->score = score;
        if (ts == NULL || score == NULL) {
            run->nomem = 1;
            return;
        }
        run->cap = cap;
    }
    run->ts[run->n] = p->ts_ms;
    run->score[run->n++] = r->score;
}

/* Adds a replayed file's scores to the NAB accumulator, when it is labelled. */
static int score_against_labels(vg_nab *nab, const vg_labels *labels, const char *path,
                                const file_run *run)
{
    const vg_label_window *windows;
    size_t n;
    vg_error err = {0};
    if (vg_labels_find(labels, path, &windows, &n) != VG_OK) {
        vg_warn("%s: not in the labels file; not scored", path);
        return VG_OK;
    }
    if (run->nomem)
        return VG_ENOMEM;
    if (vg_nab_add_file(nab, path, run->ts, run->score, run->n, windows, n, &err) != VG_OK) {
        vg_err("%s: %s", path, err.msg);
        return err.code;
    }
    return VG_OK;
}

/* The scores path of one input: OUT itself for a single file, else
 * OUT/<base name without .csv>.scores.csv. */
static void scores_path(const char *out, const char *input, int many, char *path, size_t cap)
{
    if (!many) {
        snprintf(path, cap, "%s", out);
        return;
    }
    char copy[4096];
    snprintf(copy, sizeof(copy), "%s", input);
    char *base = basename(copy);
    char *dot = strrchr(base, '.');
    if (dot != NULL && strcmp(dot, ".csv") == 0)
        *dot = '\0';
    snprintf(path, cap, "%s/%s.scores.csv", out, base);
}

/* Fills names[] with the pipeline's detector names; returns their count. */
static size_t detector_names(const vg_pipeline *p, const char **names)
{
    size_t n = vg_pipeline_detector_count(p);
    for (size_t i = 0; i < n; i++)
        names[i] = vg_pipeline_detector_name(p, i);
    return n;
}

/* Redraws the progress line when due, from the files done and this one. */
static void show_progress(replay_totals *t, const vg_source *src)
{
    int64_t now = vg_now_ms();
    if (!vg_progress_due(&t->progress, now))
        return;
    vg_csv_source_stats st;
    uint64_t done = 0, size = 0;
    vg_csv_source_get_stats(src, &st);
    vg_csv_source_position(src, &done, &size);
    vg_progress_update(&t->progress, now, t->rows + st.rows, t->bytes + done);
}

static int replay_file(vg_pipeline *p, const char *path, const replay_opts *o, int many,
                       vg_nab *nab, const vg_labels *labels, replay_totals *t)
{
    vg_error err = {0};
    file_run run = {.collect = nab != NULL, .report = t->report};
    vg_csv_source_stats st;
    uint64_t done = 0, size = 0;
    vg_source *src = vg_csv_source_open(path, NULL, &err);
    if (src == NULL) {
        vg_err("%s: %s", err.where[0] ? err.where : path, err.msg);
        return VG_EIO;
    }

    if (o->scores != NULL) {
        const char *names[VG_MAX_DETECTORS];
        size_t n = detector_names(p, names);
        char out[4096];
        scores_path(o->scores, path, many, out, sizeof(out));
        run.scores = vg_scores_csv_open(out, names, n, vg_csv_source_multi_series(src), &err);
        if (run.scores == NULL) {
            vg_err("%s: %s", err.where, err.msg);
            vg_source_close(src);
            return VG_EIO;
        }
    }
    if (run.report != NULL)
        vg_report_begin_file(run.report, path, labels);
    vg_pipeline_set_hook(p, on_point, &run);

    vg_batch batch;
    vg_batch_init(&batch);
    int rc;
    while ((rc = vg_source_poll(src, &batch, 0)) >= 0) {
        vg_pipeline_process(p, &batch);
        vg_source_commit(src, vg_source_position(src));
        vg_batch_reset(&batch);
        show_progress(t, src);
    }
    rc = rc == VG_EEOF ? VG_OK : rc;
    vg_batch_release(&batch);
    vg_pipeline_set_hook(p, NULL, NULL);
    if (run.report != NULL)
        vg_report_end_file(run.report);

    vg_csv_source_get_stats(src, &st);
    vg_csv_source_position(src, &done, &size);
    t->bytes += size;
    t->rows += st.rows;
    t->points += st.points;
    t->malformed += st.malformed;
    vg_metric_inc(VG_M_CSV_MALFORMED_ROWS, st.malformed);
    vg_source_close(src);
    if (run.scores != NULL && vg_scores_csv_close(run.scores, &err) != VG_OK) {
        vg_err("%s: %s", err.where, err.msg);
        rc = VG_EIO;
    }
    if (rc == VG_OK && nab != NULL)
        rc = score_against_labels(nab, labels, path, &run);
    free(run.ts);
    free(run.score);
    return rc;
}

/* Opens a sink from a config built here (path NULL-able) and adds it. */
static int add_sink(vg_pipeline *p, const char *type, const char *path, vg_error *err)
{
    json_t *cfg = path ? json_pack("{s:s, s:s}", "type", type, "path", path)
                       : json_pack("{s:s}", "type", type);
    vg_sink *sink = vg_sink_open(type, NULL, cfg, err);
    json_decref(cfg);
    if (sink == NULL)
        return err->code;
    return vg_pipeline_add_sink(p, sink);
}

/* Outputs named in the config, then the command line's. */
static int add_sinks(vg_pipeline *p, const vg_config *cfg, const replay_opts *o, vg_error *err)
{
    int rc = vg_pipeline_open_outputs(p, err);
    if (rc != VG_OK)
        return rc;
    if (o->events != NULL && add_sink(p, "ndjson", o->events, err) != VG_OK)
        return err->code;
    if (o->scores == NULL && o->events == NULL && o->report == NULL &&
        json_array_size(cfg->outputs) == 0)
        return add_sink(p, "console", NULL, err);
    return VG_OK;
}

int vg_cmd_replay(int argc, char **argv)
{
    replay_opts o = {0};
    int rc = parse_args(argc, argv, &o);
    if (rc != 0)
        return rc == 1 ? 0 : rc;

    vg_error err = {0};
    char msg[256];
    vg_config *cfg = o.config ? vg_config_load(o.config, &err) : vg_config_default(&err);
    if (cfg == NULL) {
        fprintf(stderr, "vigil replay: %s\n", vg_error_format(&err, msg, sizeof(msg)));
        return 1;
    }
    vg_log_set_level((vg_log_level)cfg->log_level);
    vg_pipeline *p = vg_pipeline_new(cfg, &err);
    if (p == NULL || add_sinks(p, cfg, &o, &err) != VG_OK ||
        (o.load_state && vg_snapshot_load_replay(p, o.load_state, NULL, &err) != VG_OK)) {
        fprintf(stderr, "vigil replay: %s\n", vg_error_format(&err, msg, sizeof(msg)));
        vg_pipeline_free(p);
        vg_config_free(cfg);
        return 1;
    }

    int files = argc - optind;
    if (o.scores != NULL && files > 1 && mkdir(o.scores, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "vigil replay: %s: %s\n", o.scores, strerror(errno));
        vg_pipeline_free(p);
        vg_config_free(cfg);
        return 1;
    }

    vg_labels *labels = NULL;
    vg_nab *nab = NULL;
    if (o.labels != NULL) {
        labels = vg_labels_load(o.labels, &err);
        nab = labels ? vg_nab_new(&err) : NULL;
        if (nab == NULL) {
            fprintf(stderr, "vigil replay: %s\n", vg_error_format(&err, msg, sizeof(msg)));
            vg_labels_free(labels);
            vg_pipeline_free(p);
            vg_config_free(cfg);
            return 1;
        }
    }

    replay_totals t = {0};
    if (o.report != NULL) {
        const char *names[VG_MAX_DETECTORS];
        size_t n = detector_names(p, names);
        t.report = vg_report_new(names, n, cfg->alert.threshold, 0, &err);
        if (t.report == NULL) {
            fprintf(stderr, "vigil replay: %s\n", vg_error_format(&err, msg, sizeof(msg)));
            vg_nab_free(nab);
            vg_labels_free(labels);
            vg_pipeline_free(p);
            vg_config_free(cfg);
            return 1;
        }
    }
    int64_t start = vg_now_ms();
    vg_progress_init(&t.progress, !o.quiet && isatty(STDERR_FILENO) ? stderr : NULL,
                     "vigil replay", vg_progress_file_bytes(argv + optind, (size_t)files),
                     start);
    for (int i = optind; i < argc; i++)
        if (replay_file(p, argv[i], &o, files > 1, nab, labels, &t) != VG_OK)
            t.files_failed++;
    vg_progress_end(&t.progress);
    int flushed = vg_pipeline_flush(p, 10000);
    double secs = (double)(vg_now_ms() - start) / 1000.0;
    int saved = o.save_state ? vg_snapshot_save_replay(p, o.save_state, &err) : VG_OK;
    if (saved != VG_OK)
        fprintf(stderr, "vigil replay: %s\n", vg_error_format(&err, msg, sizeof(msg)));

    const vg_pipeline_stats *st = vg_pipeline_get_stats(p);
    if (!o.quiet)
        fprintf(stderr,
                "vigil replay: %d file%s, %llu rows, %zu series, %llu malformed rows, "
                "%llu incidents (%llu resolved), %.2f s, %.0f rows/s\n",
                files, files == 1 ? "" : "s", (unsigned long long)t.rows,
                vg_series_table_count(vg_pipeline_series(p)),
                (unsigned long long)t.malformed, (unsigned long long)st->events_firing,
                (unsigned long long)st->events_resolved, secs,
                secs > 0 ? (double)t.rows / secs : 0.0);
    int failed = t.files_failed > 0 || flushed != VG_OK || st->sink_errors > 0 ||
                 saved != VG_OK;
    if (nab != NULL && vg_nab_files(nab) > 0 && vg_nab_print(nab, stdout, &err) != VG_OK) {
        fprintf(stderr, "vigil replay: labels: %s\n", vg_error_format(&err, msg, sizeof(msg)));
        failed = 1;
    }
    if (t.report != NULL &&
        ((nab != NULL && vg_nab_files(nab) > 0 && vg_report_set_nab(t.report, nab, &err) != VG_OK) ||
         vg_report_write(t.report, o.report, &err) != VG_OK)) {
        fprintf(stderr, "vigil replay: %s\n", vg_error_format(&err, msg, sizeof(msg)));
        failed = 1;
    }
    vg_report_free(t.report);
    vg_nab_free(nab);
    vg_labels_free(labels);
    vg_pipeline_free(p);
    vg_config_free(cfg);
    return failed ? 1 : 0;
}
