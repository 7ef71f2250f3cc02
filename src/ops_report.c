/* The operator table (vg_ops_print) and the JSON of the threshold curves
 * (vg_ops_write_json) that scripts/evaluate.sh cross-validates from. The
 * JSON is written by hand with %.17g so that a replay gives byte-identical
 * output and every threshold survives the round trip exactly. */
#include "src/ops_eval.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A delay in minutes or hours ("17m", "3.2h"); "-" when undefined. */
static const char *fmt_delay(char *buf, size_t size, double ms)
{
    if (isnan(ms))
        snprintf(buf, size, "-");
    else if (fabs(ms) < 3600000.0)
        snprintf(buf, size, "%.0fm", ms / 60000.0);
    else
        snprintf(buf, size, "%.1fh", ms / 3600000.0);
    return buf;
}

static double per_day(size_t count, double days)
{
    return days > 0.0 ? (double)count / days : NAN;
}

/* The threshold columns of one row: caught and false alerts at each
 * corpus threshold. */
typedef struct at_budget {
    size_t caught[2], false_alerts[2];
} at_budget;

static void print_row(FILE *out, int name_w, const char *name, const vg_ops_defaults *d,
                      const at_budget *a)
{
    char mean[16], median[16];
    fprintf(out, "%-*s %6.2f %4zu %5zu %5zu %5zu %7.2f %6zu %7s %7s %5zu %5zu %5zu %5zu\n",
            name_w, name, d->days, d->windows, d->incidents, d->joined, d->false_incidents,
            per_day(d->false_incidents, d->days), d->caught,
            fmt_delay(mean, sizeof(mean), d->mean_delay_ms),
            fmt_delay(median, sizeof(median), d->median_delay_ms), a->caught[0],
            a->false_alerts[0], a->caught[1], a->false_alerts[1]);
}

static const double budgets[2] = {1.0, 5.0};

static void print_budget(FILE *out, const vg_ops_budget *b, const vg_ops_defaults *all)
{
    fprintf(out, "  <= %g false alert/file-day: ", b->budget);
    if (isinf(b->threshold)) {
        fprintf(out, "no threshold catches a window\n");
        return;
    }
    fprintf(out, "threshold %.10g catches %zu/%zu windows, %zu false alerts (%.2f/day)\n",
            b->threshold, b->caught, all->windows, b->false_alerts,
            per_day(b->false_alerts, all->days));
}

int vg_ops_print(const vg_ops *o, FILE *out, vg_error *err)
{
    vg_ops_budget b[2];
    vg_ops_defaults d, all;
    for (int k = 0; k < 2; k++)
        if (vg_ops_best_threshold(o, budgets[k], &b[k], err) != 0)
            return err->code;
    if (vg_ops_defaults_of(o, SIZE_MAX, &all, err) != 0)
        return err->code;
    size_t n = vg_ops_files(o);
    int name_w = (int)strlen("(all)");
    for (size_t i = 0; i < n; i++) {
        int len = (int)strlen(vg_ops_file_name(o, i));
        name_w = len > name_w ? len : name_w;
    }
    fprintf(out, "\noperator view: incidents at the defaults (firing events; join: of them, "
                 "joining another series' incident, not paged; false: pages outside every "
                 "window), and alert runs at the corpus threshold for <= 1 and <= 5 false "
                 "alerts per file-day\n");
    fprintf(out, "%-*s %6s %4s %5s %5s %5s %7s %6s %7s %7s %5s %5s %5s %5s\n", name_w, "file",
            "days", "win", "inc", "join", "false", "false/d", "caught", "delay", "median",
            "c@1", "fa@1", "c@5", "fa@5");
    at_budget a, sum = {{0, 0}, {0, 0}};
    for (size_t i = 0; i < n; i++) {
        if (vg_ops_defaults_of(o, i, &d, err) != 0)
            return err->code;
        for (int k = 0; k < 2; k++) {
            vg_ops_at_threshold(o, i, b[k].threshold, &a.caught[k], &a.false_alerts[k]);
            sum.caught[k] += a.caught[k];
            sum.false_alerts[k] += a.false_alerts[k];
        }
        print_row(out, name_w, vg_ops_file_name(o, i), &d, &a);
    }
    print_row(out, name_w, "(all)", &all, &sum);
    fprintf(out, "defaults: %zu/%zu windows caught (%.1f%%), %.2f false incidents per file-day\n",
            all.caught, all.windows, all.windows ? 100.0 * (double)all.caught / (double)all.windows : 0.0,
            per_day(all.false_incidents, all.days));
    fprintf(out, "best single threshold on the final score (max over a file's series; an alert "
                 "is a run of rows at or above it, false when it starts outside every window):\n");
    for (int k = 0; k < 2; k++)
        print_budget(out, &b[k], &all);
    if (fflush(out) != 0 || ferror(out))
        return vg_error_set(err, VG_EIO, "writing the operator table");
    return 0;
}

/* Writes "[t,a,b]" curve points, comma-separated; fails sticky on the FILE. */
typedef struct curve_out {
    FILE *out;
    int   first;
} curve_out;

static void write_ops_point(void *ctx, double t, size_t caught, size_t false_alerts)
{
    curve_out *c = ctx;
    fprintf(c->out, "%s[%.17g,%zu,%zu]", c->first ? "" : ",", t, caught, false_alerts);
    c->first = 0;
}

static void write_nab_point(void *ctx, double t, double raw)
{
    curve_out *c = ctx;
    fprintf(c->out, "%s[%.17g,%.17g]", c->first ? "" : ",", t, raw);
    c->first = 0;
}

/* Writes one file's JSON object (without the separator). */
static int write_file(const vg_ops *o, const vg_nab *nab, size_t i, FILE *out, vg_error *err)
{
    vg_ops_defaults d;
    if (vg_ops_defaults_of(o, i, &d, err) != 0)
        return err->code;
    /* The name is a path the caller gave; escape what JSON needs escaped. */
    fputs("{\"file\":\"", out);
    for (const char *p = vg_ops_file_name(o, i); *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(out, "\\%c", *p);
        else if ((unsigned char)*p < 0x20)
            fprintf(out, "\\u%04x", (unsigned char)*p);
        else
            fputc(*p, out);
    }
    fprintf(out, "\",\"days\":%.17g,\"windows\":%zu,\"incidents\":%zu,\"joined\":%zu,"
                 "\"false_incidents\":%zu,\"caught\":%zu", d.days, d.windows, d.incidents,
            d.joined, d.false_incidents, d.caught);
    /* Mean times caught lets a reader pool delays across files. */
    if (d.caught > 0)
        fprintf(out, ",\"mean_delay_ms\":%.17g,\"median_delay_ms\":%.17g", d.mean_delay_ms,
                d.median_delay_ms);
    fputs(",\"ops_curve\":[", out);
    curve_out c = {out, 1};
    int rc = vg_ops_curve(o, i, write_ops_point, &c, err);
    fputs("]", out);
    if (rc == 0 && nab != NULL) {
        fprintf(out, ",\"nab_windows\":%zu,\"nab_curve\":[", vg_nab_file_windows(nab, i));
        c.first = 1;
        rc = vg_nab_file_curve(nab, i, VG_NAB_STANDARD, write_nab_point, &c, err);
        fputs("]", out);
    }
    fputs("}", out);
    return rc;
}

int vg_ops_write_json(const vg_ops *o, const vg_nab *nab, FILE *out, vg_error *err)
{
    size_t n = vg_ops_files(o);
    vg_assert(nab == NULL || vg_nab_files(nab) == n);
    fputs("{\"files\":[\n", out);
    for (size_t i = 0; i < n; i++) {
        vg_assert(nab == NULL || strcmp(vg_nab_file_name(nab, i), vg_ops_file_name(o, i)) == 0);
        int rc = write_file(o, nab, i, out, err);
        if (rc != 0)
            return rc;
        fputs(i + 1 < n ? ",\n" : "\n", out);
    }
    fputs("]}\n", out);
    if (fflush(out) != 0 || ferror(out))
        return vg_error_set(err, VG_EIO, "writing the evaluation JSON");
    return 0;
}
