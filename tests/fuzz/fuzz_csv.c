/* Fuzz target for the CSV source: any bytes go through
 * vg_csv_source_open_mem and every poll to the end, twice, with a small
 * batch and a short max_line so batch and line limits are hit often. It
 * checks the promises that must hold for every input: open fails only
 * with VG_EPARSE or VG_ECONFIG, polls end in VG_EEOF and stay there, no
 * point is NaN or has an empty key, the counters add up, and two reads of
 * the same bytes agree point for point. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/log.h"
#include "core/point.h"
#include "streams/csv.h"

#define BATCH 5

typedef struct digest {
    uint64_t hash, points;
    vg_csv_source_stats st;
    int open_rc;
} digest;

static uint64_t mix(uint64_t h, const void *bytes, size_t len)
{
    const unsigned char *p = bytes;
    for (size_t i = 0; i < len; i++)
        h = (h ^ p[i]) * 0x100000001b3ULL;
    return h;
}

static void read_all(const uint8_t *data, size_t size, size_t max_line, digest *d)
{
    memset(d, 0, sizeof(*d));
    d->hash = 0xcbf29ce484222325ULL;
    vg_error err;
    vg_csv_options opt = {.batch_points = BATCH, .max_line = max_line};
    vg_source *src = vg_csv_source_open_mem("fuzz.csv", data, size, &opt, &err);
    if (src == NULL) {
        vg_assert(err.code == VG_EPARSE || err.code == VG_ECONFIG);
        d->open_rc = err.code;
        return;
    }
    vg_csv_source_get_stats(src, &d->st);
    vg_assert(d->st.rows == 0);
    vg_batch b;
    vg_batch_init(&b);
    int rc;
    while ((rc = vg_source_poll(src, &b, 0)) > 0) {
        vg_assert((size_t)rc == b.n);
        for (size_t i = 0; i < b.n; i++) {
            const vg_point *p = &b.points[i];
            vg_assert(p->value == p->value);   /* never NaN */
            vg_assert(p->key_len > 0);
            d->hash = mix(d->hash, &p->ts_ms, sizeof(p->ts_ms));
            d->hash = mix(d->hash, &p->value, sizeof(p->value));
            d->hash = mix(d->hash, vg_batch_key(&b, p), p->key_len);
            d->hash = mix(d->hash, vg_batch_ts_text(&b, p),
                          (size_t)p->ts_text_len + p->value_text_len);
        }
        d->points += b.n;
        vg_batch_reset(&b);
    }
    vg_assert(rc == VG_EEOF);
    vg_assert(vg_source_poll(src, &b, 0) == VG_EEOF);
    vg_csv_source_get_stats(src, &d->st);
    uint64_t sum = 0;
    for (int r = 0; r < VG_CSV_REASON_COUNT_; r++)
        sum += d->st.by_reason[r];
    vg_assert(sum == d->st.malformed);
    vg_assert(d->st.malformed <= d->st.rows);
    vg_assert(d->st.points == d->points);
    vg_batch_release(&b);
    vg_source_close(src);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vg_log_set_level(VG_LOG_ERROR);   /* bad rows are the point: keep quiet */
    digest a, b;
    read_all(data, size, 64, &a);
    read_all(data, size, 64, &b);
    vg_assert(memcmp(&a, &b, sizeof(a)) == 0);
    read_all(data, size, 0, &a);      /* default max_line too */
    return 0;
}
