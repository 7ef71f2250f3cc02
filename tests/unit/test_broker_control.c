/* `vigil broker --control` commands (streams/broker_control.c): bad lines
 * are refused with a message saying what is wrong, and good ones reach the
 * mock cluster: injected Produce errors fail a producer that does not
 * retry, `clear` drops them, `down`/`up` take the broker away and back. */
#include <string.h>

#include "streams/broker.h"
#include "streams/broker_control.h"
#include "tests/unit/kafka_testutil.h"

static rd_kafka_resp_err_t last_delivery;

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *msg, void *opaque)
{
    (void)rk;
    (void)opaque;
    last_delivery = msg->err;
}

/* A producer that never retries, so an injected error is its delivery's. */
static rd_kafka_t *plain_producer(const char *brokers)
{
    char why[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    assert_int_equal(rd_kafka_conf_set(conf, "bootstrap.servers", brokers, why, sizeof(why)),
                     RD_KAFKA_CONF_OK);
    assert_int_equal(rd_kafka_conf_set(conf, "message.send.max.retries", "0", why, sizeof(why)),
                     RD_KAFKA_CONF_OK);
    assert_int_equal(rd_kafka_conf_set(conf, "linger.ms", "0", why, sizeof(why)),
                     RD_KAFKA_CONF_OK);
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, sizeof(why));
    assert_non_null(rk);
    return rk;
}

static rd_kafka_resp_err_t produce_one(rd_kafka_t *rk)
{
    last_delivery = RD_KAFKA_RESP_ERR__FAIL;
    kt_produce(rk, "t", 0, NULL, "v");
    assert_int_equal(rd_kafka_flush(rk, KT_DEADLINE_MS), RD_KAFKA_RESP_ERR_NO_ERROR);
    return last_delivery;
}

static vg_broker *start_broker(void)
{
    static const vg_broker_topic topics[] = {{"t", 1}};
    vg_broker_options opt = {.brokers = 1, .topics = topics, .n_topics = 1};
    vg_error err;
    vg_broker *bk = vg_broker_start(&opt, &err);
    assert_non_null(bk);
    return bk;
}

static void bad_lines_are_refused(void **state)
{
    (void)state;
    vg_broker *bk = start_broker();
    static const struct {
        const char *line, *says;
    } cases[] = {
        {"explode 1", "unknown command 'explode'"},
        {"down", "expected 'down BROKER_ID'"},
        {"down 0", "expected 'down BROKER_ID'"},
        {"up 1 2", "expected 'up BROKER_ID'"},
        {"rtt 1", "expected 'rtt BROKER_ID MS'"},
        {"errors Produce 3", "errors: expected"},
        {"errors Nope 3 REQUEST_TIMED_OUT", "errors: expected"},
        {"errors Produce 3 NO_SUCH_ERROR", "errors: expected"},
        {"errors Produce 0 REQUEST_TIMED_OUT", "errors: expected"},
        {"errors Produce x REQUEST_TIMED_OUT", "errors: expected"},
        {"clear Nope", "clear: expected"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        vg_error err;
        vg_error_clear(&err);
        assert_int_equal(vg__broker_control(vg_broker_mock(bk), cases[i].line, &err), VG_EARG);
        if (strstr(err.msg, cases[i].says) == NULL)
            fail_msg("'%s' said '%s', not '%s'", cases[i].line, err.msg, cases[i].says);
    }
    char huge[400];
    memset(huge, 'a', sizeof(huge) - 1);
    huge[sizeof(huge) - 1] = '\0';
    vg_error err;
    assert_int_equal(vg__broker_control(vg_broker_mock(bk), huge, &err), VG_EARG);
    /* Blank lines and comments are no-ops. */
    assert_int_equal(vg__broker_control(vg_broker_mock(bk), "", &err), VG_OK);
    assert_int_equal(vg__broker_control(vg_broker_mock(bk), "  # a comment", &err), VG_OK);
    vg_broker_stop(bk);
}

static void injected_errors_reach_clients(void **state)
{
    (void)state;
    vg_broker *bk = start_broker();
    rd_kafka_mock_cluster_t *mock = vg_broker_mock(bk);
    rd_kafka_t *rk = plain_producer(vg_broker_bootstrap(bk));
    vg_error err;
    assert_int_equal(produce_one(rk), RD_KAFKA_RESP_ERR_NO_ERROR);

    assert_int_equal(vg__broker_control(mock, "errors Produce 1 REQUEST_TIMED_OUT", &err), VG_OK);
    assert_int_equal(produce_one(rk), RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT);
    assert_int_equal(produce_one(rk), RD_KAFKA_RESP_ERR_NO_ERROR);  /* only one */

    assert_int_equal(vg__broker_control(mock, "errors produce 3 NOT_ENOUGH_REPLICAS", &err),
                     VG_OK);
    assert_int_equal(vg__broker_control(mock, "clear Produce", &err), VG_OK);
    assert_int_equal(produce_one(rk), RD_KAFKA_RESP_ERR_NO_ERROR);

    assert_int_equal(vg__broker_control(mock, "rtt 1 0", &err), VG_OK);
    assert_int_equal(vg__broker_control(mock, "down 1", &err), VG_OK);
    assert_int_equal(vg__broker_control(mock, "up 1", &err), VG_OK);
    assert_int_equal(produce_one(rk), RD_KAFKA_RESP_ERR_NO_ERROR);  /* back after up */
    rd_kafka_destroy(rk);
    vg_broker_stop(bk);
}

int main(void)
{
    vg_log_set_level(VG_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bad_lines_are_refused),
        cmocka_unit_test(injected_errors_reach_clients),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
