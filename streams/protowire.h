/* A reader of the protobuf wire format, shared by the protobuf message
 * formats (otlp-proto, prometheus-remote-write): they walk their messages
 * field by field with it instead of generated code, so nothing is
 * allocated and unknown fields are skipped as protobuf requires.
 *
 * A reader is a view of bytes (a whole message or one length-delimited
 * field); every call checks the bounds and returns -1 on malformed input
 * (truncated varint or field, a varint over 10 bytes, a wire type of a
 * group or beyond 5, field number 0). Header-only: these run per field of
 * every point, and must inline. */
#ifndef VG_STREAMS_PROTOWIRE_H
#define VG_STREAMS_PROTOWIRE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

enum { VG_PB_VARINT = 0, VG_PB_I64 = 1, VG_PB_LEN = 2, VG_PB_I32 = 5 };

typedef struct vg_pb {
    const uint8_t *p, *end;
} vg_pb;

static inline vg_pb vg_pb_init(const void *bytes, size_t len)
{
    return (vg_pb){(const uint8_t *)bytes, (const uint8_t *)bytes + len};
}

static inline int vg_pb_varint(vg_pb *r, uint64_t *v)
{
    uint64_t x = 0;
    for (int shift = 0; shift < 70 && r->p < r->end; shift += 7) {
        uint8_t b = *r->p++;
        x |= (uint64_t)(b & 0x7f) << shift;
        if (b < 0x80) {
            *v = x;
            return 0;
        }
    }
    return -1;
}

/* The next field's number and wire type: 1, 0 at the end, -1 malformed. */
static inline int vg_pb_next(vg_pb *r, uint32_t *field, int *wire)
{
    if (r->p == r->end)
        return 0;
    uint64_t tag;
    if (vg_pb_varint(r, &tag) != 0 || (tag >> 3) == 0 || (tag >> 3) > UINT32_MAX)
        return -1;
    *field = (uint32_t)(tag >> 3);
    *wire = (int)(tag & 7);
    return 1;
}

/* A fixed64 field (fixed64, sfixed64, double). */
static inline int vg_pb_fixed64(vg_pb *r, uint64_t *v)
{
    if (r->end - r->p < 8)
        return -1;
    uint64_t x = 0;
    for (int i = 7; i >= 0; i--)
        x = x << 8 | r->p[i];
    r->p += 8;
    *v = x;
    return 0;
}

static inline int vg_pb_double(vg_pb *r, double *d)
{
    uint64_t x;
    if (vg_pb_fixed64(r, &x) != 0)
        return -1;
    memcpy(d, &x, sizeof(*d));
    return 0;
}

/* A length-delimited field as a reader of its bytes. */
static inline int vg_pb_bytes(vg_pb *r, vg_pb *sub)
{
    uint64_t len;
    if (vg_pb_varint(r, &len) != 0 || len > (uint64_t)(r->end - r->p))
        return -1;
    *sub = (vg_pb){r->p, r->p + len};
    r->p += len;
    return 0;
}

/* Skips a field of the given wire type. */
static inline int vg_pb_skip(vg_pb *r, int wire)
{
    uint64_t x;
    vg_pb sub;
    switch (wire) {
    case VG_PB_VARINT: return vg_pb_varint(r, &x);
    case VG_PB_I64:    return vg_pb_fixed64(r, &x);
    case VG_PB_LEN:    return vg_pb_bytes(r, &sub);
    case VG_PB_I32:
        if (r->end - r->p < 4)
            return -1;
        r->p += 4;
        return 0;
    default:           return -1;  /* groups (3, 4) are not in these protocols */
    }
}

/* Reads the field's value if it has the wire type `want`, into the reader
 * (LEN), the integer (VARINT, I64) or skips it otherwise (a field of an
 * unexpected type is skipped, as protobuf parsers do). Returns 1 when read,
 * 0 when skipped, -1 malformed. */
static inline int vg_pb_take(vg_pb *r, int wire, int want, uint64_t *v, vg_pb *sub)
{
    if (wire != want)
        return vg_pb_skip(r, wire) == 0 ? 0 : -1;
    int rc = want == VG_PB_LEN ? vg_pb_bytes(r, sub)
           : want == VG_PB_I64 ? vg_pb_fixed64(r, v)
                               : vg_pb_varint(r, v);
    return rc == 0 ? 1 : -1;
}

/* Calls each(arg, sub) for every length-delimited field number `want` of
 * r, skipping the other fields, until each() returns nonzero. Returns 0,
 * -1 when r is malformed, or each()'s nonzero return. */
static inline int vg_pb_each(vg_pb r, uint32_t want, int (*each)(void *arg, vg_pb sub),
                             void *arg)
{
    vg_pb sub;
    uint32_t f;
    int w, rc;
    uint64_t x;
    while ((rc = vg_pb_next(&r, &f, &w)) == 1) {
        if ((rc = f == want ? vg_pb_take(&r, w, VG_PB_LEN, &x, &sub) : vg_pb_skip(&r, w)) < 0)
            return -1;
        if (rc == 1 && (rc = each(arg, sub)) != 0)
            return rc;
    }
    return rc;
}

#endif
