/* The replay report: one self-contained HTML file (`vigil replay
 * --report R.html`) that shows why points were flagged.
 *
 * A summary table (per file: points, series, flagged points, incidents and,
 * with labels, windows detected, precision, recall, F1 and NAB score, all
 * at the one threshold the charts flag points at), then one chart per
 * series: values, the expected band, flagged points, incidents (firing to
 * resolved), label windows, and a score strip on the same time axis, with
 * hover tooltips giving each detector's score and the reason in words, and
 * zoom and pan. Inline SVG, CSS and a small
 * script: it opens offline, and the same input gives the same bytes.
 *
 * Use: vg_report_new(); per input file vg_report_begin_file(), then
 * vg_report_add() for each scored point, then vg_report_end_file() (which
 * draws the file's charts and frees its points, so memory follows the
 * largest file, not the corpus); vg_report_set_nab() once labels were
 * scored; vg_report_write(). Not thread-safe. */
#ifndef VG_SRC_REPORT_H
#define VG_SRC_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "src/labels.h"
#include "src/nab.h"
#include "engine/pipeline.h"

/* Time buckets a chart is drawn with when none is asked for. */
#define VG_REPORT_BUCKETS 1000

typedef struct vg_report vg_report;

/* Returns a new, empty report, or NULL with err set (VG_ENOMEM, or VG_EARG
 * for more than VG_MAX_DETECTORS detectors). detectors[n_detectors] name
 * the scores in each point's result (the array is copied, the names are
 * borrowed: they must outlive the report); a point is flagged when its
 * score >= threshold; buckets is the drawing resolution of long series
 * (0: VG_REPORT_BUCKETS). The caller frees it with vg_report_free(). */
vg_report *vg_report_new(const char *const *detectors, size_t n_detectors,
                         double threshold, size_t buckets, vg_error *err);

/* Frees the report; NULL does nothing. */
void vg_report_free(vg_report *rep);

/* Starts the section of one input file, named `name` (copied), ending the
 * previous one if it is still open. labels (NULL-able) is searched for the
 * file's windows (vg_labels_find), which are then drawn on its charts.
 * Returns 0 or VG_ENOMEM. */
int vg_report_begin_file(vg_report *rep, const char *name, const vg_labels *labels);

/* Adds one scored point of series key[key_len] to the current file; r's
 * scores follow the detectors given to vg_report_new. Returns 0 or
 * VG_ENOMEM (the report then fails at vg_report_write). */
int vg_report_add(vg_report *rep, const char *key, size_t key_len, int64_t ts_ms,
                  double value, const vg_point_result *r);

/* Draws the current file's charts and frees its points. Returns 0 or
 * VG_ENOMEM. Without an open file it does nothing. */
int vg_report_end_file(vg_report *rep);

/* Sets the NAB score (standard profile) of the files the accumulator
 * scored, and of the corpus, at the report's threshold: the one its charts
 * flag points at and its table counts detected windows at. Returns 0 or
 * VG_ENOMEM. */
int vg_report_set_nab(vg_report *rep, const vg_nab *nab, vg_error *err);

/* Writes the page to path (ending the open file first). Returns 0, or
 * VG_EIO (cannot write) / VG_ENOMEM (now or earlier) with err set. */
int vg_report_write(vg_report *rep, const char *path, vg_error *err);

#endif
