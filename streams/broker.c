/* The embedded Kafka broker and the `vigil broker` command; see broker.h.
 *
 * The mock cluster needs a librdkafka handle to live in; a producer handle
 * with no bootstrap servers is the lightest one. It never connects anywhere:
 * its threads only serve the mock brokers' sockets. */
#include "streams/broker.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/log.h"
#include "streams/broker_control.h"
#include "streams/kafka_conf.h"
#include "streams/tcp_relay.h"

#define BROKERS_MAX 16

struct vg_broker {
    rd_kafka_t              *rk;
    rd_kafka_mock_cluster_t *mock;
    vg_tcp_relay            *relay;
    char                     bootstrap[BROKERS_MAX * 24];
};

/* The process's embedded broker, for "brokers": "embedded" in sinks. */
static pthread_mutex_t embedded_lock = PTHREAD_MUTEX_INITIALIZER;
static vg_broker *embedded;

static int check_options(const vg_broker_options *opt, vg_error *err)
{
    if (opt->brokers < 0 || opt->brokers > BROKERS_MAX)
        return vg_error_set(err, VG_EARG, "brokers: %d is not in 1..%d", opt->brokers,
                            BROKERS_MAX);
    if (opt->port < 0 || opt->port > 65535)
        return vg_error_set(err, VG_EARG, "port: %d is not in 1..65535", opt->port);
    for (size_t i = 0; i < opt->n_topics; i++) {
        const vg_broker_topic *t = &opt->topics[i];
        if (t->name == NULL || t->name[0] == '\0' || t->partitions < 1 ||
            t->partitions > 10000)
            return vg_error_set(err, VG_EARG, "topic %s: needs a name and 1..10000 partitions",
                                t->name ? t->name : "(null)");
    }
    return VG_OK;
}

/* The port of the first "host:port" of a bootstrap list. */
static int first_port(const char *bootstraps)
{
    const char *colon = strchr(bootstraps, ':');
    return colon ? atoi(colon + 1) : 0;
}

static int is_listed_port(const char *bootstraps, int port)
{
    for (const char *c = strchr(bootstraps, ':'); c != NULL; c = strchr(c + 1, ':'))
        if (atoi(c + 1) == port)
            return 1;
    return 0;
}

/* Sets TCP_NODELAY on the mock brokers' listening sockets (connections
 * accepted later inherit it). librdkafka 2.0.2's mock leaves Nagle on, so
 * when a producer has requests for several partitions in flight, the
 * mock's second response waits for the client's delayed ACK: every flush
 * took ~40 ms more. Real Kafka brokers set TCP_NODELAY. The sockets are
 * found by port among this process's descriptors (Linux /proc); where that
 * fails nothing changes but latency. */
static void nodelay_listeners(const char *bootstraps)
{
    DIR *d = opendir("/proc/self/fd");
    if (d == NULL)
        return;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        int fd = atoi(de->d_name), listening = 0, type = 0, one = 1;
        socklen_t len = sizeof(type);
        struct sockaddr_in addr;
        socklen_t alen = sizeof(addr);
        if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0 || type != SOCK_STREAM)
            continue;
        len = sizeof(listening);
        if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0 || !listening ||
            getsockname(fd, (struct sockaddr *)&addr, &alen) != 0 || addr.sin_family != AF_INET ||
            !is_listed_port(bootstraps, ntohs(addr.sin_port)))
            continue;
        if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0)
            vg_debug("broker: TCP_NODELAY on port %d: %s", ntohs(addr.sin_port), strerror(errno));
    }
    closedir(d);
}

static int create_topics(vg_broker *bk, const vg_broker_options *opt, vg_error *err)
{
    for (size_t i = 0; i < opt->n_topics; i++) {
        const vg_broker_topic *t = &opt->topics[i];
        rd_kafka_resp_err_t e = rd_kafka_mock_topic_create(bk->mock, t->name, t->partitions, 1);
        if (e != RD_KAFKA_RESP_ERR_NO_ERROR)
            return vg_error_set(err, VG_EKAFKA, "topic %s: %s", t->name, rd_kafka_err2str(e));
    }
    return VG_OK;
}

vg_broker *vg_broker_start(const vg_broker_options *opt, vg_error *err)
{
    if (check_options(opt, err) != VG_OK)
        return NULL;
    vg_broker *bk = calloc(1, sizeof(*bk));
    rd_kafka_conf_t *conf = bk ? vg__kafka_conf_new() : NULL;
    if (conf == NULL) {
        vg_error_set(err, VG_ENOMEM, "broker");
        goto out_free_broker;
    }
    /* The handle itself never connects: silence its "no bootstrap.servers". */
    if (vg__kafka_conf_set(conf, NULL, "log_level", "3", err) != VG_OK) {
        rd_kafka_conf_destroy(conf);
        goto out_free_broker;
    }
    char why[256];
    bk->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, sizeof(why));
    if (bk->rk == NULL) {
        rd_kafka_conf_destroy(conf);
        vg_error_set(err, VG_EKAFKA, "broker handle: %s", why);
        goto out_free_broker;
    }
    bk->mock = rd_kafka_mock_cluster_new(bk->rk, opt->brokers > 0 ? opt->brokers : 1);
    if (bk->mock == NULL) {
        vg_error_set(err, VG_EKAFKA, "cannot create the mock cluster");
        goto out_destroy_handle;
    }
    if (create_topics(bk, opt, err) != VG_OK)
        goto out_destroy_mock;
    const char *bootstraps = rd_kafka_mock_cluster_bootstraps(bk->mock);
    nodelay_listeners(bootstraps);
    if (opt->port > 0) {
        bk->relay = vg_tcp_relay_start(opt->port, first_port(bootstraps), err);
        if (bk->relay == NULL)
            goto out_destroy_mock;
        snprintf(bk->bootstrap, sizeof(bk->bootstrap), "127.0.0.1:%d", opt->port);
    } else {
        snprintf(bk->bootstrap, sizeof(bk->bootstrap), "%s", bootstraps);
    }
    pthread_mutex_lock(&embedded_lock);
    embedded = bk;
    pthread_mutex_unlock(&embedded_lock);
    return bk;

out_destroy_mock:
    rd_kafka_mock_cluster_destroy(bk->mock);
out_destroy_handle:
    rd_kafka_destroy(bk->rk);
out_free_broker:
    free(bk);
    return NULL;
}

void vg_broker_stop(vg_broker *bk)
{
    if (bk == NULL)
        return;
    pthread_mutex_lock(&embedded_lock);
    if (embedded == bk)
        embedded = NULL;
    pthread_mutex_unlock(&embedded_lock);
    vg_tcp_relay_stop(bk->relay);
    rd_kafka_mock_cluster_destroy(bk->mock);
    rd_kafka_destroy(bk->rk);
    free(bk);
}

const char *vg_broker_bootstrap(const vg_broker *bk)
{
    return bk->bootstrap;
}

rd_kafka_mock_cluster_t *vg_broker_mock(vg_broker *bk)
{
    return bk->mock;
}

int vg_broker_embedded_bootstrap(char *out, size_t cap)
{
    int rc = VG_ENOTFOUND;
    pthread_mutex_lock(&embedded_lock);
    if (embedded != NULL)
        rc = snprintf(out, cap, "%s", embedded->bootstrap) < (int)cap ? VG_OK : VG_ERANGE;
    pthread_mutex_unlock(&embedded_lock);
    return rc;
}

int vg_broker_resolve(const char *brokers, char *out, size_t cap, vg_error *err)
{
    if (strcmp(brokers, "embedded") != 0) {
        if (snprintf(out, cap, "%s", brokers) >= (int)cap)
            return vg_error_set(err, VG_ERANGE, "brokers: too long");
        return VG_OK;
    }
    int rc = vg_broker_embedded_bootstrap(out, cap);
    if (rc == VG_ENOTFOUND)
        return vg_error_set(err, rc, "brokers: \"embedded\" but no embedded broker runs "
                                     "in this process (the Kafka input starts it)");
    if (rc != VG_OK)
        return vg_error_set(err, rc, "brokers: embedded address too long");
    return VG_OK;
}

/* ---- vigil broker ------------------------------------------------------ */

#define TOPICS_MAX 64

static const char broker_usage[] =
    "usage: vigil broker [--port P] [--brokers N] [--topic NAME:PARTITIONS]...\n"
    "                    [--bootstrap-file F] [--control]\n"
    "Runs an embedded Kafka broker (librdkafka's mock cluster) on 127.0.0.1 until\n"
    "SIGTERM or SIGINT. Prints the bootstrap address on standard output and, with\n"
    "--bootstrap-file, writes it to F (atomically: scripts can wait for F).\n"
    "  --port P          bootstrap port (default: an ephemeral port)\n"
    "  --brokers N       number of brokers, 1..16 (default 1)\n"
    "  --topic T:N       create topic T with N partitions (repeatable; others are\n"
    "                    created on first use with 4 partitions)\n"
    "  --control         read fault-injection commands from standard input, one\n"
    "                    per line, and answer each with 'ok' or 'error: why' on\n"
    "                    standard output:\n"
    "                      down ID            broker ID (1..N) closes its connections\n"
    "                                         and refuses new ones\n"
    "                      up ID              it accepts connections again\n"
    "                      rtt ID MS          MS of added latency on its responses\n"
    "                      errors API N ERR   the next N requests of API (Produce,\n"
    "                                         Fetch, OffsetCommit, Heartbeat, ...)\n"
    "                                         fail with Kafka error ERR (e.g.\n"
    "                                         REQUEST_TIMED_OUT)\n"
    "                      clear API          drops the errors still queued for API\n";

/* vg_cli_usage_error lives with main(), outside the library this file is in. */
static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "vigil broker: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n(see 'vigil broker --help')\n");
    return 2;
}

/* Writes text + newline to path via a temporary file and rename(). */
static int write_atomically(const char *path, const char *text)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof(tmp))
        return VG_ERANGE;
    FILE *f = fopen(tmp, "w");
    if (f == NULL)
        return VG_EIO;
    int ok = fprintf(f, "%s\n", text) > 0;
    ok = fflush(f) == 0 && fsync(fileno(f)) == 0 && ok;
    ok = fclose(f) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        unlink(tmp);
        return VG_EIO;
    }
    return VG_OK;
}

/* "NAME:PARTITIONS" into t, the name copied into name[256]. */
static int parse_topic(const char *arg, char name[256], vg_broker_topic *t)
{
    const char *colon = strrchr(arg, ':');
    if (colon == NULL || colon == arg || colon - arg > 249)
        return -1;
    char *end;
    long n = strtol(colon + 1, &end, 10);
    if (*end != '\0' || end == colon + 1 || n < 1 || n > 10000)
        return -1;
    snprintf(name, 256, "%.*s", (int)(colon - arg), arg);
    t->name = name;
    t->partitions = (int)n;
    return 0;
}

static int parse_int(const char *s, int lo, int hi, int *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v < lo || v > hi)
        return -1;
    *out = (int)v;
    return 0;
}

static void control_line(vg_broker *bk, const char *line)
{
    vg_error err;
    vg_error_clear(&err);
    if (vg__broker_control(bk->mock, line, &err) == VG_OK)
        printf("ok %s\n", line);
    else
        printf("error: %s\n", err.msg);
    fflush(stdout);
}

/* Runs --control commands from stdin until a stop signal (returned) or the
 * end of stdin (returns 0: the caller then just waits for the signal). */
static int control_loop(vg_broker *bk, const sigset_t *stop)
{
    char buf[4096];
    size_t len = 0;
    const struct timespec now = {0, 0};
    for (;;) {
        int sig = sigtimedwait(stop, NULL, &now);
        if (sig > 0)
            return sig;
        struct pollfd pfd = {STDIN_FILENO, POLLIN, 0};
        if (poll(&pfd, 1, 100) <= 0)
            continue;
        ssize_t n = read(STDIN_FILENO, buf + len, sizeof(buf) - 1 - len);
        if (n <= 0)
            return 0;
        len += (size_t)n;
        buf[len] = '\0';
        char *start = buf, *nl;
        while ((nl = strchr(start, '\n')) != NULL) {
            *nl = '\0';
            if (nl > start && nl[-1] == '\r')
                nl[-1] = '\0';
            control_line(bk, start);
            start = nl + 1;
        }
        len = strlen(start);
        if (len == sizeof(buf) - 1)
            len = 0;  /* a line longer than the buffer: dropped */
        memmove(buf, start, len);
    }
}

/* The command line of `vigil broker`. */
typedef struct broker_args {
    vg_broker_options opt;
    vg_broker_topic   topics[TOPICS_MAX];
    char              names[TOPICS_MAX][256];
    const char       *file;
    int               control;
} broker_args;

/* Returns 0 to start the broker, -1 after printing the help, or the exit
 * status of a usage error. */
static int parse_args(int argc, char **argv, broker_args *a)
{
    static const struct option longopts[] = {
        {"port", required_argument, NULL, 'p'},
        {"brokers", required_argument, NULL, 'b'},
        {"topic", required_argument, NULL, 't'},
        {"bootstrap-file", required_argument, NULL, 'f'},
        {"control", no_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    vg_broker_options *opt = &a->opt;
    *opt = (vg_broker_options){.brokers = 1, .topics = a->topics};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 'p':
            if (parse_int(optarg, 1, 65535, &opt->port) != 0)
                return usage_error("--port: '%s' is not in 1..65535", optarg);
            break;
        case 'b':
            if (parse_int(optarg, 1, BROKERS_MAX, &opt->brokers) != 0)
                return usage_error("--brokers: '%s' is not in 1..%d", optarg, BROKERS_MAX);
            break;
        case 't':
            if (opt->n_topics == TOPICS_MAX)
                return usage_error("more than %d topics", TOPICS_MAX);
            if (parse_topic(optarg, a->names[opt->n_topics], &a->topics[opt->n_topics]) != 0)
                return usage_error("--topic: '%s' is not NAME:PARTITIONS", optarg);
            opt->n_topics++;
            break;
        case 'f':
            a->file = optarg;
            break;
        case 'c':
            a->control = 1;
            break;
        case 'h':
            fputs(broker_usage, stdout);
            return -1;
        default:
            return usage_error("unknown option");
        }
    }
    if (optind < argc)
        return usage_error("unexpected argument '%s'", argv[optind]);
    return 0;
}

int vg_broker_main(int argc, char **argv)
{
    broker_args args = {0};
    int rc = parse_args(argc, argv, &args);
    if (rc != 0)
        return rc < 0 ? 0 : rc;
    const vg_broker_options *opt = &args.opt;
    const char *file = args.file;

    /* Blocked before librdkafka starts its threads, which inherit the mask:
     * only sigwait() below ever sees the signals. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);

    vg_error err;
    vg_broker *bk = vg_broker_start(opt, &err);
    if (bk == NULL) {
        char msg[256];
        fprintf(stderr, "vigil broker: %s\n", vg_error_format(&err, msg, sizeof(msg)));
        return 1;
    }
    printf("%s\n", vg_broker_bootstrap(bk));
    fflush(stdout);
    int status = 0;
    if (file != NULL && write_atomically(file, vg_broker_bootstrap(bk)) != VG_OK) {
        fprintf(stderr, "vigil broker: cannot write %s: %s\n", file, strerror(errno));
        status = 1;
    }
    if (status == 0) {
        int sig = args.control ? control_loop(bk, &stop) : 0;
        if (sig <= 0)
            sigwait(&stop, &sig);
        vg_info("broker: stopping on signal %d", sig);
    }
    vg_broker_stop(bk);
    return status;
}
