/* Internals shared by the message parsers (parse*.c); not for callers.
 *
 * parse.c owns the parser object, the keys every format reads and the
 * helpers every format needs: building a key and pushing a point, reading numbers and
 * epoch timestamps, and recording the first error of a message with its
 * reason and position. Each format is one vg_parser_ops table (parse.h)
 * whose parse() appends points and records errors through these helpers;
 * parse.c turns "an error was recorded" into VG_EPARSE after the good points
 * are in. */
#ifndef VG_STREAMS_PARSE_INTERNAL_H
#define VG_STREAMS_PARSE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/point.h"
#include "core/series_key.h"
#include "streams/counter_rate.h"
#include "streams/parse.h"

#define VG__FIELD_MAX   64     /* configured JSON field names */
#define VG__KEY_MAX     2048   /* longest series key */
#define VG__SCRATCH_MAX 8192   /* unescaped names and label values of one line */
#define VG__MAX_EPOCH_MS 253402300799999LL  /* 9999-12-31T23:59:59.999Z */

enum { VG__TS_AUTO, VG__TS_S, VG__TS_MS, VG__TS_US, VG__TS_NS };
enum { VG__COUNTERS_AUTO, VG__COUNTERS_RATE, VG__COUNTERS_RAW };

/* JSON messages are read into a flat array of nodes in the parser (no
 * allocation): a node's subtree follows it, `size` nodes long, so the next
 * sibling of c is c + 1 + c->size. Two readers fill it the same way: a
 * fast scanner for plain messages (ASCII strings without escapes, shallow
 * nesting, no duplicate keys), and jansson for everything else, so both
 * paths feed one interpretation of the content. */
typedef enum vg__jtype {
    VG__J_STRING, VG__J_INT, VG__J_REAL, VG__J_NULL, VG__J_BOOL, VG__J_OBJECT, VG__J_ARRAY,
} vg__jtype;

typedef struct vg__jnode {
    const char *key;      /* member name (not NUL-terminated), NULL in arrays */
    size_t      key_len;
    const char *s;        /* VG__J_STRING (not NUL-terminated) */
    size_t      len;
    int64_t     i;        /* VG__J_INT */
    double      d;        /* VG__J_INT and VG__J_REAL */
    uint32_t    size;     /* nodes below this one; containers deeper than
                             the interpretation looks may be left empty */
    uint8_t     type;     /* vg__jtype */
} vg__jnode;

#define VG__JNODES 1024   /* nodes of one message (fast) or one element (jansson) */

#define vg__jnode_foreach(parent, c)                                              \
    for (const vg__jnode *c = (parent) + 1, *c##_end_ = (parent) + 1 + (parent)->size; \
         c < c##_end_; c += 1 + c->size)

typedef struct vg__parse_params {
    int      format;                        /* index in the parser registry */
    char     series_field[VG__FIELD_MAX];
    char     ts_field[VG__FIELD_MAX];
    char     value_field[VG__FIELD_MAX];
    char     labels_field[VG__FIELD_MAX];
    char     label_fields[512];             /* comma-separated top-level label members */
    int      ts_unit;                       /* VG__TS_* */
    int      counters;                      /* VG__COUNTERS_* */
    int      graphite_tags;
    int      json_fast;                     /* use the fast JSON scanner when it applies */
    int64_t  max_bytes;
    int      repartition;                   /* the Kafka input's, see parse.c */
    uint32_t rate_series;
} vg__parse_params;

/* The json_fast key, read by both JSON formats (json, collectd-json). */
#define VG__PARSE_FIELD_JSON_FAST                                                        \
    {"json_fast", VG_CONF_BOOL, offsetof(vg__parse_params, json_fast), 1, 0, 1, NULL,   \
     "read plain messages with the built-in scanner (jansson otherwise)"}

struct vg_parser {
    const vg_parser_ops *ops;
    vg__parse_params p;
    vg_counter_rate *rates;       /* NULL unless counters are converted */
    const char      *reason;      /* of the last failed message, or "" */

    /* Per-message context, set by vg_parser_parse. */
    const char      *msg;
    size_t           len;
    int64_t          msg_ts_ms;
    const vg_origin *origin;
    vg_batch        *out;
    vg_error        *err;
    int              failed;      /* an error was recorded for this message */
    int              nomem;

    /* json: label_fields split into NUL-terminated names. */
    char             label_names_buf[512];
    const char      *label_names[VG_MAX_LABELS];
    size_t           n_label_names;

    char key[VG__KEY_MAX];
    char scratch[VG__SCRATCH_MAX];
    vg__jnode nodes[VG__JNODES];
};

/* Builds the key of name + labels and appends a point. A value that is not
 * finite, a name with characters a key cannot hold ({ } " \ control
 * characters; in label names also = and ,), or a key that does not fit is
 * recorded as an error. Returns 0, or -1 when the point was not appended. */
int vg__parse_emit(vg_parser *ps, const char *name, size_t name_len,
                   const vg_label *labels, size_t n, int64_t ts_ms, double value);

/* As vg__parse_emit, but converts a raw counter into a per-second rate
 * first (t_s is the sample time in seconds); emits nothing for the first
 * sample of a series or after a reset. Returns 0 or -1. */
int vg__parse_emit_rate(vg_parser *ps, const char *name, size_t name_len,
                        const vg_label *labels, size_t n, double t_s, double counter);

/* Records the first error of the message: reason (a static string), the
 * byte offset `pos` into the message (SIZE_MAX: unknown) and a message.
 * Returns -1. */
int vg__parse_fail(vg_parser *ps, const char *reason, size_t pos, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Parses s[len] entirely as a decimal number (no spaces, no hex). Returns 0,
 * -1 when it is not a number, -2 when it is NaN or infinite. */
int vg__parse_number(const char *s, size_t len, double *v);

/* Turns an epoch number into ms (rounded), by the configured unit or, for
 * "auto", by its magnitude (< 1e11: s, < 1e14: ms, < 1e17: us, else ns).
 * Returns 0 or -1 when it is negative, not finite or beyond year 9999. */
int vg__parse_epoch(const vg_parser *ps, double v, int64_t *ts_ms);
/* As above for an integer, exactly. */
int vg__parse_epoch_int(const vg_parser *ps, int64_t v, int64_t *ts_ms);

/* The message timestamp, or an error (reason "timestamp") when there is
 * none. Returns 0 or -1. */
int vg__parse_msg_ts(vg_parser *ps, size_t pos, int64_t *ts_ms);

/* Calls line() for each line of the message with its [start, end) byte
 * range, without the LF or CRLF; a line holding a NUL byte is an error. */
void vg__parse_lines(vg_parser *ps, void (*line)(vg_parser *ps, size_t start, size_t end));
/* As vg__parse_lines, passing arg (a format's per-message state) along. */
void vg__parse_lines_arg(vg_parser *ps,
                         void (*line)(vg_parser *ps, size_t start, size_t end, void *arg),
                         void *arg);

/* The member `key` of object obj, or NULL. */
const vg__jnode *vg__jnode_get(const vg__jnode *obj, const char *key);
/* Number of children of a container. */
size_t vg__jnode_count(const vg__jnode *c);
/* Whether node c's member name is key. */
int vg__jnode_key_is(const vg__jnode *c, const char *key);
/* A timestamp node -> ms: an epoch number or numeric string (ts_unit), or
 * RFC 3339 text. Returns 0, or -1 (nothing recorded) when it is none of
 * these or out of range. */
int vg__jnode_time(const vg_parser *ps, const vg__jnode *t, int64_t *ts_ms);

/* Reads the message as JSON (syntax errors are reported at jansson's
 * line:col) and calls each() for every element of a top-level array, or
 * once with idx SIZE_MAX for any other value. */
void vg__parse_json_each(vg_parser *ps,
                         void (*each)(vg_parser *ps, const vg__jnode *v, size_t idx));
/* As vg__parse_json_each, but a top-level object holding an array member
 * `batch` is a batch: each() is called for every element of that array. */
void vg__parse_json_batch(vg_parser *ps, const char *batch,
                          void (*each)(vg_parser *ps, const vg__jnode *v, size_t idx));

#endif
