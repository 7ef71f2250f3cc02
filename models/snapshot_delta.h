/* The delta log: a partition's state changes since its base snapshot.
 *
 * A checkpoint appends one segment holding only the series changed since
 * the previous one, so its cost follows the change, not the state. The
 * base snapshot (`.vgstate`, snapshot.h) plus the log (`.vgdelta`, next to
 * it) is the state; compaction (state_writer.c) merges them into a new base
 * and starts the log over. All integers little-endian.
 *
 *   header   magic "VIGILDL\0", version u32 (VG_DELTA_VERSION), the base
 *            snapshot's length u64 and CRC trailer u32, CRC-32C u32 of
 *            those 24 bytes. A log whose header does not name the base
 *            beside it is stale (a compaction crashed before removing it:
 *            the base already holds it) and ignored whole.
 *   segment  u32 n, n bytes of body, CRC-32C u32 of the length and body.
 *   body     seq u64 (1, 2, ... in file order), positions (as in the
 *            snapshot header), u32 count + count key/state records (as in
 *            the snapshot, keys increasing), then u32 k + k keys (u32 n +
 *            bytes; any order): every live key of the partition, present
 *            only when series went away since the previous segment
 *            (evicted), else k = 0xFFFFFFFF.
 *
 * A crash at any byte leaves a prefix of good segments and a torn tail:
 * reading stops at the first segment that is short, fails its CRC or is
 * out of sequence, and that tail is ignored. */
#ifndef VG_MODELS_SNAPSHOT_DELTA_H
#define VG_MODELS_SNAPSHOT_DELTA_H

#include "models/snapshot.h"

#define VG_DELTA_VERSION      1
#define VG_DELTA_HEADER_BYTES 28
#define VG_DELTA_NO_KEYS      UINT32_MAX
#define VG_DELTA_SUFFIX       ".vgdelta"

/* A new log's header, over the base of base_len bytes ending in base_crc. */
void vg_delta_put_header(vg_writer *out, uint64_t base_len, uint32_t base_crc);

/* A copy of what a segment will hold — the state blocks and keys of the
 * series of a partition changed since an epoch, every live key when asked,
 * the positions — taken on the scoring thread with one memcpy per series,
 * so that encoding it (the costly part) can run on another thread while
 * the series go on changing. */
typedef struct vg_delta_image vg_delta_image;

/* Captures the series of `partition` changed at or after epoch `since`,
 * every live key of it when with_keys, and pos, into *out: a new image
 * when *out is NULL, else the image *out, reused. *series gets the number
 * of series captured. Returns 0 or VG_ENOMEM (*out then still to free). */
int vg_delta_capture(vg_pipeline *p, int32_t partition, uint64_t since, int with_keys,
                     const vg_snapshot_positions *pos, vg_delta_image **out, size_t *series,
                     vg_error *err);
void vg_delta_image_free(vg_delta_image *img);

/* Appends img as an unsealed segment to out, each block encoded with p's
 * vg_pipeline_save_series. Only p's immutable parts (its profiles) are
 * read, so another thread may score with p meanwhile; p must outlive the
 * call. Returns 0, VG_ENOMEM or VG_ERANGE. */
int vg_delta_encode_image(const vg_pipeline *p, const vg_delta_image *img, vg_writer *out,
                          vg_error *err);

/* Numbers the segment encoded in seg (the whole writer) seq and adds its
 * length and CRC: it is then ready to append. */
int vg_delta_seal(vg_writer *seg, uint64_t seq);

typedef struct vg_delta_segment {
    uint64_t       seq;
    const uint8_t *body;
    size_t         len;
} vg_delta_segment;

typedef struct vg_delta_scan {
    int               stale;     /* header bad or over another base: ignored */
    vg_delta_segment *v;         /* the good segments, in order (free v) */
    size_t            n;
    size_t            good_len;  /* bytes through the last good segment */
    size_t            torn;      /* bytes after it, ignored */
} vg_delta_scan;

/* The good segments of the log data[len] over the base of base_len bytes
 * ending in base_crc. Returns 0 or VG_ENOMEM. */
int vg_delta_scan_log(const uint8_t *data, size_t len, uint64_t base_len, uint32_t base_crc,
                      vg_delta_scan *out);

/* The base snapshot's CRC: its last 4 bytes (0 when shorter). */
uint32_t vg_delta_base_crc(const uint8_t *base, size_t len);

typedef struct vg_snapshot_merge_info {
    size_t segments;  /* applied */
    size_t torn;      /* bytes of torn tail ignored */
    int    stale;     /* a log over another base, ignored */
} vg_snapshot_merge_info;

/* The snapshot that base[base_len] with the log delta[delta_len] (NULL-able
 * when 0) stand for, handed to sink as vg_snapshot_encode does: the newest
 * record of each key that is still live, the newest positions. Checks the
 * base (as a load does) and the framing of every good segment; `name`
 * prefixes error positions. info is NULL-able. Returns 0, VG_EPARSE,
 * VG_EVERSION, VG_ECHECKSUM, VG_ENOMEM or the sink's error. */
int vg_snapshot_merge(const uint8_t *base, size_t base_len, const uint8_t *delta,
                      size_t delta_len, const char *name, vg_snapshot_sink_fn sink,
                      void *ctx, vg_snapshot_merge_info *info, vg_error *err);

#endif
