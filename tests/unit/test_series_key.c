/* Unit tests for canonical series keys and the key hash (core/series_key.c). */
#include "tests/unit/helpers.h"

#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "core/series_key.h"

#define L(n, v) {n, sizeof(n) - 1, v, sizeof(v) - 1}

static int build(char *out, size_t cap, const char *name, const vg_label *l, size_t n)
{
    return vg_series_key_build(out, cap, name, strlen(name), l, n);
}

static void canonical_order_and_escapes(void **state)
{
    (void)state;
    char out[256];
    const vg_label l[] = {L("host", "a"), L("cpu", "0"), L("az", "x")};
    int n = build(out, sizeof(out), "cpu_user", l, 3);
    assert_string_equal(out, "cpu_user{az=\"x\",cpu=\"0\",host=\"a\"}");
    assert_int_equal(n, (int)strlen(out));

    /* every order of the same labels gives the same bytes */
    static const int perms[6][3] = {{0, 1, 2}, {0, 2, 1}, {1, 0, 2},
                                    {1, 2, 0}, {2, 0, 1}, {2, 1, 0}};
    for (int p = 0; p < 6; p++) {
        vg_label q[3] = {l[perms[p][0]], l[perms[p][1]], l[perms[p][2]]};
        char again[256];
        build(again, sizeof(again), "cpu_user", q, 3);
        assert_string_equal(again, out);
    }
    /* a name that is a prefix of another sorts first */
    const vg_label pre[] = {L("ab", "2"), L("a", "1")};
    build(out, sizeof(out), "m", pre, 2);
    assert_string_equal(out, "m{a=\"1\",ab=\"2\"}");
    /* escapes as in Prometheus; empty values are left out */
    const vg_label esc[] = {L("path", "C:\\x \"q\"\nz"), L("empty", "")};
    build(out, sizeof(out), "m", esc, 2);
    assert_string_equal(out, "m{path=\"C:\\\\x \\\"q\\\"\\nz\"}");
    /* no labels, or only empty ones: the bare name */
    assert_int_equal(build(out, sizeof(out), "up", NULL, 0), 2);
    assert_string_equal(out, "up");
    assert_int_equal(build(out, sizeof(out), "up", &esc[1], 1), 2);
    assert_string_equal(out, "up");
}

static void build_errors(void **state)
{
    (void)state;
    char out[64];
    const vg_label l[] = {L("a", "1")};
    assert_int_equal(vg_series_key_build(out, sizeof(out), "", 0, l, 1), VG_EPARSE);
    vg_label many[VG_MAX_LABELS + 1];
    for (int i = 0; i <= VG_MAX_LABELS; i++)
        many[i] = l[0];
    assert_int_equal(build(out, sizeof(out), "m", many, VG_MAX_LABELS + 1), VG_ERANGE);
    /* "m{a=\"1\"}" is 8 bytes: it needs 9 with the NUL */
    assert_int_equal(build(out, 9, "m", l, 1), 8);
    assert_string_equal(out, "m{a=\"1\"}");
    assert_int_equal(build(out, 8, "m", l, 1), VG_ERANGE);
    assert_int_equal(build(out, 0, "m", l, 1), VG_ERANGE);
}

static void split_round_trip(void **state)
{
    (void)state;
    const vg_label in[] = {L("zone", "eu,west}"), L("path", "a\\b\"c\nd"), L("host", "h")};
    char key[256], scratch[64];
    int n = build(key, sizeof(key), "http_requests", in, 3);
    assert_true(n > 0);
    vg_label out[8];
    size_t name_len = 0;
    assert_int_equal(vg_series_key_split(key, (size_t)n, &name_len, out, 8, scratch,
                                         sizeof(scratch)), 3);
    assert_int_equal(name_len, strlen("http_requests"));
    /* sorted: host, path, zone */
    const vg_label *want[] = {&in[2], &in[1], &in[0]};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(out[i].name_len, want[i]->name_len);
        assert_memory_equal(out[i].name, want[i]->name, out[i].name_len);
        assert_int_equal(out[i].value_len, want[i]->value_len);
        assert_memory_equal(out[i].value, want[i]->value, out[i].value_len);
    }
    /* building from the split labels gives the key back */
    char again[256];
    assert_int_equal(vg_series_key_build(again, sizeof(again), key, name_len, out, 3), n);
    assert_string_equal(again, key);
}

static void split_bare_and_errors(void **state)
{
    (void)state;
    vg_label out[2];
    char scratch[16];
    size_t name_len = 99;
    assert_int_equal(vg_series_key_split("up", 2, &name_len, out, 2, scratch, 16), 0);
    assert_int_equal(name_len, 2);
    assert_int_equal(vg_series_key_split("", 0, &name_len, out, 2, scratch, 16), VG_EPARSE);

    static const char *const bad[] = {
        "{a=\"1\"}", "m{a=1}", "m{a=\"1\"", "m{=\"1\"}", "m{a=\"1\"x}", "m{a}", "m{a=\"1\\",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int rc = vg_series_key_split(bad[i], strlen(bad[i]), &name_len, out, 2, scratch, 16);
        if (rc != VG_EPARSE)
            fail_msg("split(%s) = %d, want VG_EPARSE", bad[i], rc);
    }
    const char *three = "m{a=\"1\",b=\"2\",c=\"3\"}";
    assert_int_equal(vg_series_key_split(three, strlen(three), &name_len, out, 2, scratch, 16),
                     VG_ERANGE);
    const char *longv = "m{a=\"0123456789abcdefgh\"}";
    assert_int_equal(vg_series_key_split(longv, strlen(longv), &name_len, out, 2, scratch, 16),
                     VG_ERANGE);
}

static void hash_values(void **state)
{
    (void)state;
    /* reference values computed independently (FNV-1a 64 + murmur3 fmix64) */
    assert_true(vg_hash64("", 0, 0) == 0xefd01f60ba992926ULL);
    const char *k = "cpu_user{cpu=\"0\",host=\"a\"}";
    assert_true(vg_hash64(k, strlen(k), 0) == 0x54bd16db077d46aeULL);
    assert_true(vg_hash64("a", 1, 1) == 0x86ede49b2924d824ULL);
    assert_true(vg_hash64("a", 1, 0) != vg_hash64("a", 1, 1));
    assert_true(vg_hash64("ab", 2, 0) != vg_hash64("ba", 2, 0));
}

static void hash_low_bits_spread(void **state)
{
    (void)state;
    /* sequential keys must spread over a power-of-two table's low bits */
    enum { KEYS = 65536, BUCKETS = 1024 };
    static int count[BUCKETS];
    char key[32];
    for (int i = 0; i < KEYS; i++) {
        int n = snprintf(key, sizeof(key), "m{i=\"%d\"}", i);
        count[vg_hash64(key, (size_t)n, 0) & (BUCKETS - 1)]++;
    }
    int lo = KEYS, hi = 0;
    for (int b = 0; b < BUCKETS; b++) {
        lo = count[b] < lo ? count[b] : lo;
        hi = count[b] > hi ? count[b] : hi;
    }
    /* mean 64, sd 8: a fair hash stays well within 64 +- 40 */
    assert_true(lo > 24);
    assert_true(hi < 104);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(canonical_order_and_escapes),
        cmocka_unit_test(build_errors),
        cmocka_unit_test(split_round_trip),
        cmocka_unit_test(split_bare_and_errors),
        cmocka_unit_test(hash_values),
        cmocka_unit_test(hash_low_bits_spread),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
