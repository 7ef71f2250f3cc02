/* UTF-8 validation: what every parser's key check and the metric labels
 * accept and refuse. */
#include <string.h>

#include "core/utf8.h"
#include "tests/unit/helpers.h"

static int ok(const char *s)
{
    return vg_utf8_valid(s, strlen(s));
}

static void accepts_utf8(void **state)
{
    (void)state;
    assert_true(ok(""));
    assert_true(ok("cpu{host=\"a\"}"));
    assert_true(ok("temp{room=\"K\xc3\xbc" "che\"}"));        /* ü */
    assert_true(ok("\xe2\x82\xac \xf0\x9f\x94\xa5 \xf4\x8f\xbf\xbf")); /* €, emoji, U+10FFFF */
}

static void refuses_the_rest(void **state)
{
    (void)state;
    assert_false(ok("\xff"));                 /* never valid */
    assert_false(ok("a\x80"));                /* stray continuation */
    assert_false(ok("\xc3"));                 /* cut short at the end */
    assert_false(ok("\xc3\x28"));             /* bad continuation */
    assert_false(ok("\xc0\xaf"));             /* overlong '/' */
    assert_false(ok("\xe0\x80\xaf"));         /* overlong, 3 bytes */
    assert_false(ok("\xed\xa0\x80"));         /* surrogate U+D800 */
    assert_false(ok("\xf4\x90\x80\x80"));     /* above U+10FFFF */
    /* The length bounds the check: a cut multibyte character is refused. */
    assert_false(vg_utf8_valid("\xe2\x82\xac", 2));
    assert_true(vg_utf8_valid("\xe2\x82\xac\xff", 3));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(accepts_utf8),
        cmocka_unit_test(refuses_the_rest),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
