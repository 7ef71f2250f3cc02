/* Message parsers: bytes of one Kafka message (or one line) -> points.
 *
 * One parser per input topic, configured with its format and options. A
 * parser may keep per-series state (collectd raw counters become per-second
 * rates, which needs the previous counter value), so it is not shared
 * between threads. Bad input is never fatal: parse returns VG_EPARSE with
 * err saying what and where, and the points of the good parts of the same
 * message are still appended when the format allows it (e.g. one bad line
 * among good Influx lines). */
#ifndef VG_STREAMS_PARSE_H
#define VG_STREAMS_PARSE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config_table.h"
#include "core/error.h"
#include "core/point.h"

typedef struct vg_parser vg_parser;

/* A message format: one file (streams/parse_<format>.c) exporting one const
 * table, listed once in streams/parser_registry.c. */
typedef struct vg_parser_ops {
    const char          *name;      /* the "format" value: "json", "influx", ... */
    /* The keys only this format reads (offsets into the parser's params,
     * parse_internal.h); the keys every format reads are vg_parser_common_fields. */
    const vg_conf_field *fields;
    size_t               n_fields;
    /* NULL-able: finishes a parser once its keys are applied (resolves
     * "auto" options, allocates per-series state). Returns 0 or VG_E*. */
    int  (*configure)(vg_parser *ps, vg_error *err);
    /* Parses ps->msg[ps->len]: appends points and records errors through
     * the helpers of parse_internal.h. */
    void (*parse)(vg_parser *ps);
} vg_parser_ops;

/* The registry: every format, in a fixed order (the first is the default). */
size_t vg_parser_type_count(void);
const vg_parser_ops *vg_parser_type_at(size_t i);
/* NULL when no format has that name. (collectd's Graphite format is plain
 * "graphite".) */
const vg_parser_ops *vg_parser_type_find(const char *name);

/* Writes the keys every format reads ("format", "ts_unit", "max_bytes")
 * into out[cap] (cap >= 3), with "format"'s choices joined from the
 * registry into choices[choices_cap]; returns their number. */
size_t vg_parser_common_fields(vg_conf_field *out, size_t cap, char *choices,
                               size_t choices_cap);

/* Returns a new parser from its config object (NULL-able: defaults; the
 * "format" key picks the format, default "json"), or NULL with err naming
 * the key and its position. A key of another format is an error. Free with
 * vg_parser_free(). */
vg_parser *vg_parser_new(const vg_conf_doc *doc, const json_t *cfg, vg_error *err);
void vg_parser_free(vg_parser *ps);

/* Parses one message and appends its points to out. msg_ts_ms is the Kafka
 * message timestamp, used when the payload has none (-1: none). origin is
 * copied into every point. Returns the number of points appended (0 is
 * fine: e.g. collectd's first rate is null), or VG_EPARSE with err set
 * (err->msg names the reason; the parse-error reason label comes from
 * vg_parser_last_reason()). */
int vg_parser_parse(vg_parser *ps, const char *msg, size_t len, int64_t msg_ts_ms,
                    const vg_origin *origin, vg_batch *out, vg_error *err);

/* A short stable reason for the last VG_EPARSE ("json", "type", "nan",
 * "missing_field", "too_large", "timestamp", ...), for metrics labels. */
const char *vg_parser_last_reason(const vg_parser *ps);

#endif
