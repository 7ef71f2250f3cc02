/* Ring-buffer windows; see window.h. */
#include "core/window.h"

#include <stdlib.h>
#include <string.h>

void vg_window_init(vg_window *w, uint32_t cap)
{
    vg_assert(cap >= 1);
    w->cap = cap;
    w->len = 0;
    w->next = 0;
    w->pad_ = 0;
    memset(w->values, 0, (size_t)cap * sizeof(double));
}

vg_window *vg_window_new(uint32_t cap, vg_error *err)
{
    if (cap == 0) {
        vg_error_set(err, VG_EARG, "window capacity must be at least 1");
        return NULL;
    }
    vg_window *w = malloc(vg_window_bytes(cap));
    if (w == NULL) {
        vg_error_set(err, VG_ENOMEM, "window of %u values", cap);
        return NULL;
    }
    vg_window_init(w, cap);
    return w;
}

void vg_window_free(vg_window *w)
{
    free(w);
}

void vg_window_copy(const vg_window *w, double *out)
{
    uint32_t start = w->len == w->cap ? w->next : 0;
    uint32_t first = w->len < w->cap - start ? w->len : w->cap - start;
    memcpy(out, w->values + start, first * sizeof(double));
    memcpy(out + first, w->values, (w->len - first) * sizeof(double));
}
