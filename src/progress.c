/* The progress line of long runs (see progress.h). */
#include "src/progress.h"

#include <math.h>
#include <sys/stat.h>

void vg_progress_init(vg_progress *pg, FILE *out, const char *label, uint64_t total_bytes,
                      int64_t now_ms)
{
    pg->out = out;
    pg->label = label;
    pg->total = total_bytes;
    pg->start_ms = now_ms;
    pg->next_ms = now_ms + VG_PROGRESS_AFTER_MS;
    pg->shown = 0;
}

int vg_progress_due(const vg_progress *pg, int64_t now_ms)
{
    return pg->out != NULL && now_ms >= pg->next_ms;
}

/* "950", "12.3k", "4.56M", "7.89G": three significant digits. */
static void fmt_count(char *buf, size_t cap, double v)
{
    static const char units[] = " kMG";
    int u = 0;
    while (v >= 999.5 && u < 3) {
        v /= 1000.0;
        u++;
    }
    if (u == 0)
        snprintf(buf, cap, "%.0f", v);
    else
        snprintf(buf, cap, "%.*f%c", v < 9.995 ? 2 : v < 99.95 ? 1 : 0, v, units[u]);
}

static void fmt_eta(char *buf, size_t cap, double s)
{
    if (!(s >= 0.0) || s > 8.64e6) {
        snprintf(buf, cap, "?");
        return;
    }
    long t = lround(s);
    if (t < 60)
        snprintf(buf, cap, "%lds", t);
    else if (t < 3600)
        snprintf(buf, cap, "%ldm%02lds", t / 60, t % 60);
    else
        snprintf(buf, cap, "%ldh%02ldm", t / 3600, t / 60 % 60);
}

void vg_progress_format(char *buf, size_t cap, uint64_t rows, double rows_per_s,
                        double fraction, double eta_s)
{
    char r[16], rate[16], eta[48], pct[16] = "?";
    fmt_count(r, sizeof(r), (double)rows);
    fmt_count(rate, sizeof(rate), rows_per_s);
    fmt_eta(eta, sizeof(eta), eta_s);
    if (!isnan(fraction))
        snprintf(pct, sizeof(pct), "%.1f", 100.0 * fraction);
    snprintf(buf, cap, "%s rows, %s rows/s, %s%%, ETA %s", r, rate, pct, eta);
}

void vg_progress_update(vg_progress *pg, int64_t now_ms, uint64_t rows, uint64_t bytes)
{
    if (!vg_progress_due(pg, now_ms))
        return;
    pg->next_ms = now_ms + VG_PROGRESS_EVERY_MS;
    double secs = (double)(now_ms - pg->start_ms) / 1000.0;
    double fraction = pg->total > 0 ? (double)bytes / (double)pg->total : NAN;
    fraction = fraction > 1.0 ? 1.0 : fraction;
    double eta = bytes > 0 && !isnan(fraction) ? secs * (1.0 - fraction) / fraction : -1.0;
    char line[128];
    vg_progress_format(line, sizeof(line), rows, secs > 0 ? (double)rows / secs : 0.0,
                       fraction, eta);
    /* \033[K clears what a longer previous line left on the right. */
    fprintf(pg->out, "\r%s: %s\033[K", pg->label, line);
    fflush(pg->out);
    pg->shown = 1;
}

void vg_progress_end(vg_progress *pg)
{
    if (pg->out != NULL && pg->shown) {
        fputs("\r\033[K", pg->out);
        fflush(pg->out);
    }
    pg->shown = 0;
}

uint64_t vg_progress_file_bytes(char *const *paths, size_t n)
{
    uint64_t total = 0;
    struct stat st;
    for (size_t i = 0; i < n; i++)
        if (stat(paths[i], &st) == 0 && S_ISREG(st.st_mode))
            total += (uint64_t)st.st_size;
    return total;
}
