/* The isolation forest's node layout and its scoring kernels, shared by
 * detectors/iforest.c (training, the detector) and detectors/iforest_simd.c
 * (the AVX2 kernel and its scalar reference). Internal to the iforest
 * detector: only its tests and benchmark include it besides those two files.
 *
 * Every tree is a complete binary tree of `height` split levels, stored as
 * three flat arrays indexed by tree * (1 << height) + node, so children are
 * implicit (2i+1 left, 2i+2 right) and a forest has no pointers:
 *   thr[]  split threshold of internal node i (i < 2^height - 1);
 *   feat[] split feature of internal node i (u8; the array carries 4 spare
 *          bytes so a 32-bit gather may read past its last node);
 *   leaf[] path length of bottom slot j (depth + c(leaf size)).
 * A point goes right when x[feat] >= thr. A node that became a leaf above
 * the bottom level is a pass-through (thr = +inf: always left) down to the
 * bottom slot that holds its path length, so every walk takes exactly
 * `height` steps: the kernels need no branches and a SIMD lane per tree.
 *
 * Out-of-range points: a tree routes a point beyond its sample's range like
 * the sample's most extreme point, so a spike would look no more isolated
 * than the window's largest value. Each tree therefore also keeps its
 * sample's range of the two features of the newest value (its level and its
 * step), box[4][trees] = {level lo, level hi, step lo, step hi}. A point
 * outside a range by `ext` would be cut off from the whole sample by a root
 * split on that feature with probability pi = ext / (range + ext); with the
 * larger pi of the two, the tree's path length is pi * 1 + (1 - pi) * walk. */
#ifndef VG_DETECTORS_IFOREST_FOREST_H
#define VG_DETECTORS_IFOREST_FOREST_H

#include <stddef.h>
#include <stdint.h>

#include "src/window.h"

/* A borrowed view of one series' forest; x in the kernels holds the
 * point's features (finite floats). */
typedef struct vg__iforest_forest {
    uint32_t       trees;
    uint32_t       height;
    uint32_t       level, step;   /* feature indices of the newest value */
    const float   *thr;
    const uint8_t *feat;
    const float   *leaf;
    const float   *box;
} vg__iforest_forest;

/* Sum of the trees' path lengths for features x. Trees are summed in eight
 * striped double lanes (tree i into lane i % 8, lanes then added 0..7) so
 * the SIMD kernel and the scalar reference agree bit for bit. paths
 * (NULL-able) receives each tree's path length. */
typedef double (*vg__iforest_kernel)(const vg__iforest_forest *f, const float *x,
                                     float *paths);

double vg__iforest_paths_scalar(const vg__iforest_forest *f, const float *x, float *paths);
/* Requires AVX2 (vg__iforest_kernel_best checks the CPU). */
double vg__iforest_paths_avx2(const vg__iforest_forest *f, const float *x, float *paths);

/* The fastest kernel this CPU runs; detectors pick it once, in configure(). */
vg__iforest_kernel vg__iforest_kernel_best(void);

/* The mean path length of value (the point after the window w) over a
 * complete forest, computed with `kernel`; paths (NULL-able) receives each
 * tree's. Reads the state, changes nothing: score() uses it, and tests use
 * it to run both kernels on a trained forest. */
double vg__iforest_depth(const void *state, const void *params, const vg_window *w,
                         double value, vg__iforest_kernel kernel, float *paths);

/* Test hook: trees built since init() (first forest and retraining). */
uint64_t vg__iforest_builds(const void *state);

#endif
