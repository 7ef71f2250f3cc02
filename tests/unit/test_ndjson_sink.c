/* Unit tests for the NDJSON event log (streams/ndjson_sink.c): a torn last
 * line (a crash mid-write) is cut off on open and counted, the file is never
 * written through a symlink, and the bytes counted are the bytes on disk. */
#include "tests/unit/helpers.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/metrics.h"
#include "core/vigil_metrics.h"
#include "streams/stream.h"

extern const vg_sink_ops vg_ndjson_sink_ops;

static char dir[] = "/tmp/vg_ndjson_XXXXXX";
static char path[300];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/vg_ndjson_XXXXXX");
    if (mkdtemp(dir) == NULL)
        return -1;
    snprintf(path, sizeof(path), "%s/events.ndjson", dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[400];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd);
}

static void *open_log(vg_error *err)
{
    char text[512];
    snprintf(text, sizeof(text), "{\"type\": \"ndjson\", \"path\": \"%s\"}", path);
    json_t *cfg = json_loads(text, 0, NULL);
    assert_non_null(cfg);
    void *s = vg_ndjson_sink_ops.open(NULL, cfg, err);
    json_decref(cfg);
    return s;
}

static void emit_one(void *s, int i)
{
    vg_event ev;
    memset(&ev, 0, sizeof(ev));
    ev.state = VG_ALERT_FIRING;
    ev.series = "cpu{host=\"a\"}";
    ev.series_len = strlen(ev.series);
    ev.start_ms = ev.ts_ms = 1700000000000LL + i * 1000;
    ev.expected = ev.lower = ev.upper = NAN;
    ev.score = ev.peak = 0.9999;
    vg_event_make_id(&ev);
    assert_int_equal(vg_ndjson_sink_ops.emit(s, &ev), VG_OK);
}

static uint64_t metric(const char *name)
{
    size_t len;
    char *text = vg_metrics_render(vg_metric_registry(), &len, NULL);
    assert_non_null(text);
    char sample[128];  /* the sample line, not the HELP and TYPE lines */
    snprintf(sample, sizeof(sample), "\n%s ", name);
    const char *at = strstr(text, sample);
    assert_non_null(at);
    uint64_t v = strtoull(at + strlen(sample), NULL, 10);
    free(text);
    return v;
}

static void torn_last_line_is_cut_and_counted(void **state)
{
    (void)state;
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("{\"whole\": 1}\n{\"torn\": ", f);
    fclose(f);
    uint64_t torn0 = metric("vigil_event_log_torn_lines_total");
    vg_error err;
    void *s = open_log(&err);
    assert_non_null(s);
    assert_int_equal(metric("vigil_event_log_torn_lines_total"), torn0 + 1);
    emit_one(s, 1);
    assert_int_equal(vg_ndjson_sink_ops.flush(s, 1000), VG_OK);
    vg_ndjson_sink_ops.close(s);
    size_t len;
    char *text = vg_test_read_file(path, &len);
    assert_non_null(text);
    assert_int_equal(strncmp(text, "{\"whole\": 1}\n{", 14), 0);
    assert_null(strstr(text, "torn"));  /* cut off, nothing glued to it */
    assert_int_equal(text[len - 1], '\n');
    free(text);
}

static void symlink_is_refused(void **state)
{
    (void)state;
    char victim[320];
    snprintf(victim, sizeof(victim), "%s/victim", dir);
    FILE *f = fopen(victim, "w");
    assert_non_null(f);
    fclose(f);
    assert_int_equal(symlink(victim, path), 0);
    vg_error err;
    assert_null(open_log(&err));
    assert_int_equal(err.code, VG_EIO);
}

static void bytes_counted_are_bytes_written(void **state)
{
    (void)state;
    uint64_t bytes0 = metric("vigil_event_log_written_bytes_total");
    vg_error err;
    void *s = open_log(&err);
    assert_non_null(s);
    for (int i = 0; i < 50; i++)
        emit_one(s, i);
    /* Buffered lines are not counted until they are written. */
    assert_int_equal(metric("vigil_event_log_written_bytes_total"), bytes0);
    assert_int_equal(vg_ndjson_sink_ops.flush(s, 1000), VG_OK);
    vg_ndjson_sink_ops.close(s);
    size_t len;
    char *text = vg_test_read_file(path, &len);
    assert_non_null(text);
    free(text);
    assert_int_equal(metric("vigil_event_log_written_bytes_total"), bytes0 + len);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(torn_last_line_is_cut_and_counted, setup, teardown),
        cmocka_unit_test_setup_teardown(symlink_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(bytes_counted_are_bytes_written, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
