/* The bytes of a CSV file, and its errors' "path:line"; see csv_file.h.
 *
 * The file is mapped rather than read in chunks so that rows are views into
 * it with no copying and no row ever straddles a chunk; pipes and other
 * unmappable files stream through a window that always holds the longest
 * row allowed (max_line) ahead of the reader, or the rest of the input, so
 * a row never straddles a refill either, and memory stays bounded. (A mapped file truncated
 * by someone else while vigil reads it raises SIGBUS: replay files are
 * expected to hold still.) */
#include "streams/csv_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int vg__csv_fail_at(vg_error *err, int code, const char *path, int64_t line,
                   const char *fmt, ...)
{
    char where[sizeof(err->where)], suffix[24] = "", msg[sizeof(err->msg)];
    if (line > 0)
        snprintf(suffix, sizeof(suffix), ":%lld", (long long)line);
    size_t room = sizeof(where) - 1 - strlen(suffix), len = strlen(path), keep = len;
    char *o = where;
    if (len > room) {
        memcpy(o, "...", 3);
        o += 3;
        keep = room - 3;
    }
    memcpy(o, path + len - keep, keep);
    strcpy(o + keep, suffix);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return vg_error_set_at(err, code, where, "%s", msg);
}

/* For what cannot be mapped (pipes, empty or special files): a window of
 * twice `ahead` bytes, so a refill moves at most `ahead` bytes and then
 * reads at least as many. */
static int stream_open(vg__csv_bytes *b, const char *path, int fd, size_t ahead,
                       vg_error *err)
{
    b->cap = 2 * ahead;
    b->copy = malloc(b->cap);
    if (b->copy == NULL)
        return vg__csv_fail_at(err, VG_ENOMEM, path, 0, "read buffer of %zu bytes", b->cap);
    b->data = b->copy;
    b->fd = fd;
    b->ahead = ahead;
    size_t shift;
    int rc = vg__csv_bytes_refill(b, b->data, path, &shift, err);
    return rc < 0 ? rc : VG_OK;
}

int vg__csv_bytes_refill(vg__csv_bytes *b, const char *from, const char *path, size_t *shift,
                         vg_error *err)
{
    size_t keep = (size_t)(b->data + b->size - from);
    *shift = 0;
    if (b->fd < 0 || keep >= b->ahead)
        return 0;
    *shift = (size_t)(from - b->data);
    memmove(b->copy, from, keep);
    b->dropped += *shift;
    b->size = keep;
    while (b->size < b->ahead) {
        ssize_t got = read(b->fd, b->copy + b->size, b->cap - b->size);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            return vg__csv_fail_at(err, VG_EIO, path, 0, "read: %s", strerror(errno));
        if (got == 0) {
            close(b->fd);
            b->fd = -1;
            break;
        }
        b->size += (size_t)got;
    }
    return 1;
}

int vg__csv_bytes_load(vg__csv_bytes *b, const char *path, size_t ahead, vg_error *err)
{
    b->fd = -1;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return vg__csv_fail_at(err, VG_EIO, path, 0, "cannot open: %s", strerror(errno));
    struct stat st;
    int rc = VG_OK;
    if (fstat(fd, &st) != 0) {
        rc = vg__csv_fail_at(err, VG_EIO, path, 0, "stat: %s", strerror(errno));
    } else if (S_ISDIR(st.st_mode)) {
        rc = vg__csv_fail_at(err, VG_EIO, path, 0, "is a directory");
    } else if (S_ISREG(st.st_mode) && st.st_size > 0) {
        void *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (map != MAP_FAILED) {
            madvise(map, (size_t)st.st_size, MADV_SEQUENTIAL);
            b->map = map;
            b->data = map;
            b->size = (size_t)st.st_size;
        } else {
            return stream_open(b, path, fd, ahead, err);
        }
    } else {
        return stream_open(b, path, fd, ahead, err);  /* b owns fd now */
    }
    close(fd);
    return rc;
}

int vg__csv_bytes_copy(vg__csv_bytes *b, const void *data, size_t len, vg_error *err)
{
    b->copy = malloc(len > 0 ? len : 1);
    if (b->copy == NULL)
        return vg_error_set(err, VG_ENOMEM, "copy of %zu bytes", len);
    memcpy(b->copy, data, len);
    b->data = b->copy;
    b->size = len;
    b->fd = -1;
    return VG_OK;
}

void vg__csv_bytes_release(vg__csv_bytes *b)
{
    if (b->map != NULL)
        munmap(b->map, b->size);
    free(b->copy);
    if (b->fd >= 0)
        close(b->fd);
    *b = (vg__csv_bytes){.fd = -1};
}
