/* Synthetic metrics for `vigil demo`; see demo_producer.h. */
#include "streams/demo_producer.h"

#include <librdkafka/rdkafka.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/series_key.h"
#include "streams/broker.h"

#define STEP_MS   (5 * 60 * 1000)
#define DAY_STEPS 288
#define HOSTS     6

static const char *const hosts[HOSTS] = {"web-1", "web-2", "web-3", "db-1", "db-2", "cache-1"};
static const char *const metrics[] = {"cpu_percent", "latency_ms", "requests_per_s",
                                      "errors_per_s"};
#define METRICS (sizeof(metrics) / sizeof(metrics[0]))

/* Where the anomalies go, in steps from the end of the stream: late enough
 * that every detector has trained (the seasonal one needs five days). */
enum { SPIKE_AT = 400, SHIFT_AT = 320, DRIFT_AT = 250, BURST_AT = 150, BURST_LEN = 8 };

static vg_demo_anomaly anomalies[] = {
    {"cpu_percent{host=\"web-2\"}", "spike", 0, 0},
    {"latency_ms{host=\"db-1\"}", "level shift", 0, 0},
    {"requests_per_s{host=\"web-3\"}", "slow drift", 0, 0},
    {"errors_per_s{host=\"cache-1\"}", "error burst", 0, 0},
};
#define ANOMALIES (sizeof(anomalies) / sizeof(anomalies[0]))

struct vg_demo_producer {
    pthread_t        thread;
    char             topic[128];
    int              steps;
    double           seconds;
    int64_t          t0;       /* timestamp of step 0 */
    atomic_int       done;
    atomic_int       stop;
    atomic_ullong    sent;
};

size_t vg_demo_series_count(void)
{
    return HOSTS * METRICS;
}

const vg_demo_anomaly *vg_demo_anomalies(size_t *n)
{
    *n = ANOMALIES;
    return anomalies;
}

/* xorshift + Box-Muller: cheap, seeded noise. */
static double noise(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    double u1 = ((double)(*s >> 11) + 0.5) * 0x1.0p-53;
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    double u2 = (double)(*s >> 11) * 0x1.0p-53;
    return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

/* The value of metric m of host h at step i of n, anomalies included. */
static double value_at(int h, size_t m, int i, int n, uint64_t *rng)
{
    double day = sin(2.0 * M_PI * (double)(i % DAY_STEPS) / DAY_STEPS);  /* peak mid-day */
    double load = 1.0 + 0.5 * day;
    double v;
    switch (m) {
    case 0:  v = 35.0 * load + 2.0 * noise(rng); break;            /* cpu */
    case 1:  v = 20.0 + 8.0 * load + 1.0 * noise(rng); break;      /* latency */
    case 2:  v = 800.0 * load + 25.0 * noise(rng); break;          /* requests */
    default: v = fabs(2.0 + 0.5 * noise(rng)); break;              /* errors */
    }
    int from_end = n - i;
    if (h == 1 && m == 0 && from_end == SPIKE_AT)
        v += 45.0;
    if (h == 3 && m == 1 && from_end <= SHIFT_AT)
        v += 15.0;
    if (h == 2 && m == 2 && from_end <= DRIFT_AT)
        v += 4.0 * (double)(DRIFT_AT - from_end);
    if (h == 5 && m == 3 && from_end <= BURST_AT && from_end > BURST_AT - BURST_LEN)
        v += 25.0;
    return v;
}

static rd_kafka_t *connect_producer(vg_demo_producer *dp)
{
    char bootstrap[256], errstr[256];
    /* The broker is started by the consumer side; wait for it. */
    for (int tries = 0; vg_broker_embedded_bootstrap(bootstrap, sizeof(bootstrap)) != 0; tries++) {
        if (tries > 3000 || atomic_load(&dp->stop))
            return NULL;
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, errstr, sizeof(errstr)) ||
        rd_kafka_conf_set(conf, "linger.ms", "5", errstr, sizeof(errstr)) ||
        rd_kafka_conf_set(conf, "compression.codec", "zstd", errstr, sizeof(errstr))) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    if (rk == NULL)
        rd_kafka_conf_destroy(conf);
    return rk;
}

static void *produce_all(void *arg)
{
    vg_demo_producer *dp = arg;
    rd_kafka_t *rk = connect_producer(dp);
    if (rk == NULL) {
        vg_err("demo: cannot reach the embedded broker");
        atomic_store(&dp->done, 1);
        return NULL;
    }
    uint64_t rng = 0x5eed;
    double pause_ns = dp->seconds * 1e9 / dp->steps;
    for (int i = 0; i < dp->steps && !atomic_load(&dp->stop); i++) {
        int64_t ts = dp->t0 + (int64_t)i * STEP_MS;
        for (int h = 0; h < HOSTS; h++) {
            for (size_t m = 0; m < METRICS; m++) {
                char key[128], msg[256];
                vg_label host = {"host", 4, hosts[h], strlen(hosts[h])};
                int key_len = vg_series_key_build(key, sizeof(key), metrics[m],
                                                  strlen(metrics[m]), &host, 1);
                int len = snprintf(msg, sizeof(msg),
                                   "{\"series\":\"%s\",\"labels\":{\"host\":\"%s\"},"
                                   "\"ts\":%lld,\"value\":%.4f}",
                                   metrics[m], hosts[h], (long long)ts,
                                   value_at(h, m, i, dp->steps, &rng));
                while (rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(dp->topic),
                                         RD_KAFKA_V_KEY(key, (size_t)key_len),
                                         RD_KAFKA_V_VALUE(msg, (size_t)len),
                                         RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                         RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
                    rd_kafka_poll(rk, 10);
                atomic_fetch_add(&dp->sent, 1);
            }
        }
        rd_kafka_poll(rk, 0);
        struct timespec pause = {0, (long)pause_ns};
        nanosleep(&pause, NULL);
    }
    rd_kafka_flush(rk, 30000);
    rd_kafka_destroy(rk);
    atomic_store(&dp->done, 1);
    return NULL;
}

vg_demo_producer *vg_demo_producer_start(const char *topic, int steps, double seconds,
                                         vg_error *err)
{
    vg_demo_producer *dp = calloc(1, sizeof(*dp));
    if (dp == NULL) {
        vg_error_set(err, VG_ENOMEM, "demo producer");
        return NULL;
    }
    snprintf(dp->topic, sizeof(dp->topic), "%s", topic);
    dp->steps = steps;
    dp->seconds = seconds;
    /* The stream ends now, on a 5-minute boundary. */
    int64_t now = vg_wall_ms();
    dp->t0 = now - now % STEP_MS - (int64_t)(steps - 1) * STEP_MS;
    int64_t offsets[ANOMALIES][2] = {
        {SPIKE_AT, SPIKE_AT}, {SHIFT_AT, 1}, {DRIFT_AT, 1}, {BURST_AT, BURST_AT - BURST_LEN + 1},
    };
    for (size_t k = 0; k < ANOMALIES; k++) {
        anomalies[k].start_ms = dp->t0 + (int64_t)(steps - offsets[k][0]) * STEP_MS;
        anomalies[k].end_ms = dp->t0 + (int64_t)(steps - offsets[k][1]) * STEP_MS;
    }
    if (pthread_create(&dp->thread, NULL, produce_all, dp) != 0) {
        free(dp);
        vg_error_set(err, VG_ENOMEM, "demo producer thread");
        return NULL;
    }
    return dp;
}

int vg_demo_producer_done(const vg_demo_producer *dp)
{
    return atomic_load(&dp->done);
}

uint64_t vg_demo_producer_sent(const vg_demo_producer *dp)
{
    return atomic_load(&dp->sent);
}

void vg_demo_producer_stop(vg_demo_producer *dp)
{
    if (dp == NULL)
        return;
    atomic_store(&dp->stop, 1);
    pthread_join(dp->thread, NULL);
    free(dp);
}
