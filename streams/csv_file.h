/* Internal to the CSV source: the bytes of a file, mapped when it can be
 * (or streamed through a window, for pipes and other unmappable files),
 * and the "path:line" of its errors. */
#ifndef VG_STREAMS_CSV_FILE_H
#define VG_STREAMS_CSV_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

typedef struct vg__csv_bytes {
    const char *data;     /* the whole file, owned by map or copy; for a pipe,
                             a window of it (see vg__csv_bytes_refill) */
    size_t      size;
    void       *map;
    char       *copy;
    int         fd;       /* a pipe still being read; -1 when data is all */
    size_t      cap;      /* of copy, for a pipe */
    size_t      ahead;    /* for a pipe: bytes a refill keeps ahead of the reader */
    uint64_t    dropped;  /* for a pipe: bytes read and dropped before data */
} vg__csv_bytes;

/* Fills b (zeroed) with the file at path. A regular file is mapped; a pipe
 * (or any file that cannot be mapped) is streamed: b holds a window of at
 * least `ahead` bytes (or up to the end), moved on by vg__csv_bytes_refill.
 * Returns 0, VG_EIO (missing, unreadable, a directory) or VG_ENOMEM, with
 * err->where = path. */
int vg__csv_bytes_load(vg__csv_bytes *b, const char *path, size_t ahead, vg_error *err);
/* A pipe whose window has fewer than `ahead` bytes from `from` on: drops
 * the bytes before from (*shift = how many; pointers into data move back
 * by that) and reads until `ahead` bytes follow or the input ends. Returns
 * 1 when the window changed, 0 when there was nothing to do, or VG_EIO. */
int vg__csv_bytes_refill(vg__csv_bytes *b, const char *from, const char *path, size_t *shift,
                         vg_error *err);
/* Fills b (zeroed) with a copy of data[len]. Returns 0 or VG_ENOMEM. */
int vg__csv_bytes_copy(vg__csv_bytes *b, const void *data, size_t len, vg_error *err);
/* Unmaps or frees, closes a pipe, and zeroes b. */
void vg__csv_bytes_release(vg__csv_bytes *b);

/* Sets err to code and the message with where = "path:line" (no line when
 * line is 0), cutting the path from the left when it is long so the line
 * number always survives. Returns code. */
int vg__csv_fail_at(vg_error *err, int code, const char *path, int64_t line,
                    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

#endif
