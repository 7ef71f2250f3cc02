/* Plain librdkafka clients for the Kafka unit tests: an independent producer
 * and a reader that assigns partitions explicitly (no group, no rebalance
 * wait), so tests check vigil's Kafka code against librdkafka itself.
 * Header-only: included by the test files that need it. Every wait has a
 * deadline; nothing sleeps to synchronise. */
#ifndef VG_TESTS_UNIT_KAFKA_TESTUTIL_H
#define VG_TESTS_UNIT_KAFKA_TESTUTIL_H

#include <arpa/inet.h>
#include <librdkafka/rdkafka.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/log.h"
#include "tests/unit/helpers.h"

#define KT_DEADLINE_MS 30000

typedef struct kt_msg {
    int32_t partition;
    int64_t offset;
    char   *key;     /* NUL-terminated copies; NULL when absent */
    char   *value;
    char   *headers; /* "name=value;" for each header, in order */
} kt_msg;

static inline void kt_msgs_free(kt_msg *m, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(m[i].key);
        free(m[i].value);
        free(m[i].headers);
    }
    free(m);
}

static inline char *kt_strndup(const void *p, size_t len)
{
    return p ? strndup(p, len) : NULL;
}

static inline rd_kafka_t *kt_client(rd_kafka_type_t type, const char *brokers,
                                    const char *const *props)
{
    char why[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    assert_int_equal(rd_kafka_conf_set(conf, "bootstrap.servers", brokers, why, sizeof(why)),
                     RD_KAFKA_CONF_OK);
    for (; props != NULL && props[0] != NULL; props += 2)
        assert_int_equal(rd_kafka_conf_set(conf, props[0], props[1], why, sizeof(why)),
                         RD_KAFKA_CONF_OK);
    rd_kafka_t *rk = rd_kafka_new(type, conf, why, sizeof(why));
    assert_non_null(rk);
    return rk;
}

/* Produces value (key NULL-able) to topic/partition (-1: partitioner) and
 * waits for the acknowledgement. */
static inline void kt_produce(rd_kafka_t *producer, const char *topic, int32_t partition,
                              const char *key, const char *value)
{
    rd_kafka_resp_err_t e = rd_kafka_producev(
        producer, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(partition),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_VALUE((void *)value, strlen(value)),
        RD_KAFKA_V_KEY((void *)key, key ? strlen(key) : 0), RD_KAFKA_V_END);
    assert_int_equal(e, RD_KAFKA_RESP_ERR_NO_ERROR);
}

static inline void kt_flush(rd_kafka_t *producer)
{
    assert_int_equal(rd_kafka_flush(producer, KT_DEADLINE_MS), RD_KAFKA_RESP_ERR_NO_ERROR);
    assert_int_equal(rd_kafka_outq_len(producer), 0);
}

/* Reads partitions 0..n_parts-1 of topic from the beginning until `want`
 * messages arrived (fails the test at the deadline), then for `linger_ms`
 * more so that unexpected extra messages (duplicates) show up too.
 * Returns the messages (caller frees with kt_msgs_free) and their count. */
static inline kt_msg *kt_read(const char *brokers, const char *topic, int n_parts, size_t want,
                              int linger_ms, size_t *n_out)
{
    static const char *const props[] = {"group.id", "vigil-test-reader",
                                        "enable.auto.commit", "false",
                                        "fetch.wait.max.ms", "10", NULL};
    rd_kafka_t *rk = kt_client(RD_KAFKA_CONSUMER, brokers, props);
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(n_parts);
    for (int p = 0; p < n_parts; p++)
        rd_kafka_topic_partition_list_add(parts, topic, p)->offset = RD_KAFKA_OFFSET_BEGINNING;
    assert_int_equal(rd_kafka_assign(rk, parts), RD_KAFKA_RESP_ERR_NO_ERROR);
    rd_kafka_topic_partition_list_destroy(parts);

    size_t n = 0, cap = want + 16;
    kt_msg *msgs = calloc(cap, sizeof(*msgs));
    int64_t deadline = vg_now_ms() + KT_DEADLINE_MS, linger_end = -1;
    for (;;) {
        int64_t now = vg_now_ms();
        if (n >= want && linger_end < 0)
            linger_end = now + linger_ms;
        if ((linger_end >= 0 && now >= linger_end) || now >= deadline)
            break;
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 50);
        if (m == NULL)
            continue;
        if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
            if (n == cap)
                msgs = realloc(msgs, (cap *= 2) * sizeof(*msgs));
            kt_msg *k = &msgs[n++];
            *k = (kt_msg){m->partition, m->offset, kt_strndup(m->key, m->key_len),
                          kt_strndup(m->payload, m->len), calloc(1, 1024)};
            rd_kafka_headers_t *hdrs = NULL;
            if (rd_kafka_message_headers(m, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR) {
                const char *name;
                const void *val;
                size_t len, used = 0;
                for (size_t i = 0; rd_kafka_header_get_all(hdrs, i, &name, &val, &len) ==
                                   RD_KAFKA_RESP_ERR_NO_ERROR; i++)
                    used += (size_t)snprintf(k->headers + used, 1024 - used, "%s=%.*s;", name,
                                             (int)len, (const char *)val);
            }
        }
        rd_kafka_message_destroy(m);
    }
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    if (n < want)
        fail_msg("read %zu of %zu messages from %s before the deadline", n, want, topic);
    *n_out = n;
    return msgs;
}

/* A loopback port that was free a moment ago. */
static inline int kt_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET};
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(sin);
    assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
    close(fd);
    return ntohs(sin.sin_port);
}

#endif
