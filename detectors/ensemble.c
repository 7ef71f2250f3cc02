/* The ensemble: calibrates each detector's score per series, then combines
 * them; see ensemble.h, and docs/quality.md for what was measured and what
 * was tried and dropped.
 *
 * Calibration is an anomaly likelihood in the spirit of NAB's HTM detector
 * (Ahmad et al. 2017), one per detector per series:
 *  - a raw score becomes its surprise u = -log10(1 - score), undoing
 *    vg_score_from_surprise exactly so that far tails keep their order,
 *    and u is capped at `cap` (softly, see TIE_SLOPE): no detector's model
 *    is trusted for tails below 10^-cap (a spike on a noiseless stretch
 *    claims 1e-300);
 *  - a short-term mean of u (an EWMA over about `short` points; 1, the
 *    default, is the point itself) is standardised against the long-term
 *    mean and standard deviation of that short-term mean (EWMAs over about
 *    `history` points, the deviation floored at min_sd): z. A detector that
 *    over-reports on a series (heavy tails, spiky or noiseless data) has a
 *    large mean and spread there and is damped; one that is usually quiet
 *    is heard sooner. A burst widens the spread, so the next burst of the
 *    same size counts for less: the reference is what the series does lately;
 *  - for an honest detector u is exponential with mean and deviation
 *    1/ln 10, so z = u ln 10 - 1 and the calibrated surprise
 *    log10(e) (1 + z) is u again: calibration leaves honest detectors alone.
 * Combining (norm, the default): Z = |z+| / sqrt(1 + rho (n - 1)), the
 * Euclidean norm of the positive z's, so one detector far out counts more
 * than three a little out and agreeing detectors add up; rho is the
 * detectors' typical correlation in the tail (zscore and seasonal see the
 * same residual) and the divisor undoes the norm's inflation by it, as in
 * Brown's method for dependent tests. The final surprise is
 * log10(e) (1 + Z) - log10(n): the most surprised of n detectors is
 * surprised by chance n times as often (Bonferroni). On honest noise the
 * rate of scores >= 1 - 10^-k is then about 10^-k (measured in
 * docs/quality.md; with independent detectors the norm is conservative).
 * max: Z = the largest z; vote: the vote_k-th largest; mean: the mean of
 * the positive z's, without the Bonferroni term (agreement is needed).
 * Refractory: a share of the recent peak of Z^2 (decaying per point) is taken
 * off Z^2, so one event makes one peak, not a run of alarms, while a larger
 * second event still stands out. The peak fades over about a hundred points
 * (0.98 a point: a third left after 50), not ten: on NAB many false
 * positives came a few to 50 points after another detection on the same
 * series. The share is 0.4, not 0.5: with 0.5 over a hundred points the
 * defaults page more on smd-dev (docs/quality.md, "branch q-nab7").
 * Recalibration (on by default): the final surprise goes through the
 * series' own observed tail (tail.h), so that on a series whose surprises
 * are heavier-tailed than the detectors assume (blips on mostly-zero
 * metrics, routine spikes) the threshold keeps its nominal rate.
 * Everything is O(n_detectors) per point (the tail: O(levels reached)); a
 * series costs 24 bytes per detector plus 16, plus 272 for the tail. */
#include "detectors/ensemble.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

#include "detectors/detector.h"
#include "detectors/tail.h"

#define KNEE 8.0  /* vg_score_from_surprise's knee (detectors/score.c) */
/* Beyond the cap a surprise still grows, by TIE_SLOPE per decade, so two
 * very anomalous points of one series keep distinct, ordered scores while
 * the cap still bounds what one detector can claim. */
#define TIE_SLOPE 0.01

typedef struct calib {
    double mean;    /* long-term mean of the short-term surprise */
    double var;     /* its long-term variance */
    double recent;  /* short-term mean of the capped raw surprise */
} calib;

/* The per-series state: one calib per detector, then this. */
typedef struct ensemble_tail {
    double  seen;   /* points combined */
    double  peak;   /* decayed recent maximum of Z^2 */
    vg_tail tail;   /* the final surprise's own tail (recalibrate) */
} ensemble_tail;

static const vg_conf_field ensemble_fields[] = {
    {"combine", VG_CONF_ENUM, offsetof(vg_ensemble_params, combine), VG_COMBINE_NORM, 0, 0,
     "max|mean|vote|norm", "how the detectors' calibrated z-scores become one score"},
    {"vote_k", VG_CONF_UINT32, offsetof(vg_ensemble_params, vote_k), 2, 1, VG_MAX_DETECTORS,
     NULL, "vote: the score is the vote_k-th most surprised detector's"},
    {"correlation", VG_CONF_DOUBLE, offsetof(vg_ensemble_params, correlation), 0.35, 0, 1,
     NULL, "norm and mean: the detectors' typical correlation in the tail"},
    {"calibrate", VG_CONF_BOOL, offsetof(vg_ensemble_params, calibrate), 1, 0, 1, NULL,
     "calibrate each detector against its recent scores on the same series"},
    {"history", VG_CONF_UINT32, offsetof(vg_ensemble_params, history), 800, 10, 100000000,
     NULL, "calibration: points the long-term distribution of surprises spans"},
    {"short", VG_CONF_UINT32, offsetof(vg_ensemble_params, short_span), 1, 1, 100000, NULL,
     "calibration: points the short-term mean of surprises spans (1: the point alone)"},
    {"min_sd", VG_CONF_DOUBLE, offsetof(vg_ensemble_params, min_sd), 0.2, 1e-6, 100, NULL,
     "calibration: floor on the long-term deviation of a detector's surprise"},
    {"cap", VG_CONF_DOUBLE, offsetof(vg_ensemble_params, cap), 10, 1, 1e6, NULL,
     "calibration: largest surprise (-log10 of a tail) a detector's score is taken at"},
    {"warmup", VG_CONF_UINT32, offsetof(vg_ensemble_params, warmup), 30, 0, 100000000, NULL,
     "points a series must have before its scores count"},
    {"refractory", VG_CONF_DOUBLE, offsetof(vg_ensemble_params, refractory), 0.4, 0, 1, NULL,
     "share of the recent peak of the squared combined z taken off the next points; 0: off"},
    {"refractory_decay", VG_CONF_DOUBLE, offsetof(vg_ensemble_params, refractory_decay), 0.98,
     0, 0.9999, NULL, "per-point decay of that recent peak"},
    {"recalibrate", VG_CONF_BOOL, offsetof(vg_ensemble_params, recalibrate), 1, 0, 1, NULL,
     "map the final surprise through the series' own observed tail (honest threshold)"},
    {"tail_span", VG_CONF_DOUBLE, offsetof(vg_ensemble_params, tail_span), 300000, 10, 1e12,
     NULL, "recalibrate: points the observed tail spans"},
    {"tail_prior", VG_CONF_DOUBLE, offsetof(vg_ensemble_params, tail_prior), 10000, 0, 1e12,
     NULL, "recalibrate: points of evidence before a series' own tail overrides the prior's"},
    {"tail_prior_slope", VG_CONF_DOUBLE, offsetof(vg_ensemble_params, tail_prior_slope), 0.75, 0, 1,
     NULL, "recalibrate: the prior tail's excess over nominal, decades per level from 1e-3 to 1e-5"},
};

int vg_ensemble_configure(vg_ensemble_params *params, const vg_conf_doc *doc,
                          const json_t *cfg, size_t n_detectors, vg_error *err)
{
    memset(params, 0, sizeof(*params));
    int rc = vg_conf_apply(doc, cfg, "ensemble", ensemble_fields,
                           VG_CONF_COUNT(ensemble_fields), NULL, params, err);
    if (rc != VG_OK)
        return rc;
    params->n_detectors = n_detectors;
    if (params->combine == VG_COMBINE_VOTE && params->vote_k > n_detectors)
        return vg_error_set_at(err, VG_ECONFIG, "ensemble.vote_k",
                               "ensemble.vote_k: %u exceeds the %zu enabled detectors",
                               params->vote_k, n_detectors);
    return VG_OK;
}

static size_t calib_count(const vg_ensemble_params *params)
{
    return params->calibrate ? params->n_detectors : 0;
}

static ensemble_tail *tail_of(void *state, const vg_ensemble_params *params)
{
    return (ensemble_tail *)((calib *)state + calib_count(params));
}

size_t vg_ensemble_state_size(const vg_ensemble_params *params)
{
    return calib_count(params) * sizeof(calib) + sizeof(ensemble_tail);
}

void vg_ensemble_init(void *state, const vg_ensemble_params *params)
{
    memset(state, 0, vg_ensemble_state_size(params));
    vg_tail_init(&tail_of(state, params)->tail);
}

double vg_ensemble_surprise(double score)
{
    if (!(score > 0.0))
        return 0.0;
    if (score >= 1.0)
        return INFINITY;
    double p = 1.0 - score;
    if (p >= 1e-8)
        return -log10(p);
    /* vg_score_from_surprise's slow tail: p = 1e-8 / (1 + ln(s / KNEE)). */
    return KNEE * exp(1e-8 / p - 1.0);
}

/* The calibrated z of one raw score, then learn from it. `n` is the
 * long-term EWMAs' current length. */
static double calibrate_one(calib *c, const vg_ensemble_params *params, double n, double raw)
{
    double u = vg_ensemble_surprise(raw);
    if (u > params->cap)
        u = params->cap + TIE_SLOPE * log10(u / params->cap);
    c->recent += 2.0 / (params->short_span + 1.0) * (u - c->recent);

    double sd = sqrt(c->var);
    sd = sd > params->min_sd ? sd : params->min_sd;
    double z = (c->recent - c->mean) / sd;

    double a = 1.0 / n, d = c->recent - c->mean;
    c->mean += a * d;
    c->var = (1.0 - a) * (c->var + a * d * d);
    return z;
}

/* k-th largest of n values (1 <= k <= n <= VG_MAX_DETECTORS). */
static double kth_largest(const double *s, size_t n, size_t k)
{
    double sorted[VG_MAX_DETECTORS];
    for (size_t i = 0; i < n; i++) {
        size_t j = i;
        while (j > 0 && sorted[j - 1] < s[i]) {
            sorted[j] = sorted[j - 1];
            j--;
        }
        sorted[j] = s[i];
    }
    return sorted[k - 1];
}

/* The combined Z (>= 0) of n z-scores. */
static double combine(const vg_ensemble_params *params, const double *z, size_t n)
{
    double acc = 0.0;
    switch (params->combine) {
    case VG_COMBINE_MAX:
        acc = kth_largest(z, n, 1);
        break;
    case VG_COMBINE_VOTE:
        acc = kth_largest(z, n, params->vote_k);
        break;
    case VG_COMBINE_MEAN:
        for (size_t i = 0; i < n; i++)
            acc += z[i] > 0.0 ? z[i] : 0.0;
        acc /= (double)n;
        break;
    default:
        for (size_t i = 0; i < n; i++)
            acc += z[i] > 0.0 ? z[i] * z[i] : 0.0;
        acc = sqrt(acc / (1.0 + params->correlation * (double)(n - 1)));
        break;
    }
    return acc > 0.0 ? acc : 0.0;
}

/* The surprise of a calibrated z: exact for an honest detector (see top). */
static double surprise_of_z(double z)
{
    return z > -1.0 ? M_LOG10E * (1.0 + z) : 0.0;
}

double vg_ensemble_score(void *state, const vg_ensemble_params *params,
                         const double *raw, double *calibrated)
{
    size_t n = params->n_detectors;
    if (n == 0)
        return 0.0;
    vg_assert(n <= VG_MAX_DETECTORS);
    ensemble_tail *t = tail_of(state, params);
    t->seen += 1.0;
    double len = t->seen < params->history ? t->seen : params->history;

    double z[VG_MAX_DETECTORS];
    for (size_t i = 0; i < n; i++)
        z[i] = params->calibrate ? calibrate_one((calib *)state + i, params, len, raw[i])
                                 : vg_ensemble_surprise(raw[i]) * M_LN10 - 1.0;
    if (calibrated != NULL)
        for (size_t i = 0; i < n; i++)
            calibrated[i] = vg_score_from_surprise(surprise_of_z(z[i]));

    double q = combine(params, z, n);
    q *= q;
    double prev = t->peak * params->refractory_decay;
    t->peak = q > prev ? q : prev;
    q -= params->refractory * prev;
    if (t->seen <= params->warmup)
        return 0.0;
    /* The mean needs agreement, so no correction for n (conservative). */
    double bonferroni = params->combine == VG_COMBINE_MEAN ? 0.0 : log10((double)n);
    double s = q > 0.0 ? surprise_of_z(sqrt(q)) - bonferroni : 0.0;
    if (!params->recalibrate)
        return q > 0.0 ? vg_score_from_surprise(s) : 0.0;
    vg_tail_prior prior = {params->tail_prior, params->tail_prior_slope};
    double honest = vg_tail_surprise(&t->tail, s, &prior);
    vg_tail_learn(&t->tail, s, params->tail_span);
    return vg_score_from_surprise(honest);
}

int vg_ensemble_save(const void *state, const vg_ensemble_params *params, vg_writer *out)
{
    const calib *c = state;
    for (size_t i = 0; i < calib_count(params); i++) {
        vg_writer_f64(out, c[i].mean);
        vg_writer_f64(out, c[i].var);
        vg_writer_f64(out, c[i].recent);
    }
    const ensemble_tail *t = (const ensemble_tail *)(c + calib_count(params));
    vg_writer_f64(out, t->seen);
    vg_writer_f64(out, t->peak);
    vg_tail_save(&t->tail, out);
    return out->failed ? VG_ENOMEM : VG_OK;
}

int vg_ensemble_load(void *state, const vg_ensemble_params *params, vg_reader *in,
                     vg_error *err)
{
    calib *c = state;
    for (size_t i = 0; i < calib_count(params); i++) {
        vg_reader_f64(in, &c[i].mean);
        vg_reader_f64(in, &c[i].var);
        vg_reader_f64(in, &c[i].recent);
    }
    ensemble_tail *t = tail_of(state, params);
    vg_reader_f64(in, &t->seen);
    vg_reader_f64(in, &t->peak);
    if (in->failed)
        return vg_error_set(err, VG_EPARSE, "ensemble state truncated");
    if (!(t->seen >= 0.0) || !(t->peak >= 0.0))
        return vg_error_set(err, VG_EPARSE, "ensemble state: bad count or peak");
    return vg_tail_load(&t->tail, in, err);
}

void vg_ensemble_dump(const vg_ensemble_params *params, void *file)
{
    vg_conf_dump(ensemble_fields, VG_CONF_COUNT(ensemble_fields), params, "ensemble", file);
}

void vg_ensemble_describe(void *file)
{
    vg_conf_describe(ensemble_fields, VG_CONF_COUNT(ensemble_fields), "ensemble", file);
}
