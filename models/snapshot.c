/* The snapshot format: encoding a pipeline's series into bytes and loading
 * them back, verifying everything before changing anything (layout in
 * snapshot.h; files and paths in snapshot_file.c). */
#include "models/snapshot.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/grow.h"
#include "models/crc32c.h"
#include "models/snapshot_format.h"

static const uint8_t magic[8] = {'V', 'I', 'G', 'I', 'L', 'S', 'T', '\0'};

#define OFF_VERSION    8              /* header field offsets */
#define OFF_STATE_ID   12
#define OFF_COUNT      28
#define TRAILER_BYTES  VG_SNAP_TRAILER_BYTES
#define TEXT_MAX       VG_SNAP_TEXT_MAX
#define FLUSH_BYTES    ((size_t)1 << 20)
#define ALL_PARTITIONS UINT32_MAX

/* How much of a series key a message shows. */
static int shown(size_t key_len)
{
    return key_len > 48 ? 48 : (int)key_len;
}

/* ---- encoding ------------------------------------------------------------ */

typedef vg_snap_series series_ref;

typedef struct series_list {
    const vg_pipeline *p;
    int32_t            partition;
    series_ref        *v;
    size_t             n, cap;
    int                nomem;
} series_list;

static void collect(void *ctx, void *state, const char *key, size_t key_len)
{
    series_list *l = ctx;
    if (l->nomem || (l->partition >= 0 &&
                     vg_pipeline_series_partition(l->p, state) != l->partition))
        return;
    series_ref *v = vg_grow(l->v, &l->cap, l->n, sizeof(*v), 16);
    if (v == NULL) {
        l->nomem = 1;
        return;
    }
    l->v = v;
    l->v[l->n++] = (series_ref){state, key, key_len};
}

static int ref_cmp(const void *a, const void *b);

int vg_snap_collect(vg_pipeline *p, int32_t partition, uint64_t since, int sorted,
                    vg_snap_series **out, size_t *n, vg_error *err)
{
    series_list l = {.p = p, .partition = partition};
    vg_series_table_foreach_changed(vg_pipeline_series(p), since, collect, &l);
    *out = l.v;
    *n = l.n;
    if (l.nomem) {
        free(l.v);
        *out = NULL;
        return vg_error_set(err, VG_ENOMEM, "snapshot of %zu series", l.n);
    }
    if (sorted && l.n > 1)
        qsort(l.v, l.n, sizeof(*l.v), ref_cmp);
    return VG_OK;
}

int vg_snap_key_cmp(const char *a, size_t a_len, const char *b, size_t b_len)
{
    int c = memcmp(a, b, a_len < b_len ? a_len : b_len);
    if (c != 0)
        return c;
    return a_len < b_len ? -1 : a_len > b_len;
}

static int ref_cmp(const void *a, const void *b)
{
    const series_ref *x = a, *y = b;
    return vg_snap_key_cmp(x->key, x->key_len, y->key, y->key_len);
}

/* "zscore,seasonal,..." into buf[cap] (cut at cap: it is only a label). */
static void detector_list(const vg_pipeline *p, char *buf, size_t cap)
{
    size_t len = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < vg_pipeline_detector_count(p) && len < cap; i++)
        len += (size_t)snprintf(buf + len, cap - len, "%s%s", i ? "," : "",
                                vg_pipeline_detector_name(p, i));
}

static void put_text(vg_writer *out, const char *s)
{
    size_t n = strlen(s);
    n = n > TEXT_MAX ? TEXT_MAX : n;
    vg_writer_u32(out, (uint32_t)n);
    vg_writer_put(out, s, n);
}

void vg_snap_put_positions(const vg_snapshot_positions *pos, vg_writer *out)
{
    size_t n = pos ? pos->n : 0;
    vg_writer_u32(out, (uint32_t)n);
    for (size_t i = 0; i < n; i++) {
        put_text(out, pos->v[i].topic);
        vg_writer_u32(out, (uint32_t)pos->v[i].partition);
        vg_writer_i64(out, pos->v[i].next_offset);
    }
}

void vg_snap_put_header(const vg_snap_header *h, vg_writer *out)
{
    vg_writer_put(out, magic, sizeof(magic));
    vg_writer_u32(out, VG_SNAPSHOT_VERSION);
    vg_writer_u64(out, h->state_id);
    vg_writer_u32(out, h->window);
    vg_writer_u32(out, h->partition);
    vg_writer_u64(out, h->count);
    put_text(out, h->creator);
    put_text(out, h->detectors);
    vg_snap_put_positions(&h->pos, out);
}

static void put_header(vg_pipeline *p, int32_t partition, size_t count,
                       const vg_snapshot_positions *pos, vg_writer *out)
{
    vg_snap_header h = {
        .state_id = vg_pipeline_state_id(p),
        .window = vg_pipeline_config(p)->window,
        .partition = partition < 0 ? ALL_PARTITIONS : (uint32_t)partition,
        .count = count,
        .creator = "vigil " VIGIL_VERSION,
    };
    detector_list(p, h.detectors, sizeof(h.detectors));
    if (pos != NULL)
        h.pos = *pos;
    vg_snap_put_header(&h, out);
}

/* Hands the buffered bytes to the sink, folding them into the CRC. */
static int drain(vg_writer *buf, uint32_t *crc, vg_snapshot_sink_fn sink, void *ctx,
                 vg_error *err)
{
    if (buf->failed)
        return vg_error_set(err, VG_ENOMEM, "snapshot buffer");
    *crc = vg_crc32c_update(*crc, buf->buf, buf->len);
    int rc = buf->len ? sink(ctx, buf->buf, buf->len, err) : VG_OK;
    vg_writer_reset(buf);
    return rc;
}

int vg_snap_put_series(const vg_pipeline *p, const series_ref *s, vg_writer *buf, vg_error *err)
{
    vg_writer_u32(buf, (uint32_t)s->key_len);
    vg_writer_put(buf, s->key, s->key_len);
    size_t at = buf->len;
    vg_writer_u32(buf, 0);  /* the record's length, patched below */
    int rc = vg_pipeline_save_series(p, s->block, buf);
    if (rc != VG_OK || buf->failed)
        return vg_error_set(err, rc != VG_OK ? rc : VG_ENOMEM, "series %.*s: not saved",
                            shown(s->key_len), s->key);
    size_t len = buf->len - at - 4;
    if (len > UINT32_MAX)
        return vg_error_set(err, VG_ERANGE, "series %.*s: %zu bytes of state",
                            shown(s->key_len), s->key, len);
    for (int i = 0; i < 4; i++)
        buf->buf[at + i] = (uint8_t)(len >> (8 * i));
    return VG_OK;
}

int vg_snapshot_encode(vg_pipeline *p, int32_t partition, vg_snapshot_sink_fn sink,
                       void *ctx, vg_error *err)
{
    return vg_snapshot_encode_at(p, partition, NULL, sink, ctx, err);
}

int vg_snapshot_encode_at(vg_pipeline *p, int32_t partition, const vg_snapshot_positions *pos,
                          vg_snapshot_sink_fn sink, void *ctx, vg_error *err)
{
    vg_assert(pos == NULL || pos->n <= VG_SNAPSHOT_POSITIONS_MAX);
    series_list l = {.p = p, .partition = partition};
    if (vg_snap_collect(p, partition, 0, 1, &l.v, &l.n, err) != VG_OK)
        return err != NULL ? err->code : VG_ENOMEM;

    vg_writer buf;
    vg_writer_init(&buf);
    uint32_t crc = 0;
    put_header(p, partition, l.n, pos, &buf);
    int rc = VG_OK;
    for (size_t i = 0; i < l.n && rc == VG_OK; i++) {
        rc = vg_snap_put_series(p, &l.v[i], &buf, err);
        if (rc == VG_OK && buf.len >= FLUSH_BYTES)
            rc = drain(&buf, &crc, sink, ctx, err);
    }
    if (rc == VG_OK)
        rc = drain(&buf, &crc, sink, ctx, err);
    if (rc == VG_OK) {
        uint32_t ignored = 0;
        vg_writer_u32(&buf, crc);
        rc = drain(&buf, &ignored, sink, ctx, err);
    }
    vg_writer_release(&buf);
    free(l.v);
    return rc;
}

static int append_to_writer(void *ctx, const uint8_t *bytes, size_t len, vg_error *err)
{
    if (vg_writer_put(ctx, bytes, len) != VG_OK)
        return vg_error_set(err, VG_ENOMEM, "snapshot of %zu bytes", len);
    return VG_OK;
}

int vg_snapshot_encode_mem(vg_pipeline *p, int32_t partition, vg_writer *out,
                           vg_error *err)
{
    return vg_snapshot_encode(p, partition, append_to_writer, out, err);
}

/* ---- decoding ------------------------------------------------------------ */

typedef vg_snap_header header;
typedef vg_snap_record record;

int vg_snap_fail_at(vg_error *err, int code, const char *name, size_t offset,
                   const char *fmt, ...)
{
    char where[sizeof(err->where)], suffix[24], msg[sizeof(err->msg)];
    size_t tail = (size_t)snprintf(suffix, sizeof(suffix), "@%zu", offset);
    size_t room = sizeof(where) - 1 - tail, len = strlen(name), keep = len;
    char *o = where;
    if (len > room) {
        memcpy(o, "...", 3);
        o += 3;
        keep = room - 3;
    }
    memcpy(o, name + len - keep, keep);
    memcpy(o + keep, suffix, tail + 1);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return vg_error_set_at(err, code, where, "%s", msg);
}

static uint32_t le32(const uint8_t *b)
{
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
           (uint32_t)b[3] << 24;
}

static int get_text(vg_reader *in, char *out, const char *name, const char *what,
                    vg_error *err)
{
    size_t at = in->pos;
    uint32_t n;
    if (vg_reader_u32(in, &n) != VG_OK || n > TEXT_MAX || n > vg_reader_left(in))
        return vg_snap_fail_at(err, VG_EPARSE, name, at, "%s: bad length %u", what, n);
    vg_reader_get(in, out, n);
    out[n] = '\0';
    return VG_OK;
}

int vg_snap_read_header(const uint8_t *data, size_t len, const char *name, header *h,
                        vg_reader *in, vg_error *err)
{
    size_t head = len < sizeof(magic) ? len : sizeof(magic);
    if (head > 0 && memcmp(data, magic, head) != 0)  /* data NULL-able when len is 0 */
        return vg_snap_fail_at(err, VG_EPARSE, name, 0, "not a vigil state file (bad magic)");
    if (len < OFF_VERSION + 4)
        return vg_snap_fail_at(err, VG_EPARSE, name, len, "truncated: %zu bytes", len);
    h->version = le32(data + OFF_VERSION);
    if (h->version != VG_SNAPSHOT_VERSION)
        return vg_snap_fail_at(err, VG_EVERSION, name, OFF_VERSION,
                       "state file format version %u is %s than version %u, the "
                       "one this vigil reads: regenerate the state with this vigil",
                       h->version, h->version > VG_SNAPSHOT_VERSION ? "newer" : "older",
                       VG_SNAPSHOT_VERSION);
    if (len < OFF_STATE_ID + TRAILER_BYTES)
        return vg_snap_fail_at(err, VG_EPARSE, name, len, "truncated: %zu bytes", len);
    size_t body = len - TRAILER_BYTES;
    uint32_t want = le32(data + body);
    uint32_t got = vg_crc32c(data, body);
    if (got != want)
        return vg_snap_fail_at(err, VG_ECHECKSUM, name, body,
                       "checksum mismatch: file says %08x, contents give %08x "
                       "(corrupt or truncated)", want, got);

    vg_reader_init(in, data, body);
    in->pos = OFF_STATE_ID;
    vg_reader_u64(in, &h->state_id);
    vg_reader_u32(in, &h->window);
    vg_reader_u32(in, &h->partition);
    if (vg_reader_u64(in, &h->count) != VG_OK)
        return vg_snap_fail_at(err, VG_EPARSE, name, in->len, "header truncated");
    int rc = get_text(in, h->creator, name, "creator", err);
    if (rc == VG_OK)
        rc = get_text(in, h->detectors, name, "detectors", err);
    return rc != VG_OK ? rc : vg_snap_get_positions(in, name, &h->pos, err);
}

int vg_snap_get_positions(vg_reader *in, const char *name, vg_snapshot_positions *pos,
                          vg_error *err)
{
    size_t at = in->pos;
    uint32_t n;
    if (vg_reader_u32(in, &n) != VG_OK || n > VG_SNAPSHOT_POSITIONS_MAX)
        return vg_snap_fail_at(err, VG_EPARSE, name, at, "positions: bad count %u", n);
    pos->n = n;
    for (uint32_t i = 0; i < n; i++) {
        vg_snapshot_position *sp = &pos->v[i];
        uint32_t partition;
        int rc = get_text(in, sp->topic, name, "position topic", err);
        if (rc != VG_OK)
            return rc;
        at = in->pos;
        vg_reader_u32(in, &partition);
        if (vg_reader_i64(in, &sp->next_offset) != VG_OK || partition > INT32_MAX ||
            sp->next_offset < 0)
            return vg_snap_fail_at(err, VG_EPARSE, name, at,
                                   "position %u: bad partition or offset", i + 1);
        sp->partition = (int32_t)partition;
    }
    return VG_OK;
}

int vg_snap_next_record(vg_reader *in, record *r)
{
    r->at = in->pos;
    if (vg_reader_u32(in, &r->key_len) != VG_OK || r->key_len > vg_reader_left(in))
        return VG_EPARSE;
    r->key = (const char *)in->buf + in->pos;
    in->pos += r->key_len;
    if (vg_reader_u32(in, &r->len) != VG_OK || r->len > vg_reader_left(in))
        return VG_EPARSE;
    r->state = in->buf + in->pos;
    in->pos += r->len;
    return VG_OK;
}

void vg_snap_put_record(vg_writer *out, const record *r)
{
    vg_writer_u32(out, r->key_len);
    vg_writer_put(out, r->key, r->key_len);
    vg_writer_u32(out, r->len);
    vg_writer_put(out, r->state, r->len);
}

/* Every record's lengths within the file, keys strictly increasing, and
 * nothing after the last one. */
static int check_framing(vg_reader in, const header *h, const char *name, vg_error *err)
{
    record r, prev = {0};
    for (uint64_t i = 0; i < h->count; i++) {
        if (vg_snap_next_record(&in, &r) != VG_OK)
            return vg_snap_fail_at(err, VG_EPARSE, name, r.at,
                           "series %llu of %llu: record runs past the end of the file",
                           (unsigned long long)i + 1, (unsigned long long)h->count);
        if (i > 0 && vg_snap_key_cmp(prev.key, prev.key_len, r.key, r.key_len) >= 0)
            return vg_snap_fail_at(err, VG_EPARSE, name, r.at,
                           "series %llu: keys out of order or repeated",
                           (unsigned long long)i + 1);
        prev = r;
    }
    if (vg_reader_left(&in) != 0)
        return vg_snap_fail_at(err, VG_EPARSE, name, in.pos, "%zu bytes after the last series",
                       vg_reader_left(&in));
    return VG_OK;
}

/* Loads every record into q (the scratch pipeline when verifying, p when
 * applying); a scratch table is emptied after each so it stays small. */
static int load_records(vg_pipeline *q, vg_reader in, const header *h, const char *name,
                        int scratch, size_t *loaded, vg_error *err)
{
    record r;
    for (uint64_t i = 0; i < h->count; i++) {
        vg_snap_next_record(&in, &r);
        vg_reader rec;
        vg_reader_init(&rec, r.state, r.len);
        vg_error why = {0};
        int rc = vg_pipeline_load_series(q, r.key, r.key_len, &rec, &why);
        if (rc != VG_OK)
            return vg_snap_fail_at(err, rc, name, r.at, "series %.*s: %s", shown(r.key_len), r.key,
                           why.msg[0] ? why.msg : vg_strerror(rc));
        if (vg_reader_left(&rec) != 0)
            return vg_snap_fail_at(err, VG_EPARSE, name, r.at, "series %.*s: %zu bytes left over",
                           shown(r.key_len), r.key, vg_reader_left(&rec));
        if (scratch)
            vg_series_table_clear(vg_pipeline_series(q));
        else if (loaded != NULL)
            (*loaded)++;
    }
    return VG_OK;
}

static int check_state_id(vg_pipeline *p, const header *h, const char *name, vg_error *err)
{
    uint64_t id = vg_pipeline_state_id(p);
    if (h->state_id == id)
        return VG_OK;
    char detectors[TEXT_MAX + 1];
    detector_list(p, detectors, sizeof(detectors));
    uint32_t window = vg_pipeline_config(p)->window;
    if (h->window == window && strcmp(h->detectors, detectors) == 0)
        return vg_snap_fail_at(err, VG_ECONFIG, name, OFF_STATE_ID,
                       "state was saved with a different detector configuration "
                       "(window %u and %s alike: detector or ensemble parameters differ)",
                       window, detectors);
    return vg_snap_fail_at(err, VG_ECONFIG, name, OFF_STATE_ID,
                   "state was saved with a different detector configuration "
                   "(saved: window %u, %s; now: window %u, %s)",
                   h->window, h->detectors, window, detectors);
}

int vg_snapshot_decode(vg_pipeline *p, const void *data, size_t len, const char *name,
                       size_t *loaded, vg_error *err)
{
    return vg_snapshot_decode_at(p, data, len, name, loaded, NULL, err);
}

int vg_snapshot_decode_at(vg_pipeline *p, const void *data, size_t len, const char *name,
                          size_t *loaded, vg_snapshot_positions *pos, vg_error *err)
{
    header h;
    if (pos != NULL)
        pos->n = 0;
    vg_reader in;
    if (loaded != NULL)
        *loaded = 0;
    int rc = vg_snap_read_header(data, len, name, &h, &in, err);
    if (rc == VG_OK)
        rc = check_framing(in, &h, name, err);
    if (rc == VG_OK)
        rc = check_state_id(p, &h, name, err);
    if (rc != VG_OK)
        return rc;
    const vg_config *cfg = vg_pipeline_config(p);
    if (h.count > (uint64_t)cfg->max_series)
        return vg_snap_fail_at(err, VG_EFULL, name, OFF_COUNT, "%llu series, max_series is %lld",
                       (unsigned long long)h.count, (long long)cfg->max_series);

    vg_pipeline *scratch = vg_pipeline_new(cfg, err);
    if (scratch == NULL)
        return err != NULL ? err->code : VG_ENOMEM;
    rc = load_records(scratch, in, &h, name, 1, NULL, err);
    vg_pipeline_free(scratch);
    if (rc == VG_OK)
        rc = load_records(p, in, &h, name, 0, loaded, err);
    if (rc == VG_OK && pos != NULL)
        *pos = h.pos;
    return rc;
}
