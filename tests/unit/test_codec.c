/* Unit tests for the little-endian writer and bounds-checked reader
 * (core/codec.c). */
#include "tests/unit/helpers.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "core/codec.h"

/* The allocation-failure test asks for an impossible buffer: under ASan
 * that must be a NULL return, not a report. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "allocator_may_return_null=1";
}

static void layout_is_little_endian(void **state)
{
    (void)state;
    vg_writer out;
    vg_writer_init(&out);
    assert_int_equal(vg_writer_u8(&out, 0xAB), 0);
    assert_int_equal(vg_writer_u32(&out, 0x01020304u), 0);
    assert_int_equal(vg_writer_u64(&out, 0x1122334455667788ull), 0);
    assert_int_equal(vg_writer_i64(&out, -2), 0);
    assert_int_equal(vg_writer_f64(&out, 1.0), 0);
    static const uint8_t want[] = {
        0xAB, 0x04, 0x03, 0x02, 0x01, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11,
        0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xF0, 0x3F,
    };
    assert_int_equal(out.len, sizeof(want));
    assert_memory_equal(out.buf, want, sizeof(want));
    vg_writer_release(&out);
    assert_null(out.buf);
    assert_int_equal(out.len, 0);
}

static void round_trip(void **state)
{
    (void)state;
    vg_writer out;
    vg_writer_init(&out);
    const double specials[] = {0.0, -0.0, NAN, INFINITY, -INFINITY, 5e-324, 0.1,
                               1.7976931348623157e308};
    vg_writer_u8(&out, 7);
    vg_writer_u32(&out, UINT32_MAX);
    vg_writer_u64(&out, UINT64_MAX - 1);
    vg_writer_i64(&out, INT64_MIN);
    vg_writer_put(&out, "abc", 3);
    vg_writer_put(&out, NULL, 0);
    assert_int_equal(vg_writer_f64s(&out, specials, 8), 0);
    /* a big write makes the buffer grow several times */
    static double big[10000];
    for (int i = 0; i < 10000; i++)
        big[i] = i * 0.5;
    assert_int_equal(vg_writer_f64s(&out, big, 10000), 0);
    assert_int_equal(out.len, 1 + 4 + 8 + 8 + 3 + 64 + 80000);

    vg_reader in;
    vg_reader_init(&in, out.buf, out.len);
    uint8_t u8;
    uint32_t u32;
    uint64_t u64;
    int64_t i64;
    char abc[3];
    double d[8];
    static double big_back[10000];
    assert_int_equal(vg_reader_u8(&in, &u8), 0);
    assert_int_equal(vg_reader_u32(&in, &u32), 0);
    assert_int_equal(vg_reader_u64(&in, &u64), 0);
    assert_int_equal(vg_reader_i64(&in, &i64), 0);
    assert_int_equal(vg_reader_get(&in, abc, 3), 0);
    assert_int_equal(vg_reader_f64s(&in, d, 8), 0);
    assert_int_equal(vg_reader_left(&in), 80000);
    assert_int_equal(vg_reader_f64s(&in, big_back, 10000), 0);
    assert_int_equal(vg_reader_left(&in), 0);
    assert_int_equal(u8, 7);
    assert_int_equal(u32, UINT32_MAX);
    assert_true(u64 == UINT64_MAX - 1);
    assert_true(i64 == INT64_MIN);
    assert_memory_equal(abc, "abc", 3);
    /* bit for bit, NaN and the sign of zero included */
    assert_memory_equal(d, specials, sizeof(specials));
    assert_memory_equal(big_back, big, sizeof(big));
    vg_writer_release(&out);
}

static void short_input_is_sticky(void **state)
{
    (void)state;
    const uint8_t bytes[] = {1, 0, 0, 0, 9};
    vg_reader in;
    vg_reader_init(&in, bytes, sizeof(bytes));
    uint32_t u32;
    uint64_t u64 = 123;
    uint8_t u8 = 5;
    assert_int_equal(vg_reader_u32(&in, &u32), 0);
    assert_int_equal(u32, 1);
    assert_int_equal(vg_reader_u64(&in, &u64), VG_EPARSE);
    assert_true(u64 == 0);  /* a failed get yields zero, not garbage */
    assert_int_equal(in.failed, 1);
    /* one byte is left, but a reader that failed stays failed */
    assert_int_equal(vg_reader_u8(&in, &u8), VG_EPARSE);
    assert_int_equal(u8, 0);
    double d[2] = {1, 1};
    assert_int_equal(vg_reader_f64s(&in, d, 2), VG_EPARSE);
    assert_double_near(d[0], 0.0, 0.0);

    /* an empty reader */
    vg_reader_init(&in, NULL, 0);
    assert_int_equal(vg_reader_left(&in), 0);
    assert_int_equal(vg_reader_u8(&in, &u8), VG_EPARSE);
}

static void reset_keeps_memory(void **state)
{
    (void)state;
    vg_writer out;
    vg_writer_init(&out);
    vg_writer_u64(&out, 1);
    uint8_t *buf = out.buf;
    size_t cap = out.cap;
    vg_writer_reset(&out);
    assert_int_equal(out.len, 0);
    assert_ptr_equal(out.buf, buf);
    assert_int_equal(out.cap, cap);
    vg_writer_u8(&out, 2);
    assert_int_equal(out.len, 1);
    assert_int_equal(out.buf[0], 2);
    vg_writer_release(&out);
}

static void allocation_failure_is_sticky(void **state)
{
    (void)state;
    vg_writer out;
    vg_writer_init(&out);
    assert_int_equal(vg_writer_u8(&out, 1), 0);
    static const uint8_t byte = 0;
    assert_int_equal(vg_writer_put(&out, &byte, SIZE_MAX / 4), VG_ENOMEM);
    assert_int_equal(out.failed, 1);
    assert_int_equal(out.len, 1);
    assert_int_equal(vg_writer_u8(&out, 2), VG_ENOMEM);
    assert_int_equal(vg_writer_f64s(&out, (const double[]){1.0}, 1), VG_ENOMEM);
    assert_int_equal(out.len, 1);
    vg_writer_reset(&out);
    assert_int_equal(vg_writer_u8(&out, 3), 0);
    vg_writer_release(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(layout_is_little_endian),
        cmocka_unit_test(round_trip),
        cmocka_unit_test(short_input_is_sticky),
        cmocka_unit_test(reset_keeps_memory),
        cmocka_unit_test(allocation_failure_is_sticky),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
