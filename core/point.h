/* Points and batches: what every source produces and the pipeline consumes.
 *
 * A point is {series key, timestamp (int64 ms, UTC), value}. Keys and the
 * raw input text live in the batch's byte arena and are addressed by offset,
 * so a batch can grow without invalidating earlier points, and is reused
 * from poll to poll without allocating. */
#ifndef VG_CORE_POINT_H
#define VG_CORE_POINT_H

#include <stddef.h>
#include <stdint.h>

/* Where a point came from, for events and error messages. */
typedef struct vg_origin {
    const char *source;     /* file path or topic; borrowed, outlives the batch */
    int32_t     partition;  /* Kafka partition, or < 0 for files: VG_ORIGIN_WIDE_ROW */
    int64_t     offset;     /* Kafka offset, or the 1-based line number in a file */
} vg_origin;

/* The partition of a point read from a file: -1, or this for a point of a
 * wide CSV row (the columns of one row are one machine's metrics, which
 * corroboration groups: engine/corroborate.h). */
#define VG_ORIGIN_WIDE_ROW (-2)

typedef struct vg_point {
    int64_t   ts_ms;
    double    value;
    vg_origin origin;
    uint32_t  key_off;      /* series key in the batch arena */
    uint32_t  key_len;
    uint32_t  text_off;     /* raw timestamp then raw value text, for replay */
    uint16_t  ts_text_len;  /* 0 when the source has no raw text */
    uint16_t  value_text_len;
} vg_point;

typedef struct vg_batch {
    vg_point *points;
    size_t    n, cap;
    char     *arena;
    size_t    arena_len, arena_cap;
} vg_batch;

void vg_batch_init(vg_batch *b);
void vg_batch_reset(vg_batch *b);   /* keeps the memory */
void vg_batch_release(vg_batch *b); /* frees the memory */

/* Appends a point, copying the key. Returns the new point (borrowed until the
 * next push or reset) or NULL when out of memory. */
vg_point *vg_batch_push(vg_batch *b, const char *key, size_t key_len,
                        int64_t ts_ms, double value, const vg_origin *origin);

/* Attaches the raw timestamp and value text to p (the last pushed point).
 * Returns 0 or VG_ENOMEM. */
int vg_batch_set_text(vg_batch *b, vg_point *p, const char *ts, size_t ts_len,
                      const char *value, size_t value_len);

static inline const char *vg_batch_key(const vg_batch *b, const vg_point *p)
{
    return b->arena + p->key_off;
}
static inline const char *vg_batch_ts_text(const vg_batch *b, const vg_point *p)
{
    return b->arena + p->text_off;
}
static inline const char *vg_batch_value_text(const vg_batch *b, const vg_point *p)
{
    return b->arena + p->text_off + p->ts_text_len;
}

#endif
