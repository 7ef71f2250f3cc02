/* NAB scoring (see nab.h): the reward of every row is fixed by where it sits
 * relative to the label windows, so it is computed once per file when the
 * file is added; choosing a threshold is then one sort and one sweep over
 * the scored rows of the whole corpus.
 *
 * What follows NAB exactly (nab/sweeper.py, nab/runner.py, v1.x):
 *  - probationary period min(floor(0.15 * rows), 750) rows, never scored;
 *  - a window is entered at the first row whose timestamp equals its start
 *    and left at the first row (from there) whose timestamp equals its end;
 *    a row i inside window [a, b] has y = -(b - i + 1) / (b - a + 1), so the
 *    first row gets scaled_sigmoid(-1) = 0.98661 and the last one
 *    scaled_sigmoid(-1/width), just above 0;
 *  - a row outside windows after window [a, b] has y = |i - b| / (width - 1);
 *    before the first window its reward is -1; scaled_sigmoid(y > 3) = -1;
 *  - a row detects when score >= threshold; a window counts once, with the
 *    reward of its earliest detection (the largest), times A_TP; every
 *    detecting row outside windows adds A_FP times its (negative) reward;
 *    every undetected window costs A_FN; windows without a scored row (all
 *    in the probationary period) are not counted, as in NAB;
 *  - one threshold per profile for the whole corpus, the best over every
 *    distinct score plus "detect nothing" (NAB's 1.1, here INFINITY); ties
 *    go to the higher threshold, as NAB's stable sort does;
 *  - normalisation 100 * (raw - null) / (perfect - null) with null = -A_FN *
 *    windows (the detector that never detects) and perfect = A_TP * S(-1) *
 *    windows (every window detected on its first row), so that detector
 *    scores 100. Checked against NAB's published numbers: bench/bench_nab.c
 *    re-implements NAB's windowed Gaussian detector and gets 37.69 / 32.69 /
 *    40.86 on nab-dev, where NAB reports 37.7 / 32.7 / 40.9; with perfect =
 *    A_TP * windows it would get 37.44 / 32.47 / 40.68.
 * Where this differs from NAB (NAB would raise an exception instead):
 *  - a window whose start or end timestamp matches no row starts at the first
 *    row inside [start, end] and ends at the last row before one past end; a
 *    window with no row at all is not scored (windows_unscored);
 *  - after a one-row window NAB divides by width - 1 = 0; here by 1;
 *  - NaN scores never detect; infinite scores are rejected.
 * Event-level figures (precision, recall, F1, delay) are vigil's, not NAB's:
 * a run of consecutive detecting rows is one event; a window is detected if
 * any detecting row lies in it; an FP event is a run touching no window. */
#include "src/nab.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define NO_ROW SIZE_MAX

typedef struct window_span {
    size_t first, last;     /* rows of the window, NO_ROW when it has none */
    int    scored;          /* has a row at or after the probationary period */
} window_span;

typedef struct nab_file {
    char            *name;
    size_t           rows, probation;
    int64_t         *ts;
    double          *score;
    double          *reward;  /* NAB's unweighted score of each row */
    int32_t         *win;     /* window of each row, -1 outside */
    vg_label_window *w;
    window_span     *span;
    size_t           n_w, scored_windows;
} nab_file;

struct vg_nab {
    nab_file *files;
    size_t    n, cap;
};

/* One scored row in the corpus-wide threshold sweep. */
typedef struct sweep_point {
    double  score;
    double  reward;
    int64_t window;           /* corpus-wide window id, -1 outside */
} sweep_point;

static const vg_nab_weights profile_weights[VG_NAB_PROFILES] = {
    [VG_NAB_STANDARD]      = {.tp = 1.0, .fp = 0.11, .fn = 1.0},
    [VG_NAB_REWARD_LOW_FP] = {.tp = 1.0, .fp = 0.22, .fn = 1.0},
    [VG_NAB_REWARD_LOW_FN] = {.tp = 1.0, .fp = 0.11, .fn = 2.0},
};

static const char *const profile_names[VG_NAB_PROFILES] = {
    [VG_NAB_STANDARD]      = "standard",
    [VG_NAB_REWARD_LOW_FP] = "reward_low_FP_rate",
    [VG_NAB_REWARD_LOW_FN] = "reward_low_FN_rate",
};

const vg_nab_weights *vg_nab_profile_weights(vg_nab_profile p)
{
    vg_assert(p >= 0 && p < VG_NAB_PROFILES);
    return &profile_weights[p];
}

const char *vg_nab_profile_name(vg_nab_profile p)
{
    vg_assert(p >= 0 && p < VG_NAB_PROFILES);
    return profile_names[p];
}

double vg_nab_scaled_sigmoid(double y)
{
    if (y > 3.0)
        return -1.0;
    return 2.0 / (1.0 + exp(5.0 * y)) - 1.0;
}

size_t vg_nab_probation(size_t rows)
{
    /* Same double arithmetic as NAB's math.floor(0.15 * numRows). */
    size_t p = (size_t)floor(0.15 * (double)rows);
    return p < 750 ? p : 750;
}

vg_nab *vg_nab_new(vg_error *err)
{
    vg_nab *n = calloc(1, sizeof(*n));
    if (n == NULL)
        vg_error_set(err, VG_ENOMEM, "NAB accumulator");
    return n;
}

static void file_release(nab_file *f)
{
    free(f->name);
    free(f->ts);
    free(f->score);
    free(f->reward);
    free(f->win);
    free(f->w);
    free(f->span);
}

void vg_nab_free(vg_nab *n)
{
    if (n == NULL)
        return;
    for (size_t i = 0; i < n->n; i++)
        file_release(&n->files[i]);
    free(n->files);
    free(n);
}

size_t vg_nab_files(const vg_nab *n)
{
    return n->n;
}

/* The rows of window w, searching from row `from` (see the file comment). */
static window_span locate_window(const int64_t *ts, size_t rows, size_t from,
                                 const vg_label_window *w)
{
    window_span s = {NO_ROW, NO_ROW, 0};
    size_t i = from;
    while (i < rows && ts[i] != w->start_ms)
        i++;
    if (i == rows)
        for (i = from; i < rows && (ts[i] < w->start_ms || ts[i] > w->end_ms); i++)
            ;
    if (i == rows)
        return s;
    size_t j = i;
    while (j < rows && ts[j] != w->end_ms)
        j++;
    if (j == rows)
        for (j = i; j + 1 < rows && ts[j + 1] <= w->end_ms; j++)
            ;
    s.first = i;
    s.last = j;
    return s;
}

/* Fills f->span, f->win and f->reward from f->ts and f->w. */
static void place_rows(nab_file *f)
{
    size_t from = 0;
    for (size_t k = 0; k < f->n_w; k++) {
        f->span[k] = locate_window(f->ts, f->rows, from, &f->w[k]);
        if (f->span[k].first == NO_ROW)
            continue;
        f->span[k].scored = f->span[k].last >= f->probation;
        f->scored_windows += f->span[k].scored;
        from = f->span[k].last + 1;
    }
    size_t k = 0;
    int have_prev = 0;
    size_t prev_last = 0, prev_width = 0;
    for (size_t i = 0; i < f->rows; i++) {
        while (k < f->n_w && f->span[k].first == NO_ROW)
            k++;
        if (k < f->n_w && i >= f->span[k].first) {
            size_t width = f->span[k].last - f->span[k].first + 1;
            f->win[i] = (int32_t)k;
            f->reward[i] = vg_nab_scaled_sigmoid(
                -(double)(f->span[k].last - i + 1) / (double)width);
            if (i == f->span[k].last) {
                have_prev = 1;
                prev_last = i;
                prev_width = width;
                k++;
            }
        } else {
            f->win[i] = -1;
            f->reward[i] = have_prev
                ? vg_nab_scaled_sigmoid((double)(i - prev_last) /
                                        (double)(prev_width > 1 ? prev_width - 1 : 1))
                : -1.0;
        }
    }
}

/* Checks the arguments of vg_nab_add_file. */
static int check_file(const char *name, const int64_t *ts, const double *score,
                      size_t rows, const vg_label_window *windows,
                      size_t n_windows, vg_error *err)
{
    if (name == NULL)
        return vg_error_set(err, VG_EARG, "NAB file without a name");
    if (rows > 0 && (ts == NULL || score == NULL))
        return vg_error_set_at(err, VG_EARG, name, "rows without timestamps or scores");
    if (n_windows > 0 && windows == NULL)
        return vg_error_set_at(err, VG_EARG, name, "windows missing");
    if (n_windows > INT32_MAX)
        return vg_error_set_at(err, VG_EARG, name, "too many windows");
    for (size_t k = 0; k < n_windows; k++) {
        if (windows[k].end_ms < windows[k].start_ms)
            return vg_error_set_at(err, VG_EARG, name, "window %zu ends before it starts", k);
        if (k > 0 && windows[k].start_ms <= windows[k - 1].end_ms)
            return vg_error_set_at(err, VG_EARG, name,
                                   "window %zu overlaps or precedes window %zu", k, k - 1);
    }
    for (size_t i = 0; i < rows; i++)
        if (isinf(score[i])) {
            char where[64];
            snprintf(where, sizeof(where), "%s:%zu", name, i + 1);
            return vg_error_set_at(err, VG_ERANGE, where, "infinite anomaly score");
        }
    return 0;
}

static void *copy_of(const void *src, size_t n, size_t size)
{
    void *dst = malloc(n > 0 ? n * size : 1);
    if (dst != NULL && n > 0)
        memcpy(dst, src, n * size);
    return dst;
}

int vg_nab_add_file(vg_nab *n, const char *name, const int64_t *ts,
                    const double *score, size_t rows,
                    const vg_label_window *windows, size_t n_windows,
                    vg_error *err)
{
    int rc = check_file(name, ts, score, rows, windows, n_windows, err);
    if (rc != 0)
        return rc;
    if (n->n == n->cap) {
        size_t cap = n->cap ? 2 * n->cap : 16;
        nab_file *files = realloc(n->files, cap * sizeof(*files));
        if (files == NULL)
            goto out_nomem;
        n->files = files;
        n->cap = cap;
    }
    nab_file *f = &n->files[n->n];
    memset(f, 0, sizeof(*f));
    f->rows = rows;
    f->probation = vg_nab_probation(rows);
    f->n_w = n_windows;
    f->name = strdup(name);
    f->ts = copy_of(ts, rows, sizeof(*ts));
    f->score = copy_of(score, rows, sizeof(*score));
    f->reward = malloc(rows > 0 ? rows * sizeof(*f->reward) : 1);
    f->win = malloc(rows > 0 ? rows * sizeof(*f->win) : 1);
    f->w = copy_of(windows, n_windows, sizeof(*windows));
    f->span = calloc(n_windows > 0 ? n_windows : 1, sizeof(*f->span));
    if (!f->name || !f->ts || !f->score || !f->reward || !f->win || !f->w || !f->span)
        goto out_free_file;
    place_rows(f);
    n->n++;
    return 0;

out_free_file:
    file_release(f);
out_nomem:
    return vg_error_set_at(err, VG_ENOMEM, name, "NAB file of %zu rows", rows);
}

/* Descending by score; NaNs were left out. */
static int point_cmp(const void *a, const void *b)
{
    const sweep_point *x = a, *y = b;
    return (x->score < y->score) - (x->score > y->score);
}

/* Sweeps files [first, end) from the highest score down and calls fn after
 * each distinct score with the raw score (unnormalised, for `wt`) that
 * threshold gives: NAB's calcScoreByThreshold, one pass for every
 * threshold. Returns 0 or VG_ENOMEM. */
static int sweep_files(const vg_nab *n, size_t first, size_t end,
                       const vg_nab_weights *wt, vg_nab_curve_fn fn, void *ctx,
                       vg_error *err)
{
    size_t n_points = 0, n_windows = 0, scored_windows = 0;
    for (size_t i = first; i < end; i++) {
        n_points += n->files[i].rows - n->files[i].probation;
        n_windows += n->files[i].n_w;
        scored_windows += n->files[i].scored_windows;
    }
    sweep_point *pts = malloc((n_points ? n_points : 1) * sizeof(*pts));
    /* Best reward of each window so far; NaN while undetected. */
    double *best = malloc((n_windows ? n_windows : 1) * sizeof(*best));
    if (pts == NULL || best == NULL) {
        free(pts);
        free(best);
        return vg_error_set(err, VG_ENOMEM, "NAB sweep over %zu rows", n_points);
    }
    for (size_t k = 0; k < n_windows; k++)
        best[k] = NAN;
    size_t np = 0;
    int64_t window_base = 0;
    for (size_t i = first; i < end; i++) {
        const nab_file *f = &n->files[i];
        for (size_t r = f->probation; r < f->rows; r++) {
            if (isnan(f->score[r]))
                continue;
            pts[np].score = f->score[r];
            pts[np].reward = f->reward[r];
            pts[np].window = f->win[r] < 0 ? -1 : window_base + f->win[r];
            np++;
        }
        window_base += (int64_t)f->n_w;
    }
    qsort(pts, np, sizeof(*pts), point_cmp);

    double total = -wt->fn * (double)scored_windows;
    for (size_t i = 0; i < np;) {
        double s = pts[i].score;
        for (; i < np && pts[i].score == s; i++) {
            const sweep_point *p = &pts[i];
            if (p->window < 0) {
                total += wt->fp * p->reward;
            } else if (isnan(best[p->window])) {
                total += wt->fn + wt->tp * p->reward;
                best[p->window] = p->reward;
            } else if (p->reward > best[p->window]) {
                total += wt->tp * (p->reward - best[p->window]);
                best[p->window] = p->reward;
            }
        }
        fn(ctx, s, total);
    }
    free(pts);
    free(best);
    return 0;
}

typedef struct best_pick {
    double threshold, total;
} best_pick;

/* Keeps the best total; thresholds come highest first and only a strictly
 * better total replaces, so ties go to the higher threshold as in NAB. */
static void pick_best(void *ctx, double threshold, double raw)
{
    best_pick *b = ctx;
    if (raw > b->total) {
        b->total = raw;
        b->threshold = threshold;
    }
}

/* The threshold with the best corpus score. Returns 0 or VG_ENOMEM. */
static int best_threshold(const vg_nab *n, const vg_nab_weights *wt,
                          double *threshold, vg_error *err)
{
    size_t scored_windows = 0;
    for (size_t i = 0; i < n->n; i++)
        scored_windows += n->files[i].scored_windows;
    /* Detecting nothing is the start: NAB's threshold 1.1. */
    best_pick b = {INFINITY, -wt->fn * (double)scored_windows};
    int rc = sweep_files(n, 0, n->n, wt, pick_best, &b, err);
    *threshold = b.threshold;
    return rc;
}

int vg_nab_file_curve(const vg_nab *n, size_t i, vg_nab_profile profile,
                      vg_nab_curve_fn fn, void *ctx, vg_error *err)
{
    vg_assert(i < n->n);
    return sweep_files(n, i, i + 1, vg_nab_profile_weights(profile), fn, ctx, err);
}

size_t vg_nab_file_windows(const vg_nab *n, size_t i)
{
    vg_assert(i < n->n);
    return n->files[i].scored_windows;
}

const char *vg_nab_file_name(const vg_nab *n, size_t i)
{
    vg_assert(i < n->n);
    return n->files[i].name;
}

static double ratio(size_t num, size_t den)
{
    return den == 0 ? NAN : (double)num / (double)den;
}

static void set_event_metrics(size_t windows, size_t detected, size_t fp_events,
                              double delay_sum_ms, double *precision,
                              double *recall, double *f1, double *delay)
{
    *precision = ratio(detected, detected + fp_events);
    *recall = ratio(detected, windows);
    if (isnan(*precision) || isnan(*recall))
        *f1 = NAN;
    else if (*precision + *recall == 0.0)
        *f1 = 0.0;
    else
        *f1 = 2.0 * *precision * *recall / (*precision + *recall);
    *delay = detected ? delay_sum_ms / (double)detected : NAN;
}

/* Scores one file at threshold t; returns the sum of its detection delays. */
static double score_file(const nab_file *f, const vg_nab_weights *wt, double t,
                         vg_nab_file_result *fr)
{
    memset(fr, 0, sizeof(*fr));
    fr->name = f->name;
    fr->rows = f->rows;
    fr->probation = f->probation;
    fr->windows = f->scored_windows;
    fr->windows_unscored = f->n_w - f->scored_windows;
    double raw = 0.0, delay_sum = 0.0;
    int32_t last_detected = -1;
    int in_run = 0, run_in_window = 0;
    for (size_t i = f->probation; i < f->rows; i++) {
        int det = f->score[i] >= t;
        int32_t k = f->win[i];
        if (in_run && !det && !run_in_window)
            fr->fp_events++;
        if (det && !in_run)
            run_in_window = 0;
        in_run = det;
        if (!det)
            continue;
        if (k < 0) {
            raw += wt->fp * f->reward[i];
            fr->fp_rows++;
            continue;
        }
        run_in_window = 1;
        if (k != last_detected) {   /* rows come in order: the earliest is the best */
            last_detected = k;
            fr->detected++;
            raw += wt->tp * f->reward[i];
            delay_sum += (double)(f->ts[i] - f->w[k].start_ms);
        }
    }
    if (in_run && !run_in_window)
        fr->fp_events++;
    fr->raw = raw - wt->fn * (double)(fr->windows - fr->detected);
    set_event_metrics(fr->windows, fr->detected, fr->fp_events, delay_sum,
                      &fr->precision, &fr->recall, &fr->f1, &fr->mean_delay_ms);
    return delay_sum;
}

int vg_nab_compute(const vg_nab *n, vg_nab_profile profile, vg_nab_result *r,
                   vg_error *err)
{
    const vg_nab_weights *wt = vg_nab_profile_weights(profile);
    memset(r, 0, sizeof(*r));
    r->profile = profile;
    r->files = calloc(n->n ? n->n : 1, sizeof(*r->files));
    if (r->files == NULL)
        return vg_error_set(err, VG_ENOMEM, "NAB results of %zu files", n->n);
    r->n_files = n->n;
    int rc = best_threshold(n, wt, &r->threshold, err);
    if (rc != 0) {
        vg_nab_result_clear(r);
        return rc;
    }
    double delay_sum = 0.0;
    for (size_t i = 0; i < n->n; i++) {
        vg_nab_file_result *fr = &r->files[i];
        delay_sum += score_file(&n->files[i], wt, r->threshold, fr);
        r->raw += fr->raw;
        r->windows += fr->windows;
        r->windows_unscored += fr->windows_unscored;
        r->detected += fr->detected;
        r->fp_rows += fr->fp_rows;
        r->fp_events += fr->fp_events;
    }
    r->null_raw = -wt->fn * (double)r->windows;
    r->perfect_raw = wt->tp * vg_nab_scaled_sigmoid(-1.0) * (double)r->windows;
    r->score = r->windows ? 100.0 * (r->raw - r->null_raw) / (r->perfect_raw - r->null_raw)
                          : NAN;
    set_event_metrics(r->windows, r->detected, r->fp_events, delay_sum,
                      &r->precision, &r->recall, &r->f1, &r->mean_delay_ms);
    return 0;
}

void vg_nab_result_clear(vg_nab_result *r)
{
    if (r == NULL)
        return;
    free(r->files);
    memset(r, 0, sizeof(*r));
}
