/* Little-endian byte writer and bounds-checked reader, for saved state.
 *
 * Detectors save and load their per-series state through these, so the
 * on-disk format (models/) owns framing, versions and checksums while each
 * detector owns only its own fields. A reader never reads past its end: a
 * short or corrupt input makes every later get fail with VG_EPARSE. */
#ifndef VG_CORE_CODEC_H
#define VG_CORE_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

typedef struct vg_writer {
    uint8_t *buf;
    size_t   len, cap;
    int      failed;   /* sticky VG_ENOMEM */
} vg_writer;

void vg_writer_init(vg_writer *out);
void vg_writer_release(vg_writer *out);
void vg_writer_reset(vg_writer *out);
/* Each returns 0 or VG_ENOMEM (sticky: later puts are ignored). */
int vg_writer_put(vg_writer *out, const void *bytes, size_t len);
int vg_writer_u8(vg_writer *out, uint8_t v);
int vg_writer_u32(vg_writer *out, uint32_t v);
int vg_writer_u64(vg_writer *out, uint64_t v);
int vg_writer_i64(vg_writer *out, int64_t v);
int vg_writer_f64(vg_writer *out, double v);
int vg_writer_f64s(vg_writer *out, const double *v, size_t n);
/* Floats as their 32 bits (exact round trip). */
int vg_writer_f32s(vg_writer *out, const float *v, size_t n);

typedef struct vg_reader {
    const uint8_t *buf;
    size_t         len, pos;
    int            failed;  /* sticky VG_EPARSE */
} vg_reader;

void vg_reader_init(vg_reader *in, const void *buf, size_t len);
/* Each returns 0 or VG_EPARSE when the input is too short. */
int vg_reader_get(vg_reader *in, void *bytes, size_t len);
int vg_reader_u8(vg_reader *in, uint8_t *v);
int vg_reader_u32(vg_reader *in, uint32_t *v);
int vg_reader_u64(vg_reader *in, uint64_t *v);
int vg_reader_i64(vg_reader *in, int64_t *v);
int vg_reader_f64(vg_reader *in, double *v);
int vg_reader_f64s(vg_reader *in, double *v, size_t n);
int vg_reader_f32s(vg_reader *in, float *v, size_t n);

static inline size_t vg_reader_left(const vg_reader *in)
{
    return in->len - in->pos;
}

#endif
