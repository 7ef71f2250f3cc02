/* Picks the kernel set once, before main(), from what the CPU runs, and
 * lets tests and benches force another. */
#include "detectors/kernels.h"

#include <stddef.h>

#define MAX_SETS 4

static const vg_kernels *sets[MAX_SETS];
static size_t n_sets;
static const vg_kernels *best;
static const vg_kernels *forced;

/* A constructor rather than lazy init: the choice is made before any
 * thread can race on it, and vg_kernels_get() stays a plain load. */
__attribute__((constructor)) static void pick_kernels(void)
{
    sets[0] = vg_kernels_scalar();
    n_sets = 1 + vg__kernels_simd(sets + 1, MAX_SETS - 1);
    best = sets[n_sets - 1];
}

const vg_kernels *vg_kernels_get(void)
{
    return forced != NULL ? forced : best;
}

size_t vg_kernels_count(void)
{
    return n_sets;
}

const vg_kernels *vg_kernels_at(size_t i)
{
    return i < n_sets ? sets[i] : NULL;
}

void vg_kernels_force(const vg_kernels *k)
{
    forced = k;
}
