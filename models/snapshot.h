/* Snapshots: the on-disk format of a pipeline's learned state.
 *
 * One file holds the whole state (alert and guard state, window, every
 * detector's model, calibration) of a set of series, so a restart resumes
 * warm. All integers are little-endian.
 *
 *   header   magic      8 bytes  "VIGILST\0"
 *            version    u32      VG_SNAPSHOT_VERSION
 *            state id   u64      vg_pipeline_state_id() of the writer
 *            window     u32      values per series window (for messages)
 *            partition  u32      the Kafka partition saved, 0xFFFFFFFF: all
 *            count      u64      series records that follow
 *            creator    u32 n + n bytes (n <= 255)  e.g. "vigil 0.1.0"
 *            detectors  u32 n + n bytes (n <= 255)  e.g. "zscore,seasonal"
 *            positions  u32 n (<= VG_SNAPSHOT_POSITIONS_MAX), then n times:
 *                       topic u32 n + n bytes (n <= 255), partition u32,
 *                       next offset i64: where the stream resumes for the
 *                       state in this file (Kafka; none for replays)
 *   records  count times, keys in strictly increasing byte order:
 *            key        u32 n + n bytes
 *            state      u32 n + n bytes  (vg_pipeline_save_series)
 *   trailer  crc        u32      CRC-32C (models/crc32c.h) of every byte
 *                                before it
 *
 * Sorting by key makes the bytes a function of the state alone: the same
 * series in the same state give the same file, whatever order they arrived
 * in. Recency is not saved: after a load, the least recently seen series
 * (the first evicted) are the first keys.
 *
 * A load checks, in order: magic, version, checksum, the framing of every
 * record, the state id, the series cap, and then decodes every record into
 * a scratch pipeline; only a file that passes all of it touches the real
 * pipeline, so a bad file changes nothing. Errors say where: "FILE@OFFSET"
 * with the byte offset of the bad field. Single-threaded, like the
 * pipeline. */
#ifndef VG_MODELS_SNAPSHOT_H
#define VG_MODELS_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

#include "core/codec.h"
#include "core/error.h"
#include "engine/pipeline.h"

/* 7: a series record carries its feedback floors (engine/feedback.h).
 * 8: and its settled range and first timestamp (engine/baseline.h).
 * 9: the seasonal detector's calendar carries its CUSUM (detectors/calendar.h).
 * 10: and the sum of its bands, their prior (detectors/calendar.h).
 * 11: the alert carries when its last incident fired (alert.rearm_s).
 * 12: the calendar carries its and the point model's mean errors
 *     (detectors.seasonal.calendar_gain), and is on by default.
 * 13: and its open checkpoint (detectors.seasonal.calendar_horizon). */
#define VG_SNAPSHOT_VERSION 13
#define VG_SNAPSHOT_POSITIONS_MAX 64
#define VG_SNAPSHOT_SUFFIX  ".vgstate"

/* The stream positions saved with a partition's state: the next offset to
 * read per topic. Saving them in the same file as the state is what keeps
 * state and position consistent whatever fails in between (a commit that
 * does not land, a crash): on assign, vigil resumes from these offsets. */
typedef struct vg_snapshot_position {
    char    topic[256];
    int32_t partition;
    int64_t next_offset;
} vg_snapshot_position;

typedef struct vg_snapshot_positions {
    size_t               n;
    vg_snapshot_position v[VG_SNAPSHOT_POSITIONS_MAX];
} vg_snapshot_positions;

/* A consumer of snapshot bytes, called in order; returns 0, or a VG_E*
 * with err set to stop the encoding. */
typedef int (*vg_snapshot_sink_fn)(void *ctx, const uint8_t *bytes, size_t len,
                                   vg_error *err);

/* Encodes the series of p fed by `partition` (-1: every series) and hands
 * the bytes to sink in pieces of about a mebibyte. Returns 0, VG_ENOMEM,
 * VG_ERANGE (a series record over 4 GiB), or the sink's error. */
int vg_snapshot_encode(vg_pipeline *p, int32_t partition, vg_snapshot_sink_fn sink,
                       void *ctx, vg_error *err);

/* As vg_snapshot_encode, with stream positions (NULL-able: none). */
int vg_snapshot_encode_at(vg_pipeline *p, int32_t partition, const vg_snapshot_positions *pos,
                          vg_snapshot_sink_fn sink, void *ctx, vg_error *err);

/* As vg_snapshot_encode, appending the whole snapshot to out. */
int vg_snapshot_encode_mem(vg_pipeline *p, int32_t partition, vg_writer *out,
                           vg_error *err);

/* Loads the snapshot data[len] (NULL-able when len is 0) into p,
 * replacing the series it holds and leaving the others be; `name` (a path,
 * or "input") prefixes error positions. *loaded (NULL-able) gets the
 * number of series loaded. Returns 0 or, with p unchanged:
 *   VG_EPARSE     not a snapshot, truncated, or a malformed record
 *   VG_EVERSION   another format version (the message names both)
 *   VG_ECHECKSUM  the CRC does not match (corrupt or truncated)
 *   VG_ECONFIG    saved under another state id: "state was saved with a
 *                 different detector configuration"
 *   VG_EFULL      more series than the config's max_series
 *   VG_ENOMEM
 * (VG_ENOMEM while applying verified records can leave some replaced.) */
int vg_snapshot_decode(vg_pipeline *p, const void *data, size_t len, const char *name,
                       size_t *loaded, vg_error *err);

/* As vg_snapshot_decode, also returning the stream positions saved with
 * the state in *pos (NULL-able); pos->n is 0 when there are none. */
int vg_snapshot_decode_at(vg_pipeline *p, const void *data, size_t len, const char *name,
                          size_t *loaded, vg_snapshot_positions *pos, vg_error *err);

/* Saves the series of `partition` (-1: all) into path atomically: the
 * bytes go to "<path>.tmp", which is fsync'ed and renamed over path (and
 * the directory fsync'ed), so a crash leaves the old file or the new one,
 * never half of one. Returns 0, VG_EIO, or an encoding error. Two
 * processes must not save to the same path at once. */
int vg_snapshot_save(vg_pipeline *p, const char *path, int32_t partition, vg_error *err);

/* As vg_snapshot_save and vg_snapshot_load, with stream positions
 * (NULL-able). */
int vg_snapshot_save_at(vg_pipeline *p, const char *path, int32_t partition,
                        const vg_snapshot_positions *pos, vg_error *err);

/* Reads path whole and decodes it (see vg_snapshot_decode), merged with
 * the delta log beside it when there is one (vg_snapshot_merge: a torn
 * tail of the log is ignored). VG_ENOTFOUND when the file does not exist
 * (a cold start, for callers that allow one), VG_EIO when it cannot be
 * read. */
int vg_snapshot_load(vg_pipeline *p, const char *path, size_t *loaded, vg_error *err);
int vg_snapshot_load_at(vg_pipeline *p, const char *path, size_t *loaded,
                        vg_snapshot_positions *pos, vg_error *err);

/* Produces the bytes of a file for vg_snapshot_write_atomic, through sink. */
typedef int (*vg_snapshot_produce_fn)(void *ctx, vg_snapshot_sink_fn sink, void *sink_ctx,
                                      vg_error *err);

/* Writes what produce gives into path atomically, as vg_snapshot_save. */
int vg_snapshot_write_atomic(const char *path, vg_snapshot_produce_fn produce, void *ctx,
                             vg_error *err);

/* fsyncs the directory of path: makes a rename or unlink there durable. */
int vg_snapshot_sync_dir(const char *path, vg_error *err);

/* Reads path whole into a new buffer (*len bytes; caller frees); NULL with
 * err (NULL-able) set: VG_ENOTFOUND, VG_EIO or VG_ENOMEM. */
uint8_t *vg_snapshot_read_file(const char *path, size_t *len, vg_error *err);

/* path mapped read-only (*len bytes; a file that is only ever replaced by
 * a rename, never truncated, so the mapping stays whole), read front to
 * back; release with vg_snapshot_unmap_file. NULL with err set:
 * VG_ENOTFOUND or VG_EIO. */
const uint8_t *vg_snapshot_map_file(const char *path, size_t *len, vg_error *err);
void vg_snapshot_unmap_file(const uint8_t *data, size_t len);

/* The delta log beside the base snapshot path: its ".vgstate" suffix
 * replaced by ".vgdelta" (snapshot_delta.h). 0 or VG_ERANGE. */
int vg_snapshot_delta_path(char *out, size_t cap, const char *path);

typedef struct vg_snapshot_merge_info vg_snapshot_merge_info;

/* As vg_snapshot_load_at, saying in *info (NULL-able) what of the delta
 * log was applied and what was ignored. */
int vg_snapshot_load_merged(vg_pipeline *p, const char *path, size_t *loaded,
                            vg_snapshot_positions *pos, vg_snapshot_merge_info *info,
                            vg_error *err);

/* The file of one Kafka partition's state: DIR/<topic>-<partition>.vgstate
 * (`vigil run` passes its consumer group as topic: one file per partition
 * number, for every input topic), with every byte of topic outside [A-Za-z0-9._-] written as '_' (Kafka's
 * own topic alphabet, so real names come out unchanged) and an empty topic
 * as "_". Returns 0, VG_EARG for a negative partition, or VG_ERANGE when
 * the path does not fit out[cap]. */
int vg_snapshot_path(char *out, size_t cap, const char *dir, const char *topic,
                     int32_t partition);

/* `vigil replay --save-state DIR / --load-state DIR`: every series in one
 * file, DIR/replay.vgstate. Save creates DIR (one level) if needed. */
int vg_snapshot_save_replay(vg_pipeline *p, const char *dir, vg_error *err);
int vg_snapshot_load_replay(vg_pipeline *p, const char *dir, size_t *loaded,
                            vg_error *err);

#endif
