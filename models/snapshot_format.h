/* The pieces of the snapshot format that the snapshot code, the delta log
 * (snapshot_delta.c) and the merge of both (snapshot_merge.c) share:
 * header fields, record framing, key order. Internal to models/. */
#ifndef VG_MODELS_SNAPSHOT_FORMAT_H
#define VG_MODELS_SNAPSHOT_FORMAT_H

#include <stdarg.h>

#include "models/snapshot.h"

#define VG_SNAP_TEXT_MAX      255   /* creator and detectors strings */
#define VG_SNAP_TRAILER_BYTES 4

typedef struct vg_snap_header {
    uint32_t version;
    uint64_t state_id;
    uint32_t window;
    uint32_t partition;
    uint64_t count;
    char     creator[VG_SNAP_TEXT_MAX + 1];
    char     detectors[VG_SNAP_TEXT_MAX + 1];
    vg_snapshot_positions pos;
} vg_snap_header;

typedef struct vg_snap_record {
    size_t         at;   /* offset of the key length */
    const char    *key;
    uint32_t       key_len;
    const uint8_t *state;
    uint32_t       len;
} vg_snap_record;

typedef struct vg_snap_series {
    const void *block;
    const char *key;
    size_t      key_len;
} vg_snap_series;

/* The series of `partition` (-1: all) changed at or after epoch `since`
 * (vg_series_table_changed; 0: every one), in a new array (*out, *n; the
 * caller frees), sorted by key when `sorted`. Returns 0 or VG_ENOMEM. */
int vg_snap_collect(vg_pipeline *p, int32_t partition, uint64_t since, int sorted,
                    vg_snap_series **out, size_t *n, vg_error *err);
/* Appends the key + state record of one series. */
int vg_snap_put_series(const vg_pipeline *p, const vg_snap_series *s, vg_writer *buf,
                       vg_error *err);

/* Byte order, then the shorter key first: the order of a file's records. */
int vg_snap_key_cmp(const char *a, size_t a_len, const char *b, size_t b_len);

/* Magic, version, checksum, then the header fields of the snapshot
 * data[len]; leaves `in` over the records (the trailer excluded). */
int vg_snap_read_header(const uint8_t *data, size_t len, const char *name,
                        vg_snap_header *h, vg_reader *in, vg_error *err);
void vg_snap_put_header(const vg_snap_header *h, vg_writer *out);

void vg_snap_put_positions(const vg_snapshot_positions *pos, vg_writer *out);
int vg_snap_get_positions(vg_reader *in, const char *name, vg_snapshot_positions *pos,
                          vg_error *err);

/* The next key + state record of `in`; VG_EPARSE when it runs past the end. */
int vg_snap_next_record(vg_reader *in, vg_snap_record *r);
void vg_snap_put_record(vg_writer *out, const vg_snap_record *r);

/* err at "name@offset", cutting name from the left so the offset survives. */
int vg_snap_fail_at(vg_error *err, int code, const char *name, size_t offset,
                    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

#endif
