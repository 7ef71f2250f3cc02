/* One series' chart in the HTML report: an inline SVG and the data of its
 * hover tooltips.
 *
 * Long series are drawn from time buckets (min and max value per bucket, in
 * time order, so spikes survive), the band from each bucket's widest extent
 * and the score strip from each bucket's highest score. Flagged points are
 * never bucketed: each gets its own marker and its own tooltip row, so
 * every alert can be explained. Tooltips are sampled the same way: per
 * bucket the point with the highest score, plus every flagged point.
 * Series with at most two points per bucket are drawn point by point.
 *
 * The score strip is drawn in "nines", -log10(1 - score): the alert
 * threshold (0.9999 by default) sits near the top of a linear strip and
 * would be invisible there. Output is a function of the input only. */
#include "src/report_chart.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/error.h"

/* Geometry in SVG user units; the SVG scales to the page width. */
#define ML     64.0    /* left margin: value labels */
#define PW     1500.0  /* plot width */
#define MR     12.0
#define TOP    8.0
#define PH     240.0   /* value plot */
#define GAP    8.0
#define SH     56.0    /* score strip */
#define AXIS   22.0    /* time labels */
#define SY0    (TOP + PH + GAP)
#define WIDTH  (ML + PW + MR)
#define HEIGHT (SY0 + SH + AXIS)
#define BAR    4.0     /* height of the solid bars marking spans */
#define MAX_NINES 15.0

typedef struct scale {
    int64_t t0, t1;
    double  vmin, vmax;
    double  nines;     /* top of the score strip */
} scale;

/* One drawn step of the value line, band and score strip. */
typedef struct sample {
    double x;
    double v[2];       /* one or two values, in time order */
    int    nv;
    double lo, hi, expected;  /* NaN when no detector had one */
    double score;      /* the highest */
} sample;

/* What one time bucket of a long series holds. */
typedef struct bucket {
    size_t imin, imax, best;  /* SIZE_MAX: empty */
    double lo, hi, esum;
    size_t en;
} bucket;

typedef struct tip_ref {
    int64_t ts;
    size_t  i;
} tip_ref;

void vg__report_escape(FILE *out, const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        switch (s[i]) {
        case '&':  fputs("&amp;", out); break;
        case '<':  fputs("&lt;", out); break;
        case '>':  fputs("&gt;", out); break;
        case '"':  fputs("&quot;", out); break;
        case '\'': fputs("&#39;", out); break;
        default:   fputc(s[i], out);
        }
    }
}

static double nines_of(double score)
{
    double d = 1.0 - score;
    if (!(d < 1.0))
        return 0.0;
    if (d <= 1e-15)
        return MAX_NINES;
    return -log10(d);
}

static double x_of(const scale *sc, int64_t ts)
{
    if (sc->t1 == sc->t0)
        return ML + PW / 2.0;
    return ML + ((double)ts - (double)sc->t0) / ((double)sc->t1 - (double)sc->t0) * PW;
}

/* Values far outside the plot are clamped: they are clipped anyway, and the
 * file stays free of huge coordinates. Values near +-DBL_MAX overflow the
 * scale; they land on the bottom edge rather than print "nan". */
static double y_of(const scale *sc, double v)
{
    double y = TOP + (sc->vmax - v) / (sc->vmax - sc->vmin) * PH;
    if (isnan(y))
        return TOP + PH;
    if (y < -PH)
        return -PH;
    return y > 2.0 * PH ? 2.0 * PH : y;
}

static double sy_of(const scale *sc, double score)
{
    double k = nines_of(score) / sc->nines;
    return SY0 + SH - (k > 1.0 ? 1.0 : k) * SH;
}

static size_t bucket_of(const scale *sc, size_t buckets, int64_t ts)
{
    if (sc->t1 == sc->t0)
        return 0;
    double f = ((double)ts - (double)sc->t0) / ((double)sc->t1 - (double)sc->t0) * (double)buckets;
    size_t b = f <= 0.0 ? 0 : (size_t)f;
    return b >= buckets ? buckets - 1 : b;
}

static void make_scale(const vg__report_series *s, double threshold, scale *sc)
{
    sc->t0 = sc->t1 = s->ts[0];
    sc->vmin = sc->vmax = s->value[0];
    for (size_t i = 1; i < s->n; i++) {
        sc->t0 = s->ts[i] < sc->t0 ? s->ts[i] : sc->t0;
        sc->t1 = s->ts[i] > sc->t1 ? s->ts[i] : sc->t1;
        sc->vmin = s->value[i] < sc->vmin ? s->value[i] : sc->vmin;
        sc->vmax = s->value[i] > sc->vmax ? s->value[i] : sc->vmax;
    }
    double span = sc->vmax - sc->vmin;
    double pad = span > 0.0 ? span * 0.05 : (sc->vmax != 0.0 ? fabs(sc->vmax) * 0.1 : 1.0);
    sc->vmin -= pad;
    sc->vmax += pad;
    sc->vmin = isfinite(sc->vmin) ? sc->vmin : -DBL_MAX;  /* data near +-DBL_MAX */
    sc->vmax = isfinite(sc->vmax) ? sc->vmax : DBL_MAX;
    double top = ceil(nines_of(threshold)) + 2.0;
    sc->nines = top < 3.0 ? 3.0 : top;
}

static int cmp_tip(const void *a, const void *b)
{
    const tip_ref *x = a, *y = b;
    if (x->ts != y->ts)
        return x->ts < y->ts ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

/* Fills one bucket per time slice; returns NULL when out of memory. */
static bucket *fill_buckets(const vg__report_series *s, const scale *sc, size_t buckets)
{
    bucket *bk = malloc(buckets * sizeof(*bk));
    if (bk == NULL)
        return NULL;
    for (size_t b = 0; b < buckets; b++)
        bk[b] = (bucket){SIZE_MAX, SIZE_MAX, SIZE_MAX, INFINITY, -INFINITY, 0.0, 0};
    for (size_t i = 0; i < s->n; i++) {
        bucket *k = &bk[bucket_of(sc, buckets, s->ts[i])];
        if (k->imin == SIZE_MAX) {
            k->imin = k->imax = k->best = i;
        } else {
            k->imin = s->value[i] < s->value[k->imin] ? i : k->imin;
            k->imax = s->value[i] > s->value[k->imax] ? i : k->imax;
            k->best = s->score[i] > s->score[k->best] ? i : k->best;
        }
        if (isfinite(s->lower[i]) && isfinite(s->upper[i])) {
            k->lo = s->lower[i] < k->lo ? s->lower[i] : k->lo;
            k->hi = s->upper[i] > k->hi ? s->upper[i] : k->hi;
        }
        if (isfinite(s->expected[i])) {
            k->esum += s->expected[i];
            k->en++;
        }
    }
    return bk;
}

/* The tooltip rows: every point of a short series, else each bucket's best
 * point and every flagged point; sorted by time. */
static tip_ref *pick_tips(const vg__report_series *s, const scale *sc, const bucket *bk,
                          size_t buckets, size_t *n_tips)
{
    tip_ref *t = malloc(s->n * sizeof(*t));
    if (t == NULL)
        return NULL;
    size_t n = 0;
    for (size_t i = 0; i < s->n; i++) {
        if (bk == NULL || (s->flags[i] & VG__REPORT_FLAGGED) ||
            bk[bucket_of(sc, buckets, s->ts[i])].best == i)
            t[n++] = (tip_ref){s->ts[i], i};
    }
    qsort(t, n, sizeof(*t), cmp_tip);
    *n_tips = n;
    return t;
}

/* The drawn steps: one per point of a short series (tips holds them all,
 * in time order), else one per non-empty bucket. */
static sample *make_samples(const vg__report_series *s, const scale *sc, const bucket *bk,
                            size_t buckets, const tip_ref *tips, size_t n_tips, size_t *n_out)
{
    size_t cap = bk == NULL ? n_tips : buckets;
    sample *sm = malloc((cap ? cap : 1) * sizeof(*sm));
    if (sm == NULL)
        return NULL;
    size_t n = 0;
    if (bk == NULL) {
        for (size_t k = 0; k < n_tips; k++) {
            size_t i = tips[k].i;
            int band = isfinite(s->lower[i]) && isfinite(s->upper[i]);
            sm[n++] = (sample){x_of(sc, s->ts[i]), {s->value[i], 0.0}, 1,
                               band ? s->lower[i] : NAN, band ? s->upper[i] : NAN,
                               isfinite(s->expected[i]) ? s->expected[i] : NAN, s->score[i]};
        }
        *n_out = n;
        return sm;
    }
    for (size_t b = 0; b < buckets; b++) {
        const bucket *k = &bk[b];
        if (k->imin == SIZE_MAX)
            continue;
        sample *p = &sm[n++];
        p->x = sc->t1 == sc->t0 ? x_of(sc, sc->t0) : ML + ((double)b + 0.5) * PW / (double)buckets;
        size_t first = k->imin < k->imax ? k->imin : k->imax;
        size_t last = k->imin < k->imax ? k->imax : k->imin;
        p->v[0] = s->value[first];
        p->v[1] = s->value[last];
        p->nv = first == last ? 1 : 2;
        p->lo = k->lo <= k->hi ? k->lo : NAN;
        p->hi = k->lo <= k->hi ? k->hi : NAN;
        p->expected = k->en ? k->esum / (double)k->en : NAN;
        p->score = s->score[k->best];
    }
    *n_out = n;
    return sm;
}

static int has_band(const sample *p)
{
    return !isnan(p->lo);
}

static int has_expected(const sample *p)
{
    return !isnan(p->expected);
}

static void write_band(FILE *out, const scale *sc, const sample *sm, size_t n)
{
    fputs("<path class=\"band\" d=\"", out);
    for (size_t i = 0; i < n;) {
        if (!has_band(&sm[i])) {
            i++;
            continue;
        }
        size_t j = i;
        while (j < n && has_band(&sm[j]))
            j++;
        for (size_t k = i; k < j; k++)
            fprintf(out, "%c%.1f,%.1f", k == i ? 'M' : 'L', sm[k].x, y_of(sc, sm[k].hi));
        for (size_t k = j; k-- > i;)
            fprintf(out, "L%.1f,%.1f", sm[k].x, y_of(sc, sm[k].lo));
        fputc('Z', out);
        i = j;
    }
    fputs("\"/>\n", out);
}

static void write_expected(FILE *out, const scale *sc, const sample *sm, size_t n)
{
    fputs("<path class=\"exp\" d=\"", out);
    for (size_t i = 0; i < n; i++)
        if (has_expected(&sm[i]))
            fprintf(out, "%c%.1f,%.1f", i == 0 || !has_expected(&sm[i - 1]) ? 'M' : 'L',
                    sm[i].x, y_of(sc, sm[i].expected));
    fputs("\"/>\n", out);
}

static void write_values(FILE *out, const scale *sc, const sample *sm, size_t n)
{
    fputs("<path class=\"val\" d=\"", out);
    for (size_t i = 0; i < n; i++) {
        fprintf(out, "%c%.1f,%.1f", i == 0 ? 'M' : 'L', sm[i].x, y_of(sc, sm[i].v[0]));
        if (sm[i].nv == 2)
            fprintf(out, "V%.1f", y_of(sc, sm[i].v[1]));
    }
    fputs("\"/>\n", out);
}

static void write_scores(FILE *out, const scale *sc, const sample *sm, size_t n,
                         double threshold)
{
    double base = SY0 + SH;
    fprintf(out, "<path class=\"sc\" d=\"M%.1f,%.1f", sm[0].x, base);
    for (size_t i = 0; i < n; i++)
        fprintf(out, "L%.1f,%.1f", sm[i].x, sy_of(sc, sm[i].score));
    fprintf(out, "L%.1f,%.1fZ\"/>\n", sm[n - 1].x, base);
    double ty = sy_of(sc, threshold);
    fprintf(out, "<line class=\"thr\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>\n",
            ML, ML + PW, ty, ty);
    fprintf(out, "<text class=\"yl thrl\" x=\"%.1f\" y=\"%.1f\">%.6g</text>\n", ML - 6.0,
            ty + 4.0, threshold);
    fprintf(out, "<text class=\"yl\" x=\"%.1f\" y=\"%.1f\">score</text>\n", ML - 6.0,
            base - 2.0);
}

/* A shaded span over both plots and a solid bar at bar_y; at least 3 units
 * wide so a one-point window still shows. */
static void write_span(FILE *out, const scale *sc, int64_t a, int64_t b, const char *cls,
                       double bar_y)
{
    double x0 = x_of(sc, a < sc->t0 ? sc->t0 : a);
    double x1 = x_of(sc, b > sc->t1 ? sc->t1 : b);
    double w = x1 - x0;
    if (w < 3.0) {
        x0 -= (3.0 - w) / 2.0;
        w = 3.0;
    }
    fprintf(out, "<rect class=\"%s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/>"
                 "<rect class=\"%sb\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/>\n",
            cls, x0, TOP, w, SY0 + SH - TOP, cls, x0, bar_y, w, BAR);
}

/* Incidents run from a firing event to its resolved event, or to the
 * series' end while still firing. */
static void write_incidents(FILE *out, const vg__report_series *s, const scale *sc)
{
    int open = 0;
    int64_t start = 0;
    for (size_t i = 0; i < s->n; i++) {
        if (s->flags[i] & VG__REPORT_FIRING) {
            open = 1;
            start = s->ts[i];
        } else if ((s->flags[i] & VG__REPORT_RESOLVED) && open) {
            write_span(out, sc, start, s->ts[i], "inc", TOP + PH - BAR);
            open = 0;
        }
    }
    if (open)
        write_span(out, sc, start, sc->t1, "inc", TOP + PH - BAR);
}

static void write_windows(FILE *out, const scale *sc, const vg__report_chart *c)
{
    for (size_t i = 0; i < c->n_windows; i++) {
        const vg_label_window *w = &c->windows[i];
        if (w->end_ms >= sc->t0 && w->start_ms <= sc->t1)
            write_span(out, sc, w->start_ms, w->end_ms, "lw", TOP);
    }
}

static void write_flagged(FILE *out, const vg__report_series *s, const scale *sc)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->flags[i] & VG__REPORT_FLAGGED)
            fprintf(out, "<circle class=\"fp\" cx=\"%.1f\" cy=\"%.1f\" r=\"3\"/>\n",
                    x_of(sc, s->ts[i]), y_of(sc, s->value[i]));
}

/* Value gridlines at 1, 2 or 5 times a power of ten, about five of them. */
static void write_value_axis(FILE *out, const scale *sc)
{
    double raw = (sc->vmax - sc->vmin) / 5.0;
    if (!isfinite(raw) || raw <= 0.0)
        return;
    double mag = pow(10.0, floor(log10(raw)));
    double norm = raw / mag;
    double step = (norm < 1.5 ? 1.0 : norm < 3.0 ? 2.0 : norm < 7.0 ? 5.0 : 10.0) * mag;
    double k0 = ceil(sc->vmin / step);
    for (int k = 0; k < 20; k++) {
        double v = (k0 + k) * step;
        if (v > sc->vmax)
            break;
        if (fabs(v) < step * 1e-9)
            v = 0.0;
        double y = y_of(sc, v);
        fprintf(out, "<line class=\"grid\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>"
                     "<text class=\"yl\" x=\"%.1f\" y=\"%.1f\">%.6g</text>\n",
                ML, ML + PW, y, y, ML - 6.0, y + 4.0, v);
    }
}

static const int64_t time_steps[] = {
    1000, 2000, 5000, 10000, 15000, 30000,                  /* seconds */
    60000, 120000, 300000, 600000, 900000, 1800000,         /* minutes */
    3600000, 7200000, 10800000, 21600000, 43200000,         /* hours */
    86400000, 172800000, 604800000, 1209600000,             /* days, weeks */
    2592000000LL, 7776000000LL, 31536000000LL,              /* ~month, ~quarter, ~year */
};

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* Time gridlines through both plots, at most about 8, labelled in UTC. */
static void write_time_axis(FILE *out, const scale *sc)
{
    double span = (double)sc->t1 - (double)sc->t0;
    size_t n_steps = sizeof(time_steps) / sizeof(time_steps[0]);
    int64_t step = time_steps[n_steps - 1];
    for (size_t i = 0; i < n_steps; i++) {
        if (span / (double)time_steps[i] <= 8.0) {
            step = time_steps[i];
            break;
        }
    }
    if (span / (double)step > 8.0)
        step *= (int64_t)ceil(span / (double)step / 8.0);
    const char *fmt = step < 60000 ? "%H:%M:%S"
                    : step < 86400000 ? "%m-%d %H:%M"
                    : step < 2592000000LL ? "%Y-%m-%d" : "%Y-%m";
    int64_t t = floor_div(sc->t0, step) * step;
    if (t < sc->t0)
        t += step;
    for (int k = 0; k < 40 && t <= sc->t1; k++, t += step) {
        double x = x_of(sc, t);
        time_t secs = (time_t)floor_div(t, 1000);
        struct tm tm;
        char label[32] = "";
        if (gmtime_r(&secs, &tm) != NULL)
            strftime(label, sizeof(label), fmt, &tm);
        fprintf(out, "<line class=\"grid\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>"
                     "<text class=\"tl\" x=\"%.1f\" y=\"%.1f\">%s</text>\n",
                x, x, TOP, SY0 + SH, x, HEIGHT - 6.0, label);
    }
}

/* A JSON number, or null for NaN and infinities. */
static void put_num(FILE *out, const char *fmt, double v)
{
    if (isfinite(v))
        fprintf(out, fmt, v);
    else
        fputs("null", out);
}

/* A detector's score from its gap to 1: four digits, but ten near 1, where
 * anomalous scores differ. */
static void put_score(FILE *out, float gap)
{
    put_num(out, gap <= 1e-3f ? "%.10g" : "%.4g", 1.0 - (double)gap);
}

/* [ts - t0, value, expected, lower, upper, score, flags, raw..., calibrated...] */
static void write_tips(FILE *out, const vg__report_series *s, const vg__report_chart *c,
                       const scale *sc, const tip_ref *tips, size_t n_tips)
{
    fputs("<script type=\"application/json\" class=\"tip\">[", out);
    for (size_t k = 0; k < n_tips; k++) {
        size_t i = tips[k].i;
        fprintf(out, "%s[%lld,", k ? "," : "", (long long)(s->ts[i] - sc->t0));
        put_num(out, "%.8g", s->value[i]);
        fputc(',', out);
        put_num(out, "%.7g", s->expected[i]);
        fputc(',', out);
        put_num(out, "%.7g", s->lower[i]);
        fputc(',', out);
        put_num(out, "%.7g", s->upper[i]);
        fputc(',', out);
        put_num(out, "%.12g", s->score[i]);
        fprintf(out, ",%u", (unsigned)s->flags[i]);
        for (size_t d = 0; d < 2 * c->n_det; d++) {
            fputc(',', out);
            put_score(out, s->det_gap[i * 2 * c->n_det + d]);
        }
        fputc(']', out);
    }
    fputs("]</script>\n", out);
}

int vg__report_chart_write(FILE *out, const vg__report_series *s, const vg__report_chart *c)
{
    vg_assert(s->n > 0 && c->buckets > 0);
    int rc = VG_ENOMEM;
    scale sc;
    make_scale(s, c->threshold, &sc);
    bucket *bk = NULL;
    if (s->n > 2 * c->buckets && (bk = fill_buckets(s, &sc, c->buckets)) == NULL)
        return VG_ENOMEM;
    size_t n_tips, n_samples;
    tip_ref *tips = pick_tips(s, &sc, bk, c->buckets, &n_tips);
    if (tips == NULL)
        goto out_free_buckets;
    sample *sm = make_samples(s, &sc, bk, c->buckets, tips, n_tips, &n_samples);
    if (sm == NULL)
        goto out_free_tips;

    fprintf(out, "<svg class=\"chart\" viewBox=\"0 0 %.0f %.0f\" "
                 "data-g=\"%.0f,%.0f,%.0f,%.0f,%lld,%lld,%.17g,%.17g\">\n"
                 "<defs><clipPath id=\"clip%u\"><rect x=\"%.0f\" y=\"%.0f\" width=\"%.0f\" "
                 "height=\"%.0f\"/></clipPath></defs>\n",
            WIDTH, HEIGHT, ML, PW, TOP, PH, (long long)sc.t0, (long long)sc.t1, sc.vmin,
            sc.vmax, c->id, ML, TOP, PW, PH);
    fprintf(out, "<rect class=\"bg\" x=\"%.0f\" y=\"%.0f\" width=\"%.0f\" height=\"%.0f\"/>"
                 "<rect class=\"bg\" x=\"%.0f\" y=\"%.0f\" width=\"%.0f\" height=\"%.0f\"/>\n",
            ML, TOP, PW, PH, ML, SY0, PW, SH);
    write_value_axis(out, &sc);
    write_time_axis(out, &sc);
    write_windows(out, &sc, c);
    write_incidents(out, s, &sc);
    fprintf(out, "<g clip-path=\"url(#clip%u)\">\n", c->id);
    write_band(out, &sc, sm, n_samples);
    write_expected(out, &sc, sm, n_samples);
    write_values(out, &sc, sm, n_samples);
    write_flagged(out, s, &sc);
    fputs("</g>\n", out);
    write_scores(out, &sc, sm, n_samples, c->threshold);
    fprintf(out, "<line class=\"cur\" x1=\"0\" x2=\"0\" y1=\"%.0f\" y2=\"%.0f\"/>"
                 "<circle class=\"hl\" cx=\"0\" cy=\"0\" r=\"5\"/>\n</svg>\n",
            TOP, SY0 + SH);
    write_tips(out, s, c, &sc, tips, n_tips);
    rc = VG_OK;

    free(sm);
out_free_tips:
    free(tips);
out_free_buckets:
    free(bk);
    return rc;
}
