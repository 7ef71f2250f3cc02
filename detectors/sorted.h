/* A sorted copy of a window's finite values, for order statistics.
 *
 * Robust detectors need the median and the median absolute deviation of
 * the window at every point. Keeping the values sorted makes the median
 * O(1) and the MAD O(log n), for an O(log n) search and one memmove per
 * point instead of two selections over a copy. Like a window it
 * is embedded in the series' state block: vg_sorted_bytes(cap) in all,
 * never allocating. Not thread-safe. */
#ifndef VG_DETECTORS_SORTED_H
#define VG_DETECTORS_SORTED_H

#include <stddef.h>
#include <stdint.h>

typedef struct vg_sorted {
    uint32_t cap;
    uint32_t len;
    double   v[];   /* v[0..len), ascending */
} vg_sorted;

static inline size_t vg_sorted_bytes(uint32_t cap)
{
    return sizeof(vg_sorted) + (size_t)cap * sizeof(double);
}

/* Makes the vg_sorted_bytes(cap) bytes at s empty. */
void vg_sorted_init(vg_sorted *s, uint32_t cap);

/* Replaces the contents with the finite values of x[0..n) (n <= cap);
 * returns how many were not finite. */
uint32_t vg_sorted_rebuild(vg_sorted *s, const double *x, uint32_t n);

/* Adds finite x; len < cap. */
void vg_sorted_insert(vg_sorted *s, double x);

/* Removes one value equal to x: 0, or -1 when there is none. */
int vg_sorted_remove(vg_sorted *s, double x);

/* Median; len >= 1. */
double vg_sorted_median(const vg_sorted *s);

/* Median of |v - center| over the values; len >= 1. */
double vg_sorted_mad(const vg_sorted *s, double center);

#endif
