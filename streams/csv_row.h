/* Internal to the CSV source: splitting a buffer into rows and fields.
 *
 * Kept apart from csv.c (which knows headers, shapes and points) because it
 * is the hot loop. A row without any '"' takes the fast path: one scan for
 * commas and the newline, fields are views into the buffer. The
 * position of the next '"' in the buffer is cached, so finding that a row
 * has no quote costs nothing per row. Rows with quotes go through a small
 * state machine that copies field contents into a scratch buffer (undoing
 * "" escapes) and lets quoted fields span lines. */
#ifndef VG_STREAMS_CSV_ROW_H
#define VG_STREAMS_CSV_ROW_H

#include <stddef.h>
#include <stdint.h>

/* A field's text, borrowed: from the buffer or the reader's scratch, valid
 * until the next vg__csv_next. Spaces, tabs and CRs around an unquoted
 * field are trimmed; a quoted field is its content between the quotes. */
typedef struct vg__csv_field {
    const char *p;
    size_t      len;
} vg__csv_field;

typedef enum vg__csv_status {
    VG__CSV_ROW_OK,
    VG__CSV_ROW_TOO_MANY,   /* more fields than the caller's array holds */
    VG__CSV_ROW_BAD_QUOTE,  /* unterminated quote, or text after a closing quote */
    VG__CSV_ROW_TOO_LONG,   /* more than max_line bytes */
} vg__csv_status;

typedef struct vg__csv_reader {
    const char    *pos, *end;  /* the rest of the buffer */
    const char    *quote;      /* next '"' at or after pos, or end */
    int64_t        line;       /* 1-based line number of pos */
    size_t         max_line;
    vg__csv_field *fields;     /* caller's array of cap fields */
    size_t         cap;
    char          *scratch;    /* caller's max_line bytes, for quoted rows */
} vg__csv_reader;

typedef struct vg__csv_row {
    int64_t line;    /* line number of the row's first byte */
    size_t  n;       /* fields found, at most cap (see status) */
    int     status;  /* vg__csv_status */
} vg__csv_row;

/* Points rd at buf[len], line 1, with fields[cap] and scratch[max_line]
 * (all borrowed for the reader's life). */
void vg__csv_reader_init(vg__csv_reader *rd, const char *buf, size_t len,
                         vg__csv_field *fields, size_t cap, char *scratch,
                         size_t max_line);

/* Reads the next row into rd->fields and *row and moves past it. Returns 0
 * at the end of the buffer, else 1. A blank line is one empty field. A
 * reader can be rewound by restoring a copy of it taken before the call. */
int vg__csv_next(vg__csv_reader *rd, vg__csv_row *row);

#endif
