/* The series table: canonical key -> one fixed-size state block.
 *
 * Open addressing over 64-bit key hashes; every series gets a block of
 * `state_size` bytes from one slab, so looking up or creating a series never
 * allocates once the table has grown to its cap. When `max_series` series
 * exist, the least recently seen one is evicted (counted) to make room; an
 * eviction callback lets the owner say goodbye (e.g. resolve its incident).
 * Not thread-safe: one table per processing thread. */
#ifndef VG_ENGINE_SERIES_TABLE_H
#define VG_ENGINE_SERIES_TABLE_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

typedef struct vg_series_table vg_series_table;

/* Called with a fresh zeroed block for a new series. */
typedef void (*vg_series_init_fn)(void *ctx, void *state, const char *key,
                                  size_t key_len, uint64_t hash);
/* Called before a series' block is reused for another. */
typedef void (*vg_series_evict_fn)(void *ctx, void *state, const char *key,
                                   size_t key_len);

/* Returns a new table, or NULL with err set. max_series >= 1. The callbacks
 * are NULL-able. Free with vg_series_table_free(). */
vg_series_table *vg_series_table_new(size_t state_size, size_t max_series,
                                     vg_series_init_fn on_init,
                                     vg_series_evict_fn on_evict, void *ctx,
                                     vg_error *err);
void vg_series_table_free(vg_series_table *t);

/* Returns the state block of key (borrowed until the series is evicted or
 * the table freed), creating it when new (*created = 1), evicting the least
 * recently seen series when full. Marks the series as just seen. Returns
 * NULL only when out of memory. created is NULL-able. */
void *vg_series_table_get(vg_series_table *t, const char *key, size_t key_len,
                          int *created);

/* As get, but never creates or touches recency: NULL when absent. */
void *vg_series_table_find(const vg_series_table *t, const char *key, size_t key_len);

/* Creates (or finds) the series and returns its block without calling
 * on_init: for loading saved state into it. */
void *vg_series_table_insert_raw(vg_series_table *t, const char *key, size_t key_len);

/* The number of the series whose block is `state`: 0..count-1, dense, kept
 * while the series lives (a removal may renumber another one). */
size_t vg_series_table_number(const vg_series_table *t, const void *state);

/* The key of a state block handed out by this table (borrowed). */
const char *vg_series_table_key(const vg_series_table *t, const void *state,
                                size_t *key_len);

size_t   vg_series_table_count(const vg_series_table *t);
uint64_t vg_series_table_evicted(const vg_series_table *t);
/* Bytes held by the table: slab, index and keys. */
size_t   vg_series_table_bytes(const vg_series_table *t);

/* Calls fn for every series, least recently seen first. fn must not add or
 * remove series. */
typedef void (*vg_series_visit_fn)(void *ctx, void *state, const char *key,
                                   size_t key_len);
void vg_series_table_foreach(const vg_series_table *t, vg_series_visit_fn fn, void *ctx);

/* Removes series `key` (no eviction callback): its state goes with its
 * partition to another instance. Another series' block may move, so every
 * block pointer taken before the call is stale after it. Returns 0 or
 * VG_ENOTFOUND. */
int vg_series_table_remove(vg_series_table *t, const char *key, size_t key_len);

/* Removes every series (no eviction callbacks). */
void vg_series_table_clear(vg_series_table *t);

#endif
