/* Growing arrays: the one doubling rule every append-only array uses.
 *
 *     item *v = vg_grow(list->v, &list->cap, list->n, sizeof(*v), 16);
 *     if (v == NULL)
 *         return VG_ENOMEM;   (list->v is still valid and unchanged)
 *     list->v = v;
 *     list->v[list->n++] = ...;
 */
#ifndef VG_CORE_GROW_H
#define VG_CORE_GROW_H

#include <stddef.h>

/* The growing half of vg_grow, for when the array is full. */
void *vg_grow_slow(void *v, size_t *cap, size_t n, size_t size, size_t first);

/* Room for element n of the array v of *cap elements of `size` bytes:
 * returns v when it has it; else v reallocated to twice *cap elements
 * (`first` when *cap is 0) with *cap updated; or NULL when out of memory
 * or the size would overflow, v then still valid and *cap unchanged.
 * Inline so a caller on a per-point path (vg_batch_push) pays one compare
 * while the array has room, not a call. */
static inline void *vg_grow(void *v, size_t *cap, size_t n, size_t size, size_t first)
{
    return n < *cap ? v : vg_grow_slow(v, cap, n, size, first);
}

#endif
