/* Bucketed time ranges; see range.h. The buckets are a ring of n + 1 slots
 * (the n completed ones and the one in progress, whose extremes live in
 * now_lo / now_hi until it closes); moving to a later bucket empties the
 * slots of the buckets skipped, at most n + 1 of them, and recomputes the
 * completed buckets' extremes once, so a point touches only the header. */
#include "detectors/range.h"

#include <float.h>
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
    float l = INFINITY, h = -INFINITY;
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
    vg_assert(bucket_ms > 0 && bucket_ms <= UINT32_MAX && n >= 1 && n <= VG_RANGE_MAX_BUCKETS);
    r->bucket_ms = (uint32_t)bucket_ms;
    r->current = INT64_MIN;
    r->anchor = 0.0;
    r->n = (uint16_t)n;
    r->head = 0;
    r->done_lo = r->now_lo = INFINITY;
    r->done_hi = r->now_hi = -INFINITY;
    /* Every slot, used or not, so equal ranges are equal bytes. */
    for (uint32_t i = 0; i <= VG_RANGE_MAX_BUCKETS; i++)
        clear_slot(r, i);
}

/* floor(ts / bucket_ms), also for times before the epoch. Most points
 * fall in the bucket in progress: that is tested first, without the
 * 64-bit division (several ranges take every point). */
static int64_t bucket_of(const vg_range *r, int64_t ts)
{
    const int64_t size = r->bucket_ms;
    if (r->current != INT64_MIN) {
        int64_t start;  /* overflows only for a loaded or pre-1677 bucket */
        if (!__builtin_mul_overflow(r->current, size, &start) && ts >= start &&
            (uint64_t)ts - (uint64_t)start < (uint64_t)size)
            return r->current;
    }
    int64_t q = ts / size;
    return ts % size < 0 ? q - 1 : q;
}

/* The float at or below (down) or at or above (!down) d, saturating at
 * +-FLT_MAX: extremes round outwards, so a value seen is never outside. */
static float outward(double d, int down)
{
    if (d >= FLT_MAX)
        return FLT_MAX;
    if (d <= -FLT_MAX)
        return -FLT_MAX;
    float f = (float)d;
    if (down ? (double)f > d : (double)f < d)
        f = nextafterf(f, down ? -INFINITY : INFINITY);
    return f;
}

void vg_range_push(vg_range *r, int64_t ts_ms, double x)
{
    int64_t b = bucket_of(r, ts_ms);
    if (r->current == INT64_MIN) {
        r->current = b;
        r->anchor = x;
    } else if (b > r->current) {
        r->lo[r->head] = r->now_lo;
        r->hi[r->head] = r->now_hi;
        r->now_lo = INFINITY;
        r->now_hi = -INFINITY;
        /* Unsigned: a jump of years must not overflow; more than n + 1
         * buckets ahead empties the whole ring. */
        uint64_t ahead = (uint64_t)b - (uint64_t)r->current;
        uint64_t clear = ahead < r->n + 1u ? ahead : r->n + 1u;
        for (uint64_t i = 0; i < clear; i++) {
            r->head = r->head == r->n ? 0 : (uint16_t)(r->head + 1);
            clear_slot(r, r->head);
        }
        r->current = b;
        close_buckets(r);
    }
    double d = x - r->anchor;
    if (d < (double)r->now_lo)
        r->now_lo = outward(d, 1);
    if (d > (double)r->now_hi)
        r->now_hi = outward(d, 0);
}

int vg_range_get(const vg_range *r, double *lo, double *hi)
{
    float l = r->now_lo < r->done_lo ? r->now_lo : r->done_lo;
    float h = r->now_hi > r->done_hi ? r->now_hi : r->done_hi;
    if (!(l <= h))
        return 0;
    *lo = r->anchor + (double)l;
    *hi = r->anchor + (double)h;
    return 1;
}

uint32_t vg_range_filled(const vg_range *r)
{
    uint32_t k = r->now_lo <= r->now_hi;
    for (uint32_t i = 0; i <= r->n; i++)
        k += i != r->head && r->lo[i] <= r->hi[i];
    return k;
}

int vg_range_save(const vg_range *r, vg_writer *out)
{
    vg_writer_i64(out, r->current);
    vg_writer_f64(out, r->anchor);
    vg_writer_u32(out, r->head);  /* 32 bits in the file, as before */
    vg_writer_f32s(out, &r->now_lo, 1);
    vg_writer_f32s(out, &r->now_hi, 1);
    vg_writer_f32s(out, r->lo, r->n + 1u);
    return vg_writer_f32s(out, r->hi, r->n + 1u);
}

int vg_range_load(vg_range *r, vg_reader *in, vg_error *err)
{
    uint32_t head = 0;
    vg_reader_i64(in, &r->current);
    vg_reader_f64(in, &r->anchor);
    vg_reader_u32(in, &head);
    vg_reader_f32s(in, &r->now_lo, 1);
    vg_reader_f32s(in, &r->now_hi, 1);
    vg_reader_f32s(in, r->lo, r->n + 1u);
    vg_reader_f32s(in, r->hi, r->n + 1u);
    if (in->failed || head > r->n || !isfinite(r->anchor))
        return vg_error_set(err, VG_EPARSE, "range: saved state truncated or out of range");
    r->head = (uint16_t)head;
    close_buckets(r);
    return VG_OK;
}
