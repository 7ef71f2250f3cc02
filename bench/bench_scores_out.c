/* What a score output adds to scoring: the pipeline over 1,000 interleaved
 * series in batches of 4,096, without outputs and with a remote-write output
 * writing every scored series (one written series per scored series, the
 * issue's target case), and the same output without its label cache
 * ("label_cache": 0, every sample's labels encoded again: the cache's
 * baseline in the same run), alternated, best of VG_BENCH_RUNS. Timed in this
 * process's CPU time (the scoring thread and the output's own thread, whose
 * encoding and compression count) from the first batch until the output
 * is closed (everything queued posted), in the scoring thread's CPU time
 * until the last batch is scored (what the output costs the thread that
 * scores: its hand-over), and in wall time. The remote-write
 * endpoint is a child process on 127.0.0.1 that reads each request and
 * answers 204 (its work is not counted). Then the output's encoder alone
 * on this thread, with and without the label cache, for bare keys (as
 * above) and for keys of 4 labels (as node_exporter's).
 *
 *   bench_scores_out [points [labels]]   (default 1,000,000; "labels": the
 *   pipeline's keys of 4 labels instead of bare names) */
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench/util.h"
#include "core/metrics.h"
#include "core/vigil_metrics.h"
#include "engine/config.h"
#include "engine/pipeline.h"
#include "streams/rw_label_cache.h"

#define BATCH 4096
/* Keys of 4 labels, as node_exporter's. */
#define NODE_KEY \
    "node_cpu_seconds{cpu=\"%d\",instance=\"10.1.%d.7:9100\",job=\"node\",mode=\"idle\"}"

/* Serves one connection: reads requests (headers, then a Content-Length
 * body thrown away; the client waits for each answer), answers each 204,
 * until the client closes. */
static void serve(int fd)
{
    static char buf[1 << 20];
    size_t have = 0;
    for (;;) {
        char *end = have ? memmem(buf, have, "\r\n\r\n", 4) : NULL;
        if (end == NULL) {
            ssize_t r = read(fd, buf + have, sizeof(buf) - have);
            if (r <= 0)
                return;
            have += (size_t)r;
            continue;
        }
        const char *cl = memmem(buf, (size_t)(end - buf), "Content-Length:", 15);
        size_t body = cl ? strtoul(cl + 15, NULL, 10) : 0;
        size_t got = have - (size_t)(end + 4 - buf);
        while (got < body) {
            ssize_t r = read(fd, buf, sizeof(buf));
            if (r <= 0)
                return;
            got += (size_t)r;
        }
        have = 0;
        static const char ok[] = "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n";
        if (write(fd, ok, sizeof(ok) - 1) < 0)
            return;
    }
}

/* Starts the endpoint in a child process; returns its PID, sets *port. */
static pid_t start_endpoint(int *port)
{
    int ls = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof(a);
    if (ls < 0 || bind(ls, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(ls, 16) != 0 ||
        getsockname(ls, (struct sockaddr *)&a, &alen) != 0) {
        perror("bench_scores_out: endpoint");
        exit(1);
    }
    *port = ntohs(a.sin_port);
    pid_t pid = fork();
    if (pid == 0) {
        for (;;) {
            int fd = accept(ls, NULL, NULL);
            if (fd >= 0) {
                serve(fd);
                close(fd);
            }
        }
    }
    close(ls);
    return pid;
}

static double process_cpu_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* Points/s over b for one config (its outputs opened): rate[0] by process
 * CPU time, [1] by the scoring thread's CPU time, [2] by wall time. */
static void run(const char *config_text, const vg_batch *b, double rate[3])
{
    vg_error err = {0};
    vg_config *cfg = vg_config_load_string(config_text, "bench", &err);
    if (cfg != NULL)
        cfg->workers = 1;
    vg_pipeline *p = cfg ? vg_pipeline_new(cfg, &err) : NULL;
    if (p == NULL || vg_pipeline_open_outputs(p, &err) != 0) {
        fprintf(stderr, "bench_scores_out: %s\n", err.msg);
        exit(1);
    }
    double c0 = process_cpu_now(), t0 = vg_bench_cpu_now(), w0 = vg_bench_now();
    for (size_t off = 0; off < b->n; off += BATCH) {
        vg_batch view = *b;
        view.points = b->points + off;
        view.n = b->n - off < BATCH ? b->n - off : BATCH;
        vg_pipeline_process(p, &view);
    }
    double t1 = vg_bench_cpu_now();  /* scoring done; what follows is the output's */
    vg_pipeline_close_outputs(p);    /* the output's queue posted */
    rate[0] = (double)b->n / (process_cpu_now() - c0);
    rate[1] = (double)b->n / (t1 - t0);
    rate[2] = (double)b->n / (vg_bench_now() - w0);
    vg_pipeline_free(p);
    vg_config_free(cfg);
}

/* The output's encoder alone, on this thread: n points of 1,000 series
 * (keys of `shape`: printf with the series number), 5 values each, in
 * requests of 2,000 points, with the label cache and without (alternated,
 * best of VG_BENCH_RUNS); ns per point, snappy compression timed apart. */
static void encoder_alone(const char *shape, long n)
{
    static const char *const names[5] = {"vigil_value", "vigil_expected", "vigil_lower",
                                         "vigil_upper", "vigil_anomaly_score"};
    char (*keys)[160] = malloc(VG_BENCH_SERIES * sizeof(*keys));
    if (keys == NULL)
        exit(1);
    for (int i = 0; i < VG_BENCH_SERIES; i++)
        snprintf(keys[i], sizeof(keys[i]), shape, i, i % 16);
    double best[2][2] = {{1e300, 1e300}, {1e300, 1e300}};  /* [cache][encode|compress] */
    size_t bytes = 0;
    for (int r = 0; r < VG_BENCH_RUNS; r++)
        for (int cached = 1; cached >= 0; cached--) {
            vg_rw_label_cache *c = cached ? vg_rw_label_cache_new(100000) : NULL;
            vg_rw_request rq;
            vg_rw_request_init(&rq);
            double enc = 0, comp = 0;
            for (long i = 0; i < n;) {
                double t0 = vg_bench_cpu_now();
                for (long end = i + 2000 < n ? i + 2000 : n; i < end; i++) {
                    const char *key = keys[i % VG_BENCH_SERIES];
                    double v[5] = {(double)i, 1.5, 0.5, 2.5, 3.0};
                    vg_rw_score_encode(&rq, c, key, strlen(key), names, v, 5,
                                       1404172800000LL + i * 300);
                }
                double t1 = vg_bench_cpu_now();
                size_t len = 0;
                free(vg_rw_request_compress(&rq, &len));
                comp += vg_bench_cpu_now() - t1;
                enc += t1 - t0;
                bytes = rq.len;
                vg_rw_request_reset(&rq);
            }
            best[cached][0] = enc < best[cached][0] ? enc : best[cached][0];
            best[cached][1] = comp < best[cached][1] ? comp : best[cached][1];
            vg_rw_request_release(&rq);
            vg_rw_label_cache_free(c);
        }
    printf("  encoder alone, keys like %s (%zu B a request of 2,000 points):\n"
           "    encode: label cache %.0f ns/point, without %.0f ns/point (%.2fx); "
           "snappy %.0f ns/point\n", keys[42], bytes, 1e9 * best[1][0] / (double)n,
           1e9 * best[0][0] / (double)n, best[0][0] / best[1][0],
           1e9 * (best[0][1] + best[1][1]) / 2 / (double)n);
    free(keys);
}

/* The same points under keys of 4 labels (NODE_KEY, by series number). */
static void with_labels(vg_batch *b)
{
    vg_batch out;
    vg_batch_init(&out);
    for (size_t i = 0; i < b->n; i++) {
        int series = atoi(vg_batch_key(b, &b->points[i]) + 4);  /* "host%03d.cpu" */
        char key[160];
        int len = snprintf(key, sizeof(key), NODE_KEY, series, series % 16);
        vg_batch_push(&out, key, (size_t)len, b->points[i].ts_ms, b->points[i].value, NULL);
    }
    vg_batch_release(b);
    *b = out;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 1000000;
    int port;
    pid_t endpoint = start_endpoint(&port);
    vg_batch b;
    vg_batch_init(&b);
    vg_bench_fill_cycles(&b, n);
    if (argc > 2 && strcmp(argv[2], "labels") == 0)
        with_labels(&b);
    static const char *const detectors[2][2] = {
        {"zscore only", "\"detectors\": {\"zscore\": {}}"},
        {"all defaults", "\"window\": 200"},
    };
    printf("score outputs, %zu points, %d series, one worker, best of %d:\n", b.n,
           VG_BENCH_SERIES, VG_BENCH_RUNS);
    for (int d = 0; d < 2; d++) {
        /* [0] no output, [1] remote-write, [2] remote-write without its
         * label cache (the baseline of the cache, same run). */
        char text[3][512];
        snprintf(text[0], sizeof(text[0]), "{%s}", detectors[d][1]);
        for (int k = 1; k < 3; k++)
            snprintf(text[k], sizeof(text[k]),
                     "{%s, \"outputs\": [{\"type\": \"remote-write\", "
                     "\"url\": \"http://127.0.0.1:%d/api/v1/write\", \"label_cache\": %d}]}",
                     detectors[d][1], port, k == 1 ? 100000 : 0);
        double best[3][3] = {{0}};  /* [config][process CPU|scoring thread|wall] */
        for (int r = 0; r < VG_BENCH_RUNS; r++)
            for (int k = 0; k < 3; k++) {
                double rate[3];
                run(text[k], &b, rate);
                for (int c = 0; c < 3; c++)
                    best[k][c] = rate[c] > best[k][c] ? rate[c] : best[k][c];
            }
        static const char *const clocks[3] = {"process CPU", "scoring thread CPU", "wall"};
        for (int c = 0; c < 3; c++)
            printf("  %-13s %-18s no output %6.3f M points/s | remote-write %6.3f M, "
                   "added %+6.1f %% | without label cache %6.3f M, added %+6.1f %%\n",
                   c == 0 ? detectors[d][0] : "", clocks[c], best[0][c] / 1e6,
                   best[1][c] / 1e6, 100.0 * (best[0][c] / best[1][c] - 1), best[2][c] / 1e6,
                   100.0 * (best[0][c] / best[2][c] - 1));
    }
    encoder_alone("host%03d.cpu", n);
    encoder_alone(NODE_KEY, n);
    static const char *const sent[] = {"sent"};
    double points_sent = vg_metrics_value(vg_metric_with(VG_M_SCORE_POINTS, sent));
    printf("  points sent by the output: %.0f of %ld\n", points_sent, n * 4 * VG_BENCH_RUNS);
    kill(endpoint, SIGTERM);
    waitpid(endpoint, NULL, 0);
    vg_batch_release(&b);
    return 0;
}
