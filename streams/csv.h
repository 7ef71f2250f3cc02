/* The CSV source of `vigil replay`: a whole file -> batches of points.
 *
 * The first non-blank line is the header (a UTF-8 BOM before it is skipped).
 * The timestamp column is the one named timestamp, time, ts, date or
 * datetime (any case), else the first column. Three shapes follow from the
 * header:
 *   2 columns            `timestamp,value`: one series, keyed by the file's
 *                        base name without ".csv" (or opt->series);
 *   a series column      `timestamp,series,value` (long format; the column is
 *                        named series, metric, name or key, any case): the
 *                        key is the series cell; exactly 3 columns;
 *   otherwise            `timestamp,a,b,c` (wide): one series per column,
 *                        keyed by the column name; an empty cell is skipped.
 * Timestamps follow core/timeparse.h, numbers core/numparse.h. Fields may be
 * quoted ("a,b", "say ""hi""", newlines inside quotes), lines end in LF or
 * CRLF, the last line may lack its newline, and spaces or tabs around a
 * field are ignored. Rows keep file order: repeated or backward timestamps
 * are points like any other.
 *
 * A bad row (see vg_csv_reason) is counted, logged with file:line at most
 * once per interval, and skipped; the file continues. A wide row with one
 * bad cell is skipped whole. Blank lines are bad rows only when more data
 * follows them; blank lines at the end of the file are ignored. */
#ifndef VG_STREAMS_CSV_H
#define VG_STREAMS_CSV_H

#include <stddef.h>
#include <stdint.h>

#include "core/config_table.h"
#include "core/error.h"
#include "streams/stream.h"

#define VG_CSV_REASONS(X)                                         \
    X(BAD_TIME,     "bad_time",     "bad timestamp")              \
    X(BAD_NUMBER,   "bad_number",   "bad number")                 \
    X(NAN,          "nan",          "value is NaN")               \
    X(INF,          "inf",          "value is infinite")          \
    X(COLUMNS,      "columns",      "wrong number of columns")    \
    X(EMPTY_SERIES, "empty_series", "empty series name")          \
    X(BAD_QUOTE,    "bad_quote",    "unbalanced or stray quote")  \
    X(EMPTY_LINE,   "empty_line",   "blank line between rows")    \
    X(LONG_LINE,    "long_line",    "line longer than max_line")

/* Why a row was skipped. */
typedef enum vg_csv_reason {
#define X(id, name, text) VG_CSV_##id,
    VG_CSV_REASONS(X)
#undef X
    VG_CSV_REASON_COUNT_,
} vg_csv_reason;

/* The stable label of a reason ("bad_number", ...), NULL when out of range. */
const char *vg_csv_reason_name(int reason);

typedef struct vg_csv_options {
    size_t      batch_points;  /* points per poll at most; 0: 4096. A wide row
                                  is never split, so one row wider than this
                                  makes a bigger batch on its own */
    size_t      max_line;      /* longest row in bytes; 0: 1 MiB */
    const char *series;        /* NULL-able: key of a 2-column file instead of
                                  its base name; copied */
} vg_csv_options;

typedef struct vg_csv_source_stats {
    uint64_t rows;         /* data rows read so far, good or bad (not the header) */
    uint64_t points;       /* points produced */
    uint64_t empty_cells;  /* wide-format cells skipped for being empty */
    uint64_t malformed;    /* rows skipped, the sum of by_reason */
    uint64_t by_reason[VG_CSV_REASON_COUNT_];
    int64_t  first_line[VG_CSV_REASON_COUNT_];  /* 1-based line of the first
                                                   such row, 0 if none */
} vg_csv_source_stats;

/* Fills opt from the "csv" object of the config (cfg NULL-able: defaults;
 * doc NULL-able, for positions): batch_points, max_line. Returns 0 or
 * VG_ECONFIG naming the key. opt->series is left NULL. */
int vg_csv_configure(const vg_conf_doc *doc, const json_t *cfg, vg_csv_options *opt,
                     vg_error *err);

/* The source interface of a CSV file (its name, config table and check). */
extern const vg_source_ops vg_csv_source_ops;

/* Opens path (opt NULL-able: defaults) and reads its header. Returns a new
 * source (free with vg_source_close) or NULL with err set: VG_EIO when the
 * file cannot be read (missing, unreadable, a directory), VG_EPARSE for a
 * file with no non-blank line or a bad header (one column, empty or
 * duplicate names, unbalanced quote, longer than max_line, or missing: a
 * first cell that parses as a timestamp means the header is missing),
 * VG_ECONFIG when a 2-column file has no base name to key it by, VG_ENOMEM;
 * err->where is "path:line" (the path cut from the left if long). The file
 * is mapped (or read, when it cannot be mapped, e.g. a pipe) whole.
 * poll() ignores timeout_ms: a file never waits. Points carry the origin
 * {source = path (borrowed, valid until close), partition -1, offset = the
 * row's 1-based line number} and the raw timestamp and value text. */
vg_source *vg_csv_source_open(const char *path, const vg_csv_options *opt,
                              vg_error *err);

/* As vg_csv_source_open, over data[len] (copied) instead of a file; `name`
 * plays the part of the path (origin and base-name key). For fuzzing and
 * tests. */
vg_source *vg_csv_source_open_mem(const char *name, const void *data, size_t len,
                                  const vg_csv_options *opt, vg_error *err);

/* Copies the counters of a CSV source into *out. VG_EARG when src is not a
 * CSV source. Same thread as poll. */
int vg_csv_source_get_stats(const vg_source *src, vg_csv_source_stats *out);

/* Bytes of the input consumed so far and its size, for progress lines.
 * VG_EARG when src is not a CSV source. Same thread as poll. */
int vg_csv_source_position(const vg_source *src, uint64_t *done, uint64_t *size);

/* 1 when the file's points may carry different series keys (long and wide
 * shapes), 0 for a 2-column file or a source that is not CSV. */
int vg_csv_source_multi_series(const vg_source *src);

#endif
