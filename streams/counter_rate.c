/* Per-series counter -> rate table; see counter_rate.h.
 *
 * Open addressing over a power-of-two array with a fixed probe window of
 * PROBE slots and no deletion: a lookup scans the whole window, so there are
 * no tombstones, and an insert into a full window evicts its stalest entry.
 * Entries are 32 bytes; the table is allocated once. */
#include "streams/counter_rate.h"

#include <math.h>
#include <stdlib.h>

#define PROBE 8

typedef struct slot {
    uint64_t hash;   /* 0 marks an empty slot; a real hash of 0 is stored as 1 */
    double   t_s;
    double   v;
    uint64_t stamp;  /* update counter, for least-recently-updated eviction */
} slot;

struct vg_counter_rate {
    slot    *slots;
    size_t   mask;
    size_t   count;
    uint64_t clock;
};

vg_counter_rate *vg_counter_rate_new(size_t cap, vg_error *err)
{
    size_t n = 16;
    while (n < cap && n < ((size_t)1 << 40))
        n <<= 1;
    vg_counter_rate *cr = calloc(1, sizeof(*cr));
    if (cr == NULL)
        goto out_nomem;
    cr->slots = calloc(n, sizeof(*cr->slots));
    if (cr->slots == NULL)
        goto out_free_table;
    cr->mask = n - 1;
    return cr;

out_free_table:
    free(cr);
out_nomem:
    vg_error_set(err, VG_ENOMEM, "counter rate table of %zu series", n);
    return NULL;
}

void vg_counter_rate_free(vg_counter_rate *cr)
{
    if (cr == NULL)
        return;
    free(cr->slots);
    free(cr);
}

size_t vg_counter_rate_count(const vg_counter_rate *cr)
{
    return cr->count;
}

/* The slot of hash h: its own, else an empty one, else the stalest. */
static slot *find_slot(vg_counter_rate *cr, uint64_t h, int *found)
{
    slot *empty = NULL, *stalest = NULL;
    for (size_t i = 0; i < PROBE; i++) {
        slot *s = &cr->slots[(h + i) & cr->mask];
        if (s->hash == h) {
            *found = 1;
            return s;
        }
        if (s->hash == 0) {
            if (empty == NULL)
                empty = s;
        } else if (stalest == NULL || s->stamp < stalest->stamp) {
            stalest = s;
        }
    }
    *found = 0;
    if (empty != NULL) {
        cr->count++;
        return empty;
    }
    return stalest;
}

int vg_counter_rate_update(vg_counter_rate *cr, uint64_t key_hash, double t_s, double v,
                           double *rate)
{
    if (!isfinite(v) || !isfinite(t_s))
        return 0;
    uint64_t h = key_hash ? key_hash : 1;
    int found;
    slot *s = find_slot(cr, h, &found);
    if (found && t_s <= s->t_s)
        return 0;  /* duplicate or out of order: keep the newer baseline */

    int have_rate = found && v >= s->v;
    if (have_rate)
        *rate = (v - s->v) / (t_s - s->t_s);
    s->hash = h;
    s->t_s = t_s;
    s->v = v;
    s->stamp = ++cr->clock;
    return have_rate;
}
