/* What the outputs that write scores (remote-write, Influx on Kafka) share:
 * which series they take, and the score as they write it. */
#ifndef VG_STREAMS_SCORE_OUT_H
#define VG_STREAMS_SCORE_OUT_H

#include <stddef.h>

#include "core/event.h"

/* 1 when the name of series `key` (before its '{') matches the shell glob. */
int vg__score_out_selects(const char *glob, const char *key, size_t key_len);

/* The score in "nines", -log10(1 - score), capped at 16 (a threshold of
 * 0.9999 reads 4); NaN stays NaN. */
double vg__score_nines(double score);

/* Their emit op: incidents are the other outputs' business. */
int vg__score_out_emit(void *self, const vg_event *ev);

#endif
