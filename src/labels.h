/* Labelled anomaly windows, as in NAB's labels/combined_windows.json: a JSON
 * object mapping a data file key ("realKnownCause/nyc_taxi.csv") to a list of
 * [start, end] windows, both ends inclusive.
 *
 * A window end is a string "YYYY-MM-DD HH:MM:SS[.ffffff]" (UTC, 'T' allowed
 * for the space, optional trailing 'Z') or an epoch number: seconds when
 * |v| < 1e11, milliseconds otherwise (1e11 s is the year 5138, 1e11 ms is
 * 1973, so the two never meet for real data). Windows are kept sorted by
 * start; overlapping windows in one list are an error, because NAB merges
 * them before scoring and a silent merge here would hide a labelling bug. */
#ifndef VG_SRC_LABELS_H
#define VG_SRC_LABELS_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

typedef struct vg_label_window {
    int64_t start_ms;   /* inclusive */
    int64_t end_ms;     /* inclusive */
} vg_label_window;

typedef struct vg_labels vg_labels;

/* Reads a labels JSON file. Returns a new set, or NULL with `err` set:
 * VG_EIO (cannot open), VG_EPARSE with where = "path:line:col" for JSON
 * syntax errors, or with where = path and the key/index in the message for a
 * wrong shape or a bad timestamp. The caller frees it with vg_labels_free(). */
vg_labels *vg_labels_load(const char *path, vg_error *err);

/* As vg_labels_load, from `len` bytes of text; `name` (NULL-able) is used
 * in error positions. */
vg_labels *vg_labels_parse(const char *text, size_t len, const char *name,
                           vg_error *err);

/* Frees the set; NULL does nothing. */
void vg_labels_free(vg_labels *l);

/* Number of keys, and the key and windows of entry i < count. Borrowed:
 * valid until vg_labels_free(). */
size_t vg_labels_count(const vg_labels *l);
const char *vg_labels_key(const vg_labels *l, size_t i);
const vg_label_window *vg_labels_windows(const vg_labels *l, size_t i, size_t *n);

/* Finds the windows of the file at `path`: a key matches when `path` equals
 * it or ends with "/" + key; when several keys match, the longest wins.
 * Returns 0 with *windows (borrowed, may be NULL when *n is 0) and *n set, or
 * VG_ENOTFOUND when no key matches. A key with an empty list is found, with
 * *n = 0: "labelled, no anomaly" is not "not labelled". */
int vg_labels_find(const vg_labels *l, const char *path,
                   const vg_label_window **windows, size_t *n);

/* The index of the window of w[n] (sorted, disjoint) holding ts, or n when
 * none does. */
size_t vg_labels_window_of(const vg_label_window *w, size_t n, int64_t ts);

#endif
