/* Inside the HTML report (src/report.h): one series' points as the report
 * keeps them, and the writer of its chart. Not for use outside report*.c. */
#ifndef VG_SRC_REPORT_CHART_H
#define VG_SRC_REPORT_CHART_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "src/labels.h"

/* Bits of vg__report_series.flags. */
enum {
    VG__REPORT_FLAGGED  = 1,  /* score >= the alert threshold */
    VG__REPORT_FIRING   = 2,  /* the point emitted a firing event */
    VG__REPORT_RESOLVED = 4,  /* the point emitted a resolved event */
};

/* One series of one file, in input order, as parallel arrays. The final
 * score keeps a double (its resolution near 1 is what ranks points); the
 * band is only drawn and shown, so floats do; detector scores are only
 * shown, and kept as the float 1 - score, which stays exact near 1 where
 * anomalous scores differ. */
typedef struct vg__report_series {
    char    *key;        /* NUL-terminated copy */
    size_t   key_len;
    uint64_t hash;
    size_t   n, cap;
    int64_t *ts;
    double  *value;
    double  *score;
    float   *expected, *lower, *upper;
    float   *det_gap;    /* 2 * n_det per point: 1 - raw score, then 1 - calibrated */
    uint8_t *flags;
    size_t   flagged;
    size_t   incidents;  /* firing events */
} vg__report_series;

/* How to draw a chart. */
typedef struct vg__report_chart {
    unsigned               id;        /* unique in the page */
    size_t                 buckets;   /* drawing resolution: time buckets */
    size_t                 n_det;
    double                 threshold;
    const vg_label_window *windows;   /* NULL-able; sorted */
    const uint8_t         *hit;       /* per window: holds a flagged point of s */
    size_t                 n_windows;
} vg__report_chart;

/* Sets hit[k] to 1 (never clears it) for each of windows[n] (sorted, not
 * overlapping) that holds a flagged point of s, and returns s's false
 * positive events: runs of consecutive flagged points outside every window.
 * The summary table and the charts both count with it, so both speak of
 * the same threshold: the alert threshold that flags points. */
size_t vg__report_windows_hit(const vg__report_series *s, const vg_label_window *windows,
                              size_t n, uint8_t *hit);

/* Writes the chart of s: an inline SVG (values, expected band, flagged
 * points, incidents, label windows, score strip) followed by its tooltip
 * data as JSON. s has at least one point. Returns 0 or VG_ENOMEM. */
int vg__report_chart_write(FILE *out, const vg__report_series *s,
                           const vg__report_chart *c);

/* Writes s[len] with & < > " ' escaped for HTML text and attributes. */
void vg__report_escape(FILE *out, const char *s, size_t len);

#endif
