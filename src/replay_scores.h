/* The scores file of a replay: one row per input point, in input order.
 *
 * Header: timestamp,value,anomaly_score,expected,lower,upper, then one
 * column per detector (its raw score), then `series` when the input holds
 * more than one series. Timestamp and value are echoed as they were in the
 * input, so a scores file lines up with its CSV row for row. */
#ifndef VG_SRC_REPLAY_SCORES_H
#define VG_SRC_REPLAY_SCORES_H

#include <stddef.h>

#include "core/error.h"
#include "engine/pipeline.h"
#include "core/point.h"

typedef struct vg_scores_csv vg_scores_csv;

/* Returns a new writer to path ("-" = stdout) with its header written, or
 * NULL with err set. detectors[n] are the detector column names (borrowed
 * for the call). */
vg_scores_csv *vg_scores_csv_open(const char *path, const char *const *detectors,
                                  size_t n, int with_series, vg_error *err);

/* Appends the row of one scored point. Returns 0 or VG_EIO (sticky). */
int vg_scores_csv_write(vg_scores_csv *out, const vg_batch *b, const vg_point *pt,
                        const vg_point_result *r);

/* Flushes, closes and frees; returns 0 or VG_EIO if any write failed.
 * NULL does nothing. */
int vg_scores_csv_close(vg_scores_csv *out, vg_error *err);

#endif
