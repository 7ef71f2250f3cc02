/* SipHash-1-3: known answers (CPython 3.11's bytes hash, which is
 * SipHash-1-3 under a zero key with PYTHONHASHSEED=0), key sensitivity, and
 * random keys that differ between calls. */
#include <string.h>

#include "core/siphash.h"
#include "tests/unit/helpers.h"

static void matches_known_answers(void **state)
{
    (void)state;
    static const struct {
        const char *msg;
        uint64_t    hash;
    } cases[] = {
        {"a", 0x407448d2b89b1813ULL},
        {"abcdefgh", 0x3f7b849c0b8e35eaULL},
        {"cpu{host=\"a\"}", 0x200b4da07c1c9c44ULL},
        {"0123456789abcdefXYZ", 0x283e7687cd67183bULL},
    };
    vg_sipkey zero = {0, 0};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        assert_int_equal(vg_siphash(cases[i].msg, strlen(cases[i].msg), zero), cases[i].hash);
}

static void the_key_changes_every_hash(void **state)
{
    (void)state;
    vg_sipkey a = vg_sipkey_random(), b = vg_sipkey_random();
    assert_true(a.k0 != b.k0 || a.k1 != b.k1);
    const char *key = "cpu_user{host=\"h1\"}";
    assert_int_equal(vg_siphash(key, strlen(key), a), vg_siphash(key, strlen(key), a));
    assert_int_not_equal(vg_siphash(key, strlen(key), a), vg_siphash(key, strlen(key), b));
    vg_sipkey c = a;
    c.k1 ^= 1;  /* one bit of key */
    assert_int_not_equal(vg_siphash(key, strlen(key), a), vg_siphash(key, strlen(key), c));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(matches_known_answers),
        cmocka_unit_test(the_key_changes_every_hash),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
