/* Ring-buffer windows of the most recent values of one series.
 *
 * A window is embedded in the series' fixed-size state block: the header is
 * followed by `cap` doubles, so vg_window_bytes(cap) is its whole cost and a
 * point never allocates. Values are stored in a ring; index 0 is the oldest.
 * Not thread-safe: a series is touched by one thread at a time. */
#ifndef VG_CORE_WINDOW_H
#define VG_CORE_WINDOW_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

typedef struct vg_window {
    uint32_t cap;
    uint32_t len;   /* number of values held, <= cap */
    uint32_t next;  /* ring slot the next push writes */
    uint32_t pad_;
    double   values[];
} vg_window;

/* Bytes a window of `cap` values takes, header included. */
static inline size_t vg_window_bytes(uint32_t cap)
{
    return sizeof(vg_window) + (size_t)cap * sizeof(double);
}

/* Makes the vg_window_bytes(cap) bytes at w an empty window. cap >= 1. */
void vg_window_init(vg_window *w, uint32_t cap);

/* Returns a new heap window; the caller frees it with vg_window_free(). */
vg_window *vg_window_new(uint32_t cap, vg_error *err);
void vg_window_free(vg_window *w);

/* Appends x, dropping the oldest value when full. */
static inline void vg_window_push(vg_window *w, double x)
{
    w->values[w->next] = x;
    w->next = w->next + 1 == w->cap ? 0 : w->next + 1;
    if (w->len < w->cap)
        w->len++;
}

static inline int vg_window_full(const vg_window *w)
{
    return w->len == w->cap;
}

/* The i-th value, 0 = oldest, i < len. */
static inline double vg_window_at(const vg_window *w, uint32_t i)
{
    uint32_t start = w->len == w->cap ? w->next : 0;
    uint32_t k = start + i;
    if (k >= w->cap)
        k -= w->cap;
    return w->values[k];
}

/* The newest value; len > 0. */
static inline double vg_window_last(const vg_window *w)
{
    return w->values[w->next == 0 ? w->cap - 1 : w->next - 1];
}

/* The value the next push drops; only meaningful when full. */
static inline double vg_window_oldest(const vg_window *w)
{
    return w->values[w->next];
}

/* The stored values in ring order (not time order): for order-free
 * reductions such as sums, which may then run over one contiguous array. */
static inline const double *vg_window_raw(const vg_window *w)
{
    /* Not full: values[0..len) hold the data. Full: all cap slots do. */
    return w->values;
}

/* Copies the values, oldest first, into out[len]. */
void vg_window_copy(const vg_window *w, double *out);

#endif
