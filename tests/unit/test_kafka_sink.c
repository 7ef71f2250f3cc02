/* The Kafka alert sink against the embedded broker over TCP: events read
 * back by an independent librdkafka consumer (values are vg_event_encode's
 * JSON, keys the series), flush semantics, and recovery from a broker that
 * goes down and from request errors, without losing or doubling events. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/event.h"
#include "streams/broker.h"
#include "streams/stream.h"
#include "tests/unit/kafka_testutil.h"

extern const vg_sink_ops vg_kafka_sink_ops;

/* The mock cluster takes Kafka protocol API keys; Produce is 0. */
#define API_PRODUCE 0

#define TOPIC "alerts"
#define PARTS 3

typedef struct fixture {
    vg_broker *bk;
    char       series[8][64];
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    vg_broker_topic topics[] = {{TOPIC, PARTS}};
    vg_broker_options opt = {.topics = topics, .n_topics = 1};
    f->bk = vg_broker_start(&opt, NULL);
    assert_non_null(f->bk);
    for (int i = 0; i < 8; i++)
        snprintf(f->series[i], sizeof(f->series[i]), "cpu_user{host=\"h%d\"}", i);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    vg_broker_stop(f->bk);
    free(f);
    return 0;
}

/* Event i: series i % 8, firing on even i, resolved on odd. */
static void make_event(fixture *f, int i, vg_event *ev)
{
    memset(ev, 0, sizeof(*ev));
    ev->state = i % 2 ? VG_ALERT_RESOLVED : VG_ALERT_FIRING;
    ev->severity = VG_SEVERITY_WARNING;
    ev->series = f->series[i % 8];
    ev->series_len = strlen(ev->series);
    ev->start_ms = 1700000000000LL + i * 1000;
    ev->ts_ms = ev->start_ms + 500;
    ev->value = 10.0 + i;
    ev->expected = NAN;
    ev->lower = NAN;
    ev->upper = NAN;
    ev->score = 0.9999;
    ev->peak = 0.9999;
    ev->origin = (vg_origin){"metrics", i % 4, 100 + i};
    vg_event_make_id(ev);
}

/* Opens a sink from JSON text with %s replaced by the broker address. */
static void *open_sink(fixture *f, const char *fmt, vg_error *err)
{
    char text[1024];
    snprintf(text, sizeof(text), fmt, vg_broker_bootstrap(f->bk));
    json_error_t jerr;
    json_t *cfg = json_loads(text, 0, &jerr);
    assert_non_null(cfg);
    void *s = vg_kafka_sink_ops.open(NULL, cfg, err);
    json_decref(cfg);
    return s;
}

static void *open_default(fixture *f)
{
    vg_error err;
    void *s = open_sink(f, "{\"type\": \"kafka\", \"brokers\": \"%s\", \"topic\": \"" TOPIC "\"}",
                        &err);
    if (s == NULL)
        fail_msg("open: %s", err.msg);
    return s;
}

static void emit_range(fixture *f, void *s, int from, int to)
{
    for (int i = from; i < to; i++) {
        vg_event ev;
        make_event(f, i, &ev);
        assert_int_equal(vg_kafka_sink_ops.emit(s, &ev), VG_OK);
    }
}

/* Reads the topic back and checks it holds events from..to-1 exactly once,
 * each keyed by its series with vg_event_encode's bytes as value, and one
 * series always in one partition, in emit order. */
static void expect_events(fixture *f, int from, int to)
{
    size_t n;
    kt_msg *m = kt_read(vg_broker_bootstrap(f->bk), TOPIC, PARTS, (size_t)(to - from), 300, &n);
    assert_int_equal(n, to - from);
    int seen[256] = {0};
    int32_t part_of_series[8];
    int last_of_series[8];
    for (int s = 0; s < 8; s++)
        part_of_series[s] = -1, last_of_series[s] = -1;
    for (size_t k = 0; k < n; k++) {
        /* Find which event this is from its value. */
        int found = -1;
        for (int i = from; i < to && found < 0; i++) {
            vg_event ev;
            char buf[4096];
            make_event(f, i, &ev);
            int len = vg_event_encode(&ev, buf, sizeof(buf));
            assert_true(len > 0);
            if ((size_t)len == strlen(m[k].value) && memcmp(buf, m[k].value, (size_t)len) == 0)
                found = i;
        }
        assert_true(found >= 0);
        assert_int_equal(seen[found - from]++, 0);
        int s = found % 8;
        assert_string_equal(m[k].key, f->series[s]);
        if (part_of_series[s] < 0)
            part_of_series[s] = m[k].partition;
        assert_int_equal(m[k].partition, part_of_series[s]);
        /* Within a partition the reader sees emit order. */
        assert_true(found > last_of_series[s]);
        last_of_series[s] = found;
    }
    kt_msgs_free(m, n);
}

static void events_arrive_keyed_by_series(void **state)
{
    fixture *f = *state;
    void *s = open_default(f);
    emit_range(f, s, 0, 40);
    assert_int_equal(vg_kafka_sink_ops.flush(s, KT_DEADLINE_MS), VG_OK);
    vg_kafka_sink_ops.close(s);
    expect_events(f, 0, 40);
}

static void embedded_finds_the_running_broker(void **state)
{
    fixture *f = *state;
    vg_error err;
    void *s = open_sink(f, "{\"brokers\": \"embedded\", \"topic\": \"" TOPIC "\"}", &err);
    assert_non_null(s);
    emit_range(f, s, 0, 5);
    assert_int_equal(vg_kafka_sink_ops.flush(s, KT_DEADLINE_MS), VG_OK);
    vg_kafka_sink_ops.close(s);
    expect_events(f, 0, 5);
}

/* Retriable produce errors: the idempotent producer retries, the events
 * arrive once each, and flush only returns 0 once they did. */
static void request_errors_lose_and_double_nothing(void **state)
{
    fixture *f = *state;
    void *s = open_default(f);
    rd_kafka_mock_push_request_errors(vg_broker_mock(f->bk), API_PRODUCE, 4,
                                      RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
                                      RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT,
                                      RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS,
                                      RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE);
    emit_range(f, s, 0, 30);
    assert_int_equal(vg_kafka_sink_ops.flush(s, KT_DEADLINE_MS), VG_OK);
    vg_kafka_sink_ops.close(s);
    expect_events(f, 0, 30);
}

/* While the broker is down nothing can be acknowledged, so a short flush
 * reports a timeout; once it is back the same events all arrive. */
static void broker_down_then_up_recovers(void **state)
{
    fixture *f = *state;
    void *s = open_default(f);
    emit_range(f, s, 0, 5);
    assert_int_equal(vg_kafka_sink_ops.flush(s, KT_DEADLINE_MS), VG_OK);

    assert_int_equal(rd_kafka_mock_broker_set_down(vg_broker_mock(f->bk), 1),
                     RD_KAFKA_RESP_ERR_NO_ERROR);
    emit_range(f, s, 5, 25);
    assert_int_equal(vg_kafka_sink_ops.flush(s, 200), VG_ETIMEOUT);
    assert_int_equal(rd_kafka_mock_broker_set_up(vg_broker_mock(f->bk), 1),
                     RD_KAFKA_RESP_ERR_NO_ERROR);
    assert_int_equal(vg_kafka_sink_ops.flush(s, KT_DEADLINE_MS), VG_OK);
    vg_kafka_sink_ops.close(s);
    expect_events(f, 0, 25);
}

/* Events that expire undelivered make every flush fail (the pipeline must
 * not commit) until they are produced again and delivered: none is lost. */
static void undelivered_events_are_sent_again(void **state)
{
    fixture *f = *state;
    vg_error err;
    void *s = open_sink(f, "{\"brokers\": \"%s\", \"topic\": \"" TOPIC "\", "
                           "\"kafka\": {\"message.timeout.ms\": 2000, "
                           "\"reconnect.backoff.ms\": 10, \"reconnect.backoff.max.ms\": 100}}",
                  &err);
    assert_non_null(s);
    emit_range(f, s, 0, 3);
    assert_int_equal(vg_kafka_sink_ops.flush(s, KT_DEADLINE_MS), VG_OK);

    rd_kafka_mock_broker_set_down(vg_broker_mock(f->bk), 1);
    emit_range(f, s, 3, 6);
    assert_int_equal(vg_kafka_sink_ops.flush(s, KT_DEADLINE_MS), VG_EKAFKA);
    rd_kafka_mock_broker_set_up(vg_broker_mock(f->bk), 1);

    emit_range(f, s, 6, 9);
    int64_t deadline = vg_now_ms() + KT_DEADLINE_MS;
    int rc;
    while ((rc = vg_kafka_sink_ops.flush(s, 1000)) != VG_OK && vg_now_ms() < deadline)
        assert_int_equal(rc, VG_EKAFKA);  /* held back while 3..5 are retried */
    assert_int_equal(rc, VG_OK);
    vg_kafka_sink_ops.close(s);

    /* All nine arrived: 3..5 once they were produced again. */
    expect_events(f, 0, 9);
}

static void bad_config_is_refused(void **state)
{
    fixture *f = *state;
    vg_error err;
    assert_null(open_sink(f, "{\"brokers\": \"%s\", \"topik\": \"x\"}", &err));
    assert_int_equal(err.code, VG_ECONFIG);
    assert_null(open_sink(f, "{\"brokers\": \"%s\", \"kafka\": {\"no.such.property\": 1}}",
                          &err));
    assert_int_equal(err.code, VG_ECONFIG);
    assert_non_null(strstr(err.msg, "no.such.property"));
    assert_null(open_sink(f, "{\"brokers\": \"%s\", \"kafka\": {\"linger.ms\": [1]}}", &err));
    assert_int_equal(err.code, VG_ECONFIG);

    vg_broker_stop(f->bk);
    f->bk = NULL;
    json_t *cfg = json_pack("{s:s}", "brokers", "embedded");
    assert_null(vg_kafka_sink_ops.open(NULL, cfg, &err));
    assert_int_equal(err.code, VG_ENOTFOUND);
    json_decref(cfg);
}

int main(void)
{
    vg_log_set_level(getenv("VG_DEBUG") ? VG_LOG_DEBUG : VG_LOG_OFF);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(events_arrive_keyed_by_series, setup, teardown),
        cmocka_unit_test_setup_teardown(embedded_finds_the_running_broker, setup, teardown),
        cmocka_unit_test_setup_teardown(request_errors_lose_and_double_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(broker_down_then_up_recovers, setup, teardown),
        cmocka_unit_test_setup_teardown(undelivered_events_are_sent_again, setup, teardown),
        cmocka_unit_test_setup_teardown(bad_config_is_refused, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
