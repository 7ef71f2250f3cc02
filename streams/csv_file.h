/* Internal to the CSV source: the bytes of a whole file, mapped when it can
 * be (or read, for pipes and other unmappable files), and the "path:line"
 * of its errors. */
#ifndef VG_STREAMS_CSV_FILE_H
#define VG_STREAMS_CSV_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

typedef struct vg__csv_bytes {
    const char *data;  /* the whole file, owned by map or copy */
    size_t      size;
    void       *map;
    char       *copy;
} vg__csv_bytes;

/* Fills b (zeroed) with the file at path. Returns 0, VG_EIO (missing,
 * unreadable, a directory) or VG_ENOMEM, with err->where = path. */
int vg__csv_bytes_load(vg__csv_bytes *b, const char *path, vg_error *err);
/* Fills b (zeroed) with a copy of data[len]. Returns 0 or VG_ENOMEM. */
int vg__csv_bytes_copy(vg__csv_bytes *b, const void *data, size_t len, vg_error *err);
/* Unmaps or frees, and zeroes b. */
void vg__csv_bytes_release(vg__csv_bytes *b);

/* Sets err to code and the message with where = "path:line" (no line when
 * line is 0), cutting the path from the left when it is long so the line
 * number always survives. Returns code. */
int vg__csv_fail_at(vg_error *err, int code, const char *path, int64_t line,
                    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

#endif
