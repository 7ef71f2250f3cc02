/* Splits a Prometheus remote-write 1.0 request (snappy-compressed
 * WriteRequest) into one request per time series, each keyed by the
 * series' canonical key (core/series_key.h): what the remote-write receiver
 * produces to Kafka so that a series always lands in one partition, and a
 * `prometheus-remote-write` topic reads back unchanged.
 *
 * A piece is `WriteRequest { timeseries = 1: <the series' bytes, as sent> }`,
 * snappy-compressed; metadata (field 3) is dropped. The whole request is
 * checked before the first piece is handed out, so a request that cannot be
 * decoded yields nothing (the sender is told 400 and drops it, whole). A
 * series that decodes but has no key (no __name__, more labels than a key
 * holds, a key over 4 KiB) is left out and counted; values and times are
 * the scoring parser's to judge, as for any remote-write message. */
#ifndef VG_STREAMS_PROM_RW_SPLIT_H
#define VG_STREAMS_PROM_RW_SPLIT_H

#include <stddef.h>

#include "core/error.h"

/* Takes one piece (borrowed for the call). Returns 0 to go on, nonzero to
 * stop the split with that value. */
typedef int (*vg_prom_rw_piece_fn)(void *ctx, const char *key, size_t key_len,
                                   const void *piece, size_t piece_len);

/* Splits body[len]; max_uncompressed bounds the decompressed request.
 * Returns the number of pieces handed out (*skipped: series left out),
 * VG_EPARSE (not snappy, malformed protobuf: err says which), VG_ERANGE
 * (over max_uncompressed), VG_ENOMEM, or piece's nonzero return. */
int vg_prom_rw_split(const void *body, size_t len, size_t max_uncompressed,
                     vg_prom_rw_piece_fn piece, void *ctx, size_t *skipped, vg_error *err);

#endif
