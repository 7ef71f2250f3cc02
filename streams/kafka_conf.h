/* What the Kafka source, sink and embedded broker share about building a
 * librdkafka configuration: setting properties with vigil errors, passing a
 * JSON object of properties through, routing librdkafka's log to vigil's.
 * Resolving "embedded" is the broker's (vg_broker_resolve in broker.h): the
 * broker builds on these helpers, never the other way round. */
#ifndef VG_STREAMS_KAFKA_CONF_H
#define VG_STREAMS_KAFKA_CONF_H

#include <jansson.h>
#include <librdkafka/rdkafka.h>
#include <stddef.h>

#include "core/config_table.h"
#include "core/error.h"

/* Sets one property; VG_ECONFIG naming it (and `path` when non-NULL) if
 * librdkafka rejects it. */
int vg__kafka_conf_set(rd_kafka_conf_t *conf, const char *path, const char *name,
                       const char *value, vg_error *err);

/* Sets every member of props (NULL-able object of librdkafka properties;
 * strings, integers, reals and booleans) on conf. `path` ("input.kafka")
 * names the object in messages, with the member's position from doc. */
int vg__kafka_conf_apply_json(rd_kafka_conf_t *conf, const vg_conf_doc *doc,
                              const json_t *props, const char *path, vg_error *err);

/* Validates props as vg__kafka_conf_apply_json would, on a conf of its own
 * that it then destroys: librdkafka rejects unknown properties and bad
 * values without connecting anywhere. Returns 0 or VG_ECONFIG. */
int vg__kafka_conf_check(const vg_conf_doc *doc, const json_t *props, const char *path,
                         vg_error *err);

/* Returns a new conf whose log goes to vigil's log (librdkafka's levels are
 * syslog's), or NULL when out of memory. */
rd_kafka_conf_t *vg__kafka_conf_new(void);

#endif
