/* The Kafka figures: vigil end to end against a consume-and-parse ceiling,
 * and the latency from a message being produced to its alert being out.
 *
 * Both run against the embedded broker (librdkafka's mock cluster) over TCP
 * on 127.0.0.1, in this process. The machine is shared (see
 * shared/notes/kafka-here.md), so throughput alternates the ceiling and
 * vigil for several rounds and prints medians and ranges.
 *
 * throughput: N JSON metric messages of ~61 bytes (1,000 series, keyed by
 *   series, 4 partitions, zstd so that the mock keeps them all), produced
 *   up front. (a) the ceiling: a plain librdkafka consumer that parses each
 *   message with vigil's own parser into a reused batch and does nothing
 *   else; (b) vg_run() with every detector at its defaults and a Kafka alert
 *   output, in a fresh consumer group, with 1 scoring worker (b1) and with
 *   one per online CPU (b). Both are timed from their first
 *   message to the end of their last one's processing. vg_run's first
 *   message is only seen from outside, by its between-batch callback: its
 *   clock starts when the poll that returned the first batch started, up
 *   to 100 ms (its poll timeout) before that first message arrived, so (b)
 *   is understated by up to 100 ms over its run (about 2% on average).
 *
 * latency: a paced producer thread offers RATE msgs/s (zstd, linger.ms 5:
 *   librdkafka's default) while vg_run() runs in a thread with an alert
 *   threshold that makes many points change state (see latency_alert), and
 *   the main thread consumes the alert topic (fetch.wait.max.ms 1). Each
 *   event names its source partition and offset, which map back to the time
 *   its message was produced: latency = event consumed from the alert topic
 *   - message produced, so it includes the producer's linger and the alert
 *   consumer's own fetch. The first seconds (group join, the backlog it
 *   leaves, detector warm-up) are not measured: measuring starts once events
 *   have come back within 50 ms for 2 s, and at least 5 s in.
 *
 * usage: bench_kafka [throughput [messages] [rounds] [both|raw|vigil|repartition]]
 *        bench_kafka latency [rate] [seconds] [runs] [input fetch.wait.max.ms]
 * With no arguments: throughput 1000000 5 both, then latency 50000 10 3. */
#include <jansson.h>
#include <librdkafka/rdkafka.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench/util.h"
#include "engine/config.h"
#include "core/log.h"
#include "core/point.h"
#include "src/run.h"
#include "streams/broker.h"
#include "streams/parse.h"

#define PARTITIONS  4
#define SERIES      1000
#define ROUNDS_MAX  99
#define INPUT       "metrics"
#define ALERTS      "alerts"
#define IDLE_END_MS 2000  /* vigil has seen every message once idle this long */

/* ---- messages ------------------------------------------------------------ */

static uint64_t next_rand(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Message i of a stream: series i % SERIES at step i / SERIES, a daily-ish
 * sine with noise, 10 s apart (ts_ms < 0), or stamped ts_ms. Returns its
 * length; key gets the series name. */
static int make_message(long i, int64_t ts_ms, uint64_t *rng, char *out, size_t cap,
                        char *key, size_t key_cap)
{
    long s = i % SERIES, step = i / SERIES;
    double noise = (double)(next_rand(rng) % 2001) / 1000.0 - 1.0;
    double v = 50.0 + 10.0 * sin(2.0 * M_PI * (double)step / 144.0 + (double)s) + noise;
    if (ts_ms < 0)
        ts_ms = 1700000000000LL + (int64_t)step * 10000;
    snprintf(key, key_cap, "cpu_user.h%03ld", s);
    return snprintf(out, cap, "{\"series\":\"%s\",\"ts\":%lld,\"value\":%.3f}", key,
                    (long long)ts_ms, v);
}

/* Produces n messages up front, keyed by series, zstd-compressed; exits
 * unless the broker then holds them all. Returns the mean message size. */
static double produce_all(const char *brokers, long n)
{
    static const char *const props[] = {"compression.codec", "zstd", "linger.ms", "20",
                                        "batch.num.messages", "10000", NULL};
    rd_kafka_t *rk = vg_bench_kafka_client(RD_KAFKA_PRODUCER, brokers, props);
    uint64_t rng = 42;
    double bytes = 0;
    for (long i = 0; i < n; i++) {
        char line[128], key[32];
        int len = make_message(i, -1, &rng, line, sizeof(line), key, sizeof(key));
        bytes += len;
        while (rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(INPUT),
                                 RD_KAFKA_V_KEY(key, strlen(key)),
                                 RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                 RD_KAFKA_V_VALUE(line, (size_t)len),
                                 RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
            rd_kafka_poll(rk, 10);
    }
    if (rd_kafka_flush(rk, 120000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        fprintf(stderr, "produce: flush timed out\n");
        exit(1);
    }
    long held = vg_bench_kafka_held(rk, INPUT, PARTITIONS);
    rd_kafka_destroy(rk);
    if (held != n) {
        fprintf(stderr, "the broker holds %ld of %ld messages\n", held, n);
        exit(1);
    }
    return bytes / (double)n;
}

static vg_broker *start_broker(void)
{
    vg_broker_topic topics[] = {{INPUT, PARTITIONS}, {ALERTS, PARTITIONS}};
    vg_broker_options opt = {.topics = topics, .n_topics = 2};
    vg_error err;
    vg_broker *bk = vg_broker_start(&opt, &err);
    if (bk == NULL) {
        fprintf(stderr, "broker: %s\n", err.msg);
        exit(1);
    }
    return bk;
}

static vg_config *load_config(const char *text)
{
    vg_error err;
    vg_config *cfg = vg_config_load_string(text, "bench", &err);
    if (cfg == NULL) {
        fprintf(stderr, "config: %s: %s\n%s\n", err.where, err.msg, text);
        exit(1);
    }
    return cfg;
}

/* ---- throughput ---------------------------------------------------------- */

/* The ceiling: consume and parse with vigil's parser, nothing else. Same
 * consumer properties as vigil's source. Returns msgs/s. */
static double raw_round(const char *brokers, long n, int round)
{
    char group[64];
    snprintf(group, sizeof(group), "bench-raw-%d", round);
    const char *const props[] = {"group.id", group, "enable.auto.commit", "false",
                                 "auto.offset.reset", "earliest", "fetch.wait.max.ms", "10",
                                 "queued.min.messages", "1000000", NULL};
    rd_kafka_t *rk = vg_bench_kafka_client(RD_KAFKA_CONSUMER, brokers, props);
    rd_kafka_poll_set_consumer(rk);
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(parts, INPUT, RD_KAFKA_PARTITION_UA);
    rd_kafka_subscribe(rk, parts);
    rd_kafka_topic_partition_list_destroy(parts);

    json_t *pcfg = json_pack("{s:s}", "format", "json");
    vg_error err;
    vg_parser *ps = vg_parser_new(NULL, pcfg, &err);
    json_decref(pcfg);
    if (ps == NULL) {
        fprintf(stderr, "parser: %s\n", err.msg);
        exit(1);
    }
    vg_batch b;
    vg_batch_init(&b);
    long got = 0, points = 0, bad = 0;
    double t0 = 0;
    while (got < n) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        if (m == NULL)
            continue;
        if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
            if (got++ == 0)
                t0 = vg_bench_now();
            vg_origin o = {INPUT, m->partition, m->offset};
            int rc = vg_parser_parse(ps, m->payload, m->len,
                                     rd_kafka_message_timestamp(m, NULL), &o, &b, &err);
            if (rc < 0)
                bad++;
            if (b.n >= 10000) {
                points += (long)b.n;
                vg_batch_reset(&b);
            }
        }
        rd_kafka_message_destroy(m);
    }
    double t1 = vg_bench_now();
    points += (long)b.n;
    vg_batch_release(&b);
    vg_parser_free(ps);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    if (points != n || bad != 0) {
        fprintf(stderr, "ceiling: %ld points, %ld bad of %ld\n", points, bad, n);
        exit(1);
    }
    return (double)n / (t1 - t0);
}

/* When vg_run processed its first and last batch, from its between-batch
 * callback: before any data, now - idle_ms stays at the loop's start;
 * after each batch it moves to that batch's end. */
typedef struct run_clock {
    int64_t before_data;  /* now - idle_ms before any data */
    int64_t prev_call;    /* the previous callback: the next poll starts here */
    int64_t first_poll;   /* start of the poll that returned the first data */
    int64_t last_data;    /* end of the last batch processed */
    int     calls;
} run_clock;

static int run_clock_tick(void *ctx, uint64_t idle_ms, const vg_run_stats *so_far)
{
    (void)so_far;
    run_clock *c = ctx;
    int64_t now = vg_now_ms(), last = now - (int64_t)idle_ms;
    if (c->calls++ == 0)
        c->before_data = last;
    if (c->first_poll == 0 && last > c->before_data + 1)
        c->first_poll = c->prev_call;
    if (c->first_poll != 0)
        c->last_data = last;
    c->prev_call = vg_now_ms();
    return c->first_poll != 0 && idle_ms >= IDLE_END_MS;
}

/* With rekey, the input topic has "repartition": true: every point is
 * re-keyed through <group>-<topic>-repartition before it is scored. */
static int rekey_input;

/* vigil end to end: every detector at its defaults, `workers` scoring
 * workers, events to the alert topic, a fresh group. Returns msgs/s. */
static double vigil_round(const char *brokers, long n, int round, int workers,
                          uint64_t *events)
{
    char text[1024];
    snprintf(text, sizeof(text),
             "{\"log\": {\"level\": \"warn\"}, \"workers\": %d,"
             " \"input\": {\"brokers\": \"%s\", \"group\": \"bench-vigil-%s%d-%d\","
             "  \"topics\": [{\"name\": \"" INPUT "\", \"format\": \"json\","
             " \"repartition\": %s}],"
             "  \"kafka\": {\"session.timeout.ms\": 6000}},"
             " \"outputs\": [{\"type\": \"kafka\", \"brokers\": \"%s\", \"topic\": \"" ALERTS
             "\"}]}",
             workers, brokers, rekey_input ? "rekey-" : "", round, workers,
             rekey_input ? "true" : "false", brokers);
    vg_config *cfg = load_config(text);
    run_clock clock = {0};
    vg_run_options opt = {.should_stop = run_clock_tick, .ctx = &clock};
    vg_run_stats st;
    vg_error err;
    if (vg_run(cfg, &opt, &st, &err) != VG_OK) {
        fprintf(stderr, "vg_run: %s: %s\n", err.where, err.msg);
        exit(1);
    }
    vg_config_free(cfg);
    if ((long)st.points != n) {
        fprintf(stderr, "vigil: %llu points of %ld (a stall longer than %d ms?)\n",
                (unsigned long long)st.points, n, IDLE_END_MS);
        exit(1);
    }
    *events = st.events;
    return (double)n * 1000.0 / (double)(clock.last_data - clock.first_poll);
}

static void print_row(const char *label, double *v, int rounds)
{
    double lo = v[0], hi = v[0];
    for (int r = 1; r < rounds; r++) {
        lo = v[r] < lo ? v[r] : lo;
        hi = v[r] > hi ? v[r] : hi;
    }
    printf("%-40s %9.0f msgs/s  (range %.0f..%.0f)\n", label, vg_bench_median(v, (size_t)rounds),
           lo, hi);
}

static void print_ratio(const char *label, const double *ratio, int rounds)
{
    double lo = ratio[0], hi = ratio[0];
    for (int r = 1; r < rounds; r++) {
        lo = ratio[r] < lo ? ratio[r] : lo;
        hi = ratio[r] > hi ? ratio[r] : hi;
    }
    double sorted[ROUNDS_MAX];
    memcpy(sorted, ratio, (size_t)rounds * sizeof(*ratio));
    printf("%-40s %9.2f         (range %.2f..%.2f)\n", label,
           vg_bench_median(sorted, (size_t)rounds), lo, hi);
}

/* (b) against (c), vigil with its input re-keyed, alternated: the cost of
 * the repartition stage (default workers). */
static int repartition_cost(const char *brokers, long n, int rounds)
{
    double plain[ROUNDS_MAX], rekeyed[ROUNDS_MAX], ratio[ROUNDS_MAX];
    uint64_t events = 0, rekeyed_events = 0;
    for (int r = 0; r < rounds; r++) {
        for (int k = 0; k < 2; k++) {  /* alternate which goes first */
            rekey_input = (r + k) % 2;
            double v = vigil_round(brokers, n, r, 0, rekey_input ? &rekeyed_events : &events);
            *(rekey_input ? &rekeyed[r] : &plain[r]) = v;
        }
        ratio[r] = rekeyed[r] / plain[r];
        printf("round %d: vigil %.0f msgs/s, re-keyed %.0f msgs/s (%.2f), %llu / %llu events\n",
               r + 1, plain[r], rekeyed[r], ratio[r], (unsigned long long)events,
               (unsigned long long)rekeyed_events);
        fflush(stdout);
    }
    print_row("(b) vigil end to end (vg_run)", plain, rounds);
    print_row("(c) vigil, input \"repartition\": true", rekeyed, rounds);
    print_ratio("(c)/(b), median (target >= 0.70)", ratio, rounds);
    return 0;
}

/* vigil is run with one scoring worker and with one per online CPU (the
 * default), each against the ceiling of the same round. */
static int throughput(long n, int rounds, const char *which)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    int many = cpus > 1 ? (int)cpus : 2;
    int do_raw = strcmp(which, "vigil") != 0, do_vigil = strcmp(which, "raw") != 0;
    vg_broker *bk = start_broker();
    const char *brokers = vg_broker_bootstrap(bk);
    double size = produce_all(brokers, n);
    if (strcmp(which, "repartition") == 0) {
        repartition_cost(brokers, n, rounds);
        vg_broker_stop(bk);
        return 0;
    }
    printf("throughput: %ld messages (mean %.1f bytes), %d series, %d partitions, "
           "%d rounds\n", n, size, SERIES, PARTITIONS, rounds);
    double raw[ROUNDS_MAX], vigil[ROUNDS_MAX], vigil1[ROUNDS_MAX], ratio[ROUNDS_MAX],
        ratio1[ROUNDS_MAX];
    uint64_t events = 0;
    for (int r = 0; r < rounds; r++) {
        /* Alternate which goes first, so neither always runs on a warmer cache. */
        if (do_raw && r % 2 == 0)
            raw[r] = raw_round(brokers, n, r);
        if (do_vigil) {
            vigil1[r] = vigil_round(brokers, n, r, 1, &events);
            vigil[r] = vigil_round(brokers, n, r, many, &events);
        }
        if (do_raw && r % 2 == 1)
            raw[r] = raw_round(brokers, n, r);
        if (do_raw && do_vigil) {
            ratio[r] = vigil[r] / raw[r];
            ratio1[r] = vigil1[r] / raw[r];
            printf("round %d: ceiling %.0f msgs/s, vigil 1 worker %.0f msgs/s (%.2f), "
                   "%d workers %.0f msgs/s (%.2f), %llu events\n", r + 1, raw[r], vigil1[r],
                   ratio1[r], many, vigil[r], ratio[r], (unsigned long long)events);
        } else {
            printf("round %d: %.0f msgs/s\n", r + 1, do_raw ? raw[r] : vigil[r]);
        }
        fflush(stdout);
    }
    if (do_raw)
        print_row("(a) ceiling: consume + vigil's parser", raw, rounds);
    if (do_vigil) {
        print_row("(b1) vigil end to end, 1 worker", vigil1, rounds);
        char label[64];
        snprintf(label, sizeof(label), "(b) vigil end to end, %d workers", many);
        print_row(label, vigil, rounds);
    }
    if (do_raw && do_vigil) {
        print_ratio("(b1)/(a), median of the rounds' ratios", ratio1, rounds);
        print_ratio("(b)/(a), median of the rounds' ratios", ratio, rounds);
        printf("target (b)/(a) >= 1.0 (issue 13)\n");
    }
    vg_broker_stop(bk);
    return 0;
}

/* ---- latency ------------------------------------------------------------- */

/* Alert threshold 0.5 with fire_after 1 and resolve_after 1, no paging
 * warm-up: a series flips between firing and resolved whenever its
 * calibrated score crosses 0.5, so a large share of points cause an event
 * (the share is printed). The guards are left on: they only change what a
 * score is. */
static const char *const latency_alert =
    "\"alert\": {\"threshold\": 0.5, \"fire_after\": 1, \"resolve_after\": 1, "
    "\"warmup_s\": 0, \"warmup_points\": 0}";

typedef struct latency_run {
    const char      *brokers;
    double           rate;
    double           seconds;
    long             cap;           /* messages the tables can hold */
    _Atomic int64_t *sent_us[PARTITIONS];  /* per partition, by offset: produce time */
    atomic_long      produced;
    atomic_long      sent[PARTITIONS];
    atomic_long      measure_from;  /* first message index measured (LONG_MAX: not yet) */
    atomic_long      measure_to;    /* one past the last */
    long            *index[PARTITIONS];    /* per partition, by offset: message index */
    atomic_int       warm;          /* set by the consumer: vigil keeps up */
    atomic_int       stop_producing;
    volatile sig_atomic_t stop_vigil;
    long             reorders;      /* delivery offsets that were not the expected ones */
} latency_run;

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void latency_dr(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    latency_run *lr = opaque;
    long expected = (long)(intptr_t)m->_private;
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR || m->offset != expected)
        lr->reorders++;
}

/* Offers lr->rate msgs/s: message i is due at start + i / rate; due
 * messages go out at once, then the thread sleeps 200 us. Partition =
 * series % PARTITIONS (keyed by series), so each partition's offsets are
 * its messages in order, which the delivery reports confirm. */
static void *producer_main(void *arg)
{
    latency_run *lr = arg;
    static const char *const props[] = {"compression.codec", "zstd", "linger.ms", "5",
                                        "enable.idempotence", "true", NULL};
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set_dr_msg_cb(conf, latency_dr);
    rd_kafka_conf_set_opaque(conf, lr);
    rd_kafka_t *rk = vg_bench_kafka_client_conf(RD_KAFKA_PRODUCER, conf, lr->brokers, props);
    uint64_t rng = 7;
    int64_t start = now_us();
    long i = 0, measured_until = -1;
    while (!atomic_load(&lr->stop_producing) && i < lr->cap) {
        int64_t now = now_us();
        long due = (long)((double)(now - start) * lr->rate / 1e6);
        if (atomic_load(&lr->warm) && measured_until < 0) {
            measured_until = i + (long)(lr->rate * lr->seconds);
            atomic_store(&lr->measure_to, measured_until);
            atomic_store(&lr->measure_from, i);
        }
        if (measured_until >= 0 && i >= measured_until)
            break;
        for (; i < due && i < lr->cap; i++) {
            char line[128], key[32];
            int64_t t = now_us();
            int len = make_message(i, vg_now_ms(), &rng, line, sizeof(line), key, sizeof(key));
            int p = (int)((i % SERIES) % PARTITIONS);
            long off = atomic_load(&lr->sent[p]);
            atomic_store(&lr->sent_us[p][off], t);
            lr->index[p][off] = i;
            while (rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(INPUT), RD_KAFKA_V_PARTITION(p),
                                     RD_KAFKA_V_KEY(key, strlen(key)),
                                     RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                     RD_KAFKA_V_VALUE(line, (size_t)len),
                                     RD_KAFKA_V_OPAQUE((void *)(intptr_t)off),
                                     RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
                rd_kafka_poll(rk, 1);
            atomic_store(&lr->sent[p], off + 1);
            atomic_store(&lr->produced, i + 1);
        }
        rd_kafka_poll(rk, 0);
        struct timespec nap = {0, 200000};
        nanosleep(&nap, NULL);
    }
    rd_kafka_flush(rk, 30000);
    rd_kafka_destroy(rk);
    return NULL;
}

static int latency_should_stop(void *ctx, uint64_t idle_ms, const vg_run_stats *so_far)
{
    (void)idle_ms;
    (void)so_far;
    latency_run *lr = ctx;
    return lr->stop_vigil;
}

typedef struct vigil_thread {
    vg_config   *cfg;
    latency_run *lr;
    vg_run_stats st;
    int          rc;
    vg_error     err;
} vigil_thread;

static void *vigil_main(void *arg)
{
    vigil_thread *vt = arg;
    vg_run_options opt = {.should_stop = latency_should_stop, .ctx = vt->lr};
    vt->rc = vg_run(vt->cfg, &opt, &vt->st, &vt->err);
    return NULL;
}

/* partition and offset of the message that caused an event (its "source"). */
static int event_origin(const char *json, size_t len, int *partition, long *offset)
{
    char buf[8192];
    if (len >= sizeof(buf))
        return -1;
    memcpy(buf, json, len);
    buf[len] = '\0';
    const char *src = strstr(buf, "\"source\":");
    const char *p = src ? strstr(src, "\"partition\":") : NULL;
    const char *o = src ? strstr(src, "\"offset\":") : NULL;
    if (p == NULL || o == NULL)
        return -1;
    *partition = atoi(p + strlen("\"partition\":"));
    *offset = atol(o + strlen("\"offset\":"));
    return *partition >= 0 && *partition < PARTITIONS ? 0 : -1;
}

/* One run: returns the number of latencies written to lat_ms (events of
 * measured messages); prints the run's figures. */
static long latency_run_once(double rate, double seconds, int run, int fetch_wait_ms,
                             double *lat_ms, long lat_cap)
{
    char fetch_wait[64] = "";
    if (fetch_wait_ms >= 0)
        snprintf(fetch_wait, sizeof(fetch_wait), ", \"fetch.wait.max.ms\": %d", fetch_wait_ms);
    vg_broker *bk = start_broker();
    latency_run *lr = calloc(1, sizeof(*lr));
    lr->brokers = vg_broker_bootstrap(bk);
    lr->rate = rate;
    lr->seconds = seconds;
    lr->cap = (long)(rate * (seconds + 60.0));  /* room for a long warm-up */
    atomic_store(&lr->measure_from, LONG_MAX);
    atomic_store(&lr->measure_to, LONG_MAX);
    for (int p = 0; p < PARTITIONS; p++) {
        lr->sent_us[p] = calloc((size_t)lr->cap, sizeof(*lr->sent_us[p]));
        lr->index[p] = calloc((size_t)lr->cap, sizeof(*lr->index[p]));
    }

    char text[1024];
    snprintf(text, sizeof(text),
             "{\"log\": {\"level\": \"warn\"}, %s,"
             " \"input\": {\"brokers\": \"%s\", \"group\": \"bench-latency-%d\","
             "  \"topics\": [{\"name\": \"" INPUT "\", \"format\": \"json\"}],"
             "  \"kafka\": {\"session.timeout.ms\": 6000%s}},"
             " \"outputs\": [{\"type\": \"kafka\", \"brokers\": \"%s\", \"topic\": \"" ALERTS
             "\"}]}",
             latency_alert, lr->brokers, run, fetch_wait, lr->brokers);
    vigil_thread vt = {.cfg = load_config(text), .lr = lr};

    static const char *const props[] = {"group.id", "bench-alerts", "enable.auto.commit",
                                        "false", "fetch.wait.max.ms", "1", NULL};
    rd_kafka_t *rk = vg_bench_kafka_client(RD_KAFKA_CONSUMER, lr->brokers, props);
    rd_kafka_poll_set_consumer(rk);
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(PARTITIONS);
    for (int p = 0; p < PARTITIONS; p++)
        rd_kafka_topic_partition_list_add(parts, ALERTS, p)->offset = RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_assign(rk, parts);
    rd_kafka_topic_partition_list_destroy(parts);

    pthread_t vigil, producer;
    pthread_create(&vigil, NULL, vigil_main, &vt);
    pthread_create(&producer, NULL, producer_main, lr);

    /* Warm when events come back within 50 ms for 2 s on end, at least 5 s
     * in (each series has then seen ~250 points: past the window's fill). */
    int64_t start = now_us(), fast_since = 0, last_event = 0;
    long n = 0, events = 0, measured_events = 0;
    for (;;) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        int64_t t = now_us();
        if (m != NULL && m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
            int p = 0;
            long off = LONG_MAX;
            events++;
            last_event = t;
            if (event_origin(m->payload, m->len, &p, &off) == 0 &&
                off < atomic_load(&lr->sent[p])) {
                double ms = (double)(t - atomic_load(&lr->sent_us[p][off])) / 1000.0;
                long i = lr->index[p][off];
                if (!atomic_load(&lr->warm)) {
                    if (ms > 50.0)
                        fast_since = 0;
                    else if (fast_since == 0)
                        fast_since = t;
                    if (fast_since != 0 && t - fast_since > 2000000 && t - start > 5000000)
                        atomic_store(&lr->warm, 1);
                } else if (i >= atomic_load(&lr->measure_from) &&
                           i < atomic_load(&lr->measure_to)) {
                    measured_events++;
                    if (n < lat_cap)
                        lat_ms[n++] = ms;
                }
            }
        }
        if (m != NULL)
            rd_kafka_message_destroy(m);
        if (t - start > (int64_t)((seconds + 60.0) * 1e6))
            atomic_store(&lr->stop_producing, 1);  /* never warmed up: give up */
        long to = atomic_load(&lr->measure_to);
        if ((atomic_load(&lr->produced) >= to || atomic_load(&lr->stop_producing)) &&
            last_event != 0 && t - last_event > 1000000)
            break;
    }
    atomic_store(&lr->stop_producing, 1);
    pthread_join(producer, NULL);
    lr->stop_vigil = 1;
    pthread_join(vigil, NULL);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    if (vt.rc != VG_OK) {
        fprintf(stderr, "vg_run: %s: %s\n", vt.err.where, vt.err.msg);
        exit(1);
    }
    long from = atomic_load(&lr->measure_from), to = atomic_load(&lr->measure_to);
    if (from == LONG_MAX) {
        fprintf(stderr, "latency: vigil never kept up with %.0f msgs/s\n", rate);
        exit(1);
    }
    printf("run %d: %ld messages measured (of %ld produced), %ld events from them (%.0f%%), "
           "%ld events in all, %ld delivery surprises\n",
           run + 1, to - from, (long)atomic_load(&lr->produced), measured_events,
           100.0 * (double)measured_events / (double)(to - from), events, lr->reorders);
    for (int p = 0; p < PARTITIONS; p++) {
        free(lr->sent_us[p]);
        free(lr->index[p]);
    }
    free(lr);
    vg_config_free(vt.cfg);
    vg_broker_stop(bk);
    return n;
}

static void print_latency(const char *label, double *v, long n)
{
    double p50 = vg_bench_quantile(v, (size_t)n, 0.50);
    double p90 = vg_bench_quantile(v, (size_t)n, 0.90);
    double p99 = vg_bench_quantile(v, (size_t)n, 0.99);
    printf("%-8s p50 %6.2f ms  p90 %6.2f ms  p99 %6.2f ms  max %7.2f ms  (%ld events)\n",
           label, p50, p90, p99, v[n - 1], n);
}

static int latency(double rate, double seconds, int runs, int fetch_wait_ms)
{
    long cap = (long)(rate * seconds) + 1;
    double *lat = malloc((size_t)cap * sizeof(*lat));
    double p99[ROUNDS_MAX];
    char wait[32] = "vigil's default";
    if (fetch_wait_ms >= 0)
        snprintf(wait, sizeof(wait), "%d", fetch_wait_ms);
    printf("latency: %.0f msgs/s offered for %.0f s, %d series, %d partitions, %d runs; "
           "produced -> event consumed from the alert topic; input fetch.wait.max.ms: %s\n",
           rate, seconds, SERIES, PARTITIONS, runs, wait);
    for (int r = 0; r < runs; r++) {
        long n = latency_run_once(rate, seconds, r, fetch_wait_ms, lat, cap);
        if (n == 0) {
            fprintf(stderr, "latency: no event from a measured message\n");
            return 1;
        }
        char label[16];
        snprintf(label, sizeof(label), "run %d", r + 1);
        print_latency(label, lat, n);
        p99[r] = vg_bench_quantile(lat, (size_t)n, 0.99);
        fflush(stdout);
    }
    double mp99 = vg_bench_median(p99, (size_t)runs);
    printf("median p99 over %d runs: %.2f ms (range %.2f..%.2f; target <= 10 ms)\n", runs, mp99,
           p99[0], p99[runs - 1]);
    free(lat);
    return 0;
}

int main(int argc, char **argv)
{
    vg_log_set_level(VG_LOG_WARN);
    const char *mode = argc > 1 ? argv[1] : "all";
    if (strcmp(mode, "throughput") == 0 || strcmp(mode, "all") == 0) {
        long n = argc > 2 ? atol(argv[2]) : 1000000;
        int rounds = argc > 3 ? atoi(argv[3]) : 5;
        const char *which = argc > 4 ? argv[4] : "both";
        if (n < SERIES || rounds < 1 || rounds > ROUNDS_MAX ||
            (strcmp(which, "both") != 0 && strcmp(which, "raw") != 0 &&
             strcmp(which, "vigil") != 0 && strcmp(which, "repartition") != 0))
            goto usage;
        if (throughput(n, rounds, which) != 0)
            return 1;
        if (strcmp(mode, "throughput") == 0)
            return 0;
    }
    if (strcmp(mode, "latency") == 0 || strcmp(mode, "all") == 0) {
        int own = strcmp(mode, "latency") == 0;
        double rate = own && argc > 2 ? atof(argv[2]) : 50000;
        double seconds = own && argc > 3 ? atof(argv[3]) : 10;
        int runs = own && argc > 4 ? atoi(argv[4]) : 3;
        int fetch_wait_ms = own && argc > 5 ? atoi(argv[5]) : -1;
        if (rate < 1 || seconds <= 0 || runs < 1 || runs > ROUNDS_MAX)
            goto usage;
        return latency(rate, seconds, runs, fetch_wait_ms);
    }
usage:
    fprintf(stderr, "usage: bench_kafka [throughput [messages >= %d] [rounds 1..%d] "
                    "[both|raw|vigil|repartition]]\n"
                    "       bench_kafka latency [rate] [seconds] [runs 1..%d] "
                    "[input fetch.wait.max.ms]\n",
                    SERIES, ROUNDS_MAX, ROUNDS_MAX);
    return 2;
}
