/* The replay report's accumulator and page (see report.h).
 *
 * Points of the open file are kept per series in compact parallel arrays,
 * found through a small hash table keyed by the series key (with a
 * fast path for the previous point's series: most files hold one). When a
 * file ends its charts are drawn into an in-memory buffer and its points
 * freed; the page is assembled at the end, because the summary table at
 * its top needs the NAB figures, which exist only once every file is in. */
#include "src/report.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/grow.h"
#include "src/report_chart.h"
#include "src/report_page.h"

/* One file's line of the summary table. Windows, detection and false
 * positive events are counted at the alert threshold, as the charts draw
 * them; the NAB score too (vg_report_set_nab). */
typedef struct file_sum {
    char    *name;
    uint64_t points, flagged, incidents;
    size_t   series;
    int      labelled;   /* the labels name this file */
    size_t   windows, detected, fp_events;
    double   nab;        /* NaN: not scored by NAB */
} file_sum;

struct vg_report {
    const char        *detectors[VG_MAX_DETECTORS];
    size_t             n_det;
    double             threshold;
    size_t             buckets;
    file_sum          *files;
    size_t             n_files, cap_files;
    int                open;        /* files[n_files - 1] is being fed */
    vg__report_series *series;      /* of the open file, by first point */
    size_t             n_series, cap_series;
    size_t            *slots;       /* series index + 1; 0 is empty */
    size_t             n_slots;     /* a power of two, over twice n_series */
    size_t             last;        /* series of the previous point */
    vg_label_window   *windows;     /* of the open file */
    size_t             n_windows;
    FILE              *body;        /* the sections drawn so far */
    char              *body_buf;
    size_t             body_len;
    unsigned           charts;
    int                error;       /* the first failure, for vg_report_write */
    int                labelled;    /* some file has labels */
    double             nab_total;   /* normalised; NaN without windows */
};

static uint64_t hash_key(const char *key, size_t len)
{
    uint64_t h = 0xcbf29ce484222325ULL;  /* FNV-1a */
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)key[i]) * 0x100000001b3ULL;
    return h;
}

/* realloc that keeps p and sets *failed when it cannot grow. */
static void *grow(void *p, size_t count, size_t elem, int *failed)
{
    void *q = realloc(p, count * elem);
    if (q == NULL) {
        *failed = 1;
        return p;
    }
    return q;
}

static int fail(vg_report *rep, int code)
{
    if (rep->error == VG_OK)
        rep->error = code;
    return code;
}

vg_report *vg_report_new(const char *const *detectors, size_t n_detectors,
                         double threshold, size_t buckets, vg_error *err)
{
    if (n_detectors > VG_MAX_DETECTORS) {
        vg_error_set(err, VG_EARG, "report: %zu detectors, at most %d", n_detectors,
                     VG_MAX_DETECTORS);
        return NULL;
    }
    vg_report *rep = calloc(1, sizeof(*rep));
    if (rep == NULL)
        goto out_nomem;
    rep->body = open_memstream(&rep->body_buf, &rep->body_len);
    if (rep->body == NULL)
        goto out_free_report;
    for (size_t d = 0; d < n_detectors; d++)
        rep->detectors[d] = detectors[d];
    rep->n_det = n_detectors;
    rep->threshold = threshold;
    rep->buckets = buckets ? buckets : VG_REPORT_BUCKETS;
    rep->nab_total = NAN;
    return rep;

out_free_report:
    free(rep);
out_nomem:
    vg_error_set(err, VG_ENOMEM, "report");
    return NULL;
}

static void series_free(vg__report_series *s)
{
    free(s->key);
    free(s->ts);
    free(s->value);
    free(s->score);
    free(s->expected);
    free(s->lower);
    free(s->upper);
    free(s->det_gap);
    free(s->flags);
}

/* Forgets the open file's points and windows, keeping the buffers. */
static void clear_file(vg_report *rep)
{
    for (size_t i = 0; i < rep->n_series; i++)
        series_free(&rep->series[i]);
    rep->n_series = 0;
    rep->last = 0;
    if (rep->slots != NULL)
        memset(rep->slots, 0, rep->n_slots * sizeof(*rep->slots));
    free(rep->windows);
    rep->windows = NULL;
    rep->n_windows = 0;
    rep->open = 0;
}

void vg_report_free(vg_report *rep)
{
    if (rep == NULL)
        return;
    clear_file(rep);
    free(rep->series);
    free(rep->slots);
    for (size_t i = 0; i < rep->n_files; i++)
        free(rep->files[i].name);
    free(rep->files);
    fclose(rep->body);
    free(rep->body_buf);
    free(rep);
}

int vg_report_begin_file(vg_report *rep, const char *name, const vg_labels *labels)
{
    int rc = vg_report_end_file(rep);
    if (rc != VG_OK)
        return rc;
    file_sum *files = vg_grow(rep->files, &rep->cap_files, rep->n_files, sizeof(*files), 16);
    if (files == NULL)
        return fail(rep, VG_ENOMEM);
    rep->files = files;
    file_sum *f = &rep->files[rep->n_files];
    memset(f, 0, sizeof(*f));
    f->nab = NAN;
    if ((f->name = strdup(name)) == NULL)
        return fail(rep, VG_ENOMEM);
    const vg_label_window *w;
    size_t n;
    f->labelled = labels != NULL && vg_labels_find(labels, name, &w, &n) == VG_OK;
    rep->labelled |= f->labelled;
    if (f->labelled && n > 0) {
        rep->windows = malloc(n * sizeof(*w));
        if (rep->windows == NULL) {
            free(f->name);
            return fail(rep, VG_ENOMEM);
        }
        memcpy(rep->windows, w, n * sizeof(*w));
        rep->n_windows = n;
    }
    rep->n_files++;
    rep->open = 1;
    return VG_OK;
}

/* Doubles the hash table and reinserts every series. */
static int rehash(vg_report *rep)
{
    size_t n_slots = rep->n_slots ? rep->n_slots * 2 : 64;
    size_t *slots = calloc(n_slots, sizeof(*slots));
    if (slots == NULL)
        return VG_ENOMEM;
    for (size_t i = 0; i < rep->n_series; i++) {
        size_t j = rep->series[i].hash & (n_slots - 1);
        while (slots[j] != 0)
            j = (j + 1) & (n_slots - 1);
        slots[j] = i + 1;
    }
    free(rep->slots);
    rep->slots = slots;
    rep->n_slots = n_slots;
    return VG_OK;
}

/* The open file's series for key, created on its first point; NULL when
 * out of memory. */
static vg__report_series *find_series(vg_report *rep, const char *key, size_t len)
{
    vg__report_series *s;
    if (rep->n_series > 0) {
        s = &rep->series[rep->last];
        if (s->key_len == len && memcmp(s->key, key, len) == 0)
            return s;
    }
    if ((rep->n_series + 1) * 2 > rep->n_slots && rehash(rep) != VG_OK)
        return NULL;
    uint64_t h = hash_key(key, len);
    size_t j = h & (rep->n_slots - 1);
    for (; rep->slots[j] != 0; j = (j + 1) & (rep->n_slots - 1)) {
        s = &rep->series[rep->slots[j] - 1];
        if (s->hash == h && s->key_len == len && memcmp(s->key, key, len) == 0) {
            rep->last = rep->slots[j] - 1;
            return s;
        }
    }
    vg__report_series *grown = vg_grow(rep->series, &rep->cap_series, rep->n_series, sizeof(*grown), 8);
    if (grown == NULL)
        return NULL;
    rep->series = grown;
    s = &rep->series[rep->n_series];
    memset(s, 0, sizeof(*s));
    if ((s->key = malloc(len + 1)) == NULL)
        return NULL;
    memcpy(s->key, key, len);
    s->key[len] = '\0';
    s->key_len = len;
    s->hash = h;
    rep->slots[j] = rep->n_series + 1;
    rep->last = rep->n_series++;
    return s;
}

static int reserve_point(vg__report_series *s, size_t n_det)
{
    if (s->n < s->cap)
        return VG_OK;
    int failed = 0;
    size_t cap = s->cap ? s->cap * 2 : 256;
    size_t det = n_det > 0 ? 2 * n_det : 1;
    s->ts = grow(s->ts, cap, sizeof(*s->ts), &failed);
    s->value = grow(s->value, cap, sizeof(*s->value), &failed);
    s->score = grow(s->score, cap, sizeof(*s->score), &failed);
    s->expected = grow(s->expected, cap, sizeof(*s->expected), &failed);
    s->lower = grow(s->lower, cap, sizeof(*s->lower), &failed);
    s->upper = grow(s->upper, cap, sizeof(*s->upper), &failed);
    s->det_gap = grow(s->det_gap, cap * det, sizeof(*s->det_gap), &failed);
    s->flags = grow(s->flags, cap, sizeof(*s->flags), &failed);
    if (failed)
        return VG_ENOMEM;
    s->cap = cap;
    return VG_OK;
}

int vg_report_add(vg_report *rep, const char *key, size_t key_len, int64_t ts_ms,
                  double value, const vg_point_result *r)
{
    vg_assert(rep->open);
    if (rep->error != VG_OK)
        return rep->error;
    vg__report_series *s = find_series(rep, key, key_len);
    if (s == NULL || reserve_point(s, rep->n_det) != VG_OK)
        return fail(rep, VG_ENOMEM);
    size_t i = s->n++;
    s->ts[i] = ts_ms;
    s->value[i] = value;
    s->score[i] = r->score;
    s->expected[i] = (float)r->expected;
    s->lower[i] = (float)r->lower;
    s->upper[i] = (float)r->upper;
    float *gap = &s->det_gap[i * 2 * rep->n_det];
    for (size_t d = 0; d < rep->n_det; d++) {
        gap[d] = d < r->n_detectors ? (float)(1.0 - r->raw[d]) : NAN;
        gap[rep->n_det + d] = d < r->n_detectors ? (float)(1.0 - r->calibrated[d]) : NAN;
    }
    uint8_t flags = 0;
    if (r->score >= rep->threshold) {
        flags |= VG__REPORT_FLAGGED;
        s->flagged++;
    }
    if (r->event == VG_ALERT_FIRING) {
        flags |= VG__REPORT_FIRING;
        s->incidents++;
    } else if (r->event == VG_ALERT_RESOLVED) {
        flags |= VG__REPORT_RESOLVED;
    }
    s->flags[i] = flags;
    return VG_OK;
}

int vg_report_end_file(vg_report *rep)
{
    if (!rep->open)
        return VG_OK;
    file_sum *f = &rep->files[rep->n_files - 1];
    FILE *out = rep->body;
    int rc = VG_OK;
    /* per window: detected in the file, then in the series being drawn */
    uint8_t *hit = calloc(2 * rep->n_windows + 1, 1);
    if (hit == NULL) {
        clear_file(rep);
        return fail(rep, VG_ENOMEM);
    }
    uint8_t *series_hit = hit + rep->n_windows;
    int64_t t0 = INT64_MAX, t1 = INT64_MIN;  /* the file's time range */
    fprintf(out, "<section class=\"file\" id=\"f%zu\"><h2>", rep->n_files);
    vg__report_escape(out, f->name, strlen(f->name));
    fputs("</h2>\n", out);
    for (size_t i = 0; i < rep->n_series && rc == VG_OK; i++) {
        const vg__report_series *s = &rep->series[i];
        f->points += s->n;
        f->flagged += s->flagged;
        f->incidents += s->incidents;
        for (size_t k = 0; k < s->n; k++) {
            t0 = s->ts[k] < t0 ? s->ts[k] : t0;
            t1 = s->ts[k] > t1 ? s->ts[k] : t1;
        }
        memset(series_hit, 0, rep->n_windows);
        f->fp_events += vg__report_windows_hit(s, rep->windows, rep->n_windows, series_hit);
        for (size_t k = 0; k < rep->n_windows; k++)
            hit[k] |= series_hit[k];
        fputs("<div class=\"series\"><h3>", out);
        vg__report_escape(out, s->key, s->key_len);
        fprintf(out, "</h3><p class=\"meta\">%zu points, %zu flagged, %zu incident%s%s</p>\n",
                s->n, s->flagged, s->incidents, s->incidents == 1 ? "" : "s",
                s->n > 2 * rep->buckets ? ", drawn in time buckets" : "");
        vg__report_chart chart = {
            .id = ++rep->charts,
            .buckets = rep->buckets,
            .n_det = rep->n_det,
            .threshold = rep->threshold,
            .windows = rep->windows,
            .hit = series_hit,
            .n_windows = rep->n_windows,
        };
        rc = vg__report_chart_write(out, s, &chart);
        fputs("</div>\n", out);
    }
    if (rep->n_series == 0)
        fputs("<p class=\"meta\">no points</p>\n", out);
    fputs("</section>\n", out);
    f->series = rep->n_series;
    /* windows outside the file's time range are neither drawn nor counted */
    for (size_t k = 0; k < rep->n_windows; k++) {
        f->windows += rep->windows[k].end_ms >= t0 && rep->windows[k].start_ms <= t1;
        f->detected += hit[k];
    }
    free(hit);
    clear_file(rep);
    if (rc == VG_OK && ferror(out))
        rc = VG_ENOMEM;  /* a memory stream fails only for memory */
    return rc == VG_OK ? VG_OK : fail(rep, rc);
}

/* A file's NAB curve, read at one threshold: the raw score at the lowest
 * curve point still >= the threshold (points come highest first). */
typedef struct at_threshold {
    double threshold, raw;
} at_threshold;

static void read_curve(void *ctx, double threshold, double raw)
{
    at_threshold *a = ctx;
    if (threshold >= a->threshold)
        a->raw = raw;
}

int vg_report_set_nab(vg_report *rep, const vg_nab *nab, vg_error *err)
{
    const vg_nab_weights *wt = vg_nab_profile_weights(VG_NAB_STANDARD);
    double raw = 0.0, windows = 0.0;
    for (size_t i = 0; i < vg_nab_files(nab); i++) {
        double w = (double)vg_nab_file_windows(nab, i);
        at_threshold a = {rep->threshold, -wt->fn * w};
        int rc = vg_nab_file_curve(nab, i, VG_NAB_STANDARD, read_curve, &a, err);
        if (rc != VG_OK)
            return fail(rep, rc);
        raw += a.raw;
        windows += w;
        for (size_t k = 0; k < rep->n_files; k++)
            if (strcmp(rep->files[k].name, vg_nab_file_name(nab, i)) == 0)
                rep->files[k].nab = a.raw;
    }
    double null_raw = -wt->fn * windows;
    double perfect = wt->tp * vg_nab_scaled_sigmoid(-1.0) * windows;
    rep->nab_total = windows > 0.0 ? 100.0 * (raw - null_raw) / (perfect - null_raw) : NAN;
    return VG_OK;
}

static void put_ratio(FILE *out, double v)
{
    if (isnan(v))
        fputs("<td>&ndash;</td>", out);
    else
        fprintf(out, "<td>%.3f</td>", v);
}

static double ratio(size_t a, size_t b)
{
    return b > 0 ? (double)a / (double)b : NAN;
}

/* The figures of one row: counts, then the label columns when some file
 * has labels, all at the alert threshold. */
static void write_row(FILE *out, const vg_report *rep, const file_sum *f)
{
    fprintf(out, "<td>%llu</td><td>%zu</td><td>%llu</td><td>%llu</td>",
            (unsigned long long)f->points, f->series, (unsigned long long)f->flagged,
            (unsigned long long)f->incidents);
    if (!rep->labelled)
        return;
    if (!f->labelled) {
        fputs("<td colspan=\"7\" class=\"na\">not labelled</td>", out);
        return;
    }
    fprintf(out, "<td>%zu</td><td class=\"det\">%zu</td><td>%zu</td>", f->windows,
            f->detected, f->fp_events);
    double precision = ratio(f->detected, f->detected + f->fp_events);
    double recall = ratio(f->detected, f->windows);
    put_ratio(out, precision);
    put_ratio(out, recall);
    put_ratio(out, 2.0 * precision * recall / (precision + recall));
    if (isnan(f->nab))
        fputs("<td>&ndash;</td>", out);
    else
        fprintf(out, "<td>%.2f</td>", f->nab);
}

/* Length of the directory part all file names share ("" for one file
 * without a directory), so the table can show the rest. */
static size_t common_dir(const vg_report *rep)
{
    if (rep->n_files == 0)
        return 0;
    const char *first = rep->files[0].name;
    size_t len = strlen(first);
    for (size_t i = 1; i < rep->n_files; i++) {
        size_t k = 0;
        while (k < len && first[k] == rep->files[i].name[k])
            k++;
        len = k;
    }
    while (len > 0 && first[len - 1] != '/')
        len--;
    return len;
}

static void write_summary(FILE *out, const vg_report *rep)
{
    size_t dir = common_dir(rep);
    file_sum all = {.labelled = 1, .nab = rep->nab_total};
    for (size_t i = 0; i < rep->n_files; i++) {
        const file_sum *f = &rep->files[i];
        all.points += f->points;
        all.series += f->series;
        all.flagged += f->flagged;
        all.incidents += f->incidents;
        all.windows += f->windows;
        all.detected += f->detected;
        all.fp_events += f->fp_events;
    }
    fputs("<table class=\"sum\"><thead><tr><th>file</th><th>points</th><th>series</th>"
          "<th>flagged</th><th>incidents</th>", out);
    if (rep->labelled)
        fputs("<th>windows</th><th>detected</th><th>FP events</th><th>precision</th>"
              "<th>recall</th><th>F1</th><th>NAB</th>", out);
    fputs("</tr></thead><tbody>\n", out);
    for (size_t i = 0; i < rep->n_files; i++) {
        fprintf(out, "<tr><td class=\"name\"><a href=\"#f%zu\">", i + 1);
        vg__report_escape(out, rep->files[i].name + dir, strlen(rep->files[i].name + dir));
        fputs("</a></td>", out);
        write_row(out, rep, &rep->files[i]);
        fputs("</tr>\n", out);
    }
    fputs("<tr class=\"total\"><td class=\"name\">total</td>", out);
    write_row(out, rep, &all);
    fputs("</tr>\n</tbody></table>\n", out);
    fputs("<p class=\"note\">", out);
    if (dir > 0) {
        fputs("Files in ", out);
        vg__report_escape(out, rep->files[0].name, dir);
        fputs(". ", out);
    }
    fprintf(out, "One threshold throughout, table and charts: the alert threshold, score "
                 "&ge; <b class=\"thv\">%.10g</b>. Flagged: points at or above it. "
                 "Incidents: firing to resolved events.", rep->threshold);
    if (rep->labelled)
        fputs(" Labels: a window is detected when it holds a flagged point (drawn dark "
              "green on the charts); FP events are runs of flagged points outside every "
              "window; precision, recall and F1 count those. NAB: standard profile at the "
              "same threshold (not the corpus-best threshold the replay table on stdout "
              "uses), raw per file and normalised in the total (null 0, perfect 100).", out);
    fputs("</p>\n", out);
}

/* What the page's script needs besides each chart's data. */
static void write_meta(FILE *out, const vg_report *rep)
{
    fputs("<script type=\"application/json\" id=\"vigil-meta\">{\"detectors\":[", out);
    for (size_t d = 0; d < rep->n_det; d++) {
        fputs(d ? ",\"" : "\"", out);
        vg__report_escape(out, rep->detectors[d], strlen(rep->detectors[d]));
        fputc('"', out);
    }
    fprintf(out, "],\"threshold\":%.17g}</script>\n", rep->threshold);
}

int vg_report_write(vg_report *rep, const char *path, vg_error *err)
{
    vg_report_end_file(rep);
    if (rep->error != VG_OK || fflush(rep->body) != 0)
        return vg_error_set_at(err, rep->error ? rep->error : VG_ENOMEM, path,
                               "report: out of memory");
    FILE *out = fopen(path, "w");
    if (out == NULL)
        return vg_error_set_at(err, VG_EIO, path, "cannot write the report");
    vg__report_page_head(out, rep->n_files, rep->charts);
    write_summary(out, rep);
    fwrite(rep->body_buf, 1, rep->body_len, out);
    write_meta(out, rep);
    vg__report_page_tail(out);
    int bad = ferror(out);
    if (fclose(out) != 0 || bad)
        return vg_error_set_at(err, VG_EIO, path, "writing the report failed");
    return VG_OK;
}
