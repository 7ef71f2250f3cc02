/* An embedded Kafka broker: librdkafka's mock cluster on 127.0.0.1.
 *
 * The mock cluster speaks the Kafka protocol over TCP, so any client (vigil,
 * kcat, collectd's write_kafka) can produce to and consume from it. It lives
 * inside a librdkafka handle and runs on that handle's threads until stopped;
 * nothing here needs to be polled.
 *
 * librdkafka 2.0.2 binds every mock broker to an ephemeral port and has no
 * call to pick one. When a fixed port is asked for, a small TCP relay listens
 * on it and forwards each connection to the first mock broker: clients
 * bootstrap through the fixed port and then follow the metadata to the
 * brokers' own (ephemeral) ports, which is how Kafka clients work anyway.
 *
 * Fault injection for tests goes straight to the mock cluster:
 * rd_kafka_mock_broker_set_down(), rd_kafka_mock_push_request_errors(), ...
 * on vg_broker_mock(). */
#ifndef VG_STREAMS_BROKER_H
#define VG_STREAMS_BROKER_H

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stddef.h>

#include "core/error.h"

typedef struct vg_broker vg_broker;

typedef struct vg_broker_topic {
    const char *name;        /* borrowed for the call */
    int         partitions;  /* >= 1 */
} vg_broker_topic;

typedef struct vg_broker_options {
    int                    brokers;    /* mock brokers, 1..16 (0 means 1) */
    const vg_broker_topic *topics;     /* created up front; NULL-able */
    size_t                 n_topics;   /* other topics are auto-created with 4 partitions */
    int                    port;       /* 0: bootstrap on broker 1's ephemeral port;
                                          else a relay on 127.0.0.1:port */
} vg_broker_options;

/* Starts a broker. Returns a new broker (stop it with vg_broker_stop), or
 * NULL with err set (VG_EARG for bad options, VG_EIO when the port is taken,
 * VG_EKAFKA when librdkafka fails). The broker also becomes this process's
 * "embedded" broker until stopped (see vg_broker_embedded_bootstrap). */
vg_broker *vg_broker_start(const vg_broker_options *opt, vg_error *err);

/* Stops the broker, closes every connection and frees it; NULL does nothing. */
void vg_broker_stop(vg_broker *bk);

/* "127.0.0.1:PORT[,127.0.0.1:PORT...]": the bootstrap address list. Borrowed,
 * valid until vg_broker_stop. With a fixed port it is "127.0.0.1:port". */
const char *vg_broker_bootstrap(const vg_broker *bk);

/* The mock cluster, for fault injection (borrowed, valid until stop). Broker
 * ids are 1..brokers. */
rd_kafka_mock_cluster_t *vg_broker_mock(vg_broker *bk);

/* Copies the bootstrap address of the most recently started broker of this
 * process that is still running into out[cap]: how "brokers": "embedded" in
 * a sink finds the broker the Kafka input started. Returns 0, VG_ENOTFOUND
 * when none runs, or VG_ERANGE. Thread-safe. */
int vg_broker_embedded_bootstrap(char *out, size_t cap);

/* Resolves a "brokers" config value into out[cap]: "embedded" becomes the
 * address of the broker running in this process; anything else is copied.
 * Returns 0, VG_ENOTFOUND when "embedded" is asked for but none runs, or
 * VG_ERANGE, with err set. */
int vg_broker_resolve(const char *brokers, char *out, size_t cap, vg_error *err);

/* The `vigil broker` command: [--port P] [--brokers N]
 * [--topic NAME:PARTITIONS]... [--bootstrap-file F]. Prints the bootstrap
 * address on stdout (one line, flushed), writes it atomically to F when
 * given, runs until SIGTERM or SIGINT, and returns the exit status (0, 1 on
 * failure, 2 on a usage error). Call it before starting any other thread:
 * it blocks both signals so that only it receives them. */
int vg_broker_main(int argc, char **argv);

#endif
