/* The progress line: its text, that it stays silent for short runs, redraws
 * at most every VG_PROGRESS_EVERY_MS, erases itself, and does nothing when
 * disabled. The clock is passed in, so nothing here depends on real time. */
#include "tests/unit/helpers.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/progress.h"

static void formats_counts_rates_and_eta(void **state)
{
    (void)state;
    char buf[128];
    vg_progress_format(buf, sizeof(buf), 1234567, 456789.0, 0.42, 65.0);
    assert_string_equal(buf, "1.23M rows, 457k rows/s, 42.0%, ETA 1m05s");
    vg_progress_format(buf, sizeof(buf), 950, 12345.0, 1.0, 0.0);
    assert_string_equal(buf, "950 rows, 12.3k rows/s, 100.0%, ETA 0s");
    vg_progress_format(buf, sizeof(buf), 999600, 2.5e9, 0.001, 7322.0);
    assert_string_equal(buf, "1.00M rows, 2.50G rows/s, 0.1%, ETA 2h02m");
    vg_progress_format(buf, sizeof(buf), 0, 0.0, NAN, -1.0);
    assert_string_equal(buf, "0 rows, 0 rows/s, ?%, ETA ?");
}

/* Everything written to f so far, as a new string. */
static char *contents(FILE *f)
{
    fflush(f);
    long n = ftell(f);
    char *s = calloc(1, (size_t)n + 1);
    assert_non_null(s);
    rewind(f);
    assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
    return s;
}

static void silent_at_first_then_throttled(void **state)
{
    (void)state;
    FILE *f = tmpfile();
    assert_non_null(f);
    vg_progress pg;
    vg_progress_init(&pg, f, "vigil replay", 1000, 10000);
    assert_false(vg_progress_due(&pg, 10000 + VG_PROGRESS_AFTER_MS - 1));
    vg_progress_update(&pg, 11000, 1000, 250);
    vg_progress_end(&pg);            /* nothing shown: nothing to erase */
    char *s = contents(f);
    assert_string_equal(s, "");
    free(s);

    /* 2 s in: 2000 rows, half the bytes: 1000 rows/s, 2 s to go */
    assert_true(vg_progress_due(&pg, 12000));
    vg_progress_update(&pg, 12000, 2000, 500);
    vg_progress_update(&pg, 12000 + VG_PROGRESS_EVERY_MS - 1, 2100, 510);  /* too soon */
    vg_progress_update(&pg, 12000 + VG_PROGRESS_EVERY_MS, 2500, 600);
    vg_progress_end(&pg);
    s = contents(f);
    assert_string_equal(s, "\rvigil replay: 2.00k rows, 1.00k rows/s, 50.0%, ETA 2s\033[K"
                           "\rvigil replay: 2.50k rows, 1.11k rows/s, 60.0%, ETA 2s\033[K"
                           "\r\033[K");
    free(s);
    fclose(f);
}

static void disabled_does_nothing(void **state)
{
    (void)state;
    vg_progress pg;
    vg_progress_init(&pg, NULL, "x", 1000, 0);
    assert_false(vg_progress_due(&pg, 1000000));
    vg_progress_update(&pg, 1000000, 5, 5);
    vg_progress_end(&pg);
    assert_false(pg.shown);
}

static void sums_regular_file_sizes(void **state)
{
    (void)state;
    char *paths[] = {VG_TEST_FIXTURES "/nab_small.csv", "/nonexistent/x.csv", "/dev/null",
                     VG_TEST_FIXTURES "/nab_small.csv"};
    size_t len;
    char *data = vg_test_read_file(paths[0], &len);
    assert_non_null(data);
    free(data);
    assert_int_equal(vg_progress_file_bytes(paths, 4), 2 * len);
    assert_int_equal(vg_progress_file_bytes(paths, 0), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(formats_counts_rates_and_eta),
        cmocka_unit_test(silent_at_first_then_throttled),
        cmocka_unit_test(disabled_does_nothing),
        cmocka_unit_test(sums_regular_file_sizes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
