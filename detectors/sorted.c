/* Sorted window values; see sorted.h. */
#include "detectors/sorted.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "src/error.h"

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

/* The deviations below and above center are each already sorted (walking
 * outwards from center), so merging them in order reaches the middle
 * ones after len / 2 steps. */
double vg_sorted_mad(const vg_sorted *s, double center)
{
    uint32_t above = bound(s, center, 0), k_lo = (s->len - 1) / 2, k_hi = s->len / 2;
    int64_t below = (int64_t)above - 1;
    double lo = 0.0, cur = 0.0;
    for (uint32_t r = 0; r <= k_hi; r++) {
        if (above < s->len && (below < 0 || s->v[above] - center <= center - s->v[below]))
            cur = s->v[above++] - center;
        else
            cur = center - s->v[below--];
        if (r == k_lo)
            lo = cur;
    }
    return 0.5 * (lo + cur);
}
