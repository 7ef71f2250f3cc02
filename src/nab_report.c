/* The NAB table (vg_nab_print in nab.h): one row per file and a total, the
 * event-level columns at the standard profile's threshold, and the three
 * profiles' NAB scores. Per-file NAB columns are raw scores, as in NAB's own
 * per-file output: a file without windows has no normalised score (its null
 * and perfect scores are both 0), while the total is normalised. */
#include "src/nab.h"

#include <math.h>
#include <string.h>

/* "0.812" or "-" for undefined. */
static const char *fmt_ratio(char *buf, size_t size, double v)
{
    if (isnan(v))
        snprintf(buf, size, "-");
    else
        snprintf(buf, size, "%.3f", v);
    return buf;
}

/* A delay in the largest unit that keeps it readable: "42s", "17.5m",
 * "3.2h", "2.1d"; "-" when undefined. */
static const char *fmt_delay(char *buf, size_t size, double ms)
{
    if (isnan(ms)) {
        snprintf(buf, size, "-");
        return buf;
    }
    double s = fabs(ms) / 1000.0;
    const char *sign = ms < 0 ? "-" : "";
    if (s < 60.0)
        snprintf(buf, size, "%s%.0fs", sign, s);
    else if (s < 3600.0)
        snprintf(buf, size, "%s%.1fm", sign, s / 60.0);
    else if (s < 172800.0)
        snprintf(buf, size, "%s%.1fh", sign, s / 3600.0);
    else
        snprintf(buf, size, "%s%.1fd", sign, s / 86400.0);
    return buf;
}

static void print_row(FILE *out, int name_w, const char *name, size_t rows,
                      size_t windows, size_t detected, size_t fp_events,
                      double precision, double recall, double f1, double delay,
                      const double nab[VG_NAB_PROFILES])
{
    char p[16], r[16], f[16], d[16];
    fprintf(out, "%-*s %8zu %4zu %4zu %5zu %6s %6s %6s %7s", name_w, name, rows,
            windows, detected, fp_events, fmt_ratio(p, sizeof(p), precision),
            fmt_ratio(r, sizeof(r), recall), fmt_ratio(f, sizeof(f), f1),
            fmt_delay(d, sizeof(d), delay));
    for (int k = 0; k < VG_NAB_PROFILES; k++)
        fprintf(out, " %8.2f", nab[k]);
    fputc('\n', out);
}

int vg_nab_print(const vg_nab *n, FILE *out, vg_error *err)
{
    vg_nab_result res[VG_NAB_PROFILES];
    int computed = 0, rc = 0;
    for (; computed < VG_NAB_PROFILES; computed++) {
        rc = vg_nab_compute(n, (vg_nab_profile)computed, &res[computed], err);
        if (rc != 0)
            goto out_clear_results;
    }
    const vg_nab_result *std = &res[VG_NAB_STANDARD];
    int name_w = (int)strlen("total");
    for (size_t i = 0; i < std->n_files; i++) {
        int len = (int)strlen(std->files[i].name);
        name_w = len > name_w ? len : name_w;
    }
    fprintf(out, "%-*s %8s %4s %4s %5s %6s %6s %6s %7s %8s %8s %8s\n", name_w,
            "file", "rows", "win", "det", "FP", "prec", "recall", "F1", "delay",
            "standard", "low_FP", "low_FN");
    double nab[VG_NAB_PROFILES];
    for (size_t i = 0; i < std->n_files; i++) {
        const vg_nab_file_result *fr = &std->files[i];
        for (int k = 0; k < VG_NAB_PROFILES; k++)
            nab[k] = res[k].files[i].raw;
        print_row(out, name_w, fr->name, fr->rows, fr->windows, fr->detected,
                  fr->fp_events, fr->precision, fr->recall, fr->f1,
                  fr->mean_delay_ms, nab);
    }
    size_t rows = 0;
    for (size_t i = 0; i < std->n_files; i++)
        rows += std->files[i].rows;
    for (int k = 0; k < VG_NAB_PROFILES; k++)
        nab[k] = res[k].score;
    print_row(out, name_w, "total", rows, std->windows, std->detected,
              std->fp_events, std->precision, std->recall, std->f1,
              std->mean_delay_ms, nab);
    fprintf(out, "thresholds:");
    for (int k = 0; k < VG_NAB_PROFILES; k++) {
        if (isinf(res[k].threshold))
            fprintf(out, " %s none (detecting nothing scores best)",
                    vg_nab_profile_name((vg_nab_profile)k));
        else
            fprintf(out, " %s %.10g", vg_nab_profile_name((vg_nab_profile)k), res[k].threshold);
    }
    fprintf(out, "\nFP counts runs of detections outside windows; event columns use the "
                 "standard threshold; NAB columns: raw per file, normalised in the total "
                 "(null 0, perfect 100)");
    if (std->windows_unscored > 0)
        fprintf(out, "; %zu labelled windows had no scored row", std->windows_unscored);
    fputc('\n', out);
    if (fflush(out) != 0 || ferror(out))
        rc = vg_error_set(err, VG_EIO, "writing the NAB table");

out_clear_results:
    while (computed-- > 0)
        vg_nab_result_clear(&res[computed]);
    return rc;
}
