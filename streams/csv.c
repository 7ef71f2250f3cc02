/* The CSV source: takes a file whole, reads its header to learn the shape,
 * then turns rows into points, batch by batch. See csv.h for the contract;
 * getting the bytes lives in csv_file.c, row splitting in csv_row.c. */
#include "streams/csv.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/log.h"
#include "core/numparse.h"
#include "core/timeparse.h"
#include "streams/csv_file.h"
#include "streams/csv_row.h"

#define DEFAULT_BATCH    4096
#define DEFAULT_MAX_LINE (1u << 20)

typedef enum shape {
    SHAPE_SINGLE,  /* timestamp,value */
    SHAPE_LONG,    /* timestamp,series,value */
    SHAPE_WIDE,    /* timestamp,a,b,c */
} shape;

typedef struct csv_source {
    char          *path;         /* origin.source of every point */
    char          *key;          /* SHAPE_SINGLE: the series key */
    size_t         key_len;
    vg__csv_field *names;        /* column names, into name_buf */
    char          *name_buf;
    vg__csv_bytes  bytes;        /* the whole file, or a pipe's window */
    vg__csv_reader rd;
    vg__csv_field *fields;       /* ncols, for data rows */
    char          *scratch;      /* max_line bytes */
    double        *values;       /* ncols, a wide row's parsed cells */
    size_t         ncols;
    shape          shape;
    size_t         ts_col, series_col, value_col;
    size_t         batch_points;
    uint64_t       blank_count;  /* blank lines not yet known to be mid-file */
    int64_t        blank_line;   /* the first of them */
    char           last_ts_text[40];  /* see parse_time() */
    size_t         last_ts_len;
    int64_t        last_ts;
    vg_csv_source_stats stats;
    vg_ratelimit   rl;
} csv_source;

static const char *const reason_names[] = {
#define X(id, name, text) name,
    VG_CSV_REASONS(X)
#undef X
};
static const char *const reason_texts[] = {
#define X(id, name, text) text,
    VG_CSV_REASONS(X)
#undef X
};

const char *vg_csv_reason_name(int reason)
{
    return reason >= 0 && reason < VG_CSV_REASON_COUNT_ ? reason_names[reason] : NULL;
}

/* ---- header --------------------------------------------------------------- */

static int name_is(const vg__csv_field *f, const char *const *names)
{
    for (; *names != NULL; names++)
        if (strlen(*names) == f->len && strncasecmp(f->p, *names, f->len) == 0)
            return 1;
    return 0;
}

static const char *const ts_names[] = {"timestamp", "time", "ts", "date", "datetime", NULL};
static const char *const series_names[] = {"series", "metric", "name", "key", NULL};

/* Moves a pipe's window on when fewer than max_line bytes are left ahead
 * of the reader, so the next row is whole in it. Every pointer into the
 * window taken before (a saved reader) is stale after. */
static int refill(csv_source *cs, vg_error *err)
{
    size_t shift;
    int rc = vg__csv_bytes_refill(&cs->bytes, cs->rd.pos, cs->path, &shift, err);
    if (rc <= 0)
        return rc;
    vg__csv_reader *rd = &cs->rd;
    rd->pos -= shift;
    rd->end = cs->bytes.data + cs->bytes.size;
    const char *q = memchr(rd->pos, '"', (size_t)(rd->end - rd->pos));
    rd->quote = q ? q : rd->end;  /* the new bytes may hold quotes */
    return VG_OK;
}

/* Reads the first non-blank row into cs->names (copied), growing the field
 * array until the row fits, and sets *line to its line. Leaves the reader
 * on the first data row. (In a pipe, blank lines before the header count
 * against max_line.) */
static int read_header(csv_source *cs, int64_t *line, vg_error *err)
{
    size_t cap = 16;
    vg__csv_row row;
    for (;;) {
        vg__csv_field *f = realloc(cs->names, cap * sizeof(*f));
        if (f == NULL)
            return vg__csv_fail_at(err, VG_ENOMEM, cs->path, 0, "header of %zu columns", cap);
        cs->names = f;
        if (refill(cs, err) != VG_OK)
            return err->code;
        vg__csv_reader saved = cs->rd;
        cs->rd.fields = f;
        cs->rd.cap = cap;
        int got;
        while ((got = vg__csv_next(&cs->rd, &row)) &&
               row.status == VG__CSV_ROW_OK && row.n == 1 && f[0].len == 0)
            saved = cs->rd;   /* blank lines before the header */
        if (!got)
            return vg__csv_fail_at(err, VG_EPARSE, cs->path, cs->rd.line, "empty file: no header");
        if (row.status != VG__CSV_ROW_TOO_MANY)
            break;
        cs->rd = saved;
        cap *= 2;
    }
    if (row.status == VG__CSV_ROW_BAD_QUOTE)
        return vg__csv_fail_at(err, VG_EPARSE, cs->path, row.line, "header: unbalanced quote");
    if (row.status == VG__CSV_ROW_TOO_LONG)
        return vg__csv_fail_at(err, VG_EPARSE, cs->path, row.line, "header longer than max_line");

    size_t total = 0;
    for (size_t i = 0; i < row.n; i++)
        total += cs->names[i].len + 1;
    cs->name_buf = malloc(total);
    if (cs->name_buf == NULL)
        return vg__csv_fail_at(err, VG_ENOMEM, cs->path, 0, "header names");
    char *o = cs->name_buf;
    for (size_t i = 0; i < row.n; i++) {
        memcpy(o, cs->names[i].p, cs->names[i].len);
        o[cs->names[i].len] = '\0';
        cs->names[i].p = o;
        o += cs->names[i].len + 1;
    }
    cs->ncols = row.n;
    *line = row.line;
    return VG_OK;
}

/* Finds the timestamp, series and value columns and the shape. */
static int pick_shape(csv_source *cs, int64_t line, vg_error *err)
{
    if (cs->ncols < 2)
        return vg__csv_fail_at(err, VG_EPARSE, cs->path, line,
                       "header has one column: need a timestamp and a value");
    int named_ts = 0;
    for (size_t i = 0; i < cs->ncols && !named_ts; i++)
        if (name_is(&cs->names[i], ts_names)) {
            cs->ts_col = i;
            named_ts = 1;
        }
    int64_t ts;
    if (!named_ts &&
        vg_time_parse(cs->names[0].p, cs->names[0].len, &ts, NULL) == VG_OK)
        return vg__csv_fail_at(err, VG_EPARSE, cs->path, line,
                       "missing header: the first line looks like data");
    for (size_t i = 0; i < cs->ncols; i++) {
        if (cs->names[i].len == 0)
            return vg__csv_fail_at(err, VG_EPARSE, cs->path, line,
                           "header: column %zu has no name", i + 1);
        for (size_t j = 0; j < i; j++)
            if (cs->names[j].len == cs->names[i].len &&
                memcmp(cs->names[j].p, cs->names[i].p, cs->names[i].len) == 0)
                return vg__csv_fail_at(err, VG_EPARSE, cs->path, line,
                               "header: column \"%.64s\" appears twice", cs->names[i].p);
    }

    cs->value_col = cs->ts_col == 0 ? 1 : 0;
    if (cs->ncols == 2) {
        cs->shape = SHAPE_SINGLE;
        return VG_OK;
    }
    for (size_t i = 0; i < cs->ncols; i++)
        if (i != cs->ts_col && name_is(&cs->names[i], series_names)) {
            if (cs->ncols != 3)
                return vg__csv_fail_at(err, VG_EPARSE, cs->path, line,
                               "long format takes exactly 3 columns: timestamp, series, value");
            cs->shape = SHAPE_LONG;
            cs->series_col = i;
            cs->value_col = 3 - i - cs->ts_col;
            return VG_OK;
        }
    cs->shape = SHAPE_WIDE;
    return VG_OK;
}

/* The key of a 2-column file: opt->series, else the base name less ".csv". */
static int pick_key(csv_source *cs, const vg_csv_options *opt, vg_error *err)
{
    const char *b;
    size_t len;
    if (opt != NULL && opt->series != NULL) {
        b = opt->series;
        len = strlen(b);
    } else {
        b = strrchr(cs->path, '/');
        b = b != NULL ? b + 1 : cs->path;
        len = strlen(b);
        if (len > 4 && strcasecmp(b + len - 4, ".csv") == 0)
            len -= 4;
    }
    if (len == 0)
        return vg__csv_fail_at(err, VG_ECONFIG, cs->path, 0,
                       "no series key: the file has no base name; set one");
    cs->key = strndup(b, len);
    if (cs->key == NULL)
        return vg__csv_fail_at(err, VG_ENOMEM, cs->path, 0, "series key");
    cs->key_len = len;
    return VG_OK;
}

/* ---- rows ----------------------------------------------------------------- */

static void count_bad(csv_source *cs, int reason, int64_t line, uint64_t n)
{
    cs->stats.rows += n;
    cs->stats.malformed += n;
    cs->stats.by_reason[reason] += n;
    if (cs->stats.first_line[reason] == 0)
        cs->stats.first_line[reason] = line;
    vg_log_limited(&cs->rl, VG_LOG_WARN, "%s:%lld: skipped row: %s", cs->path,
                   (long long)line, reason_texts[reason]);
}

/* Blank lines turn out to be mid-file once a row follows them. */
static void flush_blanks(csv_source *cs)
{
    if (cs->blank_count > 0)
        count_bad(cs, VG_CSV_EMPTY_LINE, cs->blank_line, cs->blank_count);
    cs->blank_count = 0;
}

/* A value cell: 0 or the reason it is bad. */
static int parse_value(const vg__csv_field *f, double *v)
{
    if (vg_num_parse(f->p, f->len, v) != VG_OK)
        return VG_CSV_BAD_NUMBER + 1;
    if (isnan(*v))
        return VG_CSV_NAN + 1;
    if (isinf(*v))
        return VG_CSV_INF + 1;
    return 0;
}

/* Long and wide files repeat each timestamp across series, so the last
 * one parsed is remembered by its text (not for 2-column files, whose
 * timestamps change from row to row). */
static int parse_time(csv_source *cs, const vg__csv_field *f, int64_t *ts)
{
    if (cs->shape == SHAPE_SINGLE)
        return vg_time_parse(f->p, f->len, ts, NULL);
    if (f->len == cs->last_ts_len && memcmp(f->p, cs->last_ts_text, f->len) == 0) {
        *ts = cs->last_ts;
        return VG_OK;
    }
    int rc = vg_time_parse(f->p, f->len, ts, NULL);
    if (rc == VG_OK && f->len <= sizeof(cs->last_ts_text)) {
        memcpy(cs->last_ts_text, f->p, f->len);
        cs->last_ts_len = f->len;
        cs->last_ts = *ts;
    }
    return rc;
}

static int push(csv_source *cs, vg_batch *out, const char *key, size_t key_len,
                int64_t ts, double v, const vg__csv_field *ts_text,
                const vg__csv_field *v_text, int64_t line)
{
    vg_origin origin = {.source = cs->path,
                        .partition = cs->shape == SHAPE_WIDE ? VG_ORIGIN_WIDE_ROW : -1,
                        .offset = line};
    vg_point *p = vg_batch_push(out, key, key_len, ts, v, &origin);
    if (p == NULL)
        return VG_ENOMEM;
    return vg_batch_set_text(out, p, ts_text->p, ts_text->len, v_text->p, v_text->len);
}

/* Turns one row into points. Returns 0 (row done), a reason + 1 (row bad),
 * 1 << 16 when a wide row does not fit the batch (left unread), or VG_ENOMEM. */
#define ROW_NO_ROOM (1 << 16)
static int take_row(csv_source *cs, const vg__csv_row *row, vg_batch *out, size_t room)
{
    const vg__csv_field *f = cs->fields;
    if (row->status == VG__CSV_ROW_TOO_LONG)
        return VG_CSV_LONG_LINE + 1;
    if (row->status == VG__CSV_ROW_BAD_QUOTE)
        return VG_CSV_BAD_QUOTE + 1;
    if (row->status == VG__CSV_ROW_TOO_MANY || row->n != cs->ncols)
        return VG_CSV_COLUMNS + 1;
    int64_t ts;
    if (parse_time(cs, &f[cs->ts_col], &ts) != VG_OK)
        return VG_CSV_BAD_TIME + 1;

    double v;
    int bad;
    switch (cs->shape) {
    case SHAPE_SINGLE:
        if ((bad = parse_value(&f[cs->value_col], &v)) != 0)
            return bad;
        return push(cs, out, cs->key, cs->key_len, ts, v, &f[cs->ts_col],
                    &f[cs->value_col], row->line);
    case SHAPE_LONG:
        if (f[cs->series_col].len == 0)
            return VG_CSV_EMPTY_SERIES + 1;
        if ((bad = parse_value(&f[cs->value_col], &v)) != 0)
            return bad;
        return push(cs, out, f[cs->series_col].p, f[cs->series_col].len, ts, v,
                    &f[cs->ts_col], &f[cs->value_col], row->line);
    case SHAPE_WIDE:
        break;
    }
    size_t npoints = 0, empty = 0;
    for (size_t i = 0; i < cs->ncols; i++) {
        if (i == cs->ts_col)
            continue;
        if (f[i].len == 0) {
            empty++;
            continue;
        }
        if ((bad = parse_value(&f[i], &cs->values[i])) != 0)
            return bad;
        npoints++;
    }
    if (npoints > room)
        return ROW_NO_ROOM;
    for (size_t i = 0; i < cs->ncols; i++) {
        if (i == cs->ts_col || f[i].len == 0)
            continue;
        int rc = push(cs, out, cs->names[i].p, cs->names[i].len, ts, cs->values[i],
                      &f[cs->ts_col], &f[i], row->line);
        if (rc != VG_OK)
            return rc;
    }
    cs->stats.empty_cells += empty;
    return 0;
}

static int csv_poll(void *self, vg_batch *out, int timeout_ms)
{
    (void)timeout_ms;
    csv_source *cs = self;
    size_t n0 = out->n;
    while (out->n - n0 < cs->batch_points) {
        vg_error err = {0};
        if (refill(cs, &err) != VG_OK) {
            vg_err("%s: %s", err.where, err.msg);
            return err.code;
        }
        vg__csv_reader saved = cs->rd;
        vg__csv_row row;
        if (!vg__csv_next(&cs->rd, &row))
            break;
        if (row.status == VG__CSV_ROW_OK && row.n == 1 && cs->fields[0].len == 0) {
            if (cs->blank_count++ == 0)
                cs->blank_line = row.line;
            continue;
        }
        flush_blanks(cs);
        /* an empty batch takes any row, so a too-wide row still gets out */
        size_t room = out->n == n0 ? SIZE_MAX : cs->batch_points - (out->n - n0);
        size_t before = out->n;
        int rc = take_row(cs, &row, out, room);
        if (rc == ROW_NO_ROOM) {
            cs->rd = saved;
            break;
        }
        if (rc < 0) {
            cs->rd = saved;
            return rc;
        }
        if (rc > 0) {
            count_bad(cs, rc - 1, row.line, 1);
            continue;
        }
        cs->stats.rows++;
        cs->stats.points += out->n - before;
    }
    return out->n > n0 ? (int)(out->n - n0) : VG_EEOF;
}

static void csv_close(void *self)
{
    csv_source *cs = self;
    if (cs == NULL)
        return;
    vg__csv_bytes_release(&cs->bytes);
    free(cs->path);
    free(cs->key);
    free(cs->names);
    free(cs->name_buf);
    free(cs->fields);
    free(cs->scratch);
    free(cs->values);
    free(cs);
}

/* ---- configuration ------------------------------------------------------ */

typedef struct csv_params {
    uint32_t batch_points;
    uint32_t max_line;
} csv_params;

static const vg_conf_field csv_fields[] = {
    {"batch_points", VG_CONF_UINT32, offsetof(csv_params, batch_points), DEFAULT_BATCH, 1,
     1048576, NULL, "points per batch at most (a wide row is never split)"},
    {"max_line", VG_CONF_UINT32, offsetof(csv_params, max_line), DEFAULT_MAX_LINE, 64,
     1073741824, NULL, "longest row in bytes; a longer one is skipped (long_line)"},
};

int vg_csv_configure(const vg_conf_doc *doc, const json_t *cfg, vg_csv_options *opt,
                     vg_error *err)
{
    csv_params prm;
    int rc = vg_conf_apply(doc, cfg, "csv", csv_fields, VG_CONF_COUNT(csv_fields), NULL, &prm,
                           err);
    if (rc == VG_OK)
        *opt = (vg_csv_options){.batch_points = prm.batch_points, .max_line = prm.max_line};
    return rc;
}

static int csv_check(const vg_conf_doc *doc, const json_t *cfg, vg_error *err)
{
    vg_csv_options opt;
    return vg_csv_configure(doc, cfg, &opt, err);
}

const vg_source_ops vg_csv_source_ops = {
    .name       = "csv",
    .config_key = "csv",
    .fields     = csv_fields,
    .n_fields   = VG_CONF_COUNT(csv_fields),
    .check      = csv_check,
    .poll       = csv_poll,
    .close      = csv_close,
};

/* ---- opening -------------------------------------------------------------- */

static size_t max_line_of(const vg_csv_options *opt)
{
    return opt && opt->max_line ? opt->max_line : DEFAULT_MAX_LINE;
}

/* Everything after the bytes are in memory: header, shape, buffers. */
static vg_source *finish_open(csv_source *cs, const vg_csv_options *opt, vg_error *err)
{
    size_t max_line = max_line_of(opt);
    cs->batch_points = opt && opt->batch_points ? opt->batch_points : DEFAULT_BATCH;
    cs->scratch = malloc(max_line);
    if (cs->scratch == NULL) {
        vg__csv_fail_at(err, VG_ENOMEM, cs->path, 0, "line buffer of %zu bytes", max_line);
        goto out_close;
    }
    const char *data = cs->bytes.data;
    size_t size = cs->bytes.size;
    if (size >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0) {
        data += 3;
        size -= 3;
    }
    vg__csv_reader_init(&cs->rd, data, size, NULL, 0, cs->scratch, max_line);
    int64_t header_line = 0;
    if (read_header(cs, &header_line, err) != VG_OK)
        goto out_close;
    if (pick_shape(cs, header_line, err) != VG_OK)
        goto out_close;
    if (cs->shape == SHAPE_SINGLE && pick_key(cs, opt, err) != VG_OK)
        goto out_close;
    cs->fields = calloc(cs->ncols, sizeof(*cs->fields));
    cs->values = calloc(cs->ncols, sizeof(*cs->values));
    if (cs->fields == NULL || cs->values == NULL) {
        vg__csv_fail_at(err, VG_ENOMEM, cs->path, 0, "row of %zu columns", cs->ncols);
        goto out_close;
    }
    cs->rd.fields = cs->fields;
    cs->rd.cap = cs->ncols;

    vg_source *src = malloc(sizeof(*src));
    if (src == NULL) {
        vg__csv_fail_at(err, VG_ENOMEM, cs->path, 0, "source");
        goto out_close;
    }
    src->ops = &vg_csv_source_ops;
    src->self = cs;
    return src;

out_close:
    csv_close(cs);
    return NULL;
}

static csv_source *csv_new(const char *path, vg_error *err)
{
    csv_source *cs = calloc(1, sizeof(*cs));
    if (cs == NULL || (cs->path = strdup(path)) == NULL) {
        free(cs);
        vg_error_set(err, VG_ENOMEM, "csv source");
        return NULL;
    }
    cs->bytes.fd = -1;  /* no pipe (yet) */
    return cs;
}

vg_source *vg_csv_source_open(const char *path, const vg_csv_options *opt, vg_error *err)
{
    csv_source *cs = csv_new(path, err);
    if (cs == NULL)
        return NULL;
    /* one byte more than the longest row: a row is whole in the window */
    if (vg__csv_bytes_load(&cs->bytes, path, max_line_of(opt) + 1, err) != VG_OK) {
        csv_close(cs);
        return NULL;
    }
    return finish_open(cs, opt, err);
}

vg_source *vg_csv_source_open_mem(const char *name, const void *data, size_t len,
                                  const vg_csv_options *opt, vg_error *err)
{
    csv_source *cs = csv_new(name, err);
    if (cs == NULL)
        return NULL;
    if (vg__csv_bytes_copy(&cs->bytes, data, len, err) != VG_OK) {
        csv_close(cs);
        return NULL;
    }
    return finish_open(cs, opt, err);
}

static const csv_source *csv_of(const vg_source *src)
{
    return src != NULL && src->ops == &vg_csv_source_ops ? src->self : NULL;
}

int vg_csv_source_get_stats(const vg_source *src, vg_csv_source_stats *out)
{
    const csv_source *cs = csv_of(src);
    if (cs == NULL)
        return VG_EARG;
    *out = cs->stats;
    return VG_OK;
}

int vg_csv_source_position(const vg_source *src, uint64_t *done, uint64_t *size)
{
    const csv_source *cs = csv_of(src);
    if (cs == NULL)
        return VG_EARG;
    *done = cs->bytes.dropped + (uint64_t)(cs->rd.pos - cs->bytes.data);
    *size = cs->bytes.dropped + cs->bytes.size;  /* a pipe: read so far */
    return VG_OK;
}

int vg_csv_source_multi_series(const vg_source *src)
{
    const csv_source *cs = csv_of(src);
    return cs != NULL && cs->shape != SHAPE_SINGLE;
}
