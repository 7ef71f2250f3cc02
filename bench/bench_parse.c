/* Message parser throughput: messages/s and ns/message for each format on
 * typical messages (the collectd captures when the shared data folder is
 * given, else built-in samples). Prints figures; asserts nothing.
 *
 *   bench_parse [seconds per case, default 1]                              */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/point.h"
#include "streams/parse.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void run(const char *label, const char *config, const char *const *msgs, size_t n,
                double seconds)
{
    json_t *cfg = json_loads(config, 0, NULL);
    vg_error err;
    vg_parser *ps = vg_parser_new(NULL, cfg, &err);
    json_decref(cfg);
    if (ps == NULL) {
        fprintf(stderr, "%s: %s\n", label, err.msg);
        exit(1);
    }
    size_t lens[64];
    for (size_t i = 0; i < n; i++)
        lens[i] = strlen(msgs[i]);
    vg_batch b;
    vg_batch_init(&b);
    size_t done = 0, points = 0, errors = 0;
    double t0 = now_s(), t;
    do {
        for (int rep = 0; rep < 1000; rep++) {
            size_t k = done++ % n;
            vg_batch_reset(&b);
            int rc = vg_parser_parse(ps, msgs[k], lens[k], 1700000000000 + (int64_t)done,
                                     NULL, &b, &err);
            if (rc < 0)
                errors++;
            points += b.n;
        }
        t = now_s() - t0;
    } while (t < seconds);
    printf("%-28s %10.0f msgs/s %8.1f ns/msg %6.2f points/msg%s\n", label, done / t,
           t * 1e9 / done, (double)points / done, errors ? "  (errors!)" : "");
    vg_batch_release(&b);
    vg_parser_free(ps);
}

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? atof(argv[1]) : 1.0;
    static const char *const flat[] = {
        "{\"series\":\"cpu\",\"labels\":{\"host\":\"a\",\"dc\":\"eu\"},\"ts\":1700000000000,\"value\":0.5}",
        "{\"series\":\"mem\",\"labels\":{\"host\":\"b\",\"dc\":\"us\"},\"ts\":1700000000001,\"value\":1234567}",
    };
    static const char *const wide[] = {
        "{\"ts\":1700000000,\"host\":\"a\",\"cpu\":0.5,\"mem\":0.7,\"disk\":12,\"net\":1e6}",
    };
    static const char *const influx[] = {
        "cpu,host=a,dc=eu usage_user=0.5,usage_system=2i,usage_idle=97.5 1700000000000000000",
    };
    static const char *const graphite[] = {
        "collectd.collectd-host.example.org.interface-lo.if_packets.rx 715 1795283971\r\n",
    };
    static const char *const cjson[] = {
        "[{\"values\":[211427536,155822],\"dstypes\":[\"derive\",\"derive\"],\"dsnames\":[\"rx\",\"tx\"],"
        "\"time\":1795284041.608,\"interval\":1.000,\"host\":\"h\",\"plugin\":\"interface\","
        "\"plugin_instance\":\"eth0\",\"type\":\"if_octets\",\"type_instance\":\"\"}]",
    };
    static const char *const command[] = {
        "PUTVAL collectd-host.example.org/load/load interval=1.000 1795284041.608:0.140625:0.15771484375:0.10546875",
    };
    run("json (flat, labels)", "{\"format\":\"json\"}", flat, 2, seconds);
    run("json (flat, jansson only)", "{\"format\":\"json\",\"json_fast\":false}", flat, 2,
        seconds);
    run("json (one object, 4 series)", "{\"format\":\"json\"}", wide, 1, seconds);
    run("influx (3 fields)", "{\"format\":\"influx\"}", influx, 1, seconds);
    run("graphite", "{\"format\":\"graphite\"}", graphite, 1, seconds);
    run("collectd-json (2 DS)", "{\"format\":\"collectd-json\"}", cjson, 1, seconds);
    run("collectd-json (jansson only)", "{\"format\":\"collectd-json\",\"json_fast\":false}",
        cjson, 1, seconds);
    run("collectd-command (load)", "{\"format\":\"collectd-command\"}", command, 1, seconds);
    return 0;
}
