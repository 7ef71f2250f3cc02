/* Merging a base snapshot and its delta log into the one snapshot they
 * stand for: the load of a partition's state, and compaction (format in
 * snapshot_delta.h).
 *
 * Only the log's records are collected and sorted; the base, whose records
 * are already in key order, is walked once beside them (a merge join), and
 * each run of its records that the log leaves alone goes to the sink as
 * one span of the base's own bytes, neither decoded nor copied. So a
 * compaction over a mapped base (state_writer.c) costs the log's size plus
 * one pass of checksum and write over the base. */
#include <stdlib.h>
#include <string.h>

#include "core/grow.h"
#include "models/crc32c.h"
#include "models/snapshot_delta.h"
#include "models/snapshot_format.h"

#define FLUSH_BYTES ((size_t)1 << 20)
/* A span of the base is checksummed and handed on in pieces of this size,
 * so that the write reads bytes the checksum has just brought into cache. */
#define SPAN_PIECE  ((size_t)4 << 20)

typedef struct entry {
    const char    *key;
    uint32_t       key_len;
    const uint8_t *state;
    uint32_t       len;
    size_t         seq;  /* 0: the base; i: the i-th segment */
} entry;

typedef struct merge {
    const char *name;
    entry      *v;        /* the log's records; then the newest of each key */
    size_t      n, cap;
    entry      *live;     /* the newest key list, sorted; NULL: none */
    size_t      n_live;
    size_t      live_seq; /* its segment */
    vg_snap_header h;     /* the base's; then the merged snapshot's */
    uint64_t    base_count;
} merge;

/* Where the merged bytes go: small records through buf, runs of the base
 * straight from it; crc covers everything handed to the sink. */
typedef struct emitter {
    vg_snapshot_sink_fn sink;
    void               *ctx;
    vg_writer           buf;
    uint32_t            crc;
    const uint8_t      *base;
    size_t              span_at, span_len;  /* the pending run of base bytes */
} emitter;

static int push(merge *m, const vg_snap_record *r, size_t seq)
{
    entry *v = vg_grow(m->v, &m->cap, m->n, sizeof(*v), 16);
    if (v == NULL)
        return VG_ENOMEM;
    m->v = v;
    m->v[m->n++] = (entry){r->key, r->key_len, r->state, r->len, seq};
    return VG_OK;
}

static int key_cmp(const void *a, const void *b)
{
    const entry *x = a, *y = b;
    return vg_snap_key_cmp(x->key, x->key_len, y->key, y->key_len);
}

/* By key, then oldest first: a key's last entry is its newest record. */
static int entry_cmp(const void *a, const void *b)
{
    const entry *x = a, *y = b;
    int c = key_cmp(a, b);
    return c != 0 ? c : (x->seq > y->seq) - (x->seq < y->seq);
}

/* The live-key list at the end of a segment body, sorted into m->live. */
static int take_keys(merge *m, vg_reader *in, uint32_t k, size_t seq)
{
    entry *live = malloc((k ? k : 1) * sizeof(*live));
    if (live == NULL)
        return VG_ENOMEM;
    for (uint32_t i = 0; i < k; i++) {
        uint32_t n;
        if (vg_reader_u32(in, &n) != VG_OK || n > vg_reader_left(in)) {
            free(live);
            return VG_EPARSE;
        }
        live[i] = (entry){(const char *)in->buf + in->pos, n, NULL, 0, seq};
        in->pos += n;
    }
    qsort(live, k, sizeof(*live), key_cmp);
    free(m->live);
    m->live = live;
    m->n_live = k;
    m->live_seq = seq;
    return VG_OK;
}

static int take_segment(merge *m, const vg_delta_segment *s, vg_error *err)
{
    vg_reader in;
    vg_reader_init(&in, s->body, s->len);
    in.pos = 8;  /* the seq, checked by the scan */
    int rc = vg_snap_get_positions(&in, m->name, &m->h.pos, err);
    uint32_t n = 0, k = 0;
    if (rc == VG_OK && vg_reader_u32(&in, &n) != VG_OK)
        rc = VG_EPARSE;
    vg_snap_record r;
    for (uint32_t i = 0; i < n && rc == VG_OK; i++) {
        rc = vg_snap_next_record(&in, &r);
        if (rc == VG_OK && push(m, &r, s->seq) != VG_OK)
            return vg_error_set(err, VG_ENOMEM, "merging %s", m->name);
    }
    if (rc == VG_OK && vg_reader_u32(&in, &k) != VG_OK)
        rc = VG_EPARSE;
    if (rc == VG_OK && k != VG_DELTA_NO_KEYS)
        rc = take_keys(m, &in, k, s->seq);
    if (rc == VG_OK && vg_reader_left(&in) != 0)
        rc = VG_EPARSE;
    if (rc == VG_ENOMEM)
        return vg_error_set(err, rc, "merging %s", m->name);
    if (rc != VG_OK)  /* checksummed yet malformed: written wrong, not torn */
        return vg_error_set(err, VG_EPARSE, "%s: delta segment %llu is malformed",
                            m->name, (unsigned long long)s->seq);
    return VG_OK;
}

/* The newest record of a key survives unless a key list newer than it
 * leaves the key out (the series went away). */
static int survives(const merge *m, const entry *newest)
{
    if (m->live == NULL || newest->seq > m->live_seq)
        return 1;
    return bsearch(newest, m->live, m->n_live, sizeof(*m->live), key_cmp) != NULL;
}

/* Keeps only the newest record of each key in the sorted m->v. */
static void newest_only(merge *m)
{
    size_t k = 0;
    for (size_t i = 0; i < m->n; i++) {
        if (k > 0 && key_cmp(&m->v[k - 1], &m->v[i]) == 0)
            k--;
        m->v[k++] = m->v[i];
    }
    m->n = k;
}

/* Hands bytes to the sink, folding them into the CRC. */
static int hand_on(emitter *e, const uint8_t *bytes, size_t len, vg_error *err)
{
    e->crc = vg_crc32c_update(e->crc, bytes, len);
    return e->sink(e->ctx, bytes, len, err);
}

/* Hands out buf when it is big enough (or `all`). */
static int drain(emitter *e, int all, vg_error *err)
{
    if (e->buf.failed)
        return vg_error_set(err, VG_ENOMEM, "merged snapshot");
    if (e->buf.len == 0 || (!all && e->buf.len < FLUSH_BYTES))
        return VG_OK;
    int rc = hand_on(e, e->buf.buf, e->buf.len, err);
    vg_writer_reset(&e->buf);
    return rc;
}

static int flush_span(emitter *e, vg_error *err)
{
    int rc = VG_OK;
    for (size_t done = 0; done < e->span_len && rc == VG_OK; done += SPAN_PIECE) {
        size_t n = e->span_len - done < SPAN_PIECE ? e->span_len - done : SPAN_PIECE;
        rc = hand_on(e, e->base + e->span_at + done, n, err);
    }
    e->span_len = 0;
    return rc;
}

/* The base record at base[at, end) goes out as it is: it joins the pending
 * span when it follows it, else starts one (after what buf holds). */
static int keep_base(emitter *e, size_t at, size_t end, vg_error *err)
{
    if (e->span_len > 0 && e->span_at + e->span_len == at) {
        e->span_len += end - at;
        return VG_OK;
    }
    int rc = flush_span(e, err);
    if (rc == VG_OK)
        rc = drain(e, 1, err);
    e->span_at = at;
    e->span_len = end - at;
    return rc;
}

static int put_entry(emitter *e, const entry *x, vg_error *err)
{
    int rc = flush_span(e, err);
    vg_snap_put_record(&e->buf, &(vg_snap_record){0, x->key, x->key_len, x->state, x->len});
    return rc == VG_OK ? drain(e, 0, err) : rc;
}

/* Walks the base's records (in, over them) beside the log's newest
 * records, both in key order, and counts in *count the records the merged
 * snapshot holds; with e, also emits them. */
static int join(const merge *m, vg_reader in, emitter *e, uint64_t *count, vg_error *err)
{
    vg_snap_record r = {0}, prev = {0};
    uint64_t left = m->base_count, done = 0;
    size_t j = 0;
    int have = 0, rc = VG_OK;
    *count = 0;
    while (rc == VG_OK) {
        if (!have && left > 0) {
            prev = r;
            if (vg_snap_next_record(&in, &r) != VG_OK)
                return vg_snap_fail_at(err, VG_EPARSE, m->name, r.at,
                                       "series %llu: record runs past the end of the file",
                                       (unsigned long long)done + 1);
            if (done > 0 && vg_snap_key_cmp(prev.key, prev.key_len, r.key, r.key_len) >= 0)
                return vg_snap_fail_at(err, VG_EPARSE, m->name, r.at,
                                       "series %llu: keys out of order",
                                       (unsigned long long)done + 1);
            left--;
            done++;
            have = 1;
        }
        if (!have && j == m->n)
            break;
        entry b = {r.key, r.key_len, r.state, r.len, 0};
        int c = !have ? 1 : j == m->n ? -1 : key_cmp(&b, &m->v[j]);
        const entry *x = c < 0 ? &b : &m->v[j];
        int out = survives(m, x);
        *count += (uint64_t)out;
        if (out && e != NULL)
            rc = c < 0 ? keep_base(e, r.at, in.pos, err) : put_entry(e, x, err);
        have = have && c > 0;  /* a base record the log replaced is done too */
        j += c >= 0;
    }
    if (rc == VG_OK && vg_reader_left(&in) != 0)
        return vg_snap_fail_at(err, VG_EPARSE, m->name, in.pos, "bytes after the last record");
    return rc;
}

/* The header with the survivors' count, their records, the CRC. */
static int put_merged(merge *m, vg_reader in, vg_snapshot_sink_fn sink, void *ctx,
                      vg_error *err)
{
    int rc = join(m, in, NULL, &m->h.count, err);
    if (rc != VG_OK)
        return rc;
    emitter e = {.sink = sink, .ctx = ctx, .base = in.buf};
    vg_writer_init(&e.buf);
    uint64_t count;
    vg_snap_put_header(&m->h, &e.buf);
    rc = join(m, in, &e, &count, err);
    if (rc == VG_OK)
        rc = flush_span(&e, err);
    if (rc == VG_OK)
        rc = drain(&e, 1, err);
    if (rc == VG_OK) {
        uint32_t crc = e.crc;
        vg_writer_u32(&e.buf, crc);
        rc = drain(&e, 1, err);
    }
    vg_writer_release(&e.buf);
    return rc;
}

int vg_snapshot_merge(const uint8_t *base, size_t base_len, const uint8_t *delta,
                      size_t delta_len, const char *name, vg_snapshot_sink_fn sink,
                      void *ctx, vg_snapshot_merge_info *info, vg_error *err)
{
    merge m = {.name = name};
    vg_reader in;
    vg_delta_scan scan = {0};
    int rc = vg_snap_read_header(base, base_len, name, &m.h, &in, err);
    m.base_count = m.h.count;
    if (rc == VG_OK && delta_len > 0 &&
        vg_delta_scan_log(delta, delta_len, base_len, vg_delta_base_crc(base, base_len),
                          &scan) != VG_OK)
        rc = vg_error_set(err, VG_ENOMEM, "scanning the delta log of %s", name);
    for (size_t i = 0; i < scan.n && rc == VG_OK; i++)
        rc = take_segment(&m, &scan.v[i], err);
    if (rc == VG_OK) {
        if (m.n > 1)  /* qsort's array may not be NULL, even when empty */
            qsort(m.v, m.n, sizeof(*m.v), entry_cmp);
        newest_only(&m);
        rc = put_merged(&m, in, sink, ctx, err);
    }
    if (info != NULL)
        *info = (vg_snapshot_merge_info){scan.n, scan.stale ? 0 : scan.torn, scan.stale};
    free(scan.v);
    free(m.v);
    free(m.live);
    return rc;
}
