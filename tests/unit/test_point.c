/* Unit tests for points and batches (core/point.c). */
#include "tests/unit/helpers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/point.h"

static void push_copies_key_and_origin(void **state)
{
    (void)state;
    vg_batch b;
    vg_batch_init(&b);
    char key[16] = "cpu{h=\"a\"}";
    vg_origin o = {"metrics", 2, 1234};
    vg_point *p = vg_batch_push(&b, key, 10, 1700000000000, 0.5, &o);
    assert_non_null(p);
    key[0] = 'X';  /* the batch holds its own copy */
    assert_string_equal(vg_batch_key(&b, p), "cpu{h=\"a\"}");
    assert_int_equal(p->key_len, 10);
    assert_int_equal(p->ts_ms, 1700000000000);
    assert_double_near(p->value, 0.5, 0);
    assert_string_equal(p->origin.source, "metrics");
    assert_int_equal(p->origin.partition, 2);
    assert_int_equal(p->origin.offset, 1234);
    assert_int_equal(p->ts_text_len, 0);
    assert_int_equal(p->value_text_len, 0);

    /* no origin: a file-less, partition-less point */
    p = vg_batch_push(&b, "up", 2, -5, -1.0, NULL);
    assert_null(p->origin.source);
    assert_int_equal(p->origin.partition, -1);
    assert_int_equal(p->origin.offset, 0);
    assert_int_equal(b.n, 2);
    vg_batch_release(&b);
    assert_null(b.points);
    assert_null(b.arena);
    assert_int_equal(b.n, 0);
}

static void growth_keeps_earlier_points(void **state)
{
    (void)state;
    enum { N = 5000 };  /* several doublings of points and of the arena */
    vg_batch b;
    vg_batch_init(&b);
    char key[64];
    for (int i = 0; i < N; i++) {
        int n = snprintf(key, sizeof(key), "series_%d{k=\"%0*d\"}", i, i % 40, i);
        vg_origin o = {"f.csv", -1, i + 1};
        vg_point *p = vg_batch_push(&b, key, (size_t)n, i, i * 0.25, &o);
        assert_non_null(p);
        char ts[16], v[16];
        int tn = snprintf(ts, sizeof(ts), "%d", i);
        int vn = snprintf(v, sizeof(v), "%g", i * 0.25);
        assert_int_equal(vg_batch_set_text(&b, p, ts, (size_t)tn, v, (size_t)vn), 0);
    }
    assert_int_equal(b.n, N);
    for (int i = 0; i < N; i++) {
        const vg_point *p = &b.points[i];
        int n = snprintf(key, sizeof(key), "series_%d{k=\"%0*d\"}", i, i % 40, i);
        assert_int_equal(p->key_len, n);
        assert_string_equal(vg_batch_key(&b, p), key);
        assert_int_equal(p->ts_ms, i);
        assert_int_equal(p->origin.offset, i + 1);
        char ts[16], v[16];
        int tn = snprintf(ts, sizeof(ts), "%d", i);
        int vn = snprintf(v, sizeof(v), "%g", i * 0.25);
        assert_int_equal(p->ts_text_len, tn);
        assert_int_equal(p->value_text_len, vn);
        assert_memory_equal(vg_batch_ts_text(&b, p), ts, (size_t)tn);
        assert_memory_equal(vg_batch_value_text(&b, p), v, (size_t)vn);
    }
    vg_batch_release(&b);
}

static void reset_reuses_memory(void **state)
{
    (void)state;
    vg_batch b;
    vg_batch_init(&b);
    for (int i = 0; i < 300; i++)
        vg_batch_push(&b, "k", 1, i, 0, NULL);
    vg_point *points = b.points;
    char *arena = b.arena;
    size_t cap = b.cap, arena_cap = b.arena_cap;
    vg_batch_reset(&b);
    assert_int_equal(b.n, 0);
    assert_int_equal(b.arena_len, 0);
    for (int i = 0; i < 300; i++)
        vg_batch_push(&b, "k", 1, i, 0, NULL);
    assert_ptr_equal(b.points, points);
    assert_ptr_equal(b.arena, arena);
    assert_int_equal(b.cap, cap);
    assert_int_equal(b.arena_cap, arena_cap);
    vg_batch_release(&b);
}

static void long_text_is_clipped(void **state)
{
    (void)state;
    vg_batch b;
    vg_batch_init(&b);
    size_t big = 70000;
    char *text = malloc(big);
    memset(text, '7', big);
    vg_point *p = vg_batch_push(&b, "k", 1, 0, 7, NULL);
    assert_int_equal(vg_batch_set_text(&b, p, text, big, "7", 1), 0);
    assert_int_equal(p->ts_text_len, UINT16_MAX);
    assert_int_equal(p->value_text_len, 1);
    assert_memory_equal(vg_batch_ts_text(&b, p), text, UINT16_MAX);
    assert_int_equal(vg_batch_value_text(&b, p)[0], '7');
    /* the key, written before, is intact */
    assert_string_equal(vg_batch_key(&b, p), "k");
    free(text);
    vg_batch_release(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(push_copies_key_and_origin),
        cmocka_unit_test(growth_keeps_earlier_points),
        cmocka_unit_test(reset_reuses_memory),
        cmocka_unit_test(long_text_is_clipped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
