/* Sorted window values; see sorted.h. */
#include "detectors/sorted.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

void vg_sorted_init(vg_sorted *s, uint32_t cap)
{
    s->cap = cap;
    s->len = 0;
}

/* First index whose value is >= x (upper: > x). */
static uint32_t bound(const vg_sorted *s, double x, int upper)
{
    uint32_t lo = 0, hi = s->len;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (upper ? s->v[mid] <= x : s->v[mid] < x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

uint32_t vg_sorted_rebuild(vg_sorted *s, const double *x, uint32_t n)
{
    vg_assert(n <= s->cap);
    s->len = 0;
    for (uint32_t i = 0; i < n; i++)
        if (isfinite(x[i]))
            s->v[s->len++] = x[i];
    qsort(s->v, s->len, sizeof(double), cmp_double);
    return n - s->len;
}

void vg_sorted_insert(vg_sorted *s, double x)
{
    vg_assert(s->len < s->cap);
    uint32_t at = bound(s, x, 1);
    memmove(s->v + at + 1, s->v + at, (s->len - at) * sizeof(double));
    s->v[at] = x;
    s->len++;
}

int vg_sorted_remove(vg_sorted *s, double x)
{
    uint32_t at = bound(s, x, 0);
    if (at == s->len || s->v[at] != x)
        return -1;
    memmove(s->v + at, s->v + at + 1, (s->len - at - 1) * sizeof(double));
    s->len--;
    return 0;
}

double vg_sorted_median(const vg_sorted *s)
{
    uint32_t h = s->len / 2;
    return s->len % 2 ? s->v[h] : 0.5 * (s->v[h - 1] + s->v[h]);
}

/* The deviations below and above center are each sorted already: a(i) =
 * center - v[above - 1 - i] and b(j) = v[above + j] - center, ascending.
 * The k-th smallest (0-based) of their union takes i from a and k + 1 - i
 * from b, for the smallest i with a(i) >= b(k - i): a binary search, as a
 * merge walk would mispredict a branch on every other step. */
static double kth_deviation(const vg_sorted *s, uint32_t above, double center, uint32_t k)
{
    uint32_t na = above, nb = s->len - above;
    uint32_t lo = k + 1 > nb ? k + 1 - nb : 0, hi = k + 1 < na ? k + 1 : na;
    while (lo < hi) {
        uint32_t i = lo + (hi - lo) / 2;
        if (center - s->v[above - 1 - i] >= s->v[above + (k - i)] - center)
            hi = i;
        else
            lo = i + 1;
    }
    uint32_t i = lo, j = k + 1 - lo;
    double from_a = i > 0 ? center - s->v[above - i] : -INFINITY;
    double from_b = j > 0 ? s->v[above + j - 1] - center : -INFINITY;
    return from_a > from_b ? from_a : from_b;
}

double vg_sorted_mad(const vg_sorted *s, double center)
{
    uint32_t above = bound(s, center, 0);
    double lo = kth_deviation(s, above, center, (s->len - 1) / 2);
    double hi = kth_deviation(s, above, center, s->len / 2);
    return 0.5 * (lo + hi);
}
