/* Rows and fields of a CSV buffer; see csv_row.h for the two paths. */
#include "streams/csv_row.h"

#include <string.h>

static inline int is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

static inline vg__csv_field trimmed(const char *b, const char *e)
{
    while (b < e && is_blank(*b))
        b++;
    while (e > b && is_blank(e[-1]))
        e--;
    return (vg__csv_field){b, (size_t)(e - b)};
}

void vg__csv_reader_init(vg__csv_reader *rd, const char *buf, size_t len,
                         vg__csv_field *fields, size_t cap, char *scratch,
                         size_t max_line)
{
    rd->pos = buf;
    rd->end = buf + len;
    rd->quote = buf;   /* stale on purpose: looked up on the first row */
    rd->line = 1;
    rd->max_line = max_line;
    rd->fields = fields;
    rd->cap = cap;
    rd->scratch = scratch;
}

static void store(vg__csv_reader *rd, vg__csv_row *row, vg__csv_field f)
{
    if (row->n < rd->cap)
        rd->fields[row->n++] = f;
    else
        row->status = VG__CSV_ROW_TOO_MANY;
}

/* The first ',' or '\n' in [p, end), or end. Eight bytes at a time where
 * the byte order allows (most rows are a few dozen bytes, too short for
 * memchr's set-up to pay off per field). */
static inline const char *find_sep(const char *p, const char *end)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    while (end - p >= 8) {
        uint64_t w, c, n;
        memcpy(&w, p, 8);
        c = w ^ (ones * ',');
        n = w ^ (ones * '\n');
        /* a zero byte in c or n is a match; the lowest flag is exact */
        uint64_t hit = ((c - ones) & ~c & highs) | ((n - ones) & ~n & highs);
        if (hit != 0)
            return p + (__builtin_ctzll(hit) >> 3);
        p += 8;
    }
#endif
    while (p < end && *p != ',' && *p != '\n')
        p++;
    return p;
}

/* Splits the row at b as if it held no quote; returns its end (the '\n' or
 * the end of the buffer). */
static const char *split_plain(vg__csv_reader *rd, vg__csv_row *row, const char *b)
{
    for (;;) {
        const char *sep = find_sep(b, rd->end);
        store(rd, row, trimmed(b, sep));
        if (sep == rd->end || *sep == '\n')
            return sep;
        b = sep + 1;
    }
}

/* A row with quotes, from rd->pos: the state machine over fields, copying
 * contents to scratch. Returns the first byte after the row's newline (or
 * end) and sets *lines to the line breaks consumed, or returns NULL when a
 * quote stays open to the end of the buffer or past max_line. */
static const char *split_quoted(vg__csv_reader *rd, vg__csv_row *row, int64_t *lines)
{
    const char *s = rd->pos, *end = rd->end;
    const char *limit = end - s > (ptrdiff_t)rd->max_line ? s + rd->max_line : end;
    char *o = rd->scratch, *oend = rd->scratch + rd->max_line;
    *lines = 0;
#define PUT(c) do { if (o < oend) *o++ = (c); } while (0)
    for (;;) {
        char *fstart = o;
        while (s < end && (*s == ' ' || *s == '\t'))
            s++;
        if (s < end && *s == '"') {
            for (s++;; s++) {
                if (s >= limit)
                    return NULL;
                if (*s == '"') {
                    if (s + 1 < end && s[1] == '"') {
                        PUT('"');
                        s++;
                        continue;
                    }
                    s++;
                    break;
                }
                *lines += *s == '\n';
                PUT(*s);
            }
            store(rd, row, (vg__csv_field){fstart, (size_t)(o - fstart)});
            while (s < end && is_blank(*s))
                s++;
            if (s < end && *s != ',' && *s != '\n') {
                row->status = VG__CSV_ROW_BAD_QUOTE;
                while (s < end && *s != ',' && *s != '\n')
                    s++;
            }
        } else {
            for (; s < end && *s != ',' && *s != '\n'; s++) {
                if (*s == '"')
                    row->status = VG__CSV_ROW_BAD_QUOTE;
                PUT(*s);
            }
            store(rd, row, trimmed(fstart, o));
        }
        if (s < end && *s == ',') {
            s++;
            continue;
        }
        break;
    }
#undef PUT
    if (s - rd->pos > (ptrdiff_t)rd->max_line)
        row->status = VG__CSV_ROW_TOO_LONG;
    if (s < end) {
        s++;
        (*lines)++;
    }
    return s;
}

int vg__csv_next(vg__csv_reader *rd, vg__csv_row *row)
{
    const char *b = rd->pos, *end = rd->end;
    if (b >= end)
        return 0;
    if (rd->quote < b) {
        const char *q = memchr(b, '"', (size_t)(end - b));
        rd->quote = q ? q : end;
    }
    row->line = rd->line;
    row->n = 0;
    row->status = VG__CSV_ROW_OK;
    const char *nl = split_plain(rd, row, b);

    if (nl - b > (ptrdiff_t)rd->max_line) {
        row->status = VG__CSV_ROW_TOO_LONG;
    } else if (rd->quote < nl) {
        row->n = 0;
        row->status = VG__CSV_ROW_OK;
        int64_t lines;
        const char *after = split_quoted(rd, row, &lines);
        if (after != NULL) {
            rd->pos = after;
            rd->line += lines;
            return 1;
        }
        /* The quote never closes: give up on this line alone. */
        row->status = VG__CSV_ROW_BAD_QUOTE;
    }
    rd->pos = nl < end ? nl + 1 : end;
    rd->line++;
    return 1;
}
