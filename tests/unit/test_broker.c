/* The embedded broker over TCP on 127.0.0.1: its address, its topics,
 * librdkafka and kcat clients against it, the fixed-port relay, and the
 * `vigil broker` command run in a thread. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "streams/broker.h"
#include "tests/unit/kafka_testutil.h"

/* "127.0.0.1:PORT" with nothing after it; returns the port or -1. */
static int loopback_port(const char *addr)
{
    int port = -1, used = 0;
    if (sscanf(addr, "127.0.0.1:%d%n", &port, &used) != 1 || addr[used] != '\0')
        return -1;
    return port > 0 && port < 65536 ? port : -1;
}

static int topic_partitions(const char *brokers, const char *topic)
{
    rd_kafka_t *rk = kt_client(RD_KAFKA_PRODUCER, brokers, NULL);
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    const struct rd_kafka_metadata *md = NULL;
    assert_int_equal(rd_kafka_metadata(rk, 0, rkt, &md, KT_DEADLINE_MS),
                     RD_KAFKA_RESP_ERR_NO_ERROR);
    assert_int_equal(md->topic_cnt, 1);
    int n = md->topics[0].partition_cnt;
    rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(rkt);
    rd_kafka_destroy(rk);
    return n;
}

/* Produces n numbered messages round-robin over n_parts partitions and reads
 * them back: every one arrives once, in order within its partition. */
static void round_trip(const char *brokers, const char *topic, int n_parts, int n)
{
    rd_kafka_t *producer = kt_client(RD_KAFKA_PRODUCER, brokers, NULL);
    char value[32];
    for (int i = 0; i < n; i++) {
        snprintf(value, sizeof(value), "m%d", i);
        kt_produce(producer, topic, i % n_parts, NULL, value);
    }
    kt_flush(producer);
    rd_kafka_destroy(producer);

    size_t got;
    kt_msg *msgs = kt_read(brokers, topic, n_parts, (size_t)n, 200, &got);
    assert_int_equal(got, n);
    for (size_t i = 0; i < got; i++) {
        int k = atoi(msgs[i].value + 1);
        assert_int_equal(msgs[i].partition, k % n_parts);
        assert_int_equal(msgs[i].offset, k / n_parts);
    }
    kt_msgs_free(msgs, got);
}

static void starts_on_loopback_with_its_topics(void **state)
{
    (void)state;
    vg_broker_topic topics[] = {{"metrics", 3}, {"alerts", 1}};
    vg_broker_options opt = {.brokers = 1, .topics = topics, .n_topics = 2};
    vg_error err;
    vg_broker *bk = vg_broker_start(&opt, &err);
    assert_non_null(bk);
    assert_true(loopback_port(vg_broker_bootstrap(bk)) > 0);
    assert_non_null(vg_broker_mock(bk));

    char embedded[128];
    assert_int_equal(vg_broker_embedded_bootstrap(embedded, sizeof(embedded)), VG_OK);
    assert_string_equal(embedded, vg_broker_bootstrap(bk));

    assert_int_equal(topic_partitions(vg_broker_bootstrap(bk), "metrics"), 3);
    assert_int_equal(topic_partitions(vg_broker_bootstrap(bk), "alerts"), 1);
    round_trip(vg_broker_bootstrap(bk), "metrics", 3, 300);
    vg_broker_stop(bk);
    assert_int_equal(vg_broker_embedded_bootstrap(embedded, sizeof(embedded)), VG_ENOTFOUND);
}

static void several_brokers_list_every_address(void **state)
{
    (void)state;
    vg_broker_topic topics[] = {{"spread", 6}};
    vg_broker_options opt = {.brokers = 3, .topics = topics, .n_topics = 1};
    vg_broker *bk = vg_broker_start(&opt, NULL);
    assert_non_null(bk);
    char list[256];
    snprintf(list, sizeof(list), "%s", vg_broker_bootstrap(bk));
    int n = 0;
    for (char *save = NULL, *tok = strtok_r(list, ",", &save); tok != NULL;
         tok = strtok_r(NULL, ",", &save), n++)
        assert_true(loopback_port(tok) > 0);
    assert_int_equal(n, 3);
    round_trip(vg_broker_bootstrap(bk), "spread", 6, 120);
    vg_broker_stop(bk);
}

/* TCP_NODELAY of this process's listening socket on port, or -1 if none. */
static int listener_nodelay(int port)
{
    DIR *d = opendir("/proc/self/fd");
    assert_non_null(d);
    int found = -1;
    struct dirent *de;
    while ((de = readdir(d)) != NULL && found < 0) {
        int fd = atoi(de->d_name), listening = 0, nodelay = 0;
        socklen_t len = sizeof(listening);
        struct sockaddr_in addr;
        socklen_t alen = sizeof(addr);
        if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0 || !listening ||
            getsockname(fd, (struct sockaddr *)&addr, &alen) != 0 ||
            addr.sin_family != AF_INET || ntohs(addr.sin_port) != port)
            continue;
        len = sizeof(nodelay);
        assert_int_equal(getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &nodelay, &len), 0);
        found = nodelay != 0;
    }
    closedir(d);
    return found;
}

/* Nagle on the mock's sockets made every multi-partition flush wait ~40 ms
 * for a delayed ACK: each broker's listener has it off. */
static void listeners_have_nagle_off(void **state)
{
    (void)state;
    vg_broker_options opt = {.brokers = 2};
    vg_broker *bk = vg_broker_start(&opt, NULL);
    assert_non_null(bk);
    char list[256];
    snprintf(list, sizeof(list), "%s", vg_broker_bootstrap(bk));
    int n = 0;
    for (char *save = NULL, *tok = strtok_r(list, ",", &save); tok != NULL;
         tok = strtok_r(NULL, ",", &save), n++)
        assert_int_equal(listener_nodelay(loopback_port(tok)), 1);
    assert_int_equal(n, 2);
    vg_broker_stop(bk);
}

/* Runs a shell command and returns its standard output (caller frees). */
static char *run(const char *cmd)
{
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t cap = 4096, n = 0;
    char *out = malloc(cap);
    size_t r;
    while ((r = fread(out + n, 1, cap - n - 1, p)) > 0)
        if ((n += r) == cap - 1)
            out = realloc(out, cap *= 2);
    out[n] = '\0';
    assert_int_equal(pclose(p), 0);
    return out;
}

static void kcat_produces_and_consumes(void **state)
{
    (void)state;
    vg_broker_topic topics[] = {{"kc", 1}};
    vg_broker_options opt = {.topics = topics, .n_topics = 1};
    vg_broker *bk = vg_broker_start(&opt, NULL);
    assert_non_null(bk);
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "printf 'alpha\\nbeta\\ngamma\\n' | kcat -q -b %s -P -t kc",
             vg_broker_bootstrap(bk));
    free(run(cmd));
    snprintf(cmd, sizeof(cmd), "kcat -q -b %s -C -t kc -o beginning -e -f '%%o:%%s\\n'",
             vg_broker_bootstrap(bk));
    char *out = run(cmd);
    assert_string_equal(out, "0:alpha\n1:beta\n2:gamma\n");
    free(out);
    vg_broker_stop(bk);
}

static void fixed_port_relays_to_the_cluster(void **state)
{
    (void)state;
    int port = kt_free_port();
    vg_broker_topic topics[] = {{"fixed", 2}};
    vg_broker_options opt = {.brokers = 2, .topics = topics, .n_topics = 1, .port = port};
    vg_broker *bk = vg_broker_start(&opt, NULL);
    assert_non_null(bk);
    assert_int_equal(loopback_port(vg_broker_bootstrap(bk)), port);
    round_trip(vg_broker_bootstrap(bk), "fixed", 2, 100);

    /* The port is taken now: a second broker on it fails cleanly. */
    vg_error err;
    assert_null(vg_broker_start(&opt, &err));
    assert_int_equal(err.code, VG_EIO);
    vg_broker_stop(bk);
}

static void bad_options_are_refused(void **state)
{
    (void)state;
    vg_error err;
    vg_broker_options too_many = {.brokers = 17};
    assert_null(vg_broker_start(&too_many, &err));
    assert_int_equal(err.code, VG_EARG);
    vg_broker_topic empty[] = {{"t", 0}};
    vg_broker_options no_parts = {.topics = empty, .n_topics = 1};
    assert_null(vg_broker_start(&no_parts, &err));
    assert_int_equal(err.code, VG_EARG);
    vg_broker_options bad_port = {.port = 70000};
    assert_null(vg_broker_start(&bad_port, &err));
    assert_int_equal(err.code, VG_EARG);
}

static void command_rejects_bad_usage(void **state)
{
    (void)state;
    char *a[] = {"broker", "--port", "x", NULL};
    assert_int_equal(vg_broker_main(3, a), 2);
    char *b[] = {"broker", "--topic", "nocount", NULL};
    assert_int_equal(vg_broker_main(3, b), 2);
    char *c[] = {"broker", "--brokers", "0", NULL};
    assert_int_equal(vg_broker_main(3, c), 2);
    char *d[] = {"broker", "stray", NULL};
    assert_int_equal(vg_broker_main(2, d), 2);
}

typedef struct command_run {
    char     *argv[8];
    int       argc;
    int       status;
} command_run;

static void *command_thread(void *arg)
{
    command_run *r = arg;
    r->status = vg_broker_main(r->argc, r->argv);
    return NULL;
}

/* `vigil broker` in a thread: it writes the address file, serves clients,
 * and returns 0 on SIGTERM (sent to its thread only). */
static void command_runs_until_sigterm(void **state)
{
    (void)state;
    char file[] = "/tmp/vigil-test-broker-XXXXXX";
    int fd = mkstemp(file);
    assert_true(fd >= 0);
    close(fd);
    unlink(file);
    command_run r = {.argv = {"broker", "--topic", "cmd:2", "--bootstrap-file", file, NULL},
                     .argc = 5};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, command_thread, &r), 0);

    struct stat st;
    int64_t deadline = vg_now_ms() + KT_DEADLINE_MS;
    while (stat(file, &st) != 0 && vg_now_ms() < deadline)
        usleep(10000);  /* polling a condition, with a deadline */
    size_t len;
    char *addr = vg_test_read_file(file, &len);
    assert_non_null(addr);
    assert_true(len > 1 && addr[len - 1] == '\n');
    addr[len - 1] = '\0';
    assert_true(loopback_port(addr) > 0);
    assert_int_equal(topic_partitions(addr, "cmd"), 2);
    round_trip(addr, "cmd", 2, 20);

    assert_int_equal(pthread_kill(t, SIGTERM), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_int_equal(r.status, 0);
    free(addr);
    unlink(file);
}

int main(void)
{
    vg_log_set_level(VG_LOG_WARN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(starts_on_loopback_with_its_topics),
        cmocka_unit_test(several_brokers_list_every_address),
        cmocka_unit_test(listeners_have_nagle_off),
        cmocka_unit_test(kcat_produces_and_consumes),
        cmocka_unit_test(fixed_port_relays_to_the_cluster),
        cmocka_unit_test(bad_options_are_refused),
        cmocka_unit_test(command_rejects_bad_usage),
        cmocka_unit_test(command_runs_until_sigterm),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
