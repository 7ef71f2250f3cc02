/* The isolation forest's node layout and its scoring kernels, shared by
 * detectors/iforest.c (training, the detector) and detectors/iforest_simd.c
 * (the AVX2 kernel and its scalar reference). Internal to the iforest
 * detector: only its tests and benchmark include it besides those two files.
 *
 * Every tree is a complete binary tree of `height` split levels with
 * implicit children (2i+1 left, 2i+2 right), so a forest has no pointers.
 * A node is one 32-bit word: read as a float it is the split threshold, and
 * its low 5 bits (mantissa bits the threshold gives up, a relative change
 * below 4e-6) are the split feature. A point goes right when
 * x[word & 31] >= threshold. A node that became a leaf above the bottom
 * level is a pass-through (threshold FLT_MAX-ish: always left) down to the
 * bottom slot that holds its path length, so every walk takes exactly
 * `height` steps: no branches, and one SIMD lane per tree.
 *
 * Trees come in groups of eight, stored lane-minor: node n of tree
 * 8g + l is node[((g << height) + n) * 8 + l] (row 2^height - 1 of each
 * group is padding), and bottom slot j is leaf[((g << height) + j) * 8 + l].
 * A bottom slot holds its path length in fixed point, len * VG__IFOREST_LEAF_ONE
 * rounded, as a uint16_t: depth <= 8 plus c(n) <= 10.3 fits, half the bytes
 * of a float at a resolution of 1/2048 of a path step (the path lengths of
 * 32 trees are averaged, so the rounding is far below the trees' noise).
 * The AVX2 kernel gathers 32-bit words, so two readable bytes must follow
 * the last slot (the box array does in a state block).
 * The AVX2 kernel then reads a level's nodes for eight trees as whole rows
 * and picks each lane's node with blends, gathering only below level 3.
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

#include "core/window.h"

/* Features per point at most, and the length of a kernel's x array (the
 * AVX2 kernel looks features up in four registers). */
#define VG__IFOREST_FEATURES 32u
#define VG__IFOREST_FEATURE_MASK 31u
/* A leaf's path length of 1 in fixed point (a power of two: exact in float). */
#define VG__IFOREST_LEAF_ONE 2048.0f

/* A borrowed view of one series' forest. */
typedef struct vg__iforest_forest {
    uint32_t        trees;          /* a multiple of 8 */
    uint32_t        height;         /* 1..8 */
    uint32_t        n_feat;         /* <= 31 */
    uint32_t        level, step;    /* feature indices of the newest value */
    const uint32_t *node;
    const uint16_t *leaf;
    const float    *box;
} vg__iforest_forest;

/* Sum of the trees' path lengths for the point with features
 * x[VG__IFOREST_FEATURES] (finite; unused slots 0). Trees are summed in
 * eight striped double lanes (tree i into lane i % 8, lanes then added
 * 0..7) so the SIMD kernel and the scalar reference agree bit for bit.
 * paths (NULL-able) receives each tree's path length. */
typedef double (*vg__iforest_kernel)(const vg__iforest_forest *f, const float *x,
                                     float *paths);

double vg__iforest_paths_scalar(const vg__iforest_forest *f, const float *x, float *paths);
/* Requires AVX2 (vg__iforest_kernel_best checks the CPU). */
double vg__iforest_paths_avx2(const vg__iforest_forest *f, const float *x, float *paths);

/* The fastest kernel this CPU runs; the detector picks it once, in
 * configure(). */
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
