/* The Kafka input against a broker over TCP: messages become points with
 * their origin, bad messages are counted by reason and dead-lettered with
 * headers, offsets are committed only for what the caller declares done,
 * the rebalance hooks run, and bad configs are refused naming the key.
 * Expected keys and reasons come from the public parser and key APIs, not
 * from copies of their rules. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/series_key.h"
#include "core/vigil_metrics.h"
#include "streams/broker.h"
#include "streams/kafka_source.h"
#include "streams/parse.h"
#include "tests/unit/kafka_testutil.h"

#define TS0 1700000000000LL

typedef struct hook_log {
    int    assigns, revokes;
    size_t assigned, revoked;   /* partitions, summed over calls */
    int    points_before_assign;
    size_t *points_seen;        /* the test's running point count */
} hook_log;

static void on_assign(void *ctx, vg_kafka_partition *parts, size_t n)
{
    hook_log *h = ctx;
    h->assigns++;
    h->assigned += n;
    for (size_t i = 0; i < n; i++)
        assert_string_equal(parts[i].topic, "metrics");
    if (h->points_seen != NULL && *h->points_seen > 0)
        h->points_before_assign = 1;
}

static void on_revoke(void *ctx, vg_kafka_partition *parts, size_t n)
{
    hook_log *h = ctx;
    (void)parts;
    h->revokes++;
    h->revoked += n;
}

static vg_kafka_source *open_source(const char *fmt, const char *brokers, hook_log *h,
                                    vg_error *err)
{
    char text[2048];
    snprintf(text, sizeof(text), fmt, brokers);
    json_error_t jerr;
    json_t *cfg = json_loads(text, 0, &jerr);
    if (cfg == NULL)
        fail_msg("bad test config: %s", jerr.text);
    vg_kafka_hooks hooks = {.on_revoke = on_revoke, .on_assign = on_assign, .ctx = h};
    vg_kafka_source *ks = vg_kafka_source_new(NULL, cfg, &hooks, err);
    json_decref(cfg);
    return ks;
}

static void good_message(int i, char *out, size_t cap)
{
    snprintf(out, cap, "{\"series\":\"m\",\"labels\":{\"i\":\"%d\"},\"ts\":%lld,\"value\":%d}", i,
             (long long)(TS0 + i), i);
}

static void expected_key(int i, char *out, size_t cap)
{
    char v[16];
    snprintf(v, sizeof(v), "%d", i);
    vg_label l = {"i", 1, v, strlen(v)};
    assert_true(vg_series_key_build(out, cap, "m", 1, &l, 1) > 0);
}

/* The reason a standalone JSON parser gives for msg. */
static const char *reason_of(const char *msg, vg_parser **ps_out)
{
    vg_parser *ps = vg_parser_new(NULL, NULL, NULL);
    assert_non_null(ps);
    vg_batch b;
    vg_batch_init(&b);
    vg_origin o = {"x", 0, 0};
    assert_int_equal(vg_parser_parse(ps, msg, strlen(msg), -1, &o, &b, NULL), VG_EPARSE);
    vg_batch_release(&b);
    *ps_out = ps;  /* the reason string belongs to the parser */
    return vg_parser_last_reason(ps);
}

static int64_t committed(const char *brokers, const char *group, int32_t partition)
{
    const char *const props[] = {"group.id", group, NULL};
    rd_kafka_t *rk = kt_client(RD_KAFKA_CONSUMER, brokers, props);
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, "metrics", partition);
    assert_int_equal(rd_kafka_committed(rk, l, KT_DEADLINE_MS), RD_KAFKA_RESP_ERR_NO_ERROR);
    int64_t off = l->elems[0].offset;
    rd_kafka_topic_partition_list_destroy(l);
    rd_kafka_destroy(rk);
    return off;
}

/* Waits (deadline) until the group's committed offset of partition is want. */
static void expect_committed(const char *brokers, const char *group, int32_t partition,
                             int64_t want)
{
    int64_t deadline = vg_now_ms() + KT_DEADLINE_MS, got;
    while ((got = committed(brokers, group, partition)) != want && vg_now_ms() < deadline)
        ;
    assert_int_equal(got, want);
}

/* Polls into b (reset each time), committing each batch as done, until
 * `messages` messages were consumed; appends every point to all. */
static void consume_all(vg_kafka_source *ks, uint64_t messages, vg_batch *all, int commit)
{
    vg_batch b;
    vg_batch_init(&b);
    int64_t deadline = vg_now_ms() + KT_DEADLINE_MS;
    while (vg_kafka_source_get_stats(ks)->messages < messages && vg_now_ms() < deadline) {
        vg_batch_reset(&b);
        int n = vg_kafka_source_poll(ks, &b, 100);
        assert_true(n >= 0);
        assert_int_equal((size_t)n, b.n);
        for (size_t i = 0; i < b.n; i++) {
            const vg_point *p = &b.points[i];
            assert_non_null(vg_batch_push(all, vg_batch_key(&b, p), p->key_len, p->ts_ms,
                                          p->value, &p->origin));
        }
        if (commit)
            assert_int_equal(vg_kafka_source_commit(ks, vg_kafka_source_position(ks)), VG_OK);
    }
    assert_int_equal(vg_kafka_source_get_stats(ks)->messages, messages);
    vg_batch_release(&b);
}

#define GOOD 20
static const char *const bad_msgs[2] = {"{not json", "{\"series\":\"m\",\"value\":\"abc\"}"};

/* Embedded broker; 20 good messages over 2 partitions then one bad one in
 * each; every batch committed as soon as it is polled. */
static void points_origins_dead_letters_and_commits(void **state)
{
    (void)state;
    hook_log h = {0};
    size_t seen = 0;
    h.points_seen = &seen;
    vg_error err;
    vg_kafka_source *ks = open_source(
        "{\"brokers\": \"%s\", \"group\": \"g-a\", \"partitions\": 2, "
        "\"topics\": [{\"name\": \"metrics\", \"format\": \"json\"}], "
        "\"dead_letter_topic\": \"vigil-dlq\", \"kafka\": {\"session.timeout.ms\": 6000}}",
        "embedded", &h, &err);
    if (ks == NULL)
        fail_msg("open: %s %s", err.where, err.msg);
    const char *brokers = vg_kafka_source_brokers(ks);
    char embedded[256];
    assert_int_equal(vg_broker_embedded_bootstrap(embedded, sizeof(embedded)), VG_OK);
    assert_string_equal(brokers, embedded);

    rd_kafka_t *producer = kt_client(RD_KAFKA_PRODUCER, brokers, NULL);
    char msg[256];
    for (int i = 0; i < GOOD; i++) {
        good_message(i, msg, sizeof(msg));
        kt_produce(producer, "metrics", i % 2, NULL, msg);
    }
    kt_produce(producer, "metrics", 0, "k0", bad_msgs[0]);
    kt_produce(producer, "metrics", 1, "k1", bad_msgs[1]);
    kt_flush(producer);
    rd_kafka_destroy(producer);

    vg_batch all;
    vg_batch_init(&all);
    consume_all(ks, GOOD + 2, &all, 1);
    seen = all.n;
    assert_int_equal(all.n, GOOD);
    assert_int_equal(h.assigns, 1);
    assert_int_equal(h.assigned, 2);
    assert_int_equal(h.points_before_assign, 0);

    int found[GOOD] = {0};
    for (size_t k = 0; k < all.n; k++) {
        const vg_point *p = &all.points[k];
        int i = (int)p->value;
        assert_true(i >= 0 && i < GOOD);
        found[i]++;
        char key[64];
        expected_key(i, key, sizeof(key));
        assert_int_equal(p->key_len, strlen(key));
        assert_memory_equal(vg_batch_key(&all, p), key, p->key_len);
        assert_int_equal(p->ts_ms, TS0 + i);
        assert_string_equal(p->origin.source, "metrics");
        assert_int_equal(p->origin.partition, i % 2);
        assert_int_equal(p->origin.offset, i / 2);
    }
    for (int i = 0; i < GOOD; i++)
        assert_int_equal(found[i], 1);

    /* Bad messages: counted by the parser's reason, dead-lettered. */
    vg_parser *ps[2];
    const char *reasons[2] = {reason_of(bad_msgs[0], &ps[0]), reason_of(bad_msgs[1], &ps[1])};
    const vg_kafka_source_stats *st = vg_kafka_source_get_stats(ks);
    assert_int_equal(st->bad, 2);
    assert_int_equal(st->points, GOOD);
    assert_int_equal(st->dead_letters, 2);
    assert_int_equal(vg_kafka_source_bad_count(ks, reasons[0]) +
                         vg_kafka_source_bad_count(ks, reasons[1]),
                     strcmp(reasons[0], reasons[1]) == 0 ? 4 : 2);
    assert_int_equal(vg_kafka_source_bad_count(ks, "no-such-reason"), 0);
    /* ... and in /metrics, by reason. */
    size_t text_len;
    char *text = vg_metrics_render(vg_metric_registry(), &text_len, NULL);
    for (int j = 0; j < 2; j++) {
        char line[128];
        snprintf(line, sizeof(line), "vigil_dead_letters_total{reason=\"%s\"} %d\n", reasons[j],
                 strcmp(reasons[0], reasons[1]) == 0 ? 2 : 1);
        assert_non_null(strstr(text, line));
    }
    free(text);

    size_t n;
    kt_msg *dl = kt_read(brokers, "vigil-dlq", 1, 2, 200, &n);
    assert_int_equal(n, 2);
    for (size_t k = 0; k < n; k++) {
        int j = strcmp(dl[k].value, bad_msgs[0]) == 0 ? 0 : 1;
        assert_string_equal(dl[k].value, bad_msgs[j]);
        assert_string_equal(dl[k].key, j == 0 ? "k0" : "k1");
        char want[128];
        snprintf(want, sizeof(want), "vigil-reason=%s;", reasons[j]);
        assert_non_null(strstr(dl[k].headers, want));
        snprintf(want, sizeof(want), "vigil-origin=metrics/%d@%d;", j, GOOD / 2);
        assert_non_null(strstr(dl[k].headers, want));
        assert_non_null(strstr(dl[k].headers, "vigil-error="));
    }
    kt_msgs_free(dl, n);
    vg_parser_free(ps[0]);
    vg_parser_free(ps[1]);

    /* Each batch was committed whole, bad messages included. */
    expect_committed(brokers, "g-a", 0, GOOD / 2 + 1);
    expect_committed(brokers, "g-a", 1, GOOD / 2 + 1);

    vg_kafka_source_close(ks);
    assert_int_equal(h.revokes, 1);
    assert_int_equal(h.revoked, 2);
    vg_batch_release(&all);
}

/* Only points declared done are committed, also through close(); a new
 * member of the group starts right after them. */
static void commits_only_what_is_done(void **state)
{
    (void)state;
    vg_broker_topic topics[] = {{"metrics", 2}};
    vg_broker_options opt = {.topics = topics, .n_topics = 1};
    vg_broker *bk = vg_broker_start(&opt, NULL);
    assert_non_null(bk);
    const char *brokers = vg_broker_bootstrap(bk);
    rd_kafka_t *producer = kt_client(RD_KAFKA_PRODUCER, brokers, NULL);
    char msg[256];
    for (int i = 0; i < 10; i++) {
        good_message(i, msg, sizeof(msg));
        kt_produce(producer, "metrics", 0, NULL, msg);
    }
    kt_flush(producer);
    rd_kafka_destroy(producer);

    static const char cfg[] =
        "{\"brokers\": \"%s\", \"group\": \"g-b\", \"topics\": [{\"name\": \"metrics\"}], "
        "\"kafka\": {\"session.timeout.ms\": 6000}}";
    hook_log h = {0};
    vg_kafka_source *ks = open_source(cfg, brokers, &h, NULL);
    assert_non_null(ks);
    vg_batch all;
    vg_batch_init(&all);
    consume_all(ks, 10, &all, 0);
    assert_int_equal(all.n, 10);

    /* The position covers all ten; declare only offsets 0..4 done. */
    assert_int_equal(vg_offsets_next(vg_kafka_source_position(ks), "metrics", 0), 10);
    vg_offsets done;
    vg_offsets_init(&done);
    vg_offsets_note(&done, "metrics", 0, 4);
    assert_int_equal(vg_kafka_source_commit(ks, &done), VG_OK);
    expect_committed(brokers, "g-b", 0, 5);
    vg_kafka_source_close(ks);
    assert_int_equal(committed(brokers, "g-b", 0), 5);
    assert_int_equal(committed(brokers, "g-b", 1), RD_KAFKA_OFFSET_INVALID);

    /* The group resumes at 5: offsets 5..9 come again (at-least-once). */
    ks = open_source(cfg, brokers, &h, NULL);
    assert_non_null(ks);
    vg_batch again;
    vg_batch_init(&again);
    consume_all(ks, 5, &again, 0);
    assert_int_equal(again.n, 5);
    for (size_t k = 0; k < again.n; k++)
        assert_int_equal(again.points[k].origin.offset, 5 + (int64_t)k);
    vg_kafka_source_close(ks);

    vg_batch_release(&again);
    vg_offsets_release(&done);
    vg_batch_release(&all);
    vg_broker_stop(bk);
}

/* Polls ks once into b, committing it, and counts each point's message. */
static void poll_once(vg_kafka_source *ks, vg_batch *b, int *count, int n)
{
    vg_batch_reset(b);
    assert_true(vg_kafka_source_poll(ks, b, 50) >= 0);
    for (size_t k = 0; k < b->n; k++) {
        int i = (int)b->points[k].value;
        assert_true(i >= 0 && i < n);
        count[i]++;
    }
    assert_int_equal(vg_kafka_source_commit(ks, vg_kafka_source_position(ks)), VG_OK);
}

/* A second member joins: the first gives its partitions up through
 * on_revoke and gets its share back through on_assign; between them every
 * message is processed at least once. */
static void rebalance_runs_the_hooks(void **state)
{
    (void)state;
    enum { N = 80, PARTS = 4 };
    vg_broker_topic topics[] = {{"metrics", PARTS}};
    vg_broker_options opt = {.topics = topics, .n_topics = 1};
    vg_broker *bk = vg_broker_start(&opt, NULL);
    assert_non_null(bk);
    const char *brokers = vg_broker_bootstrap(bk);
    static const char cfg[] =
        "{\"brokers\": \"%s\", \"group\": \"g-r\", \"batch\": 5, "
        "\"topics\": [{\"name\": \"metrics\"}], "
        "\"kafka\": {\"session.timeout.ms\": 6000, \"heartbeat.interval.ms\": 200}}";
    hook_log ha = {0}, hb = {0};
    vg_kafka_source *a = open_source(cfg, brokers, &ha, NULL);
    assert_non_null(a);

    rd_kafka_t *producer = kt_client(RD_KAFKA_PRODUCER, brokers, NULL);
    char msg[256];
    for (int i = 0; i < N; i++) {
        good_message(i, msg, sizeof(msg));
        kt_produce(producer, "metrics", i % PARTS, NULL, msg);
    }
    kt_flush(producer);
    rd_kafka_destroy(producer);

    int count[N] = {0};
    vg_batch batch;
    vg_batch_init(&batch);
    int64_t deadline = vg_now_ms() + KT_DEADLINE_MS;
    while (ha.assigned < PARTS && vg_now_ms() < deadline)
        poll_once(a, &batch, count, N);
    assert_int_equal(ha.assigned, PARTS);
    poll_once(a, &batch, count, N);  /* a first batch of at most 5 */

    vg_kafka_source *bsrc = open_source(cfg, brokers, &hb, NULL);
    assert_non_null(bsrc);
    /* The mock coordinator holds a join for seconds (8 s quiet, over 30 s
     * on a loaded CI machine), so the rebalance gets its own, longer budget. */
    deadline = vg_now_ms() + 3 * KT_DEADLINE_MS;
    while ((hb.assigned == 0 || ha.revokes == 0 || ha.assigns < 2) && vg_now_ms() < deadline) {
        poll_once(a, &batch, count, N);
        poll_once(bsrc, &batch, count, N);
    }
    /* On a loaded machine a member may miss a heartbeat and the group
     * rebalance once more; every rebalance must still run both hooks. */
    assert_true(ha.revokes >= 1);
    assert_true(ha.revoked >= PARTS);
    assert_true(ha.assigns >= 2);
    assert_true(hb.assigned > 0);

    int missing = N;
    while (missing > 0 && vg_now_ms() < deadline) {
        poll_once(a, &batch, count, N);
        poll_once(bsrc, &batch, count, N);
        missing = 0;
        for (int i = 0; i < N; i++)
            missing += count[i] == 0;
    }
    assert_int_equal(missing, 0);

    /* Closing gives the partitions back through on_revoke, once. */
    int b_revokes_before_close = hb.revokes;
    vg_kafka_source_close(bsrc);
    assert_int_equal(hb.revokes, b_revokes_before_close + 1);
    int revokes_before_close = ha.revokes;
    vg_kafka_source_close(a);
    assert_int_equal(ha.revokes, revokes_before_close + 1);
    vg_batch_release(&batch);
    vg_broker_stop(bk);
}

static void expect_config_error(const char *text, const char *needle)
{
    vg_error err;
    vg_error_clear(&err);
    hook_log h = {0};
    assert_null(open_source(text, "127.0.0.1:1", &h, &err));
    assert_int_equal(err.code, VG_ECONFIG);
    char msg[256];
    vg_error_format(&err, msg, sizeof(msg));
    if (strstr(msg, needle) == NULL)
        fail_msg("error \"%s\" does not mention \"%s\"", msg, needle);
}

static void bad_configs_are_refused(void **state)
{
    (void)state;
    expect_config_error("{\"brokers\": \"%s\"}", "topics");
    expect_config_error("{\"brokers\": \"%s\", \"topics\": []}", "topics");
    expect_config_error("{\"brokers\": \"%s\", \"topics\": [{\"format\": \"json\"}]}", "name");
    expect_config_error("{\"brokers\": \"%s\", \"topics\": [{\"name\": \"t\", \"format\": 7}]}",
                        "format");
    expect_config_error("{\"brokers\": \"%s\", \"topics\": [{\"name\": \"t\"}], "
                        "\"kafka\": {\"no.such.property\": \"1\"}}",
                        "no.such.property");
    expect_config_error("{\"brokers\": \"%s\", \"topics\": [{\"name\": \"t\"}], \"batch\": 0}",
                        "batch");
    expect_config_error("{\"brokers\": \"%s\", \"topics\": [{\"name\": \"t\"}], \"grup\": \"x\"}",
                        "grup");
}

int main(void)
{
    vg_log_set_level(getenv("VG_DEBUG") ? VG_LOG_DEBUG : VG_LOG_OFF);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(points_origins_dead_letters_and_commits),
        cmocka_unit_test(commits_only_what_is_done),
        cmocka_unit_test(rebalance_runs_the_hooks),
        cmocka_unit_test(bad_configs_are_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
