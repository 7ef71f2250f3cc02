/* `vigil replay FILE.csv...`: the whole pipeline over CSV files, as fast as
 * the machine goes, deterministic: the same files and config give
 * byte-identical scores and events. */
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/grow.h"
#include "models/snapshot.h"
#include "src/cli.h"
#include "engine/config.h"
#include "src/labels.h"
#include "core/log.h"
#include "src/nab.h"
#include "src/ops_eval.h"
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
    const char *eval_json;
    int         given_scores;
    int         quiet;
    vg_csv_options csv;  /* from the config's "csv" object */
} replay_opts;

/* Scoring against labels: the NAB table and the operator view, fed the
 * same per-row scores. */
typedef struct label_eval {
    vg_labels *labels;
    vg_nab    *nab;
    vg_ops    *ops;
} label_eval;

/* What the point hook of one file feeds: the scores file and, for scoring
 * against labels, one timestamp and score per input row and the firing
 * times. A wide CSV row holds several series; the file is one unit (one
 * machine), so its row scores the max over them (fmax: a NaN loses). */
typedef struct file_run {
    vg_scores_csv *scores;   /* NULL-able */
    vg_report     *report;   /* NULL-able */
    int            collect;
    int64_t       *ts;
    double        *score;
    size_t         n, cap;
    int64_t        line;     /* input line of row n - 1 */
    int64_t       *fired;
    uint8_t       *joined;   /* each firing: joined another series' incident */
    size_t         n_fired, fired_cap;
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
           "                       combined_windows.json shape) and print the NAB\n"
           "                       table and the operator view (docs/quality.md)\n"
           "      --eval-json OUT  with --labels: write every file's threshold curves\n"
           "                       and incident counts as JSON (scripts/evaluate.sh)\n"
           "      --given-scores   the CSV values are another detector's anomaly\n"
           "                       scores: skip vigil's detectors, evaluate them as is\n"
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
        {"eval-json", required_argument, NULL, 'J'},
        {"given-scores", no_argument, NULL, 'G'},
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
        case 'J': o->eval_json = optarg; break;
        case 'G': o->given_scores = 1; break;
        case 'q': o->quiet = 1; break;
        case 'h': replay_help(); return 1;
        default:  return vg_cli_usage_error("replay", "bad option");
        }
    }
    if (optind >= argc)
        return vg_cli_usage_error("replay", "no CSV file given");
    if ((o->eval_json != NULL || o->given_scores) && o->labels == NULL)
        return vg_cli_usage_error("replay", "--eval-json and --given-scores need --labels");
    return 0;
}

static void on_point(void *ctx, const vg_batch *b, const vg_point *pt,
                     const vg_point_result *r)
{
    file_run *run = ctx;
    if (run->scores != NULL)
        vg_scores_csv_write(run->scores, b, pt, r);
    if (run->report != NULL)
        vg_report_add(run->report, vg_batch_key(b, pt), pt->key_len, pt->ts_ms, pt->value, r);
    if (!run->collect || run->nomem)
        return;
    if (r->event == VG_ALERT_FIRING) {
        size_t joined_cap = run->fired_cap;   /* both arrays grow in step */
        uint8_t *joined = vg_grow(run->joined, &joined_cap, run->n_fired, sizeof(*joined), 4096);
        if (joined != NULL)
            run->joined = joined;
        int64_t *fired = joined != NULL ? vg_grow(run->fired, &run->fired_cap, run->n_fired,
                                                  sizeof(*fired), 4096)
                                        : NULL;
        if (fired == NULL) {
            run->nomem = 1;
            return;
        }
        run->fired = fired;
        run->joined[run->n_fired] = (uint8_t)r->joined;
        run->fired[run->n_fired++] = pt->ts_ms;
    }
    if (run->n > 0 && pt->origin.offset == run->line) {
        run->score[run->n - 1] = fmax(run->score[run->n - 1], r->score);
        return;
    }
    size_t ts_cap = run->cap;   /* both arrays grow in step */
    int64_t *ts = vg_grow(run->ts, &ts_cap, run->n, sizeof(*ts), 4096);
    if (ts != NULL)
        run->ts = ts;
    double *score = ts != NULL ? vg_grow(run->score, &run->cap, run->n, sizeof(*score), 4096) : NULL;
    if (score == NULL) {
        run->nomem = 1;
        return;
    }
    run->score = score;
    run->line = pt->origin.offset;
    run->ts[run->n] = pt->ts_ms;
    run->score[run->n++] = r->score;
}

/* Adds a replayed file's row scores and incidents to the NAB and operator
 * accumulators, when it is labelled. */
static int score_against_labels(label_eval *le, const char *path, const file_run *run)
{
    const vg_label_window *windows;
    size_t n;
    vg_error err = {0};
    if (vg_labels_find(le->labels, path, &windows, &n) != VG_OK) {
        vg_warn("%s: not in the labels file; not scored", path);
        return VG_OK;
    }
    if (run->nomem)
        return VG_ENOMEM;
    if (vg_nab_add_file(le->nab, path, run->ts, run->score, run->n, windows, n, &err) != VG_OK ||
        vg_ops_add_file(le->ops, path, run->ts, run->score, run->n, run->fired, run->joined,
                        run->n_fired, windows, n, &err) != VG_OK) {
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

/* --given-scores: each value is already an anomaly score; the hook sees it
 * as the final score of a point that raised no event. */
static void feed_given_scores(file_run *run, const vg_batch *b)
{
    vg_point_result r = {.expected = NAN, .lower = NAN, .upper = NAN, .swing = NAN};
    for (size_t i = 0; i < b->n; i++) {
        r.score = b->points[i].value;
        on_point(run, b, &b->points[i], &r);
    }
}

static int replay_file(vg_pipeline *p, const char *path, const replay_opts *o, int many,
                       label_eval *le, replay_totals *t)
{
    vg_error err = {0};
    file_run run = {.collect = le->labels != NULL, .report = t->report};
    vg_csv_source_stats st;
    uint64_t done = 0, size = 0;
    vg_source *src = vg_csv_source_open(path, &o->csv, &err);
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
        vg_report_begin_file(run.report, path, le->labels);
    vg_pipeline_set_hook(p, on_point, &run);

    vg_batch batch;
    vg_batch_init(&batch);
    int rc;
    while ((rc = vg_source_poll(src, &batch, 0)) >= 0) {
        if (o->given_scores)
            feed_given_scores(&run, &batch);
        else
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
    if (rc == VG_OK && le->labels != NULL)
        rc = score_against_labels(le, path, &run);
    free(run.ts);
    free(run.score);
    free(run.fired);
    free(run.joined);
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

static void label_eval_close(label_eval *le)
{
    vg_ops_free(le->ops);
    vg_nab_free(le->nab);
    vg_labels_free(le->labels);
    memset(le, 0, sizeof(*le));
}

/* Loads the labels and makes the accumulators; on failure nothing is kept. */
static int label_eval_open(label_eval *le, const char *path, vg_error *err)
{
    le->labels = vg_labels_load(path, err);
    le->nab = le->labels ? vg_nab_new(err) : NULL;
    le->ops = le->nab ? vg_ops_new(err) : NULL;
    if (le->ops == NULL) {
        label_eval_close(le);
        return err->code;
    }
    return VG_OK;
}

/* The NAB table, the operator view, and the --eval-json file. */
static int label_eval_output(const label_eval *le, const replay_opts *o)
{
    vg_error err = {0};
    char msg[256];
    if (vg_nab_files(le->nab) == 0)
        return VG_OK;
    int rc = vg_nab_print(le->nab, stdout, &err);
    if (rc == VG_OK)
        rc = vg_ops_print(le->ops, stdout, &err);
    if (rc == VG_OK && o->eval_json != NULL) {
        FILE *f = fopen(o->eval_json, "w");
        rc = f ? vg_ops_write_json(le->ops, le->nab, f, &err)
               : vg_error_set_at(&err, VG_EIO, o->eval_json, "cannot create");
        if (f != NULL && fclose(f) != 0 && rc == VG_OK)
            rc = vg_error_set_at(&err, VG_EIO, o->eval_json, "cannot write");
    }
    if (rc != VG_OK)
        fprintf(stderr, "vigil replay: labels: %s\n", vg_error_format(&err, msg, sizeof(msg)));
    return rc;
}

/* Everything one replay holds; replay_close() frees whatever was opened. */
typedef struct replay_session {
    vg_config    *cfg;
    vg_pipeline  *p;
    label_eval    le;
    replay_totals t;
} replay_session;

static void replay_close(replay_session *rs)
{
    vg_report_free(rs->t.report);
    label_eval_close(&rs->le);
    vg_pipeline_free(rs->p);
    vg_config_free(rs->cfg);
}

/* Config, pipeline, outputs, saved state, labels and report: all or nothing
 * (the caller closes the session either way). */
static int replay_open(replay_session *rs, replay_opts *o, int files, vg_error *err)
{
    rs->cfg = o->config ? vg_config_load(o->config, err) : vg_config_default(err);
    if (rs->cfg == NULL)
        return err->code;
    vg_log_set_level((vg_log_level)rs->cfg->log_level);
    rs->p = vg_pipeline_new(rs->cfg, err);
    /* Not the host name: a replay's events are the same on every machine. */
    if (rs->p != NULL && rs->cfg->instance[0] == '\0')
        vg_pipeline_set_instance(rs->p, "replay");
    /* Read the next rows while the workers score these; every file ends
     * with set_hook(NULL), which drains. */
    if (rs->p != NULL)
        vg_pipeline_set_pipelined(rs->p, 1);
    if (rs->p == NULL || vg_csv_configure(rs->cfg->doc, rs->cfg->csv, &o->csv, err) != VG_OK ||
        add_sinks(rs->p, rs->cfg, o, err) != VG_OK ||
        (o->load_state && vg_snapshot_load_replay(rs->p, o->load_state, NULL, err) != VG_OK))
        return err->code;
    if (o->scores != NULL && files > 1 && mkdir(o->scores, 0777) != 0 && errno != EEXIST)
        return vg_error_set_at(err, VG_EIO, o->scores, "%s", strerror(errno));
    if (o->labels != NULL && label_eval_open(&rs->le, o->labels, err) != VG_OK)
        return err->code;
    if (o->report != NULL) {
        const char *names[VG_MAX_DETECTORS];
        size_t n = detector_names(rs->p, names);
        rs->t.report = vg_report_new(names, n, rs->cfg->alert.threshold, 0, err);
        if (rs->t.report == NULL)
            return err->code;
    }
    return VG_OK;
}

/* The summary line on stderr. */
static void print_summary(const replay_session *rs, int files, double secs)
{
    const vg_pipeline_stats *st = vg_pipeline_get_stats(rs->p);
    fprintf(stderr,
            "vigil replay: %d file%s, %llu rows, %zu series, %llu malformed rows, "
            "%llu incidents (%llu resolved), %.2f s, %.0f rows/s, %zu worker%s\n",
            files, files == 1 ? "" : "s", (unsigned long long)rs->t.rows,
            vg_series_table_count(vg_pipeline_series(rs->p)),
            (unsigned long long)rs->t.malformed, (unsigned long long)st->events_firing,
            (unsigned long long)st->events_resolved, secs,
            secs > 0 ? (double)rs->t.rows / secs : 0.0, vg_pipeline_workers(rs->p),
            vg_pipeline_workers(rs->p) == 1 ? "" : "s");
}

/* After the files: flush, save state, the summary, the label tables and the
 * report. Returns nonzero when anything failed. */
static int replay_finish(replay_session *rs, const replay_opts *o, int files, int64_t start)
{
    vg_error err = {0};
    char msg[256];
    int flushed = vg_pipeline_flush(rs->p, 10000);
    double secs = (double)(vg_now_ms() - start) / 1000.0;
    int saved = o->save_state ? vg_snapshot_save_replay(rs->p, o->save_state, &err) : VG_OK;
    if (saved != VG_OK)
        fprintf(stderr, "vigil replay: %s\n", vg_error_format(&err, msg, sizeof(msg)));
    if (!o->quiet)
        print_summary(rs, files, secs);
    int failed = rs->t.files_failed > 0 || flushed != VG_OK ||
                 vg_pipeline_get_stats(rs->p)->sink_errors > 0 || saved != VG_OK;
    if (rs->le.labels != NULL && label_eval_output(&rs->le, o) != VG_OK)
        failed = 1;
    const vg_nab *nab = rs->le.nab;
    if (rs->t.report != NULL &&
        ((nab != NULL && vg_nab_files(nab) > 0 &&
          vg_report_set_nab(rs->t.report, nab, &err) != VG_OK) ||
         vg_report_write(rs->t.report, o->report, &err) != VG_OK)) {
        fprintf(stderr, "vigil replay: %s\n", vg_error_format(&err, msg, sizeof(msg)));
        failed = 1;
    }
    return failed;
}

int vg_cmd_replay(int argc, char **argv)
{
    replay_opts o = {0};
    int rc = parse_args(argc, argv, &o);
    if (rc != 0)
        return rc == 1 ? 0 : rc;

    int files = argc - optind;
    replay_session rs = {0};
    vg_error err = {0};
    if (replay_open(&rs, &o, files, &err) != VG_OK) {
        char msg[256];
        fprintf(stderr, "vigil replay: %s\n", vg_error_format(&err, msg, sizeof(msg)));
        replay_close(&rs);
        return 1;
    }
    int64_t start = vg_now_ms();
    vg_progress_init(&rs.t.progress, !o.quiet && isatty(STDERR_FILENO) ? stderr : NULL,
                     "vigil replay", vg_progress_file_bytes(argv + optind, (size_t)files),
                     start);
    for (int i = optind; i < argc; i++)
        if (replay_file(rs.p, argv[i], &o, files > 1, &rs.le, &rs.t) != VG_OK)
            rs.t.files_failed++;
    vg_progress_end(&rs.t.progress);
    int failed = replay_finish(&rs, &o, files, start);
    replay_close(&rs);
    return failed ? 1 : 0;
}
