/* The NDJSON event log: one event per line, append-only, never torn.
 *
 * Config: {"type": "ndjson", "path": "events.ndjson" ("-" = stdout),
 * "fsync": "never" | "flush" | "always", "max_bytes": N (rotate when the
 * file would exceed N; 0 = never), "keep": K (rotated files kept:
 * path.1 .. path.K, oldest dropped)}.
 *
 * Lines gather in a buffer of whole lines and go out with write(2) on an
 * O_APPEND descriptor (no stdio buffer that could drop bytes on an error).
 * A short or failed write (a full disk) is cut back off the file
 * (ftruncate to the size before it), and the lines stay buffered: the next
 * flush writes them again, and until it succeeds flush() fails, which holds
 * the checkpoint back. On open, a last line without its newline (a crash
 * in the middle of a write) is cut off and counted
 * (vigil_event_log_torn_lines_total): its event is re-emitted, since its
 * offset was never committed. flush() returns 0 once every line emitted is
 * written (and, with fsync "flush" or "always", fsynced). Bytes are counted
 * once written. The file is opened with O_NOFOLLOW: a symlink in its place
 * is refused. */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "core/vigil_metrics.h"
#include "streams/stream.h"

enum { FSYNC_NEVER, FSYNC_FLUSH, FSYNC_ALWAYS };

typedef struct ndjson_params {
    char    path[1024];
    int     fsync;
    int64_t max_bytes;
    int64_t keep;
} ndjson_params;

static const vg_conf_field ndjson_fields[] = {
    {"path", VG_CONF_STRING, offsetof(ndjson_params, path), 0, 0, 1024, "-",
     "event log file; \"-\" writes to standard output"},
    {"fsync", VG_CONF_ENUM, offsetof(ndjson_params, fsync), FSYNC_FLUSH, 0, 0,
     "never|flush|always", "when to fsync: never, on every flush, after every event"},
    {"max_bytes", VG_CONF_INT, offsetof(ndjson_params, max_bytes), 0, 0, 1e15, NULL,
     "rotate the file before it grows past this size; 0 never rotates"},
    {"keep", VG_CONF_INT, offsetof(ndjson_params, keep), 5, 1, 1000, NULL,
     "rotated files kept (path.1 is the newest)"},
};

static const char *const ndjson_also[] = {"type", NULL};

typedef struct ndjson_sink {
    ndjson_params params;
    int           fd;       /* -1: closed (a rotation failed) */
    int           is_stdout;
    int64_t       bytes;    /* in the current file */
    char         *pending;  /* whole lines not written yet */
    size_t        n_pending, cap_pending;
    vg_ratelimit  fail_log;
    char          line[65536];
} ndjson_sink;

#define PENDING_WRITE 65536  /* write out once this much is buffered */

/* fsync, where the file supports it: character devices and pipes (the
 * event log can be /dev/stdout or a FIFO) answer EINVAL, which is fine. */
static int sync_fd(int fd)
{
    return fsync(fd) == 0 || errno == EINVAL || errno == EROFS ? VG_OK : VG_EIO;
}

/* Cuts a partial last line (no newline) off the file, counting it. */
static int cut_torn_line(ndjson_sink *s, vg_error *err)
{
    off_t end = s->bytes, at = end;
    char buf[4096];
    while (at > 0) {
        size_t len = at < (off_t)sizeof(buf) ? (size_t)at : sizeof(buf);
        ssize_t n = pread(s->fd, buf, len, at - (off_t)len);
        if (n != (ssize_t)len)
            return vg_error_set_at(err, VG_EIO, s->params.path, "read: %s", strerror(errno));
        size_t i = len;
        while (i > 0 && buf[i - 1] != '\n')
            i--;
        if (i > 0) {
            at = at - (off_t)len + (off_t)i;
            break;
        }
        at -= (off_t)len;
    }
    if (at == end)
        return VG_OK;
    if (ftruncate(s->fd, at) != 0)
        return vg_error_set_at(err, VG_EIO, s->params.path, "truncate: %s", strerror(errno));
    vg_metric_inc(VG_M_EVENT_LOG_TORN, 1);
    vg_warn("event log %s: a partial last line of %lld bytes cut off (an interrupted write)",
            s->params.path, (long long)(end - at));
    s->bytes = at;
    return VG_OK;
}

static int open_file(ndjson_sink *s, vg_error *err)
{
    if (s->is_stdout) {
        s->fd = STDOUT_FILENO;
        return VG_OK;
    }
    /* Read-write: the last line is read back to check it is whole. */
    s->fd = open(s->params.path, O_RDWR | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (s->fd < 0)
        return vg_error_set_at(err, VG_EIO, s->params.path, "cannot open event log: %s",
                               strerror(errno));
    struct stat st;
    if (fstat(s->fd, &st) != 0)
        return vg_error_set_at(err, VG_EIO, s->params.path, "stat: %s", strerror(errno));
    s->bytes = st.st_size;
    return S_ISREG(st.st_mode) ? cut_torn_line(s, err) : VG_OK;
}

/* path.K-1 -> path.K ... path -> path.1, then a fresh path. */
static int rotate(ndjson_sink *s)
{
    char from[1100], to[1100];
    if (s->params.fsync != FSYNC_NEVER)
        sync_fd(s->fd);
    close(s->fd);
    s->fd = -1;
    for (int64_t k = s->params.keep; k >= 1; k--) {
        if (k == 1)
            snprintf(from, sizeof(from), "%s", s->params.path);
        else
            snprintf(from, sizeof(from), "%s.%lld", s->params.path, (long long)(k - 1));
        snprintf(to, sizeof(to), "%s.%lld", s->params.path, (long long)k);
        rename(from, to);  /* a missing older file is fine */
    }
    vg_error err;
    if (open_file(s, &err) != VG_OK) {
        vg_log_limited(&s->fail_log, VG_LOG_ERROR, "event log: %s: %s", err.where, err.msg);
        return VG_EIO;
    }
    return VG_OK;
}

static int ndjson_configure(const vg_conf_doc *doc, const json_t *cfg, ndjson_params *prm,
                            vg_error *err)
{
    return vg_conf_apply(doc, cfg, "outputs.ndjson", ndjson_fields,
                         VG_CONF_COUNT(ndjson_fields), ndjson_also, prm, err);
}

static int ndjson_check(const vg_conf_doc *doc, const json_t *cfg, vg_error *err)
{
    ndjson_params prm;
    return ndjson_configure(doc, cfg, &prm, err);
}

static void *ndjson_open(const vg_conf_doc *doc, const json_t *cfg, vg_error *err)
{
    ndjson_sink *s = calloc(1, sizeof(*s));
    if (s == NULL) {
        vg_error_set(err, VG_ENOMEM, "ndjson sink");
        return NULL;
    }
    s->fd = -1;
    if (ndjson_configure(doc, cfg, &s->params, err) != VG_OK)
        goto out_free_sink;
    s->is_stdout = strcmp(s->params.path, "-") == 0;
    if (open_file(s, err) != VG_OK)
        goto out_close_file;
    return s;

out_close_file:
    if (s->fd >= 0)
        close(s->fd);
out_free_sink:
    free(s);
    return NULL;
}

/* Writes the pending lines in one write(2). A short or failed write is cut
 * back off the file (nothing torn stays) and the lines stay pending. */
static int write_pending(ndjson_sink *s)
{
    if (s->n_pending == 0)
        return VG_OK;
    if (s->fd < 0 && rotate(s) != VG_OK)
        return VG_EIO;
    ssize_t n;
    do
        n = write(s->fd, s->pending, s->n_pending);
    while (n < 0 && errno == EINTR);
    if (n == (ssize_t)s->n_pending) {
        s->bytes += n;
        vg_metric_inc(VG_M_EVENT_LOG_BYTES, (uint64_t)n);
        s->n_pending = 0;
        return VG_OK;
    }
    int e = n < 0 ? errno : ENOSPC;
    if (n > 0 && !s->is_stdout && ftruncate(s->fd, s->bytes) != 0)
        vg_log_limited(&s->fail_log, VG_LOG_ERROR, "event log %s: cannot cut a short write: %s",
                       s->params.path, strerror(errno));
    vg_metric_not_durable("ndjson", "write", 1);
    vg_log_limited(&s->fail_log, VG_LOG_ERROR,
                   "event log %s: %zu bytes not written (%s); kept and retried",
                   s->params.path, s->n_pending, strerror(e));
    return VG_EIO;
}

static int ndjson_emit(void *self, const vg_event *ev)
{
    ndjson_sink *s = self;
    int n = vg_event_encode(ev, s->line, sizeof(s->line) - 1);
    if (n < 0)
        return n;
    s->line[n++] = '\n';
    /* Rotation only between writes, so that the pending lines go where the
     * size check said. */
    if (!s->is_stdout && s->params.max_bytes > 0 && s->bytes > 0 &&
        s->bytes + (int64_t)s->n_pending + n > s->params.max_bytes &&
        (write_pending(s) != VG_OK || rotate(s) != VG_OK))
        vg_log_limited(&s->fail_log, VG_LOG_ERROR, "event log %s: rotation failed",
                       s->params.path);
    if (s->n_pending + (size_t)n > s->cap_pending) {
        size_t cap = s->cap_pending ? s->cap_pending : PENDING_WRITE;
        while (cap < s->n_pending + (size_t)n)
            cap *= 2;
        char *p = realloc(s->pending, cap);
        vg_assert(p != NULL);
        s->pending = p;
        s->cap_pending = cap;
    }
    memcpy(s->pending + s->n_pending, s->line, (size_t)n);
    s->n_pending += (size_t)n;
    /* Errors here are reported by the next flush, which retries. */
    if (s->params.fsync == FSYNC_ALWAYS) {
        if (write_pending(s) == VG_OK && !s->is_stdout && sync_fd(s->fd) != VG_OK)
            vg_metric_not_durable("ndjson", "fsync", 1);
    } else if (s->n_pending >= PENDING_WRITE) {
        write_pending(s);
    }
    return VG_OK;
}

static int ndjson_flush(void *self, int timeout_ms)
{
    (void)timeout_ms;
    ndjson_sink *s = self;
    if (write_pending(s) != VG_OK)
        return VG_EIO;
    if (!s->is_stdout && s->params.fsync != FSYNC_NEVER && sync_fd(s->fd) != VG_OK) {
        vg_metric_not_durable("ndjson", "fsync", 1);
        vg_log_limited(&s->fail_log, VG_LOG_ERROR, "event log %s: fsync: %s", s->params.path,
                       strerror(errno));
        return VG_EIO;
    }
    return VG_OK;
}

static void ndjson_close(void *self)
{
    ndjson_sink *s = self;
    if (write_pending(s) != VG_OK)
        vg_warn("event log %s: closing with %zu bytes not written (their offsets are not "
                "committed: they are written again after a restart)", s->params.path,
                s->n_pending);
    if (s->fd >= 0 && !s->is_stdout)
        close(s->fd);
    free(s->pending);
    free(s);
}

const vg_sink_ops vg_ndjson_sink_ops = {
    .name     = "ndjson",
    .fields   = ndjson_fields,
    .n_fields = VG_CONF_COUNT(ndjson_fields),
    .check    = ndjson_check,
    .open     = ndjson_open,
    .emit     = ndjson_emit,
    .flush    = ndjson_flush,
    .close    = ndjson_close,
    .records_muted = 1,
};
