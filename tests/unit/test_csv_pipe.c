/* The CSV source on a pipe (streams/csv_file.c): it streams, holding a
 * window of about twice max_line, instead of reading the whole input first.
 * The writer keeps the pipe open while the source already yields points;
 * quoted rows (a comma inside quotes) come out whole across refills. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "streams/csv.h"
#include "tests/unit/helpers.h"

#define ROWS 1000
#define MAX_LINE 64

/* Points of one poll; counts the quoted series' points. */
static int poll_count(vg_source *src, vg_batch *b, size_t *quoted)
{
    vg_batch_reset(b);
    int n = vg_source_poll(src, b, 0);
    for (size_t i = 0; i < b->n; i++) {
        const vg_point *pt = &b->points[i];
        *quoted += pt->key_len == 3 && memcmp(vg_batch_key(b, pt), "s,1", 3) == 0;
    }
    return n;
}

static void pipe_streams_in_a_window(void **state)
{
    (void)state;
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    FILE *w = fdopen(fds[1], "w");
    assert_non_null(w);
    size_t len = (size_t)fprintf(w, "timestamp,series,value\n");
    for (int i = 0; i < ROWS; i++)  /* every 7th row quoted */
        len += (size_t)fprintf(w, i % 7 ? "%d,s0,%d\n" : "%d,\"s,1\",%d\n", 1400000000 + i, i);
    assert_true(len < 60000);  /* fits the pipe: the writer never blocks */
    fflush(w);

    char path[32];
    snprintf(path, sizeof(path), "/dev/fd/%d", fds[0]);
    vg_csv_options opt = {.batch_points = 2, .max_line = MAX_LINE};
    vg_error err = {0};
    alarm(20);  /* buffering the whole input would wait for the writer forever */
    vg_source *src = vg_csv_source_open(path, &opt, &err);
    assert_non_null(src);
    vg_batch b;
    vg_batch_init(&b);
    size_t points = 0, quoted = 0;
    uint64_t done, size;
    /* The writer is still open: stop while whole rows are left ahead. */
    while (points < ROWS - 10) {
        int n = poll_count(src, &b, &quoted);
        assert_true(n > 0);
        points += (size_t)n;
        assert_int_equal(vg_csv_source_position(src, &done, &size), 0);
        assert_true(size - done <= 2 * (MAX_LINE + 1));  /* the window, not the input */
    }
    fclose(w);  /* the input ends */
    int n;
    while ((n = poll_count(src, &b, &quoted)) > 0)
        points += (size_t)n;
    alarm(0);
    assert_int_equal(n, VG_EEOF);
    assert_int_equal(points, ROWS);
    assert_int_equal(quoted, (ROWS + 6) / 7);
    vg_csv_source_position(src, &done, &size);
    assert_int_equal(done, len);
    assert_int_equal(size, len);
    vg_batch_release(&b);
    vg_source_close(src);
    close(fds[0]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pipe_streams_in_a_window),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
