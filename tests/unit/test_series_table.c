/* Unit tests for the series table (engine/series_table.c). */
#include "tests/unit/helpers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/series_key.h"
#include "engine/series_table.h"

typedef struct block {
    uint64_t hash;     /* from on_init */
    uint32_t id;       /* written by the tests */
    uint32_t inits;
    char     pad[100]; /* an odd size: blocks are rounded up to 64 bytes */
} block;

typedef struct calls {
    int  inits, evicts;
    char last_evicted[64];
    char init_key[64];
} calls;

static void on_init(void *ctx, void *state, const char *key, size_t key_len,
                    uint64_t hash)
{
    calls *c = ctx;
    block *b = state;
    c->inits++;
    snprintf(c->init_key, sizeof(c->init_key), "%.*s", (int)key_len, key);
    b->hash = hash;
    b->inits++;
}

static void on_evict(void *ctx, void *state, const char *key, size_t key_len)
{
    (void)state;
    calls *c = ctx;
    c->evicts++;
    snprintf(c->last_evicted, sizeof(c->last_evicted), "%.*s", (int)key_len, key);
}

static block *get(vg_series_table *t, const char *key, int *created)
{
    return vg_series_table_get(t, key, strlen(key), created);
}

static block *find(vg_series_table *t, const char *key)
{
    return vg_series_table_find(t, key, strlen(key));
}

static void create_and_find(void **state)
{
    (void)state;
    calls c = {0};
    vg_error err;
    vg_series_table *t = vg_series_table_new(sizeof(block), 100, on_init, on_evict, &c, &err);
    assert_non_null(t);
    int created = -1;
    block *b = get(t, "cpu{host=\"a\"}", &created);
    assert_non_null(b);
    assert_int_equal(created, 1);
    assert_int_equal(c.inits, 1);
    assert_string_equal(c.init_key, "cpu{host=\"a\"}");
    assert_int_equal(b->hash, vg_hash64("cpu{host=\"a\"}", 13, 0));
    assert_int_equal(b->inits, 1);
    assert_int_equal((uintptr_t)b % 64, 0);
    b->id = 77;

    assert_ptr_equal(get(t, "cpu{host=\"a\"}", &created), b);
    assert_int_equal(created, 0);
    assert_int_equal(c.inits, 1);
    assert_int_equal(b->id, 77);
    assert_ptr_equal(find(t, "cpu{host=\"a\"}"), b);
    assert_null(find(t, "cpu{host=\"b\"}"));
    assert_null(find(t, "cpu{host=\"a\""));  /* a prefix is another key */

    block *b2 = get(t, "cpu{host=\"b\"}", NULL);
    assert_non_null(b2);
    assert_ptr_not_equal(b2, b);
    assert_int_equal((uintptr_t)b2 % 64, 0);
    assert_int_equal(b2->id, 0);  /* fresh blocks are zeroed */
    assert_int_equal(vg_series_table_count(t), 2);

    size_t len = 0;
    assert_string_equal(vg_series_table_key(t, b, &len), "cpu{host=\"a\"}");
    assert_int_equal(len, 13);
    /* the key was copied: the caller's buffer may change */
    char buf[8] = "mem";
    block *b3 = vg_series_table_get(t, buf, 3, NULL);
    strcpy(buf, "xyz");
    assert_string_equal(vg_series_table_key(t, b3, NULL), "mem");
    assert_ptr_equal(find(t, "mem"), b3);
    assert_int_equal(c.evicts, 0);
    vg_series_table_free(t);
    vg_series_table_free(NULL);
}

static void bad_arguments(void **state)
{
    (void)state;
    vg_error err;
    vg_error_clear(&err);
    assert_null(vg_series_table_new(16, 0, NULL, NULL, NULL, &err));
    assert_int_equal(err.code, VG_EARG);
    assert_null(vg_series_table_new(SIZE_MAX / 2, 1000, NULL, NULL, NULL, &err));
    assert_int_equal(err.code, VG_EARG);
}

/* Keys whose hashes all land on the same home slot of a 32-slot index. */
static int colliding_keys(char keys[][16], int n, uint64_t home)
{
    int found = 0;
    for (int i = 0; found < n; i++) {
        char k[16];
        snprintf(k, sizeof(k), "s%d", i);
        if ((vg_hash64(k, strlen(k), 0) & 31) == home)
            memcpy(keys[found++], k, sizeof(k));
    }
    return found;
}

static void collisions_and_deletion(void **state)
{
    (void)state;
    /* max 16 series: the index stops at 32 slots, so 12 keys with one home
     * slot and 4 with the next make one long probe run. */
    char same[12][16], next[4][16];
    colliding_keys(same, 12, 5);
    colliding_keys(next, 4, 6);
    calls c = {0};
    vg_series_table *t = vg_series_table_new(sizeof(block), 16, NULL, on_evict, &c, NULL);
    assert_non_null(t);
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 12; i++)
            get(t, same[i], NULL)->id = (uint32_t)(100 + i);
        for (int i = 0; i < 4; i++)
            get(t, next[i], NULL)->id = (uint32_t)(200 + i);
        for (int i = 0; i < 12; i++)
            assert_int_equal(find(t, same[i])->id, 100 + i);
        for (int i = 0; i < 4; i++)
            assert_int_equal(find(t, next[i])->id, 200 + i);
        /* evict from the middle of the run, then check everything left */
        char other[16];
        for (int i = 0; i < 6; i++) {
            snprintf(other, sizeof(other), "o%d.%d", round, i);
            get(t, other, NULL)->id = 999;
        }
        for (int i = 0; i < 6; i++)
            assert_null(find(t, same[i]));
        for (int i = 6; i < 12; i++)
            assert_int_equal(find(t, same[i])->id, 100 + i);
        for (int i = 0; i < 4; i++)
            assert_int_equal(find(t, next[i])->id, 200 + i);
        assert_int_equal(vg_series_table_count(t), 16);
    }
    /* round 0 evicts 6; later rounds re-create all 16 (each creation
     * evicts the oldest, which is the next one to come back) and then 6 */
    assert_int_equal(vg_series_table_evicted(t), 6 + 2 * (16 + 6));
    assert_int_equal(c.evicts, 6 + 2 * (16 + 6));
    vg_series_table_free(t);
}

static void many_keys(void **state)
{
    (void)state;
    enum { N = 20000 };
    vg_series_table *t = vg_series_table_new(sizeof(block), N, NULL, NULL, NULL, NULL);
    assert_non_null(t);
    char key[32];
    for (uint32_t i = 0; i < N; i++) {
        snprintf(key, sizeof(key), "m{i=\"%u\"}", i);
        int created = 0;
        block *b = get(t, key, &created);
        assert_int_equal(created, 1);
        b->id = i;
    }
    assert_int_equal(vg_series_table_count(t), N);
    assert_int_equal(vg_series_table_evicted(t), 0);
    for (uint32_t i = 0; i < N; i++) {
        snprintf(key, sizeof(key), "m{i=\"%u\"}", i);
        block *b = find(t, key);
        assert_non_null(b);
        assert_int_equal(b->id, i);
        assert_string_equal(vg_series_table_key(t, b, NULL), key);
    }
    vg_series_table_free(t);
}

static void eviction_is_lru(void **state)
{
    (void)state;
    calls c = {0};
    vg_series_table *t = vg_series_table_new(sizeof(block), 4, on_init, on_evict, &c, NULL);
    assert_non_null(t);
    block *a = get(t, "a", NULL);
    get(t, "b", NULL);
    get(t, "c", NULL);
    get(t, "d", NULL);
    assert_int_equal(c.evicts, 0);
    get(t, "a", NULL);          /* a is now the most recent: b is the oldest */
    block *e = get(t, "e", NULL);
    assert_int_equal(c.evicts, 1);
    assert_string_equal(c.last_evicted, "b");
    assert_null(find(t, "b"));
    assert_ptr_equal(find(t, "a"), a);
    assert_int_equal(e->inits, 1);  /* the reused block was zeroed, then initialised */
    find(t, "c");               /* find does not count as seen */
    vg_series_table_insert_raw(t, "d", 1);  /* insert_raw of an existing key does */
    get(t, "f", NULL);
    assert_string_equal(c.last_evicted, "c");
    get(t, "g", NULL);
    assert_string_equal(c.last_evicted, "a");
    get(t, "h", NULL);
    assert_string_equal(c.last_evicted, "e");
    get(t, "i", NULL);
    assert_string_equal(c.last_evicted, "d");
    assert_int_equal(vg_series_table_evicted(t), 5);
    assert_int_equal(c.evicts, 5);
    assert_int_equal(vg_series_table_count(t), 4);
    vg_series_table_free(t);
}

typedef struct order {
    char keys[64][16];
    int  n;
} order;

static void record(void *ctx, void *state, const char *key, size_t key_len)
{
    order *o = ctx;
    (void)state;
    snprintf(o->keys[o->n++], sizeof(o->keys[0]), "%.*s", (int)key_len, key);
}

static void foreach_least_recent_first(void **state)
{
    (void)state;
    vg_series_table *t = vg_series_table_new(8, 8, NULL, NULL, NULL, NULL);
    const char *keys[] = {"p", "q", "r", "s"};
    for (int i = 0; i < 4; i++)
        get(t, keys[i], NULL);
    get(t, "q", NULL);
    get(t, "p", NULL);
    order o = {0};
    vg_series_table_foreach(t, record, &o);
    assert_int_equal(o.n, 4);
    assert_string_equal(o.keys[0], "r");
    assert_string_equal(o.keys[1], "s");
    assert_string_equal(o.keys[2], "q");
    assert_string_equal(o.keys[3], "p");

    vg_series_table_clear(t);
    assert_int_equal(vg_series_table_count(t), 0);
    assert_null(find(t, "p"));
    o.n = 0;
    vg_series_table_foreach(t, record, &o);
    assert_int_equal(o.n, 0);
    int created = 0;
    get(t, "p", &created);
    assert_int_equal(created, 1);
    vg_series_table_free(t);
}

static void insert_raw_skips_init(void **state)
{
    (void)state;
    calls c = {0};
    vg_series_table *t = vg_series_table_new(sizeof(block), 4, on_init, on_evict, &c, NULL);
    block *b = vg_series_table_insert_raw(t, "saved", 5);
    assert_non_null(b);
    assert_int_equal(c.inits, 0);
    assert_int_equal(b->inits, 0);
    b->id = 5;
    assert_ptr_equal(vg_series_table_insert_raw(t, "saved", 5), b);
    assert_int_equal(b->id, 5);
    int created = 1;
    assert_ptr_equal(get(t, "saved", &created), b);
    assert_int_equal(created, 0);
    assert_int_equal(c.inits, 0);
    vg_series_table_free(t);
}

static void bytes_bounded_by_cap(void **state)
{
    (void)state;
    enum { CAP = 1000 };
    vg_series_table *t = vg_series_table_new(sizeof(block), CAP, NULL, NULL, NULL, NULL);
    size_t empty = vg_series_table_bytes(t);
    char key[32];
    size_t at_half = 0, at_cap = 0;
    for (int i = 0; i < 20 * CAP; i++) {
        snprintf(key, sizeof(key), "k%08d", i);  /* same length for all */
        assert_non_null(get(t, key, NULL));
        if (i + 1 == CAP / 2)
            at_half = vg_series_table_bytes(t);
        if (i + 1 == CAP)
            at_cap = vg_series_table_bytes(t);
    }
    assert_true(empty < at_half && at_half < at_cap);
    /* 19 * CAP more series came and went: not one more byte */
    assert_int_equal(vg_series_table_bytes(t), at_cap);
    assert_int_equal(vg_series_table_evicted(t), 19 * CAP);
    /* slab (128 per block) + index (2048 slots of 16) + entries + keys */
    assert_true(at_cap >= CAP * 128 + 2048 * 16);
    assert_true(at_cap <= CAP * 128 + 2048 * 16 + CAP * (40 + 16) + 4096);
    vg_series_table_free(t);
}

/* The reference: an array of live keys, the least recently seen first. */
typedef struct model {
    int keys[64];
    int n;
} model;

static int model_pos(const model *m, int k)
{
    for (int i = 0; i < m->n; i++)
        if (m->keys[i] == k)
            return i;
    return -1;
}

static void model_remove_at(model *m, int i)
{
    memmove(&m->keys[i], &m->keys[i + 1], (size_t)(m->n - i - 1) * sizeof(int));
    m->n--;
}

static void matches_reference_model(void **state)
{
    (void)state;
    enum { CAP = 40, KEYS = 120, STEPS = 200000 };
    calls c = {0};
    vg_series_table *t = vg_series_table_new(sizeof(block), CAP, on_init, on_evict, &c, NULL);
    model m = {.n = 0};
    uint64_t seed = 2024;
    uint64_t evicted = 0;
    char key[16];
    for (int step = 0; step < STEPS; step++) {
        /* skewed: low keys are hot, so the live set keeps changing */
        double u = vg_test_uniform(&seed);
        int k = (int)(u * u * KEYS);
        snprintf(key, sizeof(key), "key%d", k);
        int op = (int)(vg_test_rand(&seed) % 100);
        int pos = model_pos(&m, k);
        if (op < 70) {
            int created = -1, before = c.evicts;
            block *b = get(t, key, &created);
            assert_non_null(b);
            assert_int_equal(created, pos < 0);
            if (pos >= 0) {
                assert_int_equal(b->id, k);
                model_remove_at(&m, pos);
            } else {
                if (m.n == CAP) {
                    char want[16];
                    snprintf(want, sizeof(want), "key%d", m.keys[0]);
                    assert_int_equal(c.evicts, before + 1);
                    assert_string_equal(c.last_evicted, want);
                    model_remove_at(&m, 0);
                    evicted++;
                }
                b->id = (uint32_t)k;
            }
            m.keys[m.n++] = k;
        } else if (op < 80) {
            /* remove: the last entry's block moves into the hole, so every
             * live series must still find its own block afterwards */
            int rc = vg_series_table_remove(t, key, strlen(key));
            assert_int_equal(rc, pos < 0 ? VG_ENOTFOUND : VG_OK);
            if (pos >= 0)
                model_remove_at(&m, pos);
            for (int i = 0; i < m.n; i++) {
                char live[16];
                snprintf(live, sizeof(live), "key%d", m.keys[i]);
                block *b = find(t, live);
                assert_non_null(b);
                assert_int_equal(b->id, m.keys[i]);
            }
        } else if (op < 99) {
            block *b = find(t, key);
            if (pos < 0) {
                assert_null(b);
            } else {
                assert_non_null(b);
                assert_int_equal(b->id, k);
            }
        } else if (op == 99 && vg_test_rand(&seed) % 50 == 0) {
            vg_series_table_clear(t);
            m.n = 0;
        }
        assert_int_equal(vg_series_table_count(t), m.n);
        assert_int_equal(vg_series_table_evicted(t), evicted);
        if (step % 1000 == 0) {
            order o = {.n = 0};
            vg_series_table_foreach(t, record, &o);
            assert_int_equal(o.n, m.n);
            for (int i = 0; i < m.n; i++) {
                snprintf(key, sizeof(key), "key%d", m.keys[i]);
                assert_string_equal(o.keys[i], key);
            }
        }
    }
    vg_series_table_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(create_and_find),
        cmocka_unit_test(bad_arguments),
        cmocka_unit_test(collisions_and_deletion),
        cmocka_unit_test(many_keys),
        cmocka_unit_test(eviction_is_lru),
        cmocka_unit_test(foreach_least_recent_first),
        cmocka_unit_test(insert_raw_skips_init),
        cmocka_unit_test(bytes_bounded_by_cap),
        cmocka_unit_test(matches_reference_model),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
