/* Internals shared by the parsers of typed metric models (Prometheus text
 * and remote-write, OTLP, Vector): counters, histograms and summaries into
 * the series a user alerts on. Not for callers outside streams/parse*.c.
 *
 * The series, the same in every format that carries the type:
 *   counter / monotonic cumulative sum  <name>{labels}: per-second rate, by
 *                                       the counter logic (counter_rate.h):
 *                                       nothing for a series' first sample
 *                                       or after a reset
 *   histogram / summary                 <name>_count{labels}: observations
 *                                       per second; <name>_mean{labels}:
 *                                       mean observation over the interval
 *                                       (Δsum / Δcount; none when no
 *                                       observation was made)
 *   summary quantiles                   <name>{labels,quantile="0.99"}: as
 *                                       sent (they are gauges already)
 *   histogram buckets                   not emitted */
#ifndef VG_STREAMS_PARSE_MODEL_H
#define VG_STREAMS_PARSE_MODEL_H

#include "streams/parse_internal.h"

/* The rate_series key of every format with counters. */
#define VG__PARSE_FIELD_RATE_SERIES                                                   \
    {"rate_series", VG_CONF_UINT32, offsetof(vg__parse_params, rate_series), 16384, 16, \
     16777216, NULL, "counters and histograms: number of series whose last counter is kept"}

/* A configure() allocating the counter table (ps->rates). */
int vg__model_configure(vg_parser *ps, vg_error *err);

/* Emits the rate of a cumulative counter; 0 or -1 (as vg__parse_emit_rate). */
int vg__model_counter(vg_parser *ps, const char *name, size_t name_len,
                      const vg_label *labels, size_t n, int64_t ts_ms, double counter);

/* Cumulative histogram or summary: count and sum (NAN when not known) of
 * all observations so far. Emits <name>_count and <name>_mean as above. */
void vg__model_cumulative(vg_parser *ps, const char *name, size_t name_len,
                          const vg_label *labels, size_t n, int64_t ts_ms, double count,
                          double sum);

/* Delta histogram: count and sum of the observations in [start_ms, ts_ms). */
void vg__model_delta(vg_parser *ps, const char *name, size_t name_len, const vg_label *labels,
                     size_t n, int64_t start_ms, int64_t ts_ms, double count, double sum);

/* Emits the per-second rate of `delta`, counted over [start_ms, ts_ms). */
int vg__model_delta_rate(vg_parser *ps, const char *name, size_t name_len,
                         const vg_label *labels, size_t n, int64_t start_ms, int64_t ts_ms,
                         double delta);

/* Emits <name><suffix>{labels}; 0 or -1 (as vg__parse_emit). */
int vg__model_emit_suffixed(vg_parser *ps, const char *name, size_t name_len,
                            const char *suffix, const vg_label *labels, size_t n,
                            int64_t ts_ms, double value);

#endif
