/* Checks the NAB scorer end to end on the nab-dev corpus and times it.
 *
 *   bench_nab [NAB_DEV_DIR]     (default ../shared/data/nab-dev)
 *
 * Scores four reference detectors over every labelled file:
 *  - null: a constant score, must give 0 in every profile;
 *  - oracle: 1 on the first row of each window, must give 100;
 *  - windowed Gaussian: NAB's own baseline (nab/detectors/gaussian: a window
 *    of 6400 values slid by 100, score 1 - Q(|z|)), whose published scores
 *    on exactly these files are 37.7 / 32.7 / 40.9 (nab-dev README);
 *  - seeded uniform noise, for the table's shape.
 * and prints the table for the windowed Gaussian plus the time per
 * vg_nab_compute. The CSV reading here is deliberately minimal (NAB's
 * fixed "YYYY-MM-DD HH:MM:SS,value" layout); vigil's CSV reader lives in
 * streams/. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "src/labels.h"
#include "src/nab.h"

enum { DETECTORS = 4, GAUSS_WINDOW = 6400, GAUSS_STEP = 100 };
static const char *const detector_names[DETECTORS] = {"null", "oracle", "windowed Gaussian",
                                                      "uniform noise"};

typedef struct series {
    int64_t *ts;
    double  *value;
    size_t   n, cap;
} series;

/* Appends every row of a NAB CSV; returns 0 or -1. */
static int read_csv(const char *path, series *s)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    char line[256];
    int rc = 0;
    if (fgets(line, sizeof(line), f) == NULL)   /* header */
        rc = -1;
    while (rc == 0 && fgets(line, sizeof(line), f) != NULL) {
        struct tm tm = {0};
        int consumed = 0;
        if (sscanf(line, "%d-%d-%d %d:%d:%d,%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                   &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &consumed) != 6 || consumed == 0) {
            rc = -1;
            break;
        }
        tm.tm_year -= 1900;
        tm.tm_mon -= 1;
        if (s->n == s->cap) {
            s->cap = s->cap ? 2 * s->cap : 4096;
            s->ts = realloc(s->ts, s->cap * sizeof(*s->ts));
            s->value = realloc(s->value, s->cap * sizeof(*s->value));
            if (s->ts == NULL || s->value == NULL) {
                rc = -1;
                break;
            }
        }
        s->ts[s->n] = (int64_t)timegm(&tm) * 1000;
        s->value[s->n] = strtod(line + consumed, NULL);
        s->n++;
    }
    fclose(f);
    return rc;
}

/* numpy.mean and numpy.std (ddof 0) of x[n]; std 0 becomes 1e-6 as in NAB. */
static void mean_std(const double *x, size_t n, double *mean, double *std)
{
    double sum = 0.0, ss = 0.0;
    for (size_t i = 0; i < n; i++)
        sum += x[i];
    *mean = sum / (double)n;
    for (size_t i = 0; i < n; i++)
        ss += (x[i] - *mean) * (x[i] - *mean);
    *std = sqrt(ss / (double)n);
    if (*std == 0.0)
        *std = 0.000001;
}

/* NAB's windowedGaussian detector, row by row. */
static void windowed_gaussian(const double *v, size_t n, double *score)
{
    double *window = malloc(GAUSS_WINDOW * sizeof(*window));
    size_t filled = 0, pending = 0;
    double mean = 0.0, std = 1.0;
    for (size_t i = 0; i < n; i++) {
        double z = fabs(v[i] - mean) / std;
        score[i] = filled > 0 ? 1.0 - 0.5 * erfc(z / sqrt(2.0)) : 0.0;
        if (filled < GAUSS_WINDOW) {
            window[filled++] = v[i];
            mean_std(window, filled, &mean, &std);
        } else if (++pending == GAUSS_STEP) {
            /* the window slides by 100: the oldest 100 go, the last 100 come in */
            memmove(window, window + GAUSS_STEP, (GAUSS_WINDOW - GAUSS_STEP) * sizeof(*window));
            memcpy(window + GAUSS_WINDOW - GAUSS_STEP, v + i + 1 - GAUSS_STEP,
                   GAUSS_STEP * sizeof(*window));
            pending = 0;
            mean_std(window, filled, &mean, &std);
        }
    }
    free(window);
}

/* Scores of detector d for one file. */
static void run_detector(int d, const series *s, const vg_label_window *w, size_t n_w,
                         uint64_t *seed, double *score)
{
    switch (d) {
    case 0:
        for (size_t i = 0; i < s->n; i++)
            score[i] = 0.5;
        break;
    case 1:
        for (size_t i = 0; i < s->n; i++)
            score[i] = 0.0;
        for (size_t k = 0; k < n_w; k++)
            for (size_t i = 0; i < s->n; i++)
                if (s->ts[i] == w[k].start_ms) {
                    score[i] = 1.0;
                    break;
                }
        break;
    case 2:
        windowed_gaussian(s->value, s->n, score);
        break;
    default:
        for (size_t i = 0; i < s->n; i++) {
            *seed = *seed * 6364136223846793005ULL + 1442695040888963407ULL;
            score[i] = (double)(*seed >> 11) * 0x1.0p-53;
        }
    }
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "../shared/data/nab-dev";
    char path[1024];
    vg_error err;
    snprintf(path, sizeof(path), "%s/labels/combined_windows.json", dir);
    vg_labels *l = vg_labels_load(path, &err);
    if (l == NULL) {
        char buf[256];
        fprintf(stderr, "bench_nab: %s\n", vg_error_format(&err, buf, sizeof(buf)));
        return 1;
    }
    vg_nab *nab[DETECTORS];
    for (int d = 0; d < DETECTORS; d++)
        nab[d] = vg_nab_new(&err);
    uint64_t seed = 42;
    size_t rows = 0;
    for (size_t i = 0; i < vg_labels_count(l); i++) {
        series s = {0};
        size_t n_w;
        const vg_label_window *w = vg_labels_windows(l, i, &n_w);
        snprintf(path, sizeof(path), "%s/data/%s", dir, vg_labels_key(l, i));
        double *score = NULL;
        if (read_csv(path, &s) != 0 || (score = malloc(s.n * sizeof(*score))) == NULL) {
            fprintf(stderr, "bench_nab: cannot read %s\n", path);
            return 1;
        }
        rows += s.n;
        for (int d = 0; d < DETECTORS; d++) {
            run_detector(d, &s, w, n_w, &seed, score);
            if (vg_nab_add_file(nab[d], vg_labels_key(l, i), s.ts, score, s.n, w, n_w, &err)) {
                char buf[256];
                fprintf(stderr, "bench_nab: %s\n", vg_error_format(&err, buf, sizeof(buf)));
                return 1;
            }
        }
        free(score);
        free(s.ts);
        free(s.value);
    }
    printf("%zu files, %zu rows\n\n", vg_labels_count(l), rows);
    vg_nab_print(nab[2], stdout, &err);
    printf("\n%-18s %9s %9s %9s   threshold (standard)\n", "detector", "standard", "low_FP",
           "low_FN");
    double seconds = 0.0;
    int computes = 0;
    for (int d = 0; d < DETECTORS; d++) {
        vg_nab_result r[VG_NAB_PROFILES];
        for (int p = 0; p < VG_NAB_PROFILES; p++) {
            double t0 = now_s();
            vg_nab_compute(nab[d], (vg_nab_profile)p, &r[p], &err);
            seconds += now_s() - t0;
            computes++;
        }
        printf("%-18s %9.2f %9.2f %9.2f   %.10g\n", detector_names[d], r[0].score, r[1].score,
               r[2].score, r[0].threshold);
        for (int p = 0; p < VG_NAB_PROFILES; p++)
            vg_nab_result_clear(&r[p]);
        vg_nab_free(nab[d]);
    }
    printf("\nvg_nab_compute: %.1f ms per profile over %zu rows (mean of %d)\n",
           1e3 * seconds / computes, rows, computes);
    vg_labels_free(l);
    return 0;
}
