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

typedef enum vg_format {
    VG_FORMAT_JSON,               /* configurable field names */
    VG_FORMAT_INFLUX,             /* Influx line protocol */
    VG_FORMAT_GRAPHITE,           /* "path value epoch" lines */
    VG_FORMAT_COLLECTD_JSON,      /* collectd write_kafka Format JSON */
    VG_FORMAT_COLLECTD_COMMAND,   /* collectd write_kafka Format Command (PUTVAL) */
    VG_FORMAT_COUNT_,
} vg_format;

/* "json", "influx", "graphite", "collectd-json", "collectd-command"
 * (collectd's Graphite format is plain graphite). -1 when unknown. */
int vg_format_parse(const char *name);
const char *vg_format_name(vg_format f);

typedef struct vg_parser vg_parser;

/* Returns a new parser from its config object (NULL-able: defaults; the
 * "format" key picks the format, default "json"), or NULL with err naming
 * the key. Free with vg_parser_free(). */
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
