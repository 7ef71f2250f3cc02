/* The series table; see series_table.h.
 *
 * Three parts:
 * - entries: one per live series, numbered 0..count-1 (an evicted series'
 *   number goes to the series replacing it, so numbers stay dense). Entry i
 *   owns state block i of the slab and a copy of its key, and sits in the
 *   recency list. Entry numbers never move, so the recency list links them
 *   and not index slots (backward-shift deletion moves slots).
 * - the index: open addressing with linear probing over the key hash; a
 *   slot keeps the hash and its entry's number, so a probe compares keys
 *   only when the hashes agree. It is kept at most half full and doubles as
 *   the table grows, up to the power of two that holds max_series at that
 *   load: once the table is full it never allocates again.
 * - the slab: max_series blocks of state_size rounded up to 64 bytes,
 *   reserved at once with mmap so blocks never move (callers keep
 *   pointers) while untouched pages cost nothing; bytes() counts only the
 *   blocks ever handed out.
 *
 * Deletion (eviction) uses backward shifting instead of tombstones, so
 * probe chains stay short and valid however many series come and go. */
#include "engine/series_table.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "core/series_key.h"
#include "core/siphash.h"

#define NIL        UINT32_MAX  /* no entry: empty slot, list end */
#define NO_SLOT    SIZE_MAX    /* lookup miss */
#define BLOCK_ALIGN 64
#define MIN_SLOTS  16

typedef struct slot {
    uint64_t hash;
    uint32_t entry;  /* NIL when empty */
    uint32_t pad_;
} slot;

typedef struct entry {
    uint64_t hash;
    char    *key;       /* NUL-terminated copy; reused when long enough */
    uint32_t key_len;
    uint32_t key_cap;
    uint32_t prev, next;  /* recency: prev is less recently seen */
} entry;

struct vg_series_table {
    /* The index hashes keys with a per-table random key (hash flooding);
     * on_init still gets the unkeyed vg_hash64, from which per-series seeds
     * and so saved state and event ids derive. */
    vg_sipkey hash_key;
    size_t   state_size, stride, max_series;
    uint8_t *slab;
    size_t   slab_reserved;   /* mapped bytes */
    size_t   high_water;      /* blocks ever handed out */
    entry   *entries;
    size_t   count, entries_cap;
    slot    *slots;
    size_t   mask;            /* slot count - 1 */
    size_t   max_slots;
    uint32_t lru, mru;        /* least and most recently seen, NIL if empty */
    uint64_t evicted;
    size_t   key_bytes;       /* sum of key capacities */
    vg_series_init_fn  on_init;
    vg_series_evict_fn on_evict;
    void    *ctx;
};

static size_t pow2_at_least(size_t n)
{
    size_t p = MIN_SLOTS;
    while (p < n)
        p *= 2;
    return p;
}

static slot *slots_new(size_t n)
{
    slot *s = malloc(n * sizeof(*s));
    if (s != NULL) {
        for (size_t i = 0; i < n; i++)
            s[i] = (slot){0, NIL, 0};
    }
    return s;
}

vg_series_table *vg_series_table_new(size_t state_size, size_t max_series,
                                     vg_series_init_fn on_init,
                                     vg_series_evict_fn on_evict, void *ctx,
                                     vg_error *err)
{
    size_t stride = (state_size + BLOCK_ALIGN - 1) / BLOCK_ALIGN * BLOCK_ALIGN;
    if (stride == 0)
        stride = BLOCK_ALIGN;
    if (max_series == 0 || max_series >= NIL / 2 || stride < state_size ||
        max_series > SIZE_MAX / stride) {
        vg_error_set(err, VG_EARG, "series table of %zu series of %zu bytes",
                     max_series, state_size);
        return NULL;
    }
    vg_series_table *t = calloc(1, sizeof(*t));
    if (t == NULL)
        goto out_nomem;
    t->state_size = state_size;
    t->stride = stride;
    t->max_series = max_series;
    t->max_slots = pow2_at_least(2 * max_series);
    t->lru = t->mru = NIL;
    t->hash_key = vg_sipkey_random();
    t->on_init = on_init;
    t->on_evict = on_evict;
    t->ctx = ctx;

    t->slab_reserved = max_series * stride;
    t->slab = mmap(NULL, t->slab_reserved, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (t->slab == MAP_FAILED)
        goto out_free_table;
    t->mask = (t->max_slots < 64 ? t->max_slots : 64) - 1;
    t->slots = slots_new(t->mask + 1);
    if (t->slots == NULL)
        goto out_unmap_slab;
    return t;

out_unmap_slab:
    munmap(t->slab, t->slab_reserved);
out_free_table:
    free(t);
out_nomem:
    vg_error_set(err, VG_ENOMEM, "series table of %zu series of %zu bytes",
                 max_series, state_size);
    return NULL;
}

void vg_series_table_free(vg_series_table *t)
{
    if (t == NULL)
        return;
    for (size_t i = 0; i < t->entries_cap; i++)
        free(t->entries[i].key);
    free(t->entries);
    free(t->slots);
    munmap(t->slab, t->slab_reserved);
    free(t);
}

static void *block(const vg_series_table *t, uint32_t e)
{
    return t->slab + (size_t)e * t->stride;
}

/* The slot holding key, or NO_SLOT. */
static size_t lookup(const vg_series_table *t, uint64_t hash, const char *key,
                     size_t key_len)
{
    for (size_t i = hash & t->mask;; i = (i + 1) & t->mask) {
        const slot *s = &t->slots[i];
        if (s->entry == NIL)
            return NO_SLOT;
        if (s->hash == hash) {
            const entry *en = &t->entries[s->entry];
            if (en->key_len == key_len && memcmp(en->key, key, key_len) == 0)
                return i;
        }
    }
}

static void slot_put(vg_series_table *t, uint64_t hash, uint32_t e)
{
    size_t i = hash & t->mask;
    while (t->slots[i].entry != NIL)
        i = (i + 1) & t->mask;
    t->slots[i] = (slot){hash, e, 0};
}

/* Backward-shift deletion: pull later members of the probe run into the
 * hole when the hole lies on their probe path from their home slot. */
static void slot_remove(vg_series_table *t, size_t hole)
{
    for (size_t j = (hole + 1) & t->mask; t->slots[j].entry != NIL; j = (j + 1) & t->mask) {
        size_t home = t->slots[j].hash & t->mask;
        if (((j - home) & t->mask) >= ((j - hole) & t->mask)) {
            t->slots[hole] = t->slots[j];
            hole = j;
        }
    }
    t->slots[hole] = (slot){0, NIL, 0};
}

static int index_grow(vg_series_table *t)
{
    size_t n = (t->mask + 1) * 2;
    slot *old = t->slots;
    size_t old_n = t->mask + 1;
    t->slots = slots_new(n);
    if (t->slots == NULL) {
        t->slots = old;
        return VG_ENOMEM;
    }
    t->mask = n - 1;
    for (size_t i = 0; i < old_n; i++) {
        if (old[i].entry != NIL)
            slot_put(t, old[i].hash, old[i].entry);
    }
    free(old);
    return VG_OK;
}

static void list_unlink(vg_series_table *t, uint32_t e)
{
    entry *en = &t->entries[e];
    if (en->prev != NIL)
        t->entries[en->prev].next = en->next;
    else
        t->lru = en->next;
    if (en->next != NIL)
        t->entries[en->next].prev = en->prev;
    else
        t->mru = en->prev;
}

static void list_push_mru(vg_series_table *t, uint32_t e)
{
    entry *en = &t->entries[e];
    en->prev = t->mru;
    en->next = NIL;
    if (t->mru != NIL)
        t->entries[t->mru].next = e;
    else
        t->lru = e;
    t->mru = e;
}

static void touch(vg_series_table *t, uint32_t e)
{
    if (t->mru == e)
        return;
    list_unlink(t, e);
    list_push_mru(t, e);
}

/* Makes room for one more entry in the entries array and the index. */
static int reserve_one(vg_series_table *t)
{
    if (t->count < t->max_series && t->count == t->entries_cap) {
        size_t cap = t->entries_cap ? t->entries_cap * 2 : 16;
        if (cap > t->max_series)
            cap = t->max_series;
        entry *entries = realloc(t->entries, cap * sizeof(*entries));
        if (entries == NULL)
            return VG_ENOMEM;
        memset(entries + t->entries_cap, 0, (cap - t->entries_cap) * sizeof(*entries));
        t->entries = entries;
        t->entries_cap = cap;
    }
    if (2 * (t->count + 1) > t->mask + 1 && t->mask + 1 < t->max_slots)
        return index_grow(t);
    return VG_OK;
}

/* Drops the least recently seen series and returns its entry number. */
static uint32_t evict_lru(vg_series_table *t)
{
    uint32_t e = t->lru;
    entry *en = &t->entries[e];
    if (t->on_evict != NULL)
        t->on_evict(t->ctx, block(t, e), en->key, en->key_len);
    size_t i = lookup(t, en->hash, en->key, en->key_len);
    vg_assert(i != NO_SLOT);
    slot_remove(t, i);
    list_unlink(t, e);
    t->evicted++;
    return e;
}

/* Adds a series that is not in the table; returns its entry number or NIL
 * when out of memory (the table is then unchanged). */
static uint32_t insert_new(vg_series_table *t, uint64_t hash, const char *key,
                           size_t key_len)
{
    if (key_len >= UINT32_MAX || reserve_one(t) != 0)
        return NIL;
    /* The entry that will hold the key: the next fresh one or the victim. */
    uint32_t e = t->count < t->max_series ? (uint32_t)t->count : t->lru;
    char *key_copy = NULL;
    size_t key_cap = (key_len + 16) & ~(size_t)15;
    if (t->entries[e].key_cap <= key_len) {
        /* allocated before evicting, so a failure changes nothing */
        key_copy = malloc(key_cap);
        if (key_copy == NULL)
            return NIL;
    }
    if (t->count == t->max_series)
        evict_lru(t);
    else
        t->count++;

    entry *en = &t->entries[e];
    if (key_copy != NULL) {
        t->key_bytes += key_cap - en->key_cap;
        free(en->key);
        en->key = key_copy;
        en->key_cap = (uint32_t)key_cap;
    }
    memcpy(en->key, key, key_len);
    en->key[key_len] = '\0';
    en->key_len = (uint32_t)key_len;
    en->hash = hash;
    slot_put(t, hash, e);
    list_push_mru(t, e);
    if ((size_t)e + 1 > t->high_water)
        t->high_water = (size_t)e + 1;
    memset(block(t, e), 0, t->stride);
    return e;
}

/* Finds or creates key and marks it seen; *created says which. */
static void *get(vg_series_table *t, const char *key, size_t key_len, int init,
                 int *created)
{
    uint64_t hash = vg_siphash(key, key_len, t->hash_key);
    size_t i = lookup(t, hash, key, key_len);
    if (created != NULL)
        *created = i == NO_SLOT;
    if (i != NO_SLOT) {
        touch(t, t->slots[i].entry);
        return block(t, t->slots[i].entry);
    }
    uint32_t e = insert_new(t, hash, key, key_len);
    if (e == NIL)
        return NULL;
    if (init && t->on_init != NULL)
        t->on_init(t->ctx, block(t, e), t->entries[e].key, key_len,
                   vg_hash64(key, key_len, 0));
    return block(t, e);
}

void *vg_series_table_get(vg_series_table *t, const char *key, size_t key_len,
                          int *created)
{
    return get(t, key, key_len, 1, created);
}

void *vg_series_table_insert_raw(vg_series_table *t, const char *key, size_t key_len)
{
    return get(t, key, key_len, 0, NULL);
}

void *vg_series_table_find(const vg_series_table *t, const char *key, size_t key_len)
{
    size_t i = lookup(t, vg_siphash(key, key_len, t->hash_key), key, key_len);
    return i == NO_SLOT ? NULL : block(t, t->slots[i].entry);
}

size_t vg_series_table_number(const vg_series_table *t, const void *state)
{
    size_t off = (size_t)((const uint8_t *)state - t->slab);
    vg_assert((const uint8_t *)state >= t->slab && off % t->stride == 0 &&
              off / t->stride < t->count);
    return off / t->stride;
}

const char *vg_series_table_key(const vg_series_table *t, const void *state,
                                size_t *key_len)
{
    const entry *en = &t->entries[vg_series_table_number(t, state)];
    if (key_len != NULL)
        *key_len = en->key_len;
    return en->key;
}

size_t vg_series_table_count(const vg_series_table *t)
{
    return t->count;
}

uint64_t vg_series_table_evicted(const vg_series_table *t)
{
    return t->evicted;
}

size_t vg_series_table_bytes(const vg_series_table *t)
{
    return sizeof(*t) + t->high_water * t->stride + (t->mask + 1) * sizeof(slot) +
           t->entries_cap * sizeof(entry) + t->key_bytes;
}

int vg_series_table_remove(vg_series_table *t, const char *key, size_t key_len)
{
    uint64_t hash = vg_siphash(key, key_len, t->hash_key);
    size_t i = lookup(t, hash, key, key_len);
    if (i == NO_SLOT)
        return VG_ENOTFOUND;
    uint32_t e = t->slots[i].entry;
    slot_remove(t, i);
    list_unlink(t, e);
    uint32_t last = (uint32_t)(t->count - 1);
    if (e != last) {
        /* Entries (and so blocks) stay dense: the last one moves into the
         * hole, and the hole's key buffer goes to the end for reuse. */
        entry moved = t->entries[last];
        size_t j = lookup(t, moved.hash, moved.key, moved.key_len);
        vg_assert(j != NO_SLOT);
        t->slots[j].entry = e;
        t->entries[last] = t->entries[e];
        t->entries[e] = moved;
        if (moved.prev != NIL)
            t->entries[moved.prev].next = e;
        else
            t->lru = e;
        if (moved.next != NIL)
            t->entries[moved.next].prev = e;
        else
            t->mru = e;
        memcpy(block(t, e), block(t, last), t->stride);
    }
    t->count--;
    return VG_OK;
}

void vg_series_table_foreach(const vg_series_table *t, vg_series_visit_fn fn, void *ctx)
{
    for (uint32_t e = t->lru; e != NIL; e = t->entries[e].next)
        fn(ctx, block(t, e), t->entries[e].key, t->entries[e].key_len);
}

void vg_series_table_clear(vg_series_table *t)
{
    for (size_t i = 0; i <= t->mask; i++)
        t->slots[i] = (slot){0, NIL, 0};
    t->count = 0;
    t->lru = t->mru = NIL;
}
