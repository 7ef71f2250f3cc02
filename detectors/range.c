/* Bucketed time ranges; see range.h. The buckets are a ring of n + 1 slots
 * (the n completed ones and the one in progress); moving to a later bucket
 * empties the slots of the buckets skipped, at most n + 1 of them, and
 * recomputes the completed buckets' extremes once, so a read only combines
 * them with the bucket in progress. */
#include "detectors/range.h"

#include <math.h>

#include "core/error.h"

static void clear_slot(vg_range *r, uint32_t slot)
{
    r->lo[slot] = INFINITY;
    r->hi[slot] = -INFINITY;
}

/* The extremes over every slot but the one in progress. */
static void close_buckets(vg_range *r)
{
    double l = INFINITY, h = -INFINITY;
    for (uint32_t i = 0; i <= r->n; i++) {
        if (i == r->head)
            continue;
        l = r->lo[i] < l ? r->lo[i] : l;
        h = r->hi[i] > h ? r->hi[i] : h;
    }
    r->done_lo = l;
    r->done_hi = h;
}

void vg_range_init(vg_range *r, int64_t bucket_ms, uint32_t n)
{
    vg_assert(bucket_ms > 0 && n >= 1 && n <= VG_RANGE_MAX_BUCKETS);
    r->bucket_ms = bucket_ms;
    r->current = INT64_MIN;
    r->n = n;
    r->head = 0;
    r->done_lo = INFINITY;
    r->done_hi = -INFINITY;
    /* Every slot, used or not, so equal ranges are equal bytes. */
    for (uint32_t i = 0; i <= VG_RANGE_MAX_BUCKETS; i++)
        clear_slot(r, i);
}

/* floor(ts / bucket_ms), also for times before the epoch. */
static int64_t bucket_of(const vg_range *r, int64_t ts)
{
    int64_t q = ts / r->bucket_ms;
    return ts % r->bucket_ms < 0 ? q - 1 : q;
}

void vg_range_push(vg_range *r, int64_t ts_ms, double x)
{
    int64_t b = bucket_of(r, ts_ms);
    if (r->current == INT64_MIN) {
        r->current = b;
    } else if (b > r->current) {
        /* Unsigned: a jump of years must not overflow; more than n + 1
         * buckets ahead empties the whole ring. */
        uint64_t ahead = (uint64_t)b - (uint64_t)r->current;
        uint64_t clear = ahead < r->n + 1u ? ahead : r->n + 1u;
        for (uint64_t i = 0; i < clear; i++) {
            r->head = r->head == r->n ? 0 : r->head + 1;
            clear_slot(r, r->head);
        }
        r->current = b;
        close_buckets(r);
    }
    if (x < r->lo[r->head])
        r->lo[r->head] = x;
    if (x > r->hi[r->head])
        r->hi[r->head] = x;
}

int vg_range_get(const vg_range *r, double *lo, double *hi)
{
    double l = r->lo[r->head] < r->done_lo ? r->lo[r->head] : r->done_lo;
    double h = r->hi[r->head] > r->done_hi ? r->hi[r->head] : r->done_hi;
    if (!(l <= h))
        return 0;
    *lo = l;
    *hi = h;
    return 1;
}

uint32_t vg_range_filled(const vg_range *r)
{
    uint32_t k = 0;
    for (uint32_t i = 0; i <= r->n; i++)
        k += r->lo[i] <= r->hi[i];
    return k;
}

int vg_range_save(const vg_range *r, vg_writer *out)
{
    vg_writer_i64(out, r->current);
    vg_writer_u32(out, r->head);
    vg_writer_f64s(out, r->lo, r->n + 1u);
    return vg_writer_f64s(out, r->hi, r->n + 1u);
}

int vg_range_load(vg_range *r, vg_reader *in, vg_error *err)
{
    vg_reader_i64(in, &r->current);
    vg_reader_u32(in, &r->head);
    vg_reader_f64s(in, r->lo, r->n + 1u);
    vg_reader_f64s(in, r->hi, r->n + 1u);
    if (in->failed || r->head > r->n)
        return vg_error_set(err, VG_EPARSE, "range: saved state truncated or out of range");
    close_buckets(r);
    return VG_OK;
}
