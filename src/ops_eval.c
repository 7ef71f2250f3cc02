/* The operator's view of a labelled replay (see ops_eval.h).
 *
 * Each row is tied to the window that holds its timestamp when the file is
 * added, so every query is a pass over rows. Choosing a corpus threshold
 * for a budget is one sort of every row by score and one sweep from the
 * top: lowering the threshold past a row switches it on, which starts a new
 * alert run, moves the start of the run on its right to itself, or joins
 * two runs (the right one's start disappears), so only run starts change,
 * and the row's neighbours say which. False alerts are starts outside every
 * window; a window is caught while it holds at least one start, which is
 * not monotone (a start inside a window moves out when the run grows to
 * the left), hence a count per window. The whole curve costs O(n log n),
 * not O(n) per threshold. */
#include "src/ops_eval.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MS_PER_DAY 86400000.0

typedef struct ops_file {
    char            *name;
    size_t           rows;
    double          *score;
    int32_t         *win;     /* window holding each row's timestamp, -1 none */
    int64_t         *fired;   /* firing timestamps */
    uint8_t         *joined;  /* each firing: joined another incident (not a page) */
    size_t           n_fired;
    vg_label_window *w;
    size_t           n_w;
    double           days;
} ops_file;

struct vg_ops {
    ops_file *files;
    size_t    n, cap;
};

/* One row in a threshold sweep. */
typedef struct sweep_row {
    double   score;
    uint32_t file;
    uint32_t row;
} sweep_row;

vg_ops *vg_ops_new(vg_error *err)
{
    vg_ops *o = calloc(1, sizeof(*o));
    if (o == NULL)
        vg_error_set(err, VG_ENOMEM, "operator evaluation");
    return o;
}

static void file_release(ops_file *f)
{
    free(f->name);
    free(f->score);
    free(f->win);
    free(f->fired);
    free(f->joined);
    free(f->w);
}

void vg_ops_free(vg_ops *o)
{
    if (o == NULL)
        return;
    for (size_t i = 0; i < o->n; i++)
        file_release(&o->files[i]);
    free(o->files);
    free(o);
}

size_t vg_ops_files(const vg_ops *o)
{
    return o->n;
}

const char *vg_ops_file_name(const vg_ops *o, size_t i)
{
    vg_assert(i < o->n);
    return o->files[i].name;
}

/* The window holding ts, or -1 (windows sorted and disjoint). */
static int32_t window_of(const vg_label_window *w, size_t n_w, int64_t ts)
{
    size_t k = vg_labels_window_of(w, n_w, ts);
    return k < n_w ? (int32_t)k : -1;
}

static void *copy_of(const void *src, size_t n, size_t size)
{
    void *dst = malloc(n > 0 ? n * size : 1);
    if (dst != NULL && n > 0)
        memcpy(dst, src, n * size);
    return dst;
}

static double span_days(const int64_t *ts, size_t rows)
{
    if (rows == 0)
        return 0.0;
    int64_t lo = ts[0], hi = ts[0];
    for (size_t i = 1; i < rows; i++) {
        lo = ts[i] < lo ? ts[i] : lo;
        hi = ts[i] > hi ? ts[i] : hi;
    }
    return (double)(hi - lo) / MS_PER_DAY;
}

int vg_ops_add_file(vg_ops *o, const char *name, const int64_t *ts,
                    const double *score, size_t rows, const int64_t *fired_ms,
                    const uint8_t *joined, size_t n_fired, const vg_label_window *windows,
                    size_t n_windows, vg_error *err)
{
    if (name == NULL || (rows > 0 && (ts == NULL || score == NULL)) ||
        (n_fired > 0 && fired_ms == NULL) || (n_windows > 0 && windows == NULL))
        return vg_error_set_at(err, VG_EARG, name ? name : "?", "missing file data");
    if (rows > UINT32_MAX || n_windows > INT32_MAX || o->n >= UINT32_MAX)
        return vg_error_set_at(err, VG_EARG, name, "file too large");
    if (o->n == o->cap) {
        size_t cap = o->cap ? 2 * o->cap : 16;
        ops_file *files = realloc(o->files, cap * sizeof(*files));
        if (files == NULL)
            goto out_nomem;
        o->files = files;
        o->cap = cap;
    }
    ops_file *f = &o->files[o->n];
    memset(f, 0, sizeof(*f));
    f->rows = rows;
    f->n_fired = n_fired;
    f->n_w = n_windows;
    f->days = span_days(ts, rows);
    f->name = strdup(name);
    f->score = copy_of(score, rows, sizeof(*score));
    f->win = malloc(rows > 0 ? rows * sizeof(*f->win) : 1);
    f->fired = copy_of(fired_ms, n_fired, sizeof(*fired_ms));
    f->joined = joined != NULL ? copy_of(joined, n_fired, sizeof(*joined))
                               : calloc(n_fired > 0 ? n_fired : 1, sizeof(*f->joined));
    f->w = copy_of(windows, n_windows, sizeof(*windows));
    if (!f->name || !f->score || !f->win || !f->fired || !f->joined || !f->w)
        goto out_free_file;
    for (size_t i = 0; i < rows; i++)
        f->win[i] = window_of(f->w, f->n_w, ts[i]);
    o->n++;
    return 0;

out_free_file:
    file_release(f);
out_nomem:
    return vg_error_set_at(err, VG_ENOMEM, name, "operator evaluation of %zu rows", rows);
}

static int delay_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Adds file f's incidents to d; appends the delay of each caught window
 * (its earliest firing inside) to delays[*n_delays]. */
static void file_defaults(const ops_file *f, vg_ops_defaults *d, double *delays,
                          size_t *n_delays, int32_t *slot)
{
    d->days += f->days;
    d->windows += f->n_w;
    d->incidents += f->n_fired;
    size_t first = *n_delays;
    /* slot[k]: where window k's delay sits after `first`, -1 while uncaught */
    for (size_t k = 0; k < f->n_w; k++)
        slot[k] = -1;
    for (size_t e = 0; e < f->n_fired; e++) {
        int32_t k = window_of(f->w, f->n_w, f->fired[e]);
        d->joined += f->joined[e] != 0;
        if (k < 0) {
            /* a joined incident is not a page: its leader's counts */
            d->false_incidents += f->joined[e] == 0;
            continue;
        }
        double delay = (double)(f->fired[e] - f->w[k].start_ms);
        if (slot[k] < 0) {
            slot[k] = (int32_t)(*n_delays - first);
            delays[(*n_delays)++] = delay;
            d->caught++;
        } else if (delay < delays[first + (size_t)slot[k]]) {
            delays[first + (size_t)slot[k]] = delay;
        }
    }
}

int vg_ops_defaults_of(const vg_ops *o, size_t i, vg_ops_defaults *d, vg_error *err)
{
    vg_assert(i == SIZE_MAX || i < o->n);
    size_t first = i == SIZE_MAX ? 0 : i, end = i == SIZE_MAX ? o->n : i + 1;
    size_t max_delays = 0, max_w = 1;
    for (size_t k = first; k < end; k++) {
        max_delays += o->files[k].n_w;
        max_w = o->files[k].n_w > max_w ? o->files[k].n_w : max_w;
    }
    double *delays = malloc((max_delays ? max_delays : 1) * sizeof(*delays));
    int32_t *slot = malloc(max_w * sizeof(*slot));
    if (delays == NULL || slot == NULL) {
        free(delays);
        free(slot);
        return vg_error_set(err, VG_ENOMEM, "%zu detection delays", max_delays);
    }
    memset(d, 0, sizeof(*d));
    size_t n_delays = 0;
    for (size_t k = first; k < end; k++)
        file_defaults(&o->files[k], d, delays, &n_delays, slot);
    free(slot);
    d->mean_delay_ms = d->median_delay_ms = NAN;
    if (n_delays > 0) {
        double sum = 0.0;
        for (size_t k = 0; k < n_delays; k++)
            sum += delays[k];
        d->mean_delay_ms = sum / (double)n_delays;
        qsort(delays, n_delays, sizeof(*delays), delay_cmp);
        d->median_delay_ms = n_delays % 2
            ? delays[n_delays / 2]
            : 0.5 * (delays[n_delays / 2 - 1] + delays[n_delays / 2]);
    }
    free(delays);
    return 0;
}

void vg_ops_at_threshold(const vg_ops *o, size_t i, double t, size_t *caught,
                         size_t *false_alerts)
{
    vg_assert(i < o->n);
    const ops_file *f = &o->files[i];
    *caught = *false_alerts = 0;
    int prev = 0;
    for (size_t r = 0; r < f->rows; r++) {
        int on = f->score[r] >= t;   /* false for NaN */
        if (on && !prev && f->win[r] < 0)
            (*false_alerts)++;
        prev = on;
    }
    /* Windows are few: one pass over the rows per window needs no memory. */
    for (size_t k = 0; k < f->n_w; k++)
        for (size_t r = 0; r < f->rows; r++)
            if (f->win[r] == (int32_t)k && f->score[r] >= t &&
                (r == 0 || !(f->score[r - 1] >= t))) {
                (*caught)++;
                break;
            }
}

/* Descending by score. */
static int row_cmp(const void *a, const void *b)
{
    const sweep_row *x = a, *y = b;
    return (x->score < y->score) - (x->score > y->score);
}

/* State of a sweep over files [first, end): which rows are on, how many
 * run starts each window holds, and the running counts. */
typedef struct sweep {
    const vg_ops *o;
    size_t        first;
    size_t       *row_base, *win_base;  /* offsets into on[] and starts[] */
    uint8_t      *on;
    uint32_t     *starts;
    size_t        n_caught, n_false;
} sweep;

/* A run start appears (d = +1) or disappears (d = -1) at row r of file f. */
static void move_start(sweep *s, const ops_file *f, size_t base, size_t r, int d)
{
    if (f->win[r] < 0) {
        s->n_false += (size_t)d;   /* wraps back for d = -1: counts stay >= 0 */
        return;
    }
    uint32_t *n = &s->starts[base + (size_t)f->win[r]];
    if (d > 0 && (*n)++ == 0)
        s->n_caught++;
    else if (d < 0 && --(*n) == 0)
        s->n_caught--;
}

/* Switches row r of file fi on (see the file comment). */
static void switch_on(sweep *s, uint32_t fi, uint32_t r)
{
    const ops_file *f = &s->o->files[fi];
    size_t wb = s->win_base[fi - s->first];
    uint8_t *on = s->on + s->row_base[fi - s->first];
    int left = r > 0 && on[r - 1];
    int right = (size_t)r + 1 < f->rows && on[r + 1];
    if (right)
        move_start(s, f, wb, r + 1, -1);  /* the run on the right no longer starts there */
    if (!left)
        move_start(s, f, wb, r, +1);      /* a run starts here, new or grown leftwards */
    on[r] = 1;
}

/* Calls fn after each distinct score of files [first, end), highest first. */
static int sweep_files(const vg_ops *o, size_t first, size_t end, vg_ops_curve_fn fn,
                       void *ctx, vg_error *err)
{
    size_t n_files = end - first, n_rows = 0, n_wins = 0, np = 0;
    for (size_t k = first; k < end; k++) {
        n_rows += o->files[k].rows;
        n_wins += o->files[k].n_w;
    }
    sweep s = {.o = o, .first = first};
    sweep_row *pts = malloc((n_rows ? n_rows : 1) * sizeof(*pts));
    s.row_base = malloc((n_files ? n_files : 1) * sizeof(*s.row_base));
    s.win_base = malloc((n_files ? n_files : 1) * sizeof(*s.win_base));
    s.on = calloc(n_rows ? n_rows : 1, 1);
    s.starts = calloc(n_wins ? n_wins : 1, sizeof(*s.starts));
    int rc = 0;
    if (!pts || !s.row_base || !s.win_base || !s.on || !s.starts) {
        rc = vg_error_set(err, VG_ENOMEM, "threshold sweep over %zu rows", n_rows);
        goto out_free;
    }
    for (size_t k = first, rb = 0, wb = 0; k < end; k++) {
        const ops_file *f = &o->files[k];
        s.row_base[k - first] = rb;
        s.win_base[k - first] = wb;
        rb += f->rows;
        wb += f->n_w;
        for (size_t r = 0; r < f->rows; r++)
            if (!isnan(f->score[r]))
                pts[np++] = (sweep_row){f->score[r], (uint32_t)k, (uint32_t)r};
    }
    qsort(pts, np, sizeof(*pts), row_cmp);
    for (size_t i = 0; i < np;) {
        double t = pts[i].score;
        for (; i < np && pts[i].score == t; i++)
            switch_on(&s, pts[i].file, pts[i].row);
        fn(ctx, t, s.n_caught, s.n_false);
    }
out_free:
    free(pts);
    free(s.row_base);
    free(s.win_base);
    free(s.on);
    free(s.starts);
    return rc;
}

int vg_ops_curve(const vg_ops *o, size_t i, vg_ops_curve_fn fn, void *ctx, vg_error *err)
{
    vg_assert(i < o->n);
    return sweep_files(o, i, i + 1, fn, ctx, err);
}

typedef struct budget_pick {
    vg_ops_budget *b;
    double         max_false;
} budget_pick;

/* Keeps the threshold with the most windows caught within the budget;
 * thresholds come highest first, so on a tie in both counts the first
 * (highest) stays. */
static void pick_within_budget(void *ctx, double t, size_t caught, size_t false_alerts)
{
    budget_pick *p = ctx;
    if ((double)false_alerts > p->max_false)
        return;
    if (caught > p->b->caught ||
        (caught == p->b->caught && false_alerts < p->b->false_alerts)) {
        p->b->threshold = t;
        p->b->caught = caught;
        p->b->false_alerts = false_alerts;
    }
}

int vg_ops_best_threshold(const vg_ops *o, double budget, vg_ops_budget *b, vg_error *err)
{
    double days = 0.0;
    for (size_t k = 0; k < o->n; k++)
        days += o->files[k].days;
    /* Detecting nothing: nothing caught, no false alert. */
    *b = (vg_ops_budget){.budget = budget, .threshold = INFINITY};
    budget_pick p = {.b = b, .max_false = budget * days};
    return sweep_files(o, 0, o->n, pick_within_budget, &p, err);
}
