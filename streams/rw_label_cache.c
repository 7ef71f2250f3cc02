/* Remote-write label cache; see rw_label_cache.h. Each generation is an
 * open-addressing table (linear probing) of twice its capacity in slots, so
 * probes stay short when full; entries are never removed one by one, only
 * freed with their generation, so the table needs no tombstones. */
#include "streams/rw_label_cache.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct entry {
    uint64_t      hash;
    size_t        key_len;
    size_t        size;  /* of the whole allocation */
    vg_rw_encoded enc;   /* bytes after the key */
    char          key[];
} entry;

typedef struct generation {
    entry **slots;
    size_t  n;
} generation;

struct vg_rw_label_cache {
    generation cur, old;
    size_t     max, mask;  /* entries per generation; slots - 1 */
};

int vg_rw_score_labels(const char *key, size_t key_len, vg_label *labels, char *scratch,
                       size_t scratch_cap, size_t *name_at)
{
    size_t name_len;
    int n = vg_series_key_split(key, key_len, &name_len, labels, VG_MAX_LABELS, scratch,
                                scratch_cap);
    if (n < 0)
        return -1;
    size_t m = 0;
    for (int i = 0; i < n; i++)
        if (!(labels[i].name_len == 6 && memcmp(labels[i].name, "metric", 6) == 0))
            labels[m++] = labels[i];
    labels[m++] = (vg_label){"metric", 6, key, name_len};
    labels[m++] = (vg_label){"__name__", 8, "", 0};
    vg_rw_labels_sort(labels, m);
    for (size_t i = 0; i < m; i++)
        if (labels[i].name_len == 8 && memcmp(labels[i].name, "__name__", 8) == 0)
            *name_at = i;
    return (int)m;
}

vg_rw_label_cache *vg_rw_label_cache_new(size_t max_series)
{
    vg_rw_label_cache *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return NULL;
    c->max = max_series > 0 ? max_series : 1;
    size_t slots = 2;
    while (slots < 2 * c->max)
        slots *= 2;
    c->mask = slots - 1;
    c->cur.slots = calloc(slots, sizeof(entry *));
    c->old.slots = calloc(slots, sizeof(entry *));
    if (c->cur.slots == NULL || c->old.slots == NULL) {
        vg_rw_label_cache_free(c);
        return NULL;
    }
    return c;
}

static void generation_clear(generation *g, size_t slots)
{
    for (size_t i = 0; i < slots && g->n > 0; i++)
        if (g->slots[i] != NULL) {
            free(g->slots[i]);
            g->slots[i] = NULL;
            g->n--;
        }
}

void vg_rw_label_cache_free(vg_rw_label_cache *c)
{
    if (c == NULL)
        return;
    if (c->cur.slots != NULL)
        generation_clear(&c->cur, c->mask + 1);
    if (c->old.slots != NULL)
        generation_clear(&c->old, c->mask + 1);
    free(c->cur.slots);
    free(c->old.slots);
    free(c);
}

/* The slot of key in g: its entry, or the empty slot where it goes. */
static entry **find(const vg_rw_label_cache *c, const generation *g, uint64_t hash,
                    const char *key, size_t key_len)
{
    for (size_t i = hash & c->mask;; i = (i + 1) & c->mask) {
        entry *e = g->slots[i];
        if (e == NULL ||
            (e->hash == hash && e->key_len == key_len && memcmp(e->key, key, key_len) == 0))
            return &g->slots[i];
    }
}

/* A new entry for key: copied from `from` when given, else encoded. */
static entry *entry_new(uint64_t hash, const char *key, size_t key_len, const entry *from)
{
    if (from != NULL) {
        entry *e = malloc(from->size);
        if (e != NULL) {
            memcpy(e, from, from->size);
            e->enc.bytes = (const uint8_t *)e->key + key_len;
        }
        return e;
    }
    vg_label labels[VG_RW_SCORE_LABELS];
    char scratch[4096];
    size_t name_at = 0;
    int n = vg_rw_score_labels(key, key_len, labels, scratch, sizeof(scratch), &name_at);
    if (n < 0)
        return NULL;
    size_t size = sizeof(entry) + key_len + vg_rw_labels_size(labels, (size_t)n, name_at);
    entry *e = malloc(size);
    if (e == NULL)
        return NULL;
    e->hash = hash;
    e->key_len = key_len;
    e->size = size;
    memcpy(e->key, key, key_len);
    e->enc = vg_rw_labels_encode((uint8_t *)e->key + key_len, labels, (size_t)n, name_at);
    return e;
}

const vg_rw_encoded *vg_rw_label_cache_get(vg_rw_label_cache *c, const char *key,
                                           size_t key_len)
{
    uint64_t hash = vg_hash64(key, key_len, 0);
    entry **slot = find(c, &c->cur, hash, key, key_len);
    if (*slot != NULL)
        return &(*slot)->enc;
    entry **prev = find(c, &c->old, hash, key, key_len);
    entry *e = entry_new(hash, key, key_len, *prev);  /* before `old` may be freed */
    if (e == NULL)
        return NULL;
    if (c->cur.n == c->max) {  /* full: a new generation */
        generation_clear(&c->old, c->mask + 1);
        generation spare = c->old;
        c->old = c->cur;
        c->cur = spare;
        slot = find(c, &c->cur, hash, key, key_len);
    }
    *slot = e;
    c->cur.n++;
    return &e->enc;
}

void vg_rw_score_encode(vg_rw_request *rq, vg_rw_label_cache *c, const char *key,
                        size_t key_len, const char *const *names, const double *v, size_t n,
                        int64_t ts_ms)
{
    const vg_rw_encoded *enc = c != NULL ? vg_rw_label_cache_get(c, key, key_len) : NULL;
    if (enc != NULL) {
        for (size_t k = 0; k < n; k++)
            if (!isnan(v[k]))
                vg_rw_request_add_encoded(rq, enc, names[k], strlen(names[k]), v[k], ts_ms);
        return;
    }
    vg_label labels[VG_RW_SCORE_LABELS];
    char scratch[4096];
    size_t name_at = 0;
    int m = vg_rw_score_labels(key, key_len, labels, scratch, sizeof(scratch), &name_at);
    for (size_t k = 0; m >= 0 && k < n; k++) {
        if (isnan(v[k]))
            continue;
        labels[name_at].value = names[k];
        labels[name_at].value_len = strlen(names[k]);
        vg_rw_request_add(rq, labels, (size_t)m, v[k], ts_ms);
    }
}
