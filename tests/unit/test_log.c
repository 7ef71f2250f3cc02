/* Logging: JSON lines (escaped) or text, levels, and the rate limit that
 * holds back repeats and says how many it held. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "tests/unit/helpers.h"

/* Runs fn with stderr sent to a temporary file; returns what it wrote. */
static char *capture(void (*fn)(void))
{
    char path[] = "/tmp/vigil-test-log-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    dup2(fd, STDERR_FILENO);
    fn();
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    close(fd);
    char *text = vg_test_read_file(path, NULL);
    unlink(path);
    assert_non_null(text);
    return text;
}

static void json_lines(void)
{
    vg_log_set_format(VG_LOG_JSON);
    vg_log_set_level(VG_LOG_INFO);
    vg_info("series \"%s\" at %s", "cpu{host=\"a\"}", "x\ty");
    vg_debug("not shown");
}

static void writes_escaped_json(void **state)
{
    (void)state;
    char *out = capture(json_lines);
    assert_non_null(strstr(out, "\"level\":\"info\""));
    assert_non_null(strstr(out, "\"msg\":\"series \\\"cpu{host=\\\"a\\\"}\\\" at x\\u0009y\"}"));
    assert_non_null(strstr(out, "{\"ts\":\""));
    assert_null(strstr(out, "not shown"));
    assert_int_equal(strchr(out, '\n') - out + 1, (long)strlen(out));  /* one line */
    free(out);
}

static void text_line(void)
{
    vg_log_set_format(VG_LOG_TEXT);
    vg_log_set_level(VG_LOG_WARN);
    vg_info("quiet");
    vg_warn("loud %d", 7);
}

static void writes_text_and_filters_levels(void **state)
{
    (void)state;
    char *out = capture(text_line);
    assert_null(strstr(out, "quiet"));
    assert_non_null(strstr(out, "warn  loud 7\n"));
    free(out);
}

static void limited(void)
{
    vg_log_set_format(VG_LOG_TEXT);
    vg_log_set_level(VG_LOG_INFO);
    vg_ratelimit rl = {.interval_ms = 3600 * 1000};
    for (int i = 0; i < 5; i++)
        vg_log_limited(&rl, VG_LOG_WARN, "bad row %d", i);
    rl.next_ms = 0;  /* the interval has passed */
    vg_log_limited(&rl, VG_LOG_WARN, "bad row %d", 5);
}

static void rate_limit_counts_what_it_holds_back(void **state)
{
    (void)state;
    char *out = capture(limited);
    assert_non_null(strstr(out, "bad row 0\n"));
    for (int i = 1; i < 5; i++) {
        char line[32];
        snprintf(line, sizeof(line), "bad row %d", i);
        assert_null(strstr(out, line));
    }
    assert_non_null(strstr(out, "bad row 5 (4 similar suppressed)\n"));
    free(out);
}

static void parses_level_names(void **state)
{
    (void)state;
    assert_int_equal(vg_log_level_parse("debug"), VG_LOG_DEBUG);
    assert_int_equal(vg_log_level_parse("WARN"), VG_LOG_WARN);
    assert_int_equal(vg_log_level_parse("off"), VG_LOG_OFF);
    assert_int_equal(vg_log_level_parse("loud"), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(writes_escaped_json),
        cmocka_unit_test(writes_text_and_filters_levels),
        cmocka_unit_test(rate_limit_counts_what_it_holds_back),
        cmocka_unit_test(parses_level_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
