/* Scoring detections against labelled anomaly windows the way the Numenta
 * Anomaly Benchmark does (NAB v1.x scorer: Lavin & Ahmad 2015, nab/sweeper.py
 * and nab/runner.py), plus event-level precision/recall/F1 and detection
 * delay at the chosen threshold.
 *
 * Use: vg_nab_new(); vg_nab_add_file() once per replayed file with every
 * row's timestamp and final anomaly score in file order and the file's
 * windows; vg_nab_compute() per profile, or vg_nab_print() for the table of
 * all three. One threshold is chosen per profile for the whole corpus, as
 * NAB does. Not thread-safe; one accumulator per thread. */
#ifndef VG_SRC_NAB_H
#define VG_SRC_NAB_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/error.h"
#include "src/labels.h"

/* NAB's application profiles (config/profiles.json). */
typedef enum vg_nab_profile {
    VG_NAB_STANDARD,        /* tp 1.0, fp 0.11, fn 1.0 */
    VG_NAB_REWARD_LOW_FP,   /* tp 1.0, fp 0.22, fn 1.0 */
    VG_NAB_REWARD_LOW_FN,   /* tp 1.0, fp 0.11, fn 2.0 */
    VG_NAB_PROFILES
} vg_nab_profile;

/* A profile's cost matrix. NAB also lists tn 1.0, which its scorer never
 * uses: true negatives earn nothing. */
typedef struct vg_nab_weights {
    double tp, fp, fn;
} vg_nab_weights;

/* Weights and NAB's name ("standard", "reward_low_FP_rate",
 * "reward_low_FN_rate") of a profile; static, never NULL. */
const vg_nab_weights *vg_nab_profile_weights(vg_nab_profile p);
const char *vg_nab_profile_name(vg_nab_profile p);

/* NAB's scaled sigmoid of a relative position y: 2/(1+exp(5y)) - 1, and -1
 * for y > 3. y = -1 is a window's first row (0.98661), 0 just past its last
 * row, positive y after it. */
double vg_nab_scaled_sigmoid(double y);

/* NAB's probationary period of a file of `rows` rows:
 * min(floor(0.15 * rows), 750). Rows before it are never scored. */
size_t vg_nab_probation(size_t rows);

typedef struct vg_nab_file_result {
    const char *name;       /* borrowed from the accumulator */
    size_t rows;
    size_t probation;       /* rows not scored */
    size_t windows;         /* windows with at least one scored row */
    size_t windows_unscored;/* labelled, but no scored row inside (NAB drops them) */
    size_t detected;        /* windows with a detection (TP) */
    size_t fp_rows;         /* NAB false positives: rows >= threshold outside windows */
    size_t fp_events;       /* runs of consecutive detections touching no window */
    double raw;             /* NAB score of this file at the corpus threshold */
    double precision;       /* detected / (detected + fp_events); NaN if both 0 */
    double recall;          /* detected / windows; NaN without windows */
    double f1;              /* NaN when precision or recall is */
    double mean_delay_ms;   /* window start to first detection; NaN if none detected */
} vg_nab_file_result;

typedef struct vg_nab_result {
    vg_nab_profile profile;
    double threshold;       /* a row detects when score >= threshold; INFINITY
                             * when detecting nothing scores best */
    double raw;             /* sum of the files' raw scores */
    double null_raw;        /* -fn * windows: the detector that never detects */
    double perfect_raw;     /* tp * S(-1) * windows: every window hit on its first row */
    double score;           /* 100 * (raw - null) / (perfect - null); NaN without windows */
    size_t windows, windows_unscored, detected, fp_rows, fp_events;
    double precision, recall, f1, mean_delay_ms;   /* over the corpus (micro) */
    size_t n_files;
    vg_nab_file_result *files;  /* in the order added; freed by vg_nab_result_clear() */
} vg_nab_result;

typedef struct vg_nab vg_nab;

/* A new, empty accumulator, or NULL with `err` set (VG_ENOMEM). The caller
 * frees it with vg_nab_free(). */
vg_nab *vg_nab_new(vg_error *err);

/* Frees it; NULL does nothing. */
void vg_nab_free(vg_nab *n);

/* Adds one file: `rows` timestamps (epoch ms) and scores in file order, and
 * its label windows (sorted by start, not overlapping, as vg_labels gives
 * them). `name` is required. Everything is copied. A NaN score means "no
 * score" and never detects. Returns 0, or VG_EARG (no name, unsorted or
 * overlapping windows, NULL arrays with rows > 0), VG_ERANGE (an infinite
 * score, with its row in `err`), or VG_ENOMEM; the accumulator is unchanged
 * on failure. */
int vg_nab_add_file(vg_nab *n, const char *name, const int64_t *ts,
                    const double *score, size_t rows,
                    const vg_label_window *windows, size_t n_windows,
                    vg_error *err);

/* Number of files added. */
size_t vg_nab_files(const vg_nab *n);

/* File i's name (borrowed) and its scored windows (those NAB counts). */
const char *vg_nab_file_name(const vg_nab *n, size_t i);
size_t vg_nab_file_windows(const vg_nab *n, size_t i);

/* Calls `fn` once per distinct score s of file i's scored rows, highest
 * first, with the file's raw score for `profile` at threshold s. Above
 * every score the raw score is -fn * vg_nab_file_windows(). Summing the
 * files' curves gives any subset's score at any threshold: what
 * cross-validation outside vigil needs. Returns 0 or VG_ENOMEM. */
typedef void (*vg_nab_curve_fn)(void *ctx, double threshold, double raw);
int vg_nab_file_curve(const vg_nab *n, size_t i, vg_nab_profile profile,
                      vg_nab_curve_fn fn, void *ctx, vg_error *err);

/* Picks the threshold that maximises the corpus score for `profile` (an
 * exact search over every distinct score) and fills `r` with it, the
 * normalised score, and per-file results. Returns 0 or VG_ENOMEM. `r` is
 * overwritten, not freed first; release it with vg_nab_result_clear(). */
int vg_nab_compute(const vg_nab *n, vg_nab_profile profile, vg_nab_result *r,
                   vg_error *err);

/* Frees r->files and zeroes r; NULL does nothing. */
void vg_nab_result_clear(vg_nab_result *r);

/* Computes all three profiles and prints one table: a row per file and a
 * total, columns file, rows, windows, detected, FP (events), precision,
 * recall, F1, mean delay (all at the standard profile's threshold), and the
 * NAB standard / low-FP / low-FN scores (raw per file, normalised in the
 * total row). Returns 0, VG_ENOMEM, or VG_EIO if writing fails. */
int vg_nab_print(const vg_nab *n, FILE *out, vg_error *err);

#endif
