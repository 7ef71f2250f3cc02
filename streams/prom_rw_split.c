/* Remote-write request -> one request per series; see prom_rw_split.h. */
#include "streams/prom_rw_split.h"

#include <snappy-c.h>
#include <stdint.h>
#include <stdlib.h>

#include "streams/prom_rw_wire.h"

#define KEY_MAX 4096

typedef struct splitter {
    vg_error           *err;
    vg_prom_rw_piece_fn piece;
    void               *ctx;
    int                 emit;      /* 0: the checking pass, 1: handing out */
    int                 pieces;
    int                 rc;        /* why a walk stopped */
    size_t              skipped;   /* series without a key */
    char                key[KEY_MAX];
    uint8_t            *raw;       /* the piece before compression */
    char               *packed;    /* after */
    size_t              raw_cap, packed_cap;
} splitter;

static int check_sample(void *arg, vg_pb smp)
{
    (void)arg;
    double v;
    int64_t ts;
    return vg__prom_rw_sample(smp, &v, &ts) == 0 ? 0 : 1;
}

static int grow(splitter *sp, size_t raw_len)
{
    if (raw_len > sp->raw_cap) {
        free(sp->raw);
        free(sp->packed);
        sp->raw_cap = raw_len * 2;
        sp->packed_cap = snappy_max_compressed_length(sp->raw_cap);
        sp->raw = malloc(sp->raw_cap);
        sp->packed = malloc(sp->packed_cap);
    }
    return sp->raw != NULL && sp->packed != NULL ? VG_OK : VG_ENOMEM;
}

/* The piece of series t: field 1 (length-delimited) holding t's bytes. */
static int hand_out(splitter *sp, vg_pb t, int key_len)
{
    size_t len = (size_t)(t.end - t.p), head = 1;
    if (grow(sp, len + 11) != VG_OK)
        return vg_error_set(sp->err, VG_ENOMEM, "remote-write split");
    sp->raw[0] = 0x0a;  /* field 1, wire type 2 */
    for (uint64_t v = len; ; v >>= 7) {
        sp->raw[head++] = (uint8_t)((v & 0x7f) | (v >= 0x80 ? 0x80 : 0));
        if (v < 0x80)
            break;
    }
    memcpy(sp->raw + head, t.p, len);
    size_t packed_len = sp->packed_cap;
    if (snappy_compress((const char *)sp->raw, head + len, sp->packed, &packed_len) != SNAPPY_OK)
        return vg_error_set(sp->err, VG_ENOMEM, "remote-write split: snappy");
    sp->pieces++;
    return sp->piece(sp->ctx, sp->key, (size_t)key_len, sp->packed, packed_len);
}

/* One TimeSeries: checked (labels, key, samples), then handed out. */
static int check_and_hand_out(splitter *sp, vg_pb t)
{
    vg__prom_rw_series s;
    int rc = vg__prom_rw_series_labels(t, &s);
    if (rc == VG__RW_MALFORMED)
        return vg_error_set(sp->err, VG_EPARSE, "malformed label");
    if (rc == VG__RW_TOO_MANY_LABELS) {
        sp->skipped += !sp->emit;
        return 0;
    }
    int key_len = vg_series_key_build(sp->key, sizeof(sp->key), s.name, s.name_len, s.labels,
                                      s.n);
    if (vg_pb_each(t, 2, check_sample, NULL) != 0)
        return vg_error_set(sp->err, VG_EPARSE, "malformed sample");
    /* No __name__, or a key too long: the series has no key to go by, and
     * is left out; the rest of the request goes on. */
    if (key_len < 0) {
        sp->skipped += !sp->emit;
        return 0;
    }
    return sp->emit ? hand_out(sp, t, key_len) : 0;
}

/* vg_pb_each's callback: 1 stops the walk, the reason in sp->rc. */
static int timeseries(void *arg, vg_pb t)
{
    splitter *sp = arg;
    sp->rc = check_and_hand_out(sp, t);
    return sp->rc != 0;
}

int vg_prom_rw_split(const void *body, size_t len, size_t max_uncompressed,
                     vg_prom_rw_piece_fn piece, void *ctx, size_t *skipped, vg_error *err)
{
    size_t ulen;
    if (snappy_uncompressed_length(body, len, &ulen) != SNAPPY_OK)
        return vg_error_set(err, VG_EPARSE, "not a snappy block");
    if (ulen > max_uncompressed)
        return vg_error_set(err, VG_ERANGE, "uncompressed request of %zu bytes, over %zu", ulen,
                            max_uncompressed);
    char *buf = malloc(ulen > 0 ? ulen : 1);
    if (buf == NULL)
        return vg_error_set(err, VG_ENOMEM, "remote-write split");
    splitter sp = {.err = err, .piece = piece, .ctx = ctx};
    int rc = snappy_uncompress(body, len, buf, &ulen) == SNAPPY_OK
                 ? VG_OK
                 : vg_error_set(err, VG_EPARSE, "corrupt snappy block");
    /* Two passes: nothing leaves before the whole request is known good. */
    for (sp.emit = 0; rc == VG_OK && sp.emit < 2; sp.emit++) {
        rc = vg_pb_each(vg_pb_init(buf, ulen), 1, timeseries, &sp);
        rc = rc < 0 ? vg_error_set(err, VG_EPARSE, "malformed write request") : rc ? sp.rc : 0;
    }
    free(buf);
    free(sp.raw);
    free(sp.packed);
    *skipped = sp.skipped;
    return rc == VG_OK ? sp.pieces : rc;
}
