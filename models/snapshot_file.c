/* Snapshot files: atomic saves (temp file, fsync, rename, fsync of the
 * directory), whole-file loads, and where each kind of state lives on disk
 * (see snapshot.h). */
#include "models/snapshot.h"
#include "models/snapshot_delta.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define REPLAY_FILE "replay" VG_SNAPSHOT_SUFFIX

typedef struct file_sink {
    int         fd;
    const char *path;  /* for messages: the temp file */
} file_sink;

static int write_all(void *ctx, const uint8_t *bytes, size_t len, vg_error *err)
{
    const file_sink *f = ctx;
    while (len > 0) {
        ssize_t n = write(f->fd, bytes, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return vg_error_set_at(err, VG_EIO, f->path, "write: %s", strerror(errno));
        bytes += n;
        len -= (size_t)n;
    }
    return VG_OK;
}

int vg_snapshot_sync_dir(const char *path, vg_error *err)
{
    char copy[4096];
    snprintf(copy, sizeof(copy), "%s", path);
    const char *dir = dirname(copy);
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0 || fsync(fd) != 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        return vg_error_set_at(err, VG_EIO, dir, "fsync: %s", strerror(e));
    }
    close(fd);
    return VG_OK;
}

int vg_snapshot_save(vg_pipeline *p, const char *path, int32_t partition, vg_error *err)
{
    return vg_snapshot_save_at(p, path, partition, NULL, err);
}

int vg_snapshot_write_atomic(const char *path, vg_snapshot_produce_fn produce, void *ctx,
                             vg_error *err)
{
    char tmp[4096];
    if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp))
        return vg_error_set(err, VG_ERANGE, "state path too long: %s", path);
    file_sink f = {.path = tmp};
    /* A fresh file of our own: a leftover temp file (a crash mid-save) is
     * removed, and a symlink planted in its place is removed, not followed
     * (O_EXCL|O_NOFOLLOW): a save never writes through a link. */
    if (unlink(tmp) != 0 && errno != ENOENT)
        return vg_error_set_at(err, VG_EIO, tmp, "unlink: %s", strerror(errno));
    f.fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (f.fd < 0)
        return vg_error_set_at(err, VG_EIO, tmp, "open: %s", strerror(errno));
    int rc = produce(ctx, write_all, &f, err);
    if (rc == VG_OK && fsync(f.fd) != 0)
        rc = vg_error_set_at(err, VG_EIO, tmp, "fsync: %s", strerror(errno));
    if (close(f.fd) != 0 && rc == VG_OK)
        rc = vg_error_set_at(err, VG_EIO, tmp, "close: %s", strerror(errno));
    if (rc == VG_OK && rename(tmp, path) != 0)
        rc = vg_error_set_at(err, VG_EIO, path, "rename from %s: %s", tmp, strerror(errno));
    if (rc != VG_OK) {
        unlink(tmp);
        return rc;
    }
    return vg_snapshot_sync_dir(path, err);
}

typedef struct encode_job {
    vg_pipeline                 *p;
    int32_t                      partition;
    const vg_snapshot_positions *pos;
} encode_job;

static int produce_encoded(void *ctx, vg_snapshot_sink_fn sink, void *sink_ctx, vg_error *err)
{
    const encode_job *j = ctx;
    return vg_snapshot_encode_at(j->p, j->partition, j->pos, sink, sink_ctx, err);
}

int vg_snapshot_save_at(vg_pipeline *p, const char *path, int32_t partition,
                        const vg_snapshot_positions *pos, vg_error *err)
{
    encode_job j = {p, partition, pos};
    return vg_snapshot_write_atomic(path, produce_encoded, &j, err);
}

/* Reads path whole into a new buffer (*len bytes; caller frees). */
uint8_t *vg_snapshot_read_file(const char *path, size_t *len, vg_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        vg_error_set_at(err, errno == ENOENT ? VG_ENOTFOUND : VG_EIO, path, "open: %s",
                        strerror(errno));
        return NULL;
    }
    struct stat st;
    uint8_t *buf = NULL;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        vg_error_set_at(err, VG_EIO, path, "not a regular file");
        goto out_close;
    }
    buf = malloc(st.st_size > 0 ? (size_t)st.st_size : 1);
    if (buf == NULL) {
        vg_error_set(err, VG_ENOMEM, "%lld bytes for %s", (long long)st.st_size, path);
        goto out_close;
    }
    size_t got = 0;
    while (got < (size_t)st.st_size) {
        ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            vg_error_set_at(err, VG_EIO, path, "read: %s",
                            n == 0 ? "file shrank while reading" : strerror(errno));
            free(buf);
            buf = NULL;
            goto out_close;
        }
        got += (size_t)n;
    }
    *len = got;
out_close:
    close(fd);
    return buf;
}

/* Compaction maps the base so that the merge hands runs of it to the
 * write as they are, never copied into a buffer of its own (at 100 k
 * series, 1.4 GB of page faults and copies). */
const uint8_t *vg_snapshot_map_file(const char *path, size_t *len, vg_error *err)
{
    static const uint8_t none[1];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        vg_error_set_at(err, fd < 0 && errno == ENOENT ? VG_ENOTFOUND : VG_EIO, path,
                        "open: %s", fd < 0 ? strerror(errno) : "not a regular file");
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    *len = (size_t)st.st_size;
    void *m = *len > 0 ? mmap(NULL, *len, PROT_READ, MAP_PRIVATE, fd, 0) : (void *)none;
    close(fd);
    if (m == MAP_FAILED) {
        vg_error_set_at(err, VG_EIO, path, "mmap: %s", strerror(errno));
        return NULL;
    }
    if (*len > 0)
        madvise(m, *len, MADV_SEQUENTIAL);  /* read once, front to back */
    return m;
}

void vg_snapshot_unmap_file(const uint8_t *data, size_t len)
{
    if (data != NULL && len > 0)
        munmap((void *)data, len);
}

int vg_snapshot_load(vg_pipeline *p, const char *path, size_t *loaded, vg_error *err)
{
    return vg_snapshot_load_at(p, path, loaded, NULL, err);
}

int vg_snapshot_load_at(vg_pipeline *p, const char *path, size_t *loaded,
                        vg_snapshot_positions *pos, vg_error *err)
{
    return vg_snapshot_load_merged(p, path, loaded, pos, NULL, err);
}

static int append_to_writer(void *ctx, const uint8_t *bytes, size_t len, vg_error *err)
{
    if (vg_writer_put(ctx, bytes, len) != VG_OK)
        return vg_error_set(err, VG_ENOMEM, "merged snapshot of %zu bytes", len);
    return VG_OK;
}

int vg_snapshot_load_merged(vg_pipeline *p, const char *path, size_t *loaded,
                            vg_snapshot_positions *pos, vg_snapshot_merge_info *info,
                            vg_error *err)
{
    size_t len = 0, delta_len = 0;
    char delta_path[4096];
    if (loaded != NULL)
        *loaded = 0;
    if (info != NULL)
        *info = (vg_snapshot_merge_info){0};
    uint8_t *data = vg_snapshot_read_file(path, &len, err);
    if (data == NULL)
        return err != NULL ? err->code : VG_EIO;
    uint8_t *delta = NULL;
    if (vg_snapshot_delta_path(delta_path, sizeof(delta_path), path) == VG_OK)
        delta = vg_snapshot_read_file(delta_path, &delta_len, NULL);
    int rc;
    if (delta == NULL) {  /* no log: the base alone, as it is */
        rc = vg_snapshot_decode_at(p, data, len, path, loaded, pos, err);
    } else {
        vg_writer merged;
        vg_writer_init(&merged);
        rc = vg_snapshot_merge(data, len, delta, delta_len, path, append_to_writer, &merged,
                               info, err);
        if (rc == VG_OK)
            rc = vg_snapshot_decode_at(p, merged.buf, merged.len, path, loaded, pos, err);
        vg_writer_release(&merged);
        free(delta);
    }
    free(data);
    return rc;
}

int vg_snapshot_delta_path(char *out, size_t cap, const char *path)
{
    size_t n = strlen(path), suffix = strlen(VG_SNAPSHOT_SUFFIX);
    if (n >= suffix && strcmp(path + n - suffix, VG_SNAPSHOT_SUFFIX) == 0)
        n -= suffix;
    int w = snprintf(out, cap, "%.*s%s", (int)n, path, VG_DELTA_SUFFIX);
    return w < 0 || (size_t)w >= cap ? VG_ERANGE : VG_OK;
}

int vg_snapshot_path(char *out, size_t cap, const char *dir, const char *topic,
                     int32_t partition)
{
    if (partition < 0)
        return VG_EARG;
    int n = snprintf(out, cap, "%s/", dir);
    if (n < 0 || (size_t)n >= cap)
        return VG_ERANGE;
    size_t at = (size_t)n;
    for (const char *c = *topic ? topic : "_"; *c != '\0'; c++) {
        int ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                 (*c >= '0' && *c <= '9') || *c == '.' || *c == '_' || *c == '-';
        if (at + 1 >= cap)
            return VG_ERANGE;
        out[at++] = ok ? *c : '_';
    }
    n = snprintf(out + at, cap - at, "-%d%s", (int)partition, VG_SNAPSHOT_SUFFIX);
    return n < 0 || (size_t)n >= cap - at ? VG_ERANGE : VG_OK;
}

static int replay_path(char *out, size_t cap, const char *dir, vg_error *err)
{
    if ((size_t)snprintf(out, cap, "%s/%s", dir, REPLAY_FILE) >= cap)
        return vg_error_set(err, VG_ERANGE, "state directory path too long: %s", dir);
    return VG_OK;
}

int vg_snapshot_save_replay(vg_pipeline *p, const char *dir, vg_error *err)
{
    char path[4096];
    if (mkdir(dir, 0777) != 0 && errno != EEXIST)
        return vg_error_set_at(err, VG_EIO, dir, "mkdir: %s", strerror(errno));
    int rc = replay_path(path, sizeof(path), dir, err);
    return rc != VG_OK ? rc : vg_snapshot_save(p, path, -1, err);
}

int vg_snapshot_load_replay(vg_pipeline *p, const char *dir, size_t *loaded,
                            vg_error *err)
{
    char path[4096];
    int rc = replay_path(path, sizeof(path), dir, err);
    return rc != VG_OK ? rc : vg_snapshot_load(p, path, loaded, err);
}
