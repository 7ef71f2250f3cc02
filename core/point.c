/* Batches of points; see point.h. */
#include "core/point.h"

#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/grow.h"

void vg_batch_init(vg_batch *b)
{
    memset(b, 0, sizeof(*b));
}

void vg_batch_reset(vg_batch *b)
{
    b->n = 0;
    b->arena_len = 0;
}

void vg_batch_release(vg_batch *b)
{
    free(b->points);
    free(b->arena);
    vg_batch_init(b);
}

/* Reserves len arena bytes and returns their offset, or -1. */
static long arena_reserve(vg_batch *b, size_t len)
{
    if (b->arena_len + len > b->arena_cap) {
        size_t cap = b->arena_cap ? b->arena_cap * 2 : 4096;
        while (cap < b->arena_len + len)
            cap *= 2;
        if (cap > UINT32_MAX)
            return -1;
        char *arena = realloc(b->arena, cap);
        if (arena == NULL)
            return -1;
        b->arena = arena;
        b->arena_cap = cap;
    }
    long off = (long)b->arena_len;
    b->arena_len += len;
    return off;
}

vg_point *vg_batch_push(vg_batch *b, const char *key, size_t key_len,
                        int64_t ts_ms, double value, const vg_origin *origin)
{
    vg_point *points = vg_grow(b->points, &b->cap, b->n, sizeof(*points), 256);
    if (points == NULL)
        return NULL;
    b->points = points;
    long off = arena_reserve(b, key_len + 1);
    if (off < 0)
        return NULL;
    memcpy(b->arena + off, key, key_len);
    b->arena[off + (long)key_len] = '\0';

    vg_point *p = &b->points[b->n++];
    memset(p, 0, sizeof(*p));
    p->ts_ms = ts_ms;
    p->value = value;
    if (origin != NULL)
        p->origin = *origin;
    else
        p->origin.partition = -1;
    p->key_off = (uint32_t)off;
    p->key_len = (uint32_t)key_len;
    return p;
}

int vg_batch_set_text(vg_batch *b, vg_point *p, const char *ts, size_t ts_len,
                      const char *value, size_t value_len)
{
    if (ts_len > UINT16_MAX)
        ts_len = UINT16_MAX;
    if (value_len > UINT16_MAX)
        value_len = UINT16_MAX;
    long off = arena_reserve(b, ts_len + value_len);
    if (off < 0)
        return VG_ENOMEM;
    memcpy(b->arena + off, ts, ts_len);
    memcpy(b->arena + off + (long)ts_len, value, value_len);
    p->text_off = (uint32_t)off;
    p->ts_text_len = (uint16_t)ts_len;
    p->value_text_len = (uint16_t)value_len;
    return VG_OK;
}
