/* The offset tracker; see offsets.h. */
#include "streams/offsets.h"

#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/grow.h"

void vg_offsets_init(vg_offsets *o)
{
    memset(o, 0, sizeof(*o));
}

void vg_offsets_release(vg_offsets *o)
{
    free(o->v);
    vg_offsets_init(o);
}

void vg_offsets_clear(vg_offsets *o)
{
    o->n = 0;
}

/* The entry of topic/partition, created at -1 when absent. Topic names are
 * compared by pointer first: the source passes its own interned names. */
static vg_offset *entry(vg_offsets *o, const char *topic, int32_t partition)
{
    for (size_t i = o->n; i-- > 0;) {
        vg_offset *e = &o->v[i];
        if (e->partition == partition && (e->topic == topic || strcmp(e->topic, topic) == 0))
            return e;
    }
    o->v = vg_grow(o->v, &o->cap, o->n, sizeof(*o->v), 16);
    vg_assert(o->v != NULL);  /* a few entries per partition: tiny */
    o->v[o->n] = (vg_offset){topic, partition, -1};
    return &o->v[o->n++];
}

void vg_offsets_note(vg_offsets *o, const char *topic, int32_t partition, int64_t offset)
{
    vg_offset *e = entry(o, topic, partition);
    if (offset + 1 > e->next)
        e->next = offset + 1;
}

void vg_offsets_set(vg_offsets *o, const char *topic, int32_t partition, int64_t next)
{
    entry(o, topic, partition)->next = next;
}

int64_t vg_offsets_next(const vg_offsets *o, const char *topic, int32_t partition)
{
    for (size_t i = o->n; i-- > 0;) {
        const vg_offset *e = &o->v[i];
        if (e->partition == partition && (e->topic == topic || strcmp(e->topic, topic) == 0))
            return e->next;
    }
    return -1;
}

void vg_offsets_merge(vg_offsets *o, const vg_offsets *from)
{
    for (size_t i = 0; i < from->n; i++)
        if (from->v[i].next > 0)
            vg_offsets_note(o, from->v[i].topic, from->v[i].partition, from->v[i].next - 1);
}

void vg_offsets_forget(vg_offsets *o, int32_t partition)
{
    for (size_t i = 0; i < o->n; i++)
        if (o->v[i].partition == partition)
            o->v[i--] = o->v[--o->n];
}
