/* Kafka input throughput: vigil's source (consume + JSON parse into points)
 * against the raw-consume ceiling (a plain librdkafka consumer that only
 * counts messages), both over TCP against the embedded broker.
 *
 * The two alternate for R rounds and the medians are printed, because the
 * machine is shared (see shared/notes/kafka-here.md). Each round is timed
 * from its first message to its last, so the group join and the fetcher's
 * start-up stall are not counted.
 * usage: bench_kafka_source [messages (default 200000)] [rounds (default 5)] */
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/util.h"
#include "core/log.h"
#include "streams/broker.h"
#include "streams/kafka_source.h"

#define PARTITIONS 4

/* N metric lines of ~61 bytes, zstd-compressed so that the mock (which
 * keeps ~5 MiB of batches per partition) keeps them all. */
static void produce(const char *brokers, long n)
{
    static const char *const props[] = {"compression.codec", "zstd", "linger.ms", "20",
                                        "batch.num.messages", "10000", NULL};
    rd_kafka_t *rk = vg_bench_kafka_client(RD_KAFKA_PRODUCER, brokers, props);
    char line[128];
    for (long i = 0; i < n; i++) {
        int len = snprintf(line, sizeof(line),
                           "{\"series\":\"cpu\",\"labels\":{\"host\":\"h%ld\"},\"ts\":%lld,"
                           "\"value\":%ld.5}",
                           i % 100, 1700000000000LL + i, i % 1000);
        while (rd_kafka_producev(rk, RD_KAFKA_V_TOPIC("bench"),
                                 RD_KAFKA_V_PARTITION((int32_t)(i % PARTITIONS)),
                                 RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                 RD_KAFKA_V_VALUE(line, (size_t)len),
                                 RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
            rd_kafka_poll(rk, 10);
    }
    if (rd_kafka_flush(rk, 60000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        fprintf(stderr, "produce: flush timed out\n");
        exit(1);
    }
    /* Trust counts only when the broker still holds every message. */
    long held = vg_bench_kafka_held(rk, "bench", PARTITIONS);
    rd_kafka_destroy(rk);
    if (held != n) {
        fprintf(stderr, "the broker holds %ld of %ld messages\n", held, n);
        exit(1);
    }
}

/* The ceiling: assign every partition, count messages. Returns msgs/s. */
static double raw_round(const char *brokers, long n)
{
    static const char *const props[] = {"group.id", "bench-raw", "enable.auto.commit", "false",
                                        "fetch.wait.max.ms", "10",
                                        "queued.min.messages", "1000000", NULL};
    rd_kafka_t *rk = vg_bench_kafka_client(RD_KAFKA_CONSUMER, brokers, props);
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(PARTITIONS);
    for (int p = 0; p < PARTITIONS; p++)
        rd_kafka_topic_partition_list_add(parts, "bench", p)->offset = RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_assign(rk, parts);
    rd_kafka_topic_partition_list_destroy(parts);
    long got = 0;
    int64_t t0 = 0, t1 = 0;
    while (got < n) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 1000);
        if (m == NULL)
            continue;
        if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR && got++ == 0)
            t0 = vg_now_ms();
        rd_kafka_message_destroy(m);
    }
    t1 = vg_now_ms();
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return (double)(n - 1) * 1000.0 / (double)(t1 > t0 ? t1 - t0 : 1);
}

/* vigil's source in a fresh group, committing every batch. Returns msgs/s. */
static double vigil_round(const char *brokers, long n, int round)
{
    char text[512];
    snprintf(text, sizeof(text),
             "{\"brokers\": \"%s\", \"group\": \"bench-%d\", "
             "\"topics\": [{\"name\": \"bench\", \"format\": \"json\"}], "
             "\"kafka\": {\"session.timeout.ms\": 6000}}",
             brokers, round);
    json_t *cfg = json_loads(text, 0, NULL);
    vg_error err;
    vg_kafka_source *ks = vg_kafka_source_new(NULL, cfg, NULL, &err);
    json_decref(cfg);
    if (ks == NULL) {
        fprintf(stderr, "source: %s\n", err.msg);
        exit(1);
    }
    vg_batch b;
    vg_batch_init(&b);
    int64_t t0 = 0;
    const vg_kafka_source_stats *st = vg_kafka_source_get_stats(ks);
    while ((long)st->messages < n) {
        vg_batch_reset(&b);
        uint64_t before = st->messages;
        if (vg_kafka_source_poll(ks, &b, 1000) < 0)
            exit(1);
        if (before == 0 && st->messages > 0)
            t0 = vg_now_ms();
        vg_kafka_source_commit(ks, vg_kafka_source_position(ks));
    }
    int64_t t1 = vg_now_ms();
    if ((long)st->points != n || st->bad != 0) {
        fprintf(stderr, "vigil: %llu points, %llu bad of %ld\n",
                (unsigned long long)st->points, (unsigned long long)st->bad, n);
        exit(1);
    }
    vg_batch_release(&b);
    vg_kafka_source_close(ks);
    return (double)n * 1000.0 / (double)(t1 > t0 ? t1 - t0 : 1);
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 200000;
    int rounds = argc > 2 ? atoi(argv[2]) : 5;
    if (n < 2 || rounds < 1 || rounds > 99) {
        fprintf(stderr, "usage: bench_kafka_source [messages >= 2] [rounds 1..99]\n");
        return 2;
    }
    vg_log_set_level(VG_LOG_WARN);
    vg_broker_topic topics[] = {{"bench", PARTITIONS}};
    vg_broker_options opt = {.topics = topics, .n_topics = 1};
    vg_error err;
    vg_broker *bk = vg_broker_start(&opt, &err);
    if (bk == NULL) {
        fprintf(stderr, "broker: %s\n", err.msg);
        return 1;
    }
    produce(vg_broker_bootstrap(bk), n);

    double raw[99], vigil[99];
    for (int r = 0; r < rounds; r++) {
        raw[r] = raw_round(vg_broker_bootstrap(bk), n);
        vigil[r] = vigil_round(vg_broker_bootstrap(bk), n, r);
        printf("round %d: raw %.0f msgs/s, vigil %.0f msgs/s\n", r + 1, raw[r], vigil[r]);
    }
    double mraw = vg_bench_median(raw, (size_t)rounds);
    double mvigil = vg_bench_median(vigil, (size_t)rounds);
    printf("messages %ld, %d partitions, %d rounds (medians)\n", n, PARTITIONS, rounds);
    printf("raw consume (ceiling)        %10.0f msgs/s\n", mraw);
    printf("vigil source (consume+parse) %10.0f msgs/s  (%.2f of the ceiling)\n", mvigil,
           mvigil / mraw);
    vg_broker_stop(bk);
    return 0;
}
