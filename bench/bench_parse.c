/* Message parser throughput: messages/s, ns/message and points/s for each
 * format on typical messages (built-in samples; the protobuf formats on
 * generated requests of 1000 points), per second of CPU time. Prints figures; asserts nothing.
 *
 *   bench_parse [seconds per case, default 1]                              */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <snappy-c.h>
#include <time.h>

#include "core/point.h"
#include "streams/parse.h"

/* The thread's CPU time: figures are per core, and hold on a shared
 * machine where wall time would count other processes' turns. */
static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* lens NULL: the messages are text. */
static void run_len(const char *label, const char *config, const char *const *msgs,
                    const size_t *msg_lens, size_t n, double seconds)
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
        lens[i] = msg_lens != NULL ? msg_lens[i] : strlen(msgs[i]);
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
    printf("%-32s %10.0f msgs/s %10.1f ns/msg %7.2f points/msg %6.2f M points/s%s\n", label,
           done / t, t * 1e9 / done, (double)points / done, points / t / 1e6,
           errors ? "  (errors!)" : "");
    vg_batch_release(&b);
    vg_parser_free(ps);
}

static void run(const char *label, const char *config, const char *const *msgs, size_t n,
                double seconds)
{
    run_len(label, config, msgs, NULL, n, seconds);
}

/* ---- protobuf messages for the protobuf formats: a minimal encoder */

typedef struct pbuf {
    uint8_t *b;
    size_t   len, cap;
} pbuf;

static void put(pbuf *o, const void *bytes, size_t n)
{
    if (o->len + n > o->cap) {
        o->cap = (o->len + n) * 2;
        o->b = realloc(o->b, o->cap);
        if (o->b == NULL)
            abort();
    }
    memcpy(o->b + o->len, bytes, n);
    o->len += n;
}

static void varint(pbuf *o, uint64_t v)
{
    uint8_t b[10];
    size_t n = 0;
    do {
        b[n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        v >>= 7;
    } while (v != 0);
    put(o, b, n);
}

static void fixed64(pbuf *o, uint32_t field, uint64_t v)
{
    varint(o, (uint64_t)field << 3 | 1);
    put(o, &v, 8);  /* little-endian hosts only, as the bench runs */
}

static void nested(pbuf *o, uint32_t field, const pbuf *sub)
{
    varint(o, (uint64_t)field << 3 | 2);
    varint(o, sub->len);
    put(o, sub->b, sub->len);
}

static void text(pbuf *o, uint32_t field, const char *s)
{
    pbuf t = {(uint8_t *)s, strlen(s), 0};
    nested(o, field, &t);
}

/* KeyValue {key, AnyValue{string_value}} or Label {name, value}. */
static void pair(pbuf *o, uint32_t field, const char *k, const char *v, int any)
{
    pbuf kv = {0}, val = {0};
    text(&kv, 1, k);
    if (any) {
        text(&val, 1, v);
        nested(&kv, 2, &val);
    } else {
        text(&kv, 2, v);
    }
    nested(o, field, &kv);
    free(kv.b);
    free(val.b);
}

/* An OTLP request of one resource, `n` gauges of one point, 3 attributes. */
static pbuf otlp_request(size_t n)
{
    pbuf scope = {0}, rm = {0}, req = {0}, res = {0};
    for (size_t i = 0; i < n; i++) {
        pbuf pt = {0}, g = {0}, m = {0};
        char host[32];
        snprintf(host, sizeof(host), "host-%zu", i);
        pair(&pt, 7, "host", host, 1);
        pair(&pt, 7, "dc", "eu-west-1", 1);
        pair(&pt, 7, "mode", "idle", 1);
        fixed64(&pt, 3, 1700000000000000000ULL);
        double value = 0.25 * (double)i;
        uint64_t bits;
        memcpy(&bits, &value, sizeof(bits));
        fixed64(&pt, 4, bits);
        nested(&g, 1, &pt);
        text(&m, 1, "system.cpu.utilization");
        nested(&m, 5, &g);
        nested(&scope, 2, &m);
        free(pt.b), free(g.b), free(m.b);
    }
    pair(&res, 1, "service.name", "node", 1);
    nested(&rm, 1, &res);
    nested(&rm, 2, &scope);
    nested(&req, 1, &rm);
    free(scope.b), free(rm.b), free(res.b);
    return req;
}

/* A snappy-compressed WriteRequest of `n` series of one sample, 4 labels. */
static pbuf remote_write_request(size_t n)
{
    pbuf req = {0};
    for (size_t i = 0; i < n; i++) {
        pbuf ts = {0}, smp = {0};
        char inst[32];
        snprintf(inst, sizeof(inst), "10.0.%zu.%zu:9100", i / 256, i % 256);
        pair(&ts, 1, "__name__", "node_memory_MemAvailable_bytes", 0);
        pair(&ts, 1, "instance", inst, 0);
        pair(&ts, 1, "job", "node", 0);
        pair(&ts, 1, "region", "eu-west-1", 0);
        fixed64(&smp, 1, 0x41d0000000000000ULL);  /* 1073741824.0 */
        varint(&smp, 2 << 3);
        varint(&smp, 1700000000000ULL);
        nested(&ts, 2, &smp);
        nested(&req, 1, &ts);
        free(ts.b), free(smp.b);
    }
    size_t clen = snappy_max_compressed_length(req.len);
    pbuf out = {malloc(clen), clen, clen};
    if (out.b == NULL || snappy_compress((const char *)req.b, req.len, (char *)out.b,
                                         &out.len) != SNAPPY_OK)
        abort();
    free(req.b);
    return out;
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

    /* The protobuf formats with many points per message, as the OTel
     * Collector and Prometheus batch them. */
    pbuf otlp = otlp_request(1000), rw = remote_write_request(1000);
    const char *bin[] = {(const char *)otlp.b};
    run_len("otlp-proto (1000 gauges/msg)", "{\"format\":\"otlp-proto\"}", bin, &otlp.len, 1,
            seconds);
    bin[0] = (const char *)rw.b;
    run_len("remote-write (1000 series/msg)",
            "{\"format\":\"prometheus-remote-write\",\"max_bytes\":16777216}", bin, &rw.len,
            1, seconds);
    free(otlp.b);
    free(rw.b);
    return 0;
}
