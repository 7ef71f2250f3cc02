/* The NDJSON event log: one event per line, append-only.
 *
 * Config: {"type": "ndjson", "path": "events.ndjson" ("-" = stdout),
 * "fsync": "never" | "flush" | "always", "max_bytes": N (rotate when the
 * file would exceed N; 0 = never), "keep": K (rotated files kept:
 * path.1 .. path.K, oldest dropped)}. flush() writes the stdio buffer out
 * and, with fsync "flush" or "always", fsyncs: after it returns, every
 * event emitted so far survives a crash of vigil (and, with fsync, of the
 * machine). */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
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
    FILE         *file;
    int           is_stdout;
    int64_t       bytes;    /* in the current file */
    char          line[65536];
} ndjson_sink;

/* fsync, where the file supports it: character devices and pipes (the
 * event log can be /dev/stdout or a FIFO) answer EINVAL, which is fine. */
static int sync_file(FILE *f)
{
    return fsync(fileno(f)) == 0 || errno == EINVAL || errno == EROFS ? VG_OK : VG_EIO;
}

static int open_file(ndjson_sink *s, vg_error *err)
{
    if (s->is_stdout) {
        s->file = stdout;
        return VG_OK;
    }
    s->file = fopen(s->params.path, "ab");
    if (s->file == NULL)
        return vg_error_set_at(err, VG_EIO, s->params.path, "cannot open event log: %s",
                               strerror(errno));
    fseek(s->file, 0, SEEK_END);
    s->bytes = ftell(s->file);
    return VG_OK;
}

/* path.K-1 -> path.K ... path -> path.1, then a fresh path. */
static int rotate(ndjson_sink *s)
{
    char from[1100], to[1100];
    fflush(s->file);
    if (s->params.fsync != FSYNC_NEVER)
        sync_file(s->file);
    fclose(s->file);
    s->file = NULL;
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
        vg_err("event log: %s: %s", err.where, err.msg);
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
    if (ndjson_configure(doc, cfg, &s->params, err) != VG_OK)
        goto out_free_sink;
    s->is_stdout = strcmp(s->params.path, "-") == 0;
    if (open_file(s, err) != VG_OK)
        goto out_free_sink;
    return s;

out_free_sink:
    free(s);
    return NULL;
}

static int ndjson_emit(void *self, const vg_event *ev)
{
    ndjson_sink *s = self;
    if (s->file == NULL && rotate(s) != VG_OK)
        return VG_EIO;
    int n = vg_event_encode(ev, s->line, sizeof(s->line) - 1);
    if (n < 0)
        return n;
    s->line[n++] = '\n';
    if (!s->is_stdout && s->params.max_bytes > 0 && s->bytes > 0 &&
        s->bytes + n > s->params.max_bytes && rotate(s) != VG_OK)
        return VG_EIO;
    if (fwrite(s->line, 1, (size_t)n, s->file) != (size_t)n)
        return VG_EIO;
    s->bytes += n;
    vg_metric_inc(VG_M_EVENT_LOG_BYTES, (uint64_t)n);
    if (s->params.fsync == FSYNC_ALWAYS) {
        if (fflush(s->file) != 0 || sync_file(s->file) != VG_OK)
            return VG_EIO;
    }
    return VG_OK;
}

static int ndjson_flush(void *self, int timeout_ms)
{
    (void)timeout_ms;
    ndjson_sink *s = self;
    if (s->file == NULL)
        return VG_EIO;
    if (fflush(s->file) != 0)
        return VG_EIO;
    if (!s->is_stdout && s->params.fsync != FSYNC_NEVER && sync_file(s->file) != VG_OK)
        return VG_EIO;
    return VG_OK;
}

static void ndjson_close(void *self)
{
    ndjson_sink *s = self;
    if (s->file != NULL && !s->is_stdout)
        fclose(s->file);
    else if (s->file != NULL)
        fflush(s->file);
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
