/* The operator's view of a labelled replay: how many pages are false, how
 * many labelled windows get a page, and how late, per file and in total.
 *
 * A file is one unit however many series it holds (a wide CSV is one
 * machine): the caller gives one score per row, the max over the row's
 * series, and every `firing` event of any series. Two views:
 *  - at the defaults: the incidents the alert state machine really fired.
 *    A page is an incident that does not join another series' incident
 *    (alert.group_window_s, engine/incident_join.h); it is false when its
 *    firing point lies outside every window. A window is caught when any
 *    incident, paging or joined, fires inside it; the delay is from the
 *    window start to its first firing. Two series paging on one fault
 *    without joining are two pages.
 *  - at one threshold for the whole corpus on the final score: an alert is
 *    a run of consecutive rows with score >= threshold (over the row max, so
 *    series alerting together are one alert); it is false when it starts
 *    outside every window (smd-dev's definition); a window is caught when
 *    an alert starts inside it, as an incident must fire inside it at the
 *    defaults. (Were "any row at or above the threshold inside" enough, the
 *    lowest threshold would make one run of the whole file: one false alert,
 *    every window caught.) For a budget of B false
 *    alerts per file-day the threshold catching the most windows with at
 *    most B * (corpus days) false alerts is chosen.
 * A file's days are the span of its timestamps (last minus first). Window
 * membership is by timestamp, ends inclusive. Every row counts: there is no
 * probationary period here (NAB's stays in nab.c); a detector's warm-up
 * pages are pages.
 *
 * Use: vg_ops_new(); vg_ops_add_file() per replayed file; then the queries.
 * Not thread-safe. */
#ifndef VG_SRC_OPS_EVAL_H
#define VG_SRC_OPS_EVAL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/error.h"
#include "src/labels.h"
#include "src/nab.h"

typedef struct vg_ops vg_ops;

/* At the defaults, for one file or the corpus. */
typedef struct vg_ops_defaults {
    double days;
    size_t windows;
    size_t incidents;        /* firing events */
    size_t joined;           /* of them, joining another series' incident: not paged */
    size_t false_incidents;  /* pages (firings not joined) outside every window */
    size_t caught;           /* windows with a firing inside */
    double mean_delay_ms;    /* over caught windows; NaN when none */
    double median_delay_ms;
} vg_ops_defaults;

/* The best corpus threshold for a budget of false alerts per file-day. */
typedef struct vg_ops_budget {
    double budget;           /* false alerts per file-day allowed */
    double threshold;        /* INFINITY when no threshold catches anything */
    size_t caught;
    size_t false_alerts;
} vg_ops_budget;

/* A new, empty accumulator, or NULL with `err` set (VG_ENOMEM). The caller
 * frees it with vg_ops_free(). */
vg_ops *vg_ops_new(vg_error *err);

/* Frees it; NULL does nothing. */
void vg_ops_free(vg_ops *o);

/* Adds one file: `rows` timestamps (epoch ms) and scores in file order (a
 * NaN score never alerts), the `n_fired` timestamps of its firing events
 * and whether each joined another incident (joined[k] nonzero; NULL: none
 * did), and its windows (sorted, not overlapping, as vg_labels gives them).
 * Everything is copied. Returns 0, VG_EARG (no name, NULL arrays with a
 * count) or VG_ENOMEM; the accumulator is unchanged on failure. */
int vg_ops_add_file(vg_ops *o, const char *name, const int64_t *ts,
                    const double *score, size_t rows, const int64_t *fired_ms,
                    const uint8_t *joined, size_t n_fired, const vg_label_window *windows,
                    size_t n_windows, vg_error *err);

size_t vg_ops_files(const vg_ops *o);
const char *vg_ops_file_name(const vg_ops *o, size_t i);  /* borrowed */

/* The defaults view of file i, or of the corpus when i == SIZE_MAX (delays
 * pooled over every caught window). Returns 0 or VG_ENOMEM (the median). */
int vg_ops_defaults_of(const vg_ops *o, size_t i, vg_ops_defaults *d, vg_error *err);

/* Chooses the corpus threshold for `budget` false alerts per file-day:
 * most windows caught, then fewest false alerts, then the highest
 * threshold. Returns 0 or VG_ENOMEM. */
int vg_ops_best_threshold(const vg_ops *o, double budget, vg_ops_budget *b,
                          vg_error *err);

/* Windows caught and false alerts of file i at threshold t. */
void vg_ops_at_threshold(const vg_ops *o, size_t i, double t, size_t *caught,
                         size_t *false_alerts);

/* Calls `fn` once per distinct score s of file i, in descending order, with
 * the file's windows caught and false alerts at threshold s: the file's
 * whole threshold curve, for cross-validation outside vigil. Returns 0 or
 * VG_ENOMEM. */
typedef void (*vg_ops_curve_fn)(void *ctx, double threshold, size_t caught,
                                size_t false_alerts);
int vg_ops_curve(const vg_ops *o, size_t i, vg_ops_curve_fn fn, void *ctx,
                 vg_error *err);

/* Prints the operator table: a row per file and an "(all)" row, columns
 * days, windows, incidents, false, false/day, caught, mean and median
 * delay at the defaults, then caught and false alerts at the corpus
 * thresholds for 1 and 5 false alerts per file-day. Returns 0, VG_ENOMEM
 * or VG_EIO. */
int vg_ops_print(const vg_ops *o, FILE *out, vg_error *err);

/* Writes everything cross-validation needs as one JSON document: per file
 * its name, days, windows, defaults figures and delays, its threshold
 * curve here and its NAB standard curve (`nab` NULL-able; its files must be
 * the same, added in the same order). Returns 0, VG_ENOMEM or VG_EIO. */
int vg_ops_write_json(const vg_ops *o, const vg_nab *nab, FILE *out, vg_error *err);

#endif
