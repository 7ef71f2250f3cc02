/* The remote-write output's label cache (streams/rw_label_cache.c): a
 * request encoded from cached labels (vg_rw_score_encode, as the output
 * calls it) is byte for byte the request encoded label by label for every
 * sample (the path without the cache, label_cache 0), for a mix of series (labels before and
 * after __name__, an input label `metric`, escaped values, a bare name),
 * also when the cache is small enough to drop generations between the
 * samples of a series. */
#include "streams/rw_label_cache.h"
#include "tests/unit/helpers.h"

#include <math.h>
#include <string.h>

static const char *const keys[] = {
    "cpu{host=\"a\",mode=\"idle\"}",
    "bare_name",
    "disk{Device=\"sda\",zone=\"eu-1\"}",         /* sorts before __name__ */
    "mem{metric=\"input's own\",pool=\"x\"}",    /* replaced by metric="mem" */
    "q{path=\"C:\\\\tmp\",say=\"\\\"hi\\\"\\nbye\"}", /* escaped \, " and newline */
    "_under{_a=\"1\",__b=\"2\"}",
};
#define N_KEYS (sizeof(keys) / sizeof(keys[0]))

static const char *const names[] = {"vigil_value", "vigil_lower", "vigil_anomaly_score"};

/* Point i's three values; the second NaN every fourth point (left out). */
static void values(int64_t i, double v[3])
{
    v[0] = (double)i / 7.0;
    v[1] = i % 4 == 0 ? NAN : -(double)i;
    v[2] = 1e-300 * (double)i;
}

/* 400 points over the keys in a scrambled order, with caches of 1, 2, 3
 * and 100 series per generation. */
static void cached_request_is_byte_identical(void **state)
{
    (void)state;
    static const size_t sizes[] = {1, 2, 3, 100};
    vg_rw_request want, got;
    vg_rw_request_init(&want);
    vg_rw_request_init(&got);
    for (size_t s = 0; s < 4; s++) {
        vg_rw_label_cache *c = vg_rw_label_cache_new(sizes[s]);
        assert_non_null(c);
        vg_rw_request_reset(&want);
        vg_rw_request_reset(&got);
        for (int64_t i = 0; i < 400; i++) {
            const char *key = keys[(size_t)(i * 7 + i / 5) % N_KEYS];
            int64_t ts = 1700000000000 + i * 1000 - (i % 3 == 0 ? 1 << 20 : 0);
            double v[3];
            values(i, v);
            vg_rw_score_encode(&want, NULL, key, strlen(key), names, v, 3, ts);
            vg_rw_score_encode(&got, c, key, strlen(key), names, v, 3, ts);
        }
        assert_false(want.failed || got.failed);
        assert_int_equal(got.series, 1100);  /* 3 samples, 2 every fourth point */
        assert_int_equal(got.series, want.series);
        assert_int_equal(got.len, want.len);
        assert_memory_equal(got.buf, want.buf, want.len);
        vg_rw_label_cache_free(c);
    }
    vg_rw_request_release(&want);
    vg_rw_request_release(&got);
}

/* The labels as written: metric="<name>" replaces an input `metric`. */
static void score_labels(void **state)
{
    (void)state;
    vg_label l[VG_RW_SCORE_LABELS];
    char scratch[256];
    size_t name_at = 99;
    const char *key = keys[3];
    assert_int_equal(vg_rw_score_labels(key, strlen(key), l, scratch, sizeof(scratch), &name_at),
                     3);
    assert_int_equal(name_at, 0);
    assert_memory_equal(l[0].name, "__name__", 8);
    assert_int_equal(l[1].name_len, 6);
    assert_memory_equal(l[1].name, "metric", 6);
    assert_int_equal(l[1].value_len, 3);
    assert_memory_equal(l[1].value, "mem", 3);
    assert_memory_equal(l[2].name, "pool", 4);
    assert_int_equal(vg_rw_score_labels("a{b=", 4, l, scratch, sizeof(scratch), &name_at), -1);
    vg_rw_label_cache *c = vg_rw_label_cache_new(4);
    assert_null(vg_rw_label_cache_get(c, "a{b=", 4));
    vg_rw_label_cache_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cached_request_is_byte_identical),
        cmocka_unit_test(score_labels),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
