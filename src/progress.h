/* A progress line for long runs (`vigil replay`): rows read, rows/s,
 * percent of the input bytes and an ETA, redrawn in place with \r a few times a
 * second, and only once the run has lasted VG_PROGRESS_AFTER_MS, so short
 * runs print nothing. The caller decides where it goes (a terminal) and
 * passes the clock in, which keeps this module testable. */
#ifndef VG_SRC_PROGRESS_H
#define VG_SRC_PROGRESS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define VG_PROGRESS_AFTER_MS 2000
#define VG_PROGRESS_EVERY_MS 250

typedef struct vg_progress {
    FILE       *out;     /* NULL: disabled */
    const char *label;   /* starts the line */
    uint64_t    total;   /* input bytes; 0 when unknown */
    int64_t     start_ms;
    int64_t     next_ms; /* no redraw before this */
    int         shown;   /* a line is on screen */
} vg_progress;

/* Starts timing at now_ms. out (borrowed, NULL-able: then every call does
 * nothing) receives the line "<label>: <figures>"; label is borrowed;
 * total_bytes is the size of all input. */
void vg_progress_init(vg_progress *pg, FILE *out, const char *label, uint64_t total_bytes,
                      int64_t now_ms);

/* 1 when a redraw is due at now_ms: cheap, so callers can skip gathering
 * the figures otherwise. */
int vg_progress_due(const vg_progress *pg, int64_t now_ms);

/* Redraws the line if due: rows and bytes are totals so far. */
void vg_progress_update(vg_progress *pg, int64_t now_ms, uint64_t rows, uint64_t bytes);

/* Erases the line, if one was drawn, so the next output starts clean. */
void vg_progress_end(vg_progress *pg);

/* Writes "1.23M rows, 456k rows/s, 42.0%, ETA 1m05s" into buf[cap]
 * (fraction in [0,1], NaN when unknown; eta_s < 0 when unknown). */
void vg_progress_format(char *buf, size_t cap, uint64_t rows, double rows_per_s,
                        double fraction, double eta_s);

/* Sum of the sizes of the regular files among paths[n]; others count 0. */
uint64_t vg_progress_file_bytes(char *const *paths, size_t n);

#endif
