/* Merging a base snapshot and its delta log into the one snapshot they
 * stand for: the load of a partition's state, and compaction (format in
 * snapshot_delta.h). */
#include <stdlib.h>
#include <string.h>

#include "models/crc32c.h"
#include "models/snapshot_delta.h"
#include "models/snapshot_format.h"

#define FLUSH_BYTES ((size_t)1 << 20)

typedef struct entry {
    const char    *key;
    uint32_t       key_len;
    const uint8_t *state;
    uint32_t       len;
    size_t         seq;  /* 0: the base; i: the i-th segment */
} entry;

typedef struct merge {
    const char *name;
    entry      *v;
    size_t      n, cap;
    entry      *live;     /* the newest key list, sorted; NULL: none */
    size_t      n_live;
    size_t      live_seq; /* its segment */
    vg_snap_header h;
} merge;

static int push(merge *m, const vg_snap_record *r, size_t seq)
{
    entry *v = vg_snap_grow(m->v, &m->cap, m->n, sizeof(*v));
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

/* The records of the base (already verified by vg_snap_read_header). */
static int take_base(merge *m, vg_reader in, vg_error *err)
{
    vg_snap_record r;
    for (uint64_t i = 0; i < m->h.count; i++) {
        if (vg_snap_next_record(&in, &r) != VG_OK)
            return vg_snap_fail_at(err, VG_EPARSE, m->name, r.at,
                                   "series %llu: record runs past the end of the file",
                                   (unsigned long long)i + 1);
        if (push(m, &r, 0) != VG_OK)
            return vg_error_set(err, VG_ENOMEM, "merging %s", m->name);
    }
    return VG_OK;
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

/* Hands out[] to the sink when it is big enough (or `all`), folding it into
 * the CRC. */
static int drain(vg_writer *out, uint32_t *crc, int all, vg_snapshot_sink_fn sink, void *ctx,
                 vg_error *err)
{
    if (out->failed)
        return vg_error_set(err, VG_ENOMEM, "merged snapshot");
    if (out->len == 0 || (!all && out->len < FLUSH_BYTES))
        return VG_OK;
    *crc = vg_crc32c_update(*crc, out->buf, out->len);
    int rc = sink(ctx, out->buf, out->len, err);
    vg_writer_reset(out);
    return rc;
}

/* The header with the survivors' count, their records, the CRC. */
static int put_merged(merge *m, vg_snapshot_sink_fn sink, void *ctx, vg_error *err)
{
    m->h.count = 0;
    for (size_t i = 0; i < m->n; i++)
        if ((i + 1 == m->n || key_cmp(&m->v[i], &m->v[i + 1]) != 0) && survives(m, &m->v[i]))
            m->h.count++;
    vg_writer out;
    vg_writer_init(&out);
    uint32_t crc = 0;
    vg_snap_put_header(&m->h, &out);
    int rc = VG_OK;
    for (size_t i = 0; i < m->n && rc == VG_OK; i++) {
        const entry *e = &m->v[i];
        if ((i + 1 < m->n && key_cmp(e, &m->v[i + 1]) == 0) || !survives(m, e))
            continue;
        vg_snap_put_record(&out, &(vg_snap_record){0, e->key, e->key_len, e->state, e->len});
        rc = drain(&out, &crc, 0, sink, ctx, err);
    }
    if (rc == VG_OK)
        rc = drain(&out, &crc, 1, sink, ctx, err);
    if (rc == VG_OK) {
        vg_writer_u32(&out, crc);
        rc = drain(&out, &crc, 1, sink, ctx, err);
    }
    vg_writer_release(&out);
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
    if (rc == VG_OK)
        rc = take_base(&m, in, err);
    if (rc == VG_OK && delta_len > 0 &&
        vg_delta_scan_log(delta, delta_len, base_len, vg_delta_base_crc(base, base_len),
                          &scan) != VG_OK)
        rc = vg_error_set(err, VG_ENOMEM, "scanning the delta log of %s", name);
    for (size_t i = 0; i < scan.n && rc == VG_OK; i++)
        rc = take_segment(&m, &scan.v[i], err);
    if (rc == VG_OK) {
        if (m.n > 1)  /* qsort's array may not be NULL, even when empty */
            qsort(m.v, m.n, sizeof(*m.v), entry_cmp);
        rc = put_merged(&m, sink, ctx, err);
    }
    if (info != NULL)
        *info = (vg_snapshot_merge_info){scan.n, scan.stale ? 0 : scan.torn, scan.stale};
    free(scan.v);
    free(m.v);
    free(m.live);
    return rc;
}
