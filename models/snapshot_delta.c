/* The delta log's segments: encoding the changed series, sealing, and
 * finding the good segments after a crash (format in snapshot_delta.h). */
#include "models/snapshot_delta.h"

#include <stdlib.h>
#include <string.h>

#include "core/grow.h"
#include "models/crc32c.h"
#include "models/snapshot_format.h"

static const uint8_t delta_magic[8] = {'V', 'I', 'G', 'I', 'L', 'D', 'L', '\0'};

#define LEN_BYTES 4   /* a segment's length field */

static uint32_t le32(const uint8_t *b)
{
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
           (uint32_t)b[3] << 24;
}

static uint64_t le64(const uint8_t *b)
{
    return (uint64_t)le32(b) | (uint64_t)le32(b + 4) << 32;
}

static void patch_le(uint8_t *at, uint64_t v, int bytes)
{
    for (int i = 0; i < bytes; i++)
        at[i] = (uint8_t)(v >> (8 * i));
}

uint32_t vg_delta_base_crc(const uint8_t *base, size_t len)
{
    return len >= VG_SNAP_TRAILER_BYTES ? le32(base + len - VG_SNAP_TRAILER_BYTES) : 0;
}

void vg_delta_put_header(vg_writer *out, uint64_t base_len, uint32_t base_crc)
{
    size_t at = out->len;
    vg_writer_put(out, delta_magic, sizeof(delta_magic));
    vg_writer_u32(out, VG_DELTA_VERSION);
    vg_writer_u64(out, base_len);
    vg_writer_u32(out, base_crc);
    if (!out->failed)
        vg_writer_u32(out, vg_crc32c(out->buf + at, out->len - at));
}

typedef struct key_span {
    size_t   at;  /* in the key arena */
    uint32_t len;
} key_span;

struct vg_delta_image {
    vg_snapshot_positions pos;
    size_t    n;         /* series captured */
    size_t    stride;    /* bytes per block copy */
    uint8_t  *blocks;    /* n copies, 64-byte aligned like the table's */
    size_t    cap_blocks;
    key_span *keys;      /* n series keys, then n_live live keys */
    size_t    cap_keys;
    size_t    n_live;
    int       has_live;
    vg_writer arena;     /* key bytes */
};

void vg_delta_image_free(vg_delta_image *img)
{
    if (img == NULL)
        return;
    free(img->blocks);
    free(img->keys);
    vg_writer_release(&img->arena);
    free(img);
}

static int copy_keys(vg_delta_image *img, const vg_snap_series *v, size_t n, size_t first)
{
    for (size_t i = 0; i < n; i++) {
        img->keys[first + i] = (key_span){img->arena.len, (uint32_t)v[i].key_len};
        vg_writer_put(&img->arena, v[i].key, v[i].key_len);
    }
    return img->arena.failed ? VG_ENOMEM : VG_OK;
}

/* The sorted changed series, their blocks copied; the live keys too. */
static int capture(vg_pipeline *p, int32_t partition, uint64_t since, int with_keys,
                   vg_delta_image *img, vg_error *err)
{
    vg_snap_series *v = NULL, *live = NULL;
    size_t n = 0, n_live = 0;
    if (vg_snap_collect(p, partition, since, 1, &v, &n, err) != VG_OK)
        return VG_ENOMEM;
    int rc = with_keys ? vg_snap_collect(p, partition, 0, 0, &live, &n_live, err) : VG_OK;
    img->stride = (vg_pipeline_series_bytes(p) + 63) / 64 * 64;
    /* An image is reused from one checkpoint to the next: its memory is
     * already mapped, so the copy costs no page faults. */
    if (rc == VG_OK && n > img->cap_blocks) {
        free(img->blocks);
        img->cap_blocks = n + n / 2;
        img->blocks = aligned_alloc(64, img->cap_blocks * img->stride);
    }
    if (rc == VG_OK && n + n_live + 1 > img->cap_keys) {
        free(img->keys);
        img->cap_keys = n + n_live + 1;
        img->keys = malloc(img->cap_keys * sizeof(*img->keys));
    }
    if (rc == VG_OK && ((n && img->blocks == NULL) || img->keys == NULL)) {
        img->cap_blocks = img->cap_keys = 0;
        rc = VG_ENOMEM;
    }
    for (size_t i = 0; i < n && rc == VG_OK; i++)
        memcpy(img->blocks + i * img->stride, v[i].block, vg_pipeline_series_bytes(p));
    img->n = n;
    img->n_live = n_live;
    img->has_live = with_keys;
    if (rc == VG_OK)
        rc = copy_keys(img, v, n, 0);
    if (rc == VG_OK)
        rc = copy_keys(img, live, n_live, n);
    free(v);
    free(live);
    return rc;
}

int vg_delta_capture(vg_pipeline *p, int32_t partition, uint64_t since, int with_keys,
                     const vg_snapshot_positions *pos, vg_delta_image **out, size_t *series,
                     vg_error *err)
{
    vg_delta_image *img = *out;
    if (img == NULL && (img = calloc(1, sizeof(*img))) != NULL)
        vg_writer_init(&img->arena);
    *out = img;
    if (img == NULL)
        return vg_error_set(err, VG_ENOMEM, "state segment");
    vg_writer_reset(&img->arena);
    img->pos = *pos;
    if (capture(p, partition, since, with_keys, img, err) != VG_OK)
        return vg_error_set(err, VG_ENOMEM, "state segment");
    *series = img->n;
    return VG_OK;
}

static const char *key_of(const vg_delta_image *img, size_t i)
{
    return (const char *)img->arena.buf + img->keys[i].at;
}

int vg_delta_encode_image(const vg_pipeline *p, const vg_delta_image *img, vg_writer *out,
                          vg_error *err)
{
    vg_writer_u32(out, 0);  /* length and seq: vg_delta_seal */
    vg_writer_u64(out, 0);
    vg_snap_put_positions(&img->pos, out);
    vg_writer_u32(out, (uint32_t)img->n);
    int rc = VG_OK;
    for (size_t i = 0; i < img->n && rc == VG_OK; i++) {
        vg_snap_series s = {img->blocks + i * img->stride, key_of(img, i), img->keys[i].len};
        rc = vg_snap_put_series(p, &s, out, err);
    }
    /* Every live key, unsorted: the merge sorts them when it needs them. */
    vg_writer_u32(out, img->has_live ? (uint32_t)img->n_live : VG_DELTA_NO_KEYS);
    for (size_t i = img->n; i < img->n + img->n_live && rc == VG_OK; i++) {
        vg_writer_u32(out, img->keys[i].len);
        vg_writer_put(out, key_of(img, i), img->keys[i].len);
    }
    if (rc == VG_OK && out->failed)
        rc = vg_error_set(err, VG_ENOMEM, "state segment");
    return rc;
}

int vg_delta_seal(vg_writer *seg, uint64_t seq)
{
    vg_assert(seg->len >= LEN_BYTES + 8);
    size_t body = seg->len - LEN_BYTES;
    if (body > UINT32_MAX)
        return VG_ERANGE;
    patch_le(seg->buf, body, 4);
    patch_le(seg->buf + LEN_BYTES, seq, 8);
    return vg_writer_u32(seg, vg_crc32c(seg->buf, seg->len));
}

/* The header names this base and checks out. */
static int header_matches(const uint8_t *data, size_t len, uint64_t base_len,
                          uint32_t base_crc)
{
    return len >= VG_DELTA_HEADER_BYTES &&
           memcmp(data, delta_magic, sizeof(delta_magic)) == 0 &&
           le32(data + 8) == VG_DELTA_VERSION && le64(data + 12) == base_len &&
           le32(data + 20) == base_crc && le32(data + 24) == vg_crc32c(data, 24);
}

int vg_delta_scan_log(const uint8_t *data, size_t len, uint64_t base_len, uint32_t base_crc,
                      vg_delta_scan *out)
{
    memset(out, 0, sizeof(*out));
    if (!header_matches(data, len, base_len, base_crc)) {
        out->stale = 1;
        out->torn = len;
        return VG_OK;
    }
    size_t at = VG_DELTA_HEADER_BYTES, cap = 0;
    for (;;) {
        if (len - at < LEN_BYTES + 8 + 4)
            break;
        size_t body = le32(data + at);
        if (body < 8 || body > len - at - LEN_BYTES - 4)
            break;
        const uint8_t *seg = data + at;
        if (le32(seg + LEN_BYTES + body) != vg_crc32c(seg, LEN_BYTES + body) ||
            le64(seg + LEN_BYTES) != out->n + 1)
            break;
        vg_delta_segment *v = vg_grow(out->v, &cap, out->n, sizeof(*v), 16);
        if (v == NULL) {
            free(out->v);
            out->v = NULL;
            return VG_ENOMEM;
        }
        out->v = v;
        out->v[out->n] = (vg_delta_segment){out->n + 1, seg + LEN_BYTES, body};
        out->n++;
        at += LEN_BYTES + body + 4;
    }
    out->good_len = at;
    out->torn = len - at;
    return VG_OK;
}
