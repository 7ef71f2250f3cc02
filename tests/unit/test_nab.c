/* NAB scoring: hand-computed cases, and the threshold sweep against a naive
 * scorer that tries every threshold.
 *
 * Most cases use a file of 100 rows one minute apart (ts = i minutes), so the
 * probationary period is min(floor(0.15 * 100), 750) = 15 rows (0..14), and
 * one window on rows 40..49 (width 10). Rewards, S(y) = 2/(1+exp(5y)) - 1:
 *   row 40 (start):  y = -(49-40+1)/10 = -1.0  S = 0.9866142981514305
 *   row 45 (middle): y = -(49-45+1)/10 = -0.5  S = 0.8482836399575131
 *   row 49 (end):    y = -(49-49+1)/10 = -0.1  S = 0.2449186624037092
 *   row 50 (after):  y = (50-49)/(10-1) = 1/9  S = -0.2708471185167214
 *   row 58:          y = 9/9 = 1.0             S = -0.9866142981514303
 *   row 80:          y = 31/9 > 3              S = -1
 *   rows before the first window:                S = -1 */
#include "tests/unit/helpers.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "src/nab.h"

#define ROWS 100
#define MIN_MS 60000
#define S_START 0.9866142981514305
#define S_MID 0.8482836399575131
#define S_END 0.2449186624037092
#define S_AFTER1 (-0.2708471185167214)
#define S_AFTER9 (-0.9866142981514303)
#define TOL 1e-12

typedef struct fixture {
    int64_t ts[ROWS];
    double  score[ROWS];
} fixture;

static void fixture_init(fixture *fx)
{
    for (int i = 0; i < ROWS; i++) {
        fx->ts[i] = (int64_t)i * MIN_MS;
        fx->score[i] = 0.0;
    }
}

static vg_label_window rows_window(int first, int last)
{
    return (vg_label_window){(int64_t)first * MIN_MS, (int64_t)last * MIN_MS};
}

/* A new accumulator holding one fixture file with the given windows. */
static vg_nab *one_file(const fixture *fx, const vg_label_window *w, size_t n_w)
{
    vg_error err;
    vg_nab *n = vg_nab_new(&err);
    assert_non_null(n);
    assert_int_equal(vg_nab_add_file(n, "f.csv", fx->ts, fx->score, ROWS, w, n_w, &err), 0);
    return n;
}

static void compute(const vg_nab *n, vg_nab_profile p, vg_nab_result *r)
{
    vg_error err;
    assert_int_equal(vg_nab_compute(n, p, r, &err), 0);
}

static void sigmoid_and_probation(void **state)
{
    (void)state;
    assert_double_near(vg_nab_scaled_sigmoid(-1.0), S_START, TOL);
    assert_double_near(vg_nab_scaled_sigmoid(0.0), 0.0, TOL);
    assert_double_near(vg_nab_scaled_sigmoid(3.0), 2.0 / (1.0 + exp(15.0)) - 1.0, TOL);
    assert_double_near(vg_nab_scaled_sigmoid(3.0001), -1.0, 0.0);
    /* floor(0.15 * 100) = 15; floor(0.15 * 4032) = floor(604.8) = 604;
     * 0.15 * 10320 = 1548 > 750. */
    assert_int_equal(vg_nab_probation(100), 15);
    assert_int_equal(vg_nab_probation(4032), 604);
    assert_int_equal(vg_nab_probation(10320), 750);
    assert_int_equal(vg_nab_probation(0), 0);
}

static void profiles_are_nabs(void **state)
{
    (void)state;
    const vg_nab_weights *s = vg_nab_profile_weights(VG_NAB_STANDARD);
    const vg_nab_weights *fp = vg_nab_profile_weights(VG_NAB_REWARD_LOW_FP);
    const vg_nab_weights *fn = vg_nab_profile_weights(VG_NAB_REWARD_LOW_FN);
    assert_double_near(s->tp, 1.0, 0); assert_double_near(s->fp, 0.11, 0); assert_double_near(s->fn, 1.0, 0);
    assert_double_near(fp->tp, 1.0, 0); assert_double_near(fp->fp, 0.22, 0); assert_double_near(fp->fn, 1.0, 0);
    assert_double_near(fn->tp, 1.0, 0); assert_double_near(fn->fp, 0.11, 0); assert_double_near(fn->fn, 2.0, 0);
    assert_string_equal(vg_nab_profile_name(VG_NAB_REWARD_LOW_FP), "reward_low_FP_rate");
}

/* One detection on the window's first row: raw = S(-1) = 0.98661 = perfect,
 * null = -1 (-2 with low FN): the score is 100 in every profile. */
static void perfect_detector(void **state)
{
    (void)state;
    fixture fx;
    fixture_init(&fx);
    fx.score[40] = 1.0;
    vg_label_window w = rows_window(40, 49);
    vg_nab *n = one_file(&fx, &w, 1);
    vg_nab_result r;
    compute(n, VG_NAB_STANDARD, &r);
    assert_double_near(r.threshold, 1.0, 0);
    assert_double_near(r.raw, S_START, TOL);
    assert_double_near(r.null_raw, -1.0, 0);
    assert_double_near(r.perfect_raw, S_START, TOL);
    assert_double_near(r.score, 100.0, 1e-12);
    assert_int_equal(r.detected, 1);
    assert_int_equal(r.fp_rows, 0);
    vg_nab_result_clear(&r);
    compute(n, VG_NAB_REWARD_LOW_FN, &r);
    assert_double_near(r.null_raw, -2.0, 0);
    assert_double_near(r.score, 100.0, 1e-12);
    vg_nab_result_clear(&r);
    vg_nab_free(n);
}

/* A constant score: detecting everything costs 25 rows * 0.11 before the
 * window alone, so "detect nothing" (threshold INFINITY) wins: raw = -1 =
 * null, score 0. */
static void null_detector(void **state)
{
    (void)state;
    fixture fx;
    fixture_init(&fx);
    vg_label_window w = rows_window(40, 49);
    vg_nab *n = one_file(&fx, &w, 1);
    for (int p = 0; p < VG_NAB_PROFILES; p++) {
        vg_nab_result r;
        compute(n, (vg_nab_profile)p, &r);
        assert_true(isinf(r.threshold));
        assert_double_near(r.raw, r.null_raw, 0);
        assert_double_near(r.score, 0.0, 0);
        assert_int_equal(r.detected, 0);
        assert_true(isnan(r.precision));
        assert_double_near(r.recall, 0.0, 0);
        vg_nab_result_clear(&r);
    }
    vg_nab_free(n);
}

/* One detection at row `row`: raw = S(y) (the FN penalty is lifted). */
static void single_detection_reward(int row, double expect)
{
    fixture fx;
    fixture_init(&fx);
    fx.score[row] = 0.7;
    vg_label_window w = rows_window(40, 49);
    vg_nab *n = one_file(&fx, &w, 1);
    vg_nab_result r;
    compute(n, VG_NAB_STANDARD, &r);
    assert_double_near(r.threshold, 0.7, 0);
    assert_double_near(r.raw, expect, TOL);
    assert_double_near(r.files[0].raw, expect, TOL);
    assert_double_near(r.score, 100.0 * (expect + 1.0) / (S_START + 1.0), TOL);
    /* delay: window starts at minute 40 */
    assert_double_near(r.mean_delay_ms, (double)(row - 40) * MIN_MS, 0);
    vg_nab_result_clear(&r);
    vg_nab_free(n);
}

static void reward_at_window_start_middle_end(void **state)
{
    (void)state;
    single_detection_reward(40, S_START);
    single_detection_reward(45, S_MID);       /* 100 * 1.84828 / 1.98661 = 93.037 */
    single_detection_reward(49, S_END);
}

/* Only the earliest detection in a window counts: rows 45 and 47 both at
 * 0.7 give S_MID, not S_MID plus the reward of row 47. */
static void window_counts_once(void **state)
{
    (void)state;
    fixture fx;
    fixture_init(&fx);
    fx.score[45] = fx.score[47] = 0.7;
    vg_label_window w = rows_window(40, 49);
    vg_nab *n = one_file(&fx, &w, 1);
    vg_nab_result r;
    compute(n, VG_NAB_STANDARD, &r);
    assert_double_near(r.raw, S_MID, TOL);
    assert_int_equal(r.detected, 1);
    assert_int_equal(r.fp_events, 0);
    vg_nab_result_clear(&r);
    vg_nab_free(n);
}

/* TP at row 40 plus one FP, both at 1.0 (detecting beats -A_FN for
 * nothing): raw = S_START + A_FP * S(FP row). FP at row 20 (before the
 * window, S = -1): standard 0.98661 - 0.11 = 0.87661, low FP 0.98661 - 0.22
 * = 0.76661; at row 58: S = -0.98661; at row 80: y > 3, S = -1. */
static void false_positive_costs(int fp_row, double fp_reward)
{
    fixture fx;
    fixture_init(&fx);
    fx.score[40] = fx.score[fp_row] = 1.0;
    vg_label_window w = rows_window(40, 49);
    vg_nab *n = one_file(&fx, &w, 1);
    for (int p = 0; p < VG_NAB_PROFILES; p++) {
        const vg_nab_weights *wt = vg_nab_profile_weights((vg_nab_profile)p);
        vg_nab_result r;
        compute(n, (vg_nab_profile)p, &r);
        assert_double_near(r.threshold, 1.0, 0);
        assert_double_near(r.raw, S_START + wt->fp * fp_reward, TOL);
        assert_int_equal(r.fp_rows, 1);
        assert_int_equal(r.fp_events, 1);
        vg_nab_result_clear(&r);
    }
    vg_nab_free(n);
}

static void false_positives_cost_profile_weight(void **state)
{
    (void)state;
    false_positive_costs(20, -1.0);
    false_positive_costs(58, S_AFTER9);
    false_positive_costs(80, -1.0);
}

/* Row 50 right after the window: its FP reward is S(1/9), a small cost; it
 * is a separate run from the detection at row 40 (rows 41..49 are 0). */
static void false_positive_just_after_window(void **state)
{
    (void)state;
    fixture fx;
    fixture_init(&fx);
    fx.score[40] = fx.score[50] = 1.0;
    vg_label_window w = rows_window(40, 49);
    vg_nab *n = one_file(&fx, &w, 1);
    vg_nab_result r;
    compute(n, VG_NAB_STANDARD, &r);
    assert_double_near(r.raw, S_START + 0.11 * S_AFTER1, TOL);
    assert_int_equal(r.fp_events, 1);
    vg_nab_result_clear(&r);
    vg_nab_free(n);
}

/* Row 10 is in the probationary period (rows 0..14): its 0.9 is ignored.
 * Were it scored, threshold 0.8 would give 0.98661 - 0.11; it gives
 * 0.98661 with no FP. */
static void probation_is_ignored(void **state)
{
    (void)state;
    fixture fx;
    fixture_init(&fx);
    fx.score[10] = 0.9;
    fx.score[40] = 0.8;
    vg_label_window w = rows_window(40, 49);
    vg_nab *n = one_file(&fx, &w, 1);
    vg_nab_result r;
    compute(n, VG_NAB_STANDARD, &r);
    assert_double_near(r.threshold, 0.8, 0);
    assert_double_near(r.raw, S_START, TOL);
    assert_int_equal(r.fp_rows, 0);
    assert_int_equal(r.fp_events, 0);
    assert_int_equal(r.files[0].probation, 15);
    vg_nab_result_clear(&r);
    vg_nab_free(n);
}

/* A window entirely inside the probationary period is not counted (NAB
 * drops it): no windows, so no normalised score. */
static void window_in_probation_is_unscored(void **state)
{
    (void)state;
    fixture fx;
    fixture_init(&fx);
    vg_label_window w = rows_window(2, 8);
    vg_nab *n = one_file(&fx, &w, 1);
    vg_nab_result r;
    compute(n, VG_NAB_STANDARD, &r);
    assert_int_equal(r.windows, 0);
    assert_int_equal(r.windows_unscored, 1);
    assert_true(isnan(r.score));
    vg_nab_result_clear(&r);
    vg_nab_free(n);
}

/* Two files, one threshold. File A (window rows 40..49): row 20 = 0.9 (FP,
 * -1), row 45 = 0.6 (S_MID), row 40 = 0.4 (S_START). File B (no window):
 * row 30 = 0.5 (FP, -1). Corpus totals by threshold:
 *   standard (fp 0.11, fn 1):  inf -1 | 0.9 -1.11 | 0.6 -1.11+1+0.84828 = 0.73828
 *     | 0.5 0.62828 | 0.4 0.62828 + (0.98661-0.84828) = 0.76661 | 0 (all rows) < 0
 *     -> 0.4, raw 0.98661 - 0.22 = 0.76661,
 *        score 100 * (0.76661 + 1) / (0.98661 + 1) = 88.9259
 *   low FP (fp 0.22): inf -1 | 0.9 -1.22 | 0.6 0.62828 | 0.5 0.40828
 *     | 0.4 0.54661 -> 0.6, raw 0.84828 - 0.22 = 0.62828,
 *        score 100 * 1.62828 / 1.98661 = 81.9627
 *   low FN (fn 2): inf -2 | 0.9 -2.11 | 0.6 0.73828 | 0.5 0.62828 | 0.4 0.76661
 *     -> 0.4, raw 0.76661, score 100 * 2.76661 / 2.98661 = 92.6338 */
/* The two files of the hand-computed case above; a's name is given. */
static vg_nab *two_file_case(const char *a_name)
{
    static fixture a, b;
    fixture_init(&a);
    fixture_init(&b);
    a.score[20] = 0.9;
    a.score[45] = 0.6;
    a.score[40] = 0.4;
    b.score[30] = 0.5;
    vg_label_window w = rows_window(40, 49);
    vg_error err;
    vg_nab *n = vg_nab_new(&err);
    assert_int_equal(vg_nab_add_file(n, a_name, a.ts, a.score, ROWS, &w, 1, &err), 0);
    assert_int_equal(vg_nab_add_file(n, "b.csv", b.ts, b.score, ROWS, NULL, 0, &err), 0);
    return n;
}

static void threshold_search_by_hand(void **state)
{
    (void)state;
    vg_nab *n = two_file_case("a.csv");
    assert_int_equal(vg_nab_files(n), 2);
    const double thr[VG_NAB_PROFILES] = {0.4, 0.6, 0.4};
    const double raw[VG_NAB_PROFILES] = {S_START - 0.22, S_MID - 0.22, S_START - 0.22};
    const double score[VG_NAB_PROFILES] = {88.92588258301006, 81.96274644115124,
                                           92.63379941172285};
    for (int p = 0; p < VG_NAB_PROFILES; p++) {
        vg_nab_result r;
        compute(n, (vg_nab_profile)p, &r);
        assert_double_near(r.threshold, thr[p], 0);
        assert_double_near(r.raw, raw[p], TOL);
        assert_double_near(r.score, score[p], 1e-9);
        assert_double_near(r.files[0].raw + r.files[1].raw, r.raw, TOL);
        /* b's FP (0.5) is detected below 0.6 only */
        assert_double_near(r.files[1].raw,
                           thr[p] <= 0.5 ? -vg_nab_profile_weights((vg_nab_profile)p)->fp : 0.0,
                           TOL);
        assert_string_equal(r.files[1].name, "b.csv");
        vg_nab_result_clear(&r);
    }
    vg_nab_free(n);
}

/* Windows on rows 40..49 and 70..79; detections (score 1) on rows 20-21
 * (one run, outside: FP event), 45..52 (a run that detects window 1 and
 * spills out: not an FP event, but rows 50..52 are NAB FP rows) and 90
 * (FP event). Window 2 is missed.
 *   TP = 1, FP events = 2, windows = 2: precision = 1/3, recall = 1/2,
 *   F1 = 2 * (1/3)(1/2) / (1/3 + 1/2) = 0.4; fp_rows = 2 + 3 + 1 = 6;
 *   delay = minute 45 - minute 40 = 300000 ms.
 * NAB raw (standard): -1 (window 2) + S_MID + 0.11 * (2 * -1 + S(1/9) +
 * S(2/9) + S(3/9) + S((90-79)/9)) = -0.5157... > -2 (nothing), so the
 * threshold is 1. */
static void event_precision_recall_f1(void **state)
{
    (void)state;
    fixture fx;
    fixture_init(&fx);
    int det[] = {20, 21, 45, 46, 47, 48, 49, 50, 51, 52, 90};
    for (size_t i = 0; i < sizeof(det) / sizeof(det[0]); i++)
        fx.score[det[i]] = 1.0;
    vg_label_window w[2] = {rows_window(40, 49), rows_window(70, 79)};
    vg_nab *n = one_file(&fx, w, 2);
    vg_nab_result r;
    compute(n, VG_NAB_STANDARD, &r);
    assert_double_near(r.threshold, 1.0, 0);
    assert_int_equal(r.windows, 2);
    assert_int_equal(r.detected, 1);
    assert_int_equal(r.fp_events, 2);
    assert_int_equal(r.fp_rows, 6);
    assert_double_near(r.precision, 1.0 / 3.0, TOL);
    assert_double_near(r.recall, 0.5, TOL);
    assert_double_near(r.f1, 0.4, TOL);
    assert_double_near(r.mean_delay_ms, 300000.0, 0);
    double fp = 2 * -1.0 + S_AFTER1 + vg_nab_scaled_sigmoid(2.0 / 9) +
                vg_nab_scaled_sigmoid(3.0 / 9) + vg_nab_scaled_sigmoid(11.0 / 9);
    assert_double_near(r.raw, -1.0 + S_MID + 0.11 * fp, TOL);
    assert_double_near(r.files[0].f1, 0.4, TOL);
    vg_nab_result_clear(&r);
    vg_nab_free(n);
}

/* A run starting before the window and running into it detects the window
 * (at row 40, S_START) and is no FP event; rows 38, 39 are NAB FP rows. */
static void run_into_window(void **state)
{
    (void)state;
    fixture fx;
    fixture_init(&fx);
    fx.score[38] = fx.score[39] = fx.score[40] = fx.score[41] = 1.0;
    vg_label_window w = rows_window(40, 49);
    vg_nab *n = one_file(&fx, &w, 1);
    vg_nab_result r;
    compute(n, VG_NAB_STANDARD, &r);
    assert_int_equal(r.detected, 1);
    assert_int_equal(r.fp_events, 0);
    assert_int_equal(r.fp_rows, 2);
    assert_double_near(r.precision, 1.0, 0);
    assert_double_near(r.raw, S_START - 0.22, TOL);
    vg_nab_result_clear(&r);
    vg_nab_free(n);
}

/* Repeated timestamps (rows 44 and 45 both at minute 44): NAB leaves the
 * window at the first row equal to its end, so a window [40, 44] spans rows
 * 40..44 (width 5) and row 45 is already outside it. A window whose ends
 * match no row (start 39.5 min, end 44.5 min) takes the rows inside. */
static void window_rows_from_timestamps(void **state)
{
    (void)state;
    fixture fx;
    fixture_init(&fx);
    for (int i = 45; i < ROWS; i++)
        fx.ts[i] = (int64_t)(i - 1) * MIN_MS;
    fx.score[44] = fx.score[45] = 1.0;
    vg_label_window w = rows_window(40, 44);
    vg_nab *n = one_file(&fx, &w, 1);
    vg_nab_result r;
    compute(n, VG_NAB_STANDARD, &r);
    /* row 44 is the window's last row: y = -(44 - 44 + 1) / 5 = -0.2;
     * row 45 is outside: y = (45 - 44) / (5 - 1) = 0.25, an FP row.
     * 0.46212 + 0.11 * -0.55477 = 0.40109 > -1, so threshold 1. */
    assert_double_near(r.threshold, 1.0, 0);
    assert_double_near(r.raw, vg_nab_scaled_sigmoid(-0.2) + 0.11 * vg_nab_scaled_sigmoid(0.25), TOL);
    assert_int_equal(r.fp_rows, 1);
    assert_int_equal(r.fp_events, 0);   /* the run 44..45 touches the window */
    vg_nab_result_clear(&r);
    vg_nab_free(n);

    fixture_init(&fx);
    fx.score[40] = 1.0;
    vg_label_window between = {39 * MIN_MS + MIN_MS / 2, 44 * MIN_MS + MIN_MS / 2};
    n = one_file(&fx, &between, 1);
    compute(n, VG_NAB_STANDARD, &r);
    /* rows 40..44 (width 5): row 40 is the first, S(-1); the delay counts
     * from the label start, half a minute before row 40 */
    assert_double_near(r.raw, S_START, TOL);
    assert_double_near(r.mean_delay_ms, MIN_MS / 2, 0);
    vg_nab_result_clear(&r);
    vg_nab_free(n);
}

/* The naive NAB: the score at one threshold, straight from the rules. The
 * windows are given as row ranges matching the fixture timestamps. */
static double naive_score(const double *const *scores, int files,
                          const int (*win)[2], double t, const vg_nab_weights *wt)
{
    double total = 0.0;
    for (int f = 0; f < files; f++) {
        int a = win[f][0], b = win[f][1], width = b - a + 1, hit = 0;
        for (int i = 15; i < ROWS; i++) {
            if (!(scores[f][i] >= t))
                continue;
            if (i >= a && i <= b) {
                if (!hit)
                    total += wt->tp * vg_nab_scaled_sigmoid(-(double)(b - i + 1) / width);
                hit = 1;
            } else {
                double y = i < a ? 4.0 : (double)(i - b) / (width - 1);
                total += wt->fp * vg_nab_scaled_sigmoid(y);
            }
        }
        if (!hit)
            total -= wt->fn;
    }
    return total;
}

/* Seeded random scores over 6 files: the sweep's threshold and raw score
 * equal the best of the naive scorer over every distinct score and
 * INFINITY. */
static void sweep_matches_naive_search(void **state)
{
    (void)state;
    enum { FILES = 6 };
    fixture fx[FILES];
    const double *scores[FILES];
    int win[FILES][2];
    uint64_t seed = 42;
    vg_error err;
    vg_nab *n = vg_nab_new(&err);
    for (int f = 0; f < FILES; f++) {
        fixture_init(&fx[f]);
        win[f][0] = 20 + (int)(vg_test_uniform(&seed) * 50);
        win[f][1] = win[f][0] + 3 + (int)(vg_test_uniform(&seed) * 20);
        for (int i = 0; i < ROWS; i++) {
            double u = vg_test_uniform(&seed);
            /* coarse values make ties; windows score a bit higher */
            fx[f].score[i] = floor(u * 40.0) / 40.0 +
                             (i >= win[f][0] && i <= win[f][1] ? 0.3 : 0.0);
        }
        scores[f] = fx[f].score;
        vg_label_window w = rows_window(win[f][0], win[f][1]);
        assert_int_equal(vg_nab_add_file(n, "r.csv", fx[f].ts, fx[f].score, ROWS, &w, 1, &err), 0);
    }
    for (int p = 0; p < VG_NAB_PROFILES; p++) {
        const vg_nab_weights *wt = vg_nab_profile_weights((vg_nab_profile)p);
        double best_t = INFINITY;
        double best = naive_score(scores, FILES, (const int (*)[2])win, best_t, wt);
        /* candidates from high to low, so ties keep the higher threshold */
        double t = INFINITY;
        for (;;) {
            double next = -INFINITY;
            for (int f = 0; f < FILES; f++)
                for (int i = 15; i < ROWS; i++)
                    if (scores[f][i] < t && scores[f][i] > next)
                        next = scores[f][i];
            if (isinf(next))
                break;
            t = next;
            double s = naive_score(scores, FILES, (const int (*)[2])win, t, wt);
            if (s > best + 1e-12) {
                best = s;
                best_t = t;
            }
        }
        vg_nab_result r;
        compute(n, (vg_nab_profile)p, &r);
        assert_double_near(r.threshold, best_t, 0);
        assert_double_near(r.raw, best, 1e-9);
        vg_nab_result_clear(&r);
    }
    vg_nab_free(n);
}

static void bad_input(void **state)
{
    (void)state;
    fixture fx;
    fixture_init(&fx);
    vg_error err;
    vg_nab *n = vg_nab_new(&err);
    vg_label_window w[2] = {rows_window(40, 49), rows_window(45, 60)};
    assert_int_equal(vg_nab_add_file(n, "o.csv", fx.ts, fx.score, ROWS, w, 2, &err), VG_EARG);
    assert_string_equal(err.where, "o.csv");
    vg_label_window back = {10, 5};
    assert_int_equal(vg_nab_add_file(n, "o.csv", fx.ts, fx.score, ROWS, &back, 1, &err), VG_EARG);
    assert_int_equal(vg_nab_add_file(n, "o.csv", NULL, fx.score, ROWS, NULL, 0, &err), VG_EARG);
    assert_int_equal(vg_nab_add_file(n, NULL, fx.ts, fx.score, ROWS, NULL, 0, &err), VG_EARG);
    fx.score[7] = INFINITY;
    assert_int_equal(vg_nab_add_file(n, "o.csv", fx.ts, fx.score, ROWS, NULL, 0, &err), VG_ERANGE);
    assert_string_equal(err.where, "o.csv:8");
    assert_int_equal(vg_nab_files(n), 0);
    /* NaN is "no score": never a detection, accepted */
    fx.score[7] = NAN;
    fx.score[40] = 1.0;
    assert_int_equal(vg_nab_add_file(n, "o.csv", fx.ts, fx.score, ROWS, w, 1, &err), 0);
    vg_nab_result r;
    compute(n, VG_NAB_STANDARD, &r);
    assert_double_near(r.raw, S_START, TOL);
    vg_nab_result_clear(&r);
    vg_nab_free(n);
    vg_nab_free(NULL);
    vg_nab_result_clear(NULL);
}

/* The table: a row per file, a total with the normalised scores, and the
 * thresholds line; checked on the hand-computed two-file case. */
static void prints_table(void **state)
{
    (void)state;
    vg_nab *n = two_file_case("dir/a.csv");
    vg_error err;
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    assert_non_null(out);
    assert_int_equal(vg_nab_print(n, out, &err), 0);
    fclose(out);
    /* standard threshold 0.4: a.csv detects its window at row 40 (delay 0),
     * FP events: a row 20 and b row 30; total precision 1/3, recall 1, F1 0.5 */
    assert_non_null(strstr(buf, "dir/a.csv      100    1    1     1  0.500  1.000  0.667      0s"));
    assert_non_null(strstr(buf, "b.csv          100    0    0     1  0.000      -      -       -"));
    assert_non_null(strstr(buf, "total          200    1    1     2  0.333  1.000  0.500      0s    88.93    81.96    92.63"));
    assert_non_null(strstr(buf, "thresholds: standard 0.4 reward_low_FP_rate 0.6 reward_low_FN_rate 0.4"));
    free(buf);
    vg_nab_free(n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sigmoid_and_probation),
        cmocka_unit_test(profiles_are_nabs),
        cmocka_unit_test(perfect_detector),
        cmocka_unit_test(null_detector),
        cmocka_unit_test(reward_at_window_start_middle_end),
        cmocka_unit_test(window_counts_once),
        cmocka_unit_test(false_positives_cost_profile_weight),
        cmocka_unit_test(false_positive_just_after_window),
        cmocka_unit_test(probation_is_ignored),
        cmocka_unit_test(window_in_probation_is_unscored),
        cmocka_unit_test(threshold_search_by_hand),
        cmocka_unit_test(event_precision_recall_f1),
        cmocka_unit_test(run_into_window),
        cmocka_unit_test(window_rows_from_timestamps),
        cmocka_unit_test(sweep_matches_naive_search),
        cmocka_unit_test(bad_input),
        cmocka_unit_test(prints_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
