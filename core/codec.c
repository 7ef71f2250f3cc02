/* Byte writer and reader; see codec.h. Integers are written little-endian
 * byte by byte so the format does not depend on the host. */
#include "core/codec.h"

#include <stdlib.h>
#include <string.h>

void vg_writer_init(vg_writer *out)
{
    memset(out, 0, sizeof(*out));
}

void vg_writer_release(vg_writer *out)
{
    free(out->buf);
    vg_writer_init(out);
}

void vg_writer_reset(vg_writer *out)
{
    out->len = 0;
    out->failed = 0;
}

int vg_writer_put(vg_writer *out, const void *bytes, size_t len)
{
    if (out->failed)
        return VG_ENOMEM;
    if (out->len + len > out->cap) {
        size_t cap = out->cap ? out->cap * 2 : 256;
        while (cap < out->len + len)
            cap *= 2;
        uint8_t *buf = realloc(out->buf, cap);
        if (buf == NULL) {
            out->failed = 1;
            return VG_ENOMEM;
        }
        out->buf = buf;
        out->cap = cap;
    }
    if (len > 0)
        memcpy(out->buf + out->len, bytes, len);
    out->len += len;
    return VG_OK;
}

int vg_writer_u8(vg_writer *out, uint8_t v)
{
    return vg_writer_put(out, &v, 1);
}

int vg_writer_u64(vg_writer *out, uint64_t v)
{
    uint8_t b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    return vg_writer_put(out, b, 8);
}

int vg_writer_u32(vg_writer *out, uint32_t v)
{
    uint8_t b[4];
    for (int i = 0; i < 4; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    return vg_writer_put(out, b, 4);
}

int vg_writer_i64(vg_writer *out, int64_t v)
{
    return vg_writer_u64(out, (uint64_t)v);
}

int vg_writer_f64(vg_writer *out, double v)
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof(bits));
    return vg_writer_u64(out, bits);
}

int vg_writer_f64s(vg_writer *out, const double *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        vg_writer_f64(out, v[i]);
    return out->failed ? VG_ENOMEM : VG_OK;
}

int vg_writer_f32s(vg_writer *out, const float *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t bits;
        memcpy(&bits, &v[i], sizeof(bits));
        vg_writer_u32(out, bits);
    }
    return out->failed ? VG_ENOMEM : VG_OK;
}

void vg_reader_init(vg_reader *in, const void *buf, size_t len)
{
    in->buf = buf;
    in->len = len;
    in->pos = 0;
    in->failed = 0;
}

int vg_reader_get(vg_reader *in, void *bytes, size_t len)
{
    if (in->failed || len > in->len - in->pos) {
        in->failed = 1;
        memset(bytes, 0, len);
        return VG_EPARSE;
    }
    memcpy(bytes, in->buf + in->pos, len);
    in->pos += len;
    return VG_OK;
}

int vg_reader_u8(vg_reader *in, uint8_t *v)
{
    return vg_reader_get(in, v, 1);
}

int vg_reader_u64(vg_reader *in, uint64_t *v)
{
    uint8_t b[8];
    int rc = vg_reader_get(in, b, 8);
    *v = 0;
    for (int i = 0; i < 8; i++)
        *v |= (uint64_t)b[i] << (8 * i);
    return rc;
}

int vg_reader_u32(vg_reader *in, uint32_t *v)
{
    uint8_t b[4];
    int rc = vg_reader_get(in, b, 4);
    *v = 0;
    for (int i = 0; i < 4; i++)
        *v |= (uint32_t)b[i] << (8 * i);
    return rc;
}

int vg_reader_i64(vg_reader *in, int64_t *v)
{
    uint64_t u;
    int rc = vg_reader_u64(in, &u);
    *v = (int64_t)u;
    return rc;
}

int vg_reader_f64(vg_reader *in, double *v)
{
    uint64_t bits;
    int rc = vg_reader_u64(in, &bits);
    memcpy(v, &bits, sizeof(*v));
    return rc;
}

int vg_reader_f64s(vg_reader *in, double *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        vg_reader_f64(in, &v[i]);
    return in->failed ? VG_EPARSE : VG_OK;
}

int vg_reader_f32s(vg_reader *in, float *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t bits = 0;
        vg_reader_u32(in, &bits);
        memcpy(&v[i], &bits, sizeof(bits));
    }
    return in->failed ? VG_EPARSE : VG_OK;
}
