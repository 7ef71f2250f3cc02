/* A series' own tail of its final surprise; see tail.h. */
#include "detectors/tail.h"

#include <math.h>
#include <string.h>

/* The weights are rescaled to 1 before they can overflow. */
#define RESCALE_AT 1e150

void vg_tail_init(vg_tail *t)
{
    memset(t, 0, sizeof(*t));
    t->w = 1.0;
}

/* The prior's excess over nominal grows by `slope` decades a level from
 * PRIOR_FROM (up to 1e-3 the final surprise is already near honest on both
 * dev corpora: 1.0x and 0.9x at 0.999 with a nominal prior) to PRIOR_TO,
 * 1e-5, the farthest level the dev corpora measure; beyond it the shift
 * stays. Growing on to 1e-6 or 1e-8 kept a young series' single spike
 * from paging at once (the demo's spike; honest noise paged below its
 * rate). Starting at 1e-2 cost NAB and under-reported at 1e-3
 * (docs/quality.md, "A prior tail"). */
#define PRIOR_FROM 3
#define PRIOR_TO 5

/* The shift d_l = l - S'(l) at levels l and l + 1 (0 <= l < VG_TAIL_LEVELS):
 * the largest excess, in decades, of the rate at any level up to there over
 * nominal (never negative). The rate at level j blends the series' own
 * count with `prior` points of a typical series' tail,
 *   r_j = (c_j + prior 10^(g_j - j)) / (n + prior),
 * so a young series is corrected as real series are on their first far
 * blips (which it cannot have counted yet), and an old one by its own
 * counts. That is the posterior mean of a Poisson rate under a gamma prior
 * of `prior` points, the count taken in full: taken less a half (as it
 * once was, against one chance exceedance), each repeat of a series' far
 * blips read rarer than observed, and smd-dev's train halves exceeded
 * 1e-5 2.4 times as often as nominal, 2.0 with the count in full
 * (docs/quality.md, "branch q-cal6"); the prior's pseudo-counts now keep
 * one chance count from moving a young series. Taking the largest over
 * the levels below extrapolates a heavy tail: a series ten times over
 * nominal at level 3 is taken to be at least that much over at 5, where
 * its own counts are still too few to say. */
static void shifts(const vg_tail *t, int l, const vg_tail_prior *p, double *at_l,
                   double *at_next)
{
    double seen = t->n / t->w + p->points, d = 0.0;
    /* The prior's rate 10^(g_j - j), level by level; pow only for the few
     * points that reach the levels where g grows. */
    double rate = 1.0, step = l + 1 > PRIOR_FROM ? 0.1 * pow(10.0, p->slope) : 0.1;
    *at_l = 0.0;
    for (int j = 1; j <= l + 1 && seen > 0.0; j++) {
        rate *= j > PRIOR_FROM && j <= PRIOR_TO ? step : 0.1;
        double c = t->c[j - 1] / t->w + p->points * rate;
        if (c > 0.0) {
            double excess = j + log10(c / seen);
            d = excess > d ? excess : d;
        }
        if (j == l)
            *at_l = d;
    }
    *at_next = d;
}

double vg_tail_surprise(const vg_tail *t, double s, const vg_tail_prior *prior)
{
    if (!(s > 0.0))
        return 0.0;
    int l = s >= VG_TAIL_LEVELS ? VG_TAIL_LEVELS - 1 : (int)s;
    double lo, hi;
    shifts(t, l, prior, &lo, &hi);
    if (s >= VG_TAIL_LEVELS)
        return s - hi;
    return s - (lo + (s - l) * (hi - lo));
}

void vg_tail_learn(vg_tail *t, double s, double span)
{
    int top = s >= VG_TAIL_LEVELS ? VG_TAIL_LEVELS : (s > 0.0 ? (int)s : 0);
    for (int l = 0; l < top; l++)
        t->c[l] += t->w;
    t->n += t->w;
    t->w /= 1.0 - 1.0 / span;
    if (t->w > RESCALE_AT) {
        for (int l = 0; l < VG_TAIL_LEVELS; l++)
            t->c[l] /= t->w;
        t->n /= t->w;
        t->w = 1.0;
    }
}

void vg_tail_save(const vg_tail *t, vg_writer *out)
{
    vg_writer_f64(out, t->w);
    vg_writer_f64(out, t->n);
    for (int l = 0; l < VG_TAIL_LEVELS; l++)
        vg_writer_f64(out, t->c[l]);
}

int vg_tail_load(vg_tail *t, vg_reader *in, vg_error *err)
{
    vg_reader_f64(in, &t->w);
    vg_reader_f64(in, &t->n);
    for (int l = 0; l < VG_TAIL_LEVELS; l++)
        vg_reader_f64(in, &t->c[l]);
    if (in->failed)
        return vg_error_set(err, VG_EPARSE, "tail state truncated");
    int ok = t->w >= 1.0 && t->w <= RESCALE_AT && t->n >= 0.0;
    for (int l = 0; l < VG_TAIL_LEVELS && ok; l++)
        ok = t->c[l] >= 0.0 && t->c[l] <= t->n && (l == 0 || t->c[l] <= t->c[l - 1]);
    if (!ok)
        return vg_error_set(err, VG_EPARSE, "tail state: bad weights or counts");
    return VG_OK;
}
