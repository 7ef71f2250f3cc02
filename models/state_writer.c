/* The state writer thread; see state_writer.h. */
#include "models/state_writer.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/grow.h"
#include "core/log.h"
#include "models/snapshot.h"
#include "models/snapshot_delta.h"
#include "models/snapshot_format.h"

/* What one partition has on disk, as far as this writer knows. */
typedef struct disk {
    int32_t  partition;
    int      known;      /* 0: unsure; the next DELTA fails */
    uint64_t base_len;
    uint32_t base_crc;
    int      fd;         /* the delta log, -1 when there is none */
    uint64_t delta_len;  /* its good bytes: the next segment goes there */
    uint64_t next_seq;
} disk;

struct vg_state_writer {
    pthread_t        thread;
    pthread_mutex_t  mu;
    pthread_cond_t   work, done;
    vg_state_job    *head, *tail;  /* queued jobs */
    int              stopping;
    size_t           unreported;   /* reported jobs submitted, results not yet out */
    vg_state_result *results;
    size_t           n_results, cap_results;
    /* the thread's own, never touched by another */
    int              compact_percent;
    disk            *disks;
    size_t           n_disks, cap_disks;
};

static disk *disk_of(vg_state_writer *w, int32_t partition)
{
    for (size_t i = 0; i < w->n_disks; i++)
        if (w->disks[i].partition == partition)
            return &w->disks[i];
    w->disks = vg_grow(w->disks, &w->cap_disks, w->n_disks, sizeof(*w->disks), 16);
    vg_assert(w->disks != NULL);
    w->disks[w->n_disks] = (disk){.partition = partition, .fd = -1};
    return &w->disks[w->n_disks++];
}

static void close_log(disk *d)
{
    if (d->fd >= 0)
        close(d->fd);
    d->fd = -1;
}

/* A new base of base_len bytes ending in base_crc is on disk: the log, which
 * it now holds, goes (the directory fsync makes that durable). */
static int new_base(disk *d, const char *path, uint64_t base_len, uint32_t base_crc,
                    vg_error *err)
{
    char delta[4096];
    close_log(d);
    d->known = 0;
    if (vg_snapshot_delta_path(delta, sizeof(delta), path) != VG_OK)
        return vg_error_set(err, VG_ERANGE, "state path too long: %s", path);
    if (unlink(delta) != 0 && errno != ENOENT)
        return vg_error_set_at(err, VG_EIO, delta, "unlink: %s", strerror(errno));
    int rc = vg_snapshot_sync_dir(path, err);
    if (rc == VG_OK)
        *d = (disk){d->partition, 1, base_len, base_crc, -1, 0, 1};
    return rc;
}

/* ---- BASE and COMPACT: a whole new base -------------------------------- */

/* Passes bytes on, remembering how many and the last four (the CRC). */
typedef struct tail_sink {
    vg_snapshot_sink_fn sink;
    void               *ctx;
    uint64_t            len;
    uint8_t             last[4];
} tail_sink;

static int keep_tail(void *ctx, const uint8_t *bytes, size_t len, vg_error *err)
{
    tail_sink *t = ctx;
    for (size_t i = len > 4 ? len - 4 : 0; i < len; i++) {
        memmove(t->last, t->last + 1, 3);
        t->last[3] = bytes[i];
    }
    t->len += len;
    return t->sink(t->ctx, bytes, len, err);
}

typedef struct base_source {
    const vg_state_job *job;
    const uint8_t      *base, *delta;  /* COMPACT: the files' contents */
    size_t              base_len, delta_len;
    tail_sink           out;
} base_source;

static int produce_base(void *ctx, vg_snapshot_sink_fn sink, void *sink_ctx, vg_error *err)
{
    base_source *s = ctx;
    s->out = (tail_sink){.sink = sink, .ctx = sink_ctx};
    if (s->job->kind == VG_STATE_BASE)
        return keep_tail(&s->out, s->job->bytes.buf, s->job->bytes.len, err);
    return vg_snapshot_merge(s->base, s->base_len, s->delta, s->delta_len, s->job->path,
                             keep_tail, &s->out, NULL, err);
}

static int write_base(disk *d, const vg_state_job *job, size_t *bytes, vg_error *err)
{
    base_source s = {.job = job};
    const uint8_t *base = NULL;
    uint8_t *delta = NULL;
    char delta_path[4096];
    int rc = VG_OK;
    if (job->kind == VG_STATE_COMPACT) {
        close_log(d);  /* read back below; d->known ends with the outcome */
        base = vg_snapshot_map_file(job->path, &s.base_len, err);
        if (base == NULL)
            rc = err->code;
        else if (vg_snapshot_delta_path(delta_path, sizeof(delta_path), job->path) == VG_OK)
            delta = vg_snapshot_read_file(delta_path, &s.delta_len, NULL);
        s.base = base;
        s.delta = delta;
    }
    d->known = 0;
    if (rc == VG_OK)
        rc = vg_snapshot_write_atomic(job->path, produce_base, &s, err);
    vg_snapshot_unmap_file(base, s.base_len);
    free(delta);
    if (rc == VG_OK)
        rc = new_base(d, job->path, s.out.len,
                      (uint32_t)s.out.last[0] | (uint32_t)s.out.last[1] << 8 |
                          (uint32_t)s.out.last[2] << 16 | (uint32_t)s.out.last[3] << 24,
                      err);
    *bytes = (size_t)s.out.len;
    return rc;
}

/* ---- DELTA: one more segment ------------------------------------------- */

static int put_all(int fd, const uint8_t *bytes, size_t len, uint64_t at, const char *path,
                   vg_error *err)
{
    while (len > 0) {
        ssize_t n = pwrite(fd, bytes, len, (off_t)at);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return vg_error_set_at(err, VG_EIO, path, "write: %s", strerror(errno));
        bytes += n;
        len -= (size_t)n;
        at += (uint64_t)n;
    }
    return VG_OK;
}

/* A new log over the current base; a leftover (stale) one is replaced. */
static int open_log(disk *d, const char *path, vg_error *err)
{
    vg_writer head;
    vg_writer_init(&head);
    vg_delta_put_header(&head, d->base_len, d->base_crc);
    if (unlink(path) != 0 && errno != ENOENT) {
        vg_writer_release(&head);
        return vg_error_set_at(err, VG_EIO, path, "unlink: %s", strerror(errno));
    }
    d->fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    int rc = d->fd < 0 ? vg_error_set_at(err, VG_EIO, path, "open: %s", strerror(errno))
                       : put_all(d->fd, head.buf, head.len, 0, path, err);
    d->delta_len = head.len;
    d->next_seq = 1;
    vg_writer_release(&head);
    /* the new name must survive a crash before the first segment counts */
    return rc == VG_OK ? vg_snapshot_sync_dir(path, err) : rc;
}

static int append(disk *d, vg_state_job *job, size_t *bytes, vg_error *err)
{
    char path[4096];
    if (!d->known)
        return vg_error_set_at(err, VG_EIO, job->path,
                               "state on disk not known after an earlier failure: "
                               "a whole snapshot follows");
    if (vg_snapshot_delta_path(path, sizeof(path), job->path) != VG_OK)
        return vg_error_set(err, VG_ERANGE, "state path too long: %s", job->path);
    int rc = vg_delta_encode_image(job->p, job->image, &job->bytes, err);
    if (rc == VG_OK && d->fd < 0)
        rc = open_log(d, path, err);
    if (rc == VG_OK && vg_delta_seal(&job->bytes, d->next_seq) != VG_OK)
        rc = vg_error_set(err, VG_ENOMEM, "state segment of %zu bytes", job->bytes.len);
    if (rc == VG_OK)
        rc = put_all(d->fd, job->bytes.buf, job->bytes.len, d->delta_len, path, err);
    if (rc == VG_OK && fdatasync(d->fd) != 0)
        rc = vg_error_set_at(err, VG_EIO, path, "fdatasync: %s", strerror(errno));
    if (rc != VG_OK) {
        /* Cut the partial segment off if we can; either way the next save
         * is a whole snapshot, which replaces the log. */
        if (d->fd >= 0 && ftruncate(d->fd, (off_t)d->delta_len) != 0)
            vg_warn("%s: cannot cut a failed segment off: %s", path, strerror(errno));
        close_log(d);
        d->known = 0;
        return rc;
    }
    d->delta_len += job->bytes.len;
    d->next_seq++;
    *bytes = job->bytes.len;
    return VG_OK;
}

static int log_outgrew_base(const vg_state_writer *w, const disk *d)
{
    return d->known && d->fd >= 0 &&
           (d->delta_len - VG_DELTA_HEADER_BYTES) * 100 >= d->base_len * (uint64_t)w->compact_percent;
}

/* ---- the thread -------------------------------------------------------- */

static int run(vg_state_writer *w, vg_state_job *job, size_t *bytes, vg_error *err)
{
    disk *d = disk_of(w, job->partition);
    switch (job->kind) {
    case VG_STATE_BASE:
    case VG_STATE_COMPACT:
        return write_base(d, job, bytes, err);
    case VG_STATE_DELTA:
        return append(d, job, bytes, err);
    case VG_STATE_FORGET:
        close_log(d);
        d->known = 0;
        return VG_OK;
    }
    return VG_EARG;
}

static void publish(vg_state_writer *w, const vg_state_result *r)
{
    pthread_mutex_lock(&w->mu);
    w->results = vg_grow(w->results, &w->cap_results, w->n_results, sizeof(*w->results), 16);
    vg_assert(w->results != NULL);
    w->results[w->n_results++] = *r;
    w->unreported--;
    pthread_cond_broadcast(&w->done);
    pthread_mutex_unlock(&w->mu);
}

/* Compaction follows the result it was due to: a commit never waits on it. */
static void compact(vg_state_writer *w, const vg_state_job *after)
{
    vg_state_job job = {.kind = VG_STATE_COMPACT, .partition = after->partition};
    memcpy(job.path, after->path, sizeof(job.path));
    vg_error err = {0};
    size_t bytes = 0;
    if (run(w, &job, &bytes, &err) != VG_OK)
        vg_warn("state of partition %d not compacted (a whole snapshot follows): %s: %s",
                (int)after->partition, err.where, err.msg);
}

static void *writer_main(void *arg)
{
    vg_state_writer *w = arg;
    for (;;) {
        pthread_mutex_lock(&w->mu);
        while (w->head == NULL && !w->stopping)
            pthread_cond_wait(&w->work, &w->mu);
        vg_state_job *job = w->head;
        if (job != NULL && (w->head = job->next) == NULL)
            w->tail = NULL;
        pthread_mutex_unlock(&w->mu);
        if (job == NULL)
            return NULL;  /* stopping, and nothing left */
        vg_state_result r = {.partition = job->partition};
        r.rc = run(w, job, &r.bytes, &r.err);
        if (job->report) {
            r.image = job->image;  /* goes back for reuse */
            job->image = NULL;
            publish(w, &r);
        }
        else if (r.rc != VG_OK)
            vg_warn("state of partition %d: %s: %s", (int)job->partition, r.err.where,
                    r.err.msg);
        if (job->kind == VG_STATE_DELTA && r.rc == VG_OK &&
            log_outgrew_base(w, disk_of(w, job->partition)))
            compact(w, job);
        vg_writer_release(&job->bytes);
        vg_delta_image_free(job->image);
        free(job);
    }
}

vg_state_writer *vg_state_writer_start(int compact_percent, vg_error *err)
{
    vg_state_writer *w = calloc(1, sizeof(*w));
    if (w == NULL) {
        vg_error_set(err, VG_ENOMEM, "state writer");
        return NULL;
    }
    w->compact_percent = compact_percent;
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->work, NULL);
    pthread_cond_init(&w->done, NULL);
    int rc = pthread_create(&w->thread, NULL, writer_main, w);
    if (rc != 0) {
        vg_error_set(err, VG_ENOMEM, "state writer thread: %s", strerror(rc));
        pthread_cond_destroy(&w->done);
        pthread_cond_destroy(&w->work);
        pthread_mutex_destroy(&w->mu);
        free(w);
        return NULL;
    }
    return w;
}

void vg_state_writer_stop(vg_state_writer *w)
{
    if (w == NULL)
        return;
    pthread_mutex_lock(&w->mu);
    w->stopping = 1;
    pthread_cond_signal(&w->work);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    for (size_t i = 0; i < w->n_disks; i++)
        close_log(&w->disks[i]);
    for (size_t i = 0; i < w->n_results; i++)  /* results nobody took */
        vg_delta_image_free(w->results[i].image);
    free(w->disks);
    free(w->results);
    pthread_cond_destroy(&w->done);
    pthread_cond_destroy(&w->work);
    pthread_mutex_destroy(&w->mu);
    free(w);
}

void vg_state_writer_submit(vg_state_writer *w, vg_state_job *job)
{
    job->next = NULL;
    pthread_mutex_lock(&w->mu);
    if (w->tail != NULL)
        w->tail->next = job;
    else
        w->head = job;
    w->tail = job;
    w->unreported += job->report != 0;
    pthread_cond_signal(&w->work);
    pthread_mutex_unlock(&w->mu);
}

size_t vg_state_writer_results(vg_state_writer *w, int wait, vg_state_result *out, size_t cap)
{
    pthread_mutex_lock(&w->mu);
    while (wait && w->unreported > 0)
        pthread_cond_wait(&w->done, &w->mu);
    size_t n = w->n_results < cap ? w->n_results : cap;
    if (n > 0) {  /* w->results may still be NULL */
        memcpy(out, w->results, n * sizeof(*out));
        memmove(w->results, w->results + n, (w->n_results - n) * sizeof(*out));
        w->n_results -= n;
    }
    pthread_mutex_unlock(&w->mu);
    return n;
}
