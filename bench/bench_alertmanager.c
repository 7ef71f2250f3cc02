/* Alertmanager sink throughput: what emit() costs the pipeline thread (the
 * alert is encoded and queued there), and how many alerts per second the
 * worker posts to a keep-alive HTTP server on 127.0.0.1 that answers 200 at
 * once (an upper bound: a real Alertmanager does more per alert), for a
 * few batch sizes.
 *
 *   bench_alertmanager [alerts]     (default 100,000) */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/config_table.h"
#include "core/log.h"
#include "streams/alertmanager_sink.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Answers 200 to every request on every connection, one connection at a
 * time (the sink keeps one open). Requests are framed by Content-Length. */
static void *serve(void *arg)
{
    int fd = *(int *)arg;
    static char buf[1 << 20];
    for (;;) {
        int conn = accept(fd, NULL, NULL);
        if (conn < 0)
            return NULL;
        size_t len = 0;
        for (;;) {
            char *end = len ? memmem(buf, len, "\r\n\r\n", 4) : NULL;
            if (end != NULL) {
                char *cl = memmem(buf, (size_t)(end - buf), "Content-Length:", 15);
                size_t need = (size_t)(end - buf) + 4 + (cl ? strtoul(cl + 15, NULL, 10) : 0);
                if (len >= need) {
                    static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
                    send(conn, ok, sizeof(ok) - 1, MSG_NOSIGNAL);
                    memmove(buf, buf + need, len - need);
                    len -= need;
                    continue;
                }
            }
            ssize_t k = recv(conn, buf + len, sizeof(buf) - len, 0);
            if (k <= 0)
                break;
            len += (size_t)k;
        }
        close(conn);
    }
}

static void *open_sink(int port, int batch, long queue)
{
    char text[256];
    snprintf(text, sizeof(text),
             "{\"url\": \"http://127.0.0.1:%d\", \"batch\": %d, \"queue\": %ld}", port, batch,
             queue);
    vg_error err = {0};
    vg_conf_doc *doc = vg_conf_doc_load_string(text, "<bench>", &err);
    void *sink = doc ? vg_alertmanager_sink_ops.open(doc, vg_conf_doc_root(doc), &err) : NULL;
    vg_conf_doc_free(doc);
    if (sink == NULL) {
        fprintf(stderr, "bench_alertmanager: %s\n", err.msg);
        exit(1);
    }
    return sink;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 100000;
    vg_log_set_level(VG_LOG_ERROR);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t alen = sizeof(addr);
    if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0 || listen(fd, 4) != 0 ||
        getsockname(fd, (struct sockaddr *)&addr, &alen) != 0) {
        perror("bench_alertmanager: listen");
        return 1;
    }
    pthread_t server;
    pthread_create(&server, NULL, serve, &fd);

    /* One series per alert, like a fleet-wide incident. */
    char (*keys)[64] = malloc((size_t)n * sizeof(*keys));
    if (keys == NULL)
        return 1;
    for (long i = 0; i < n; i++)
        snprintf(keys[i], sizeof(keys[i]), "cpu_user{host=\"h%ld\",cpu=\"0\"}", i);

    printf("%-8s %14s %14s\n", "batch", "emit ns/alert", "posted/s");
    static const int batches[] = {1, 16, 64, 256};
    for (size_t b = 0; b < sizeof(batches) / sizeof(batches[0]); b++) {
        void *sink = open_sink(ntohs(addr.sin_port), batches[b], n);
        vg_event ev;
        memset(&ev, 0, sizeof(ev));
        ev.state = VG_ALERT_FIRING;
        ev.value = 97.5;
        ev.expected = 12;
        ev.lower = 10;
        ev.upper = 14;
        ev.score = ev.peak = 0.9999;
        double t0 = now_s(), emit_s = 0;
        for (long i = 0; i < n; i++) {
            ev.series = keys[i];
            ev.series_len = strlen(keys[i]);
            ev.start_ms = 1700000000000 + i;
            vg_event_make_id(&ev);
            double e0 = now_s();
            vg_alertmanager_sink_ops.emit(sink, &ev);
            emit_s += now_s() - e0;
        }
        int rc = vg_alertmanager_sink_ops.flush(sink, 600000);
        double total = now_s() - t0;
        vg_alertmanager_stats st;
        vg_alertmanager_sink_stats(sink, &st);
        vg_alertmanager_sink_ops.close(sink);
        if (rc != 0 || st.posted != (uint64_t)n) {
            fprintf(stderr, "bench_alertmanager: posted %llu of %ld\n",
                    (unsigned long long)st.posted, n);
            return 1;
        }
        printf("%-8d %14.0f %14.0f\n", batches[b], emit_s / (double)n * 1e9, (double)n / total);
    }
    shutdown(fd, SHUT_RDWR);
    pthread_join(server, NULL);
    close(fd);
    free(keys);
    return 0;
}
