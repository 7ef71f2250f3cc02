/* The detector interface: every detector is one const table of functions
 * over its own per-series state, listed once in detectors/detector_registry.c.
 *
 * State is one fixed-size block per series (state_size() bytes, owned by the
 * series table): a detector never allocates per point or per series.
 * Params are one block per configuration (params_size bytes), filled by
 * configure() and then read-only, so many threads may share them. They hold
 * no pointers: their bytes are part of the pipeline's state id, which must
 * be the same in every process with the same config.
 *
 * Order of calls for one point of one series:
 *   1. score() of every enabled detector, with the window holding the
 *      points BEFORE this one;
 *   2. the pipeline pushes the value into the window (dropping
 *      vg_window_oldest(w) when the window is full).
 * A detector that keeps running sums over the window therefore reads
 * vg_window_oldest() in score() to know which value is about to leave. */
#ifndef VG_DETECTORS_DETECTOR_H
#define VG_DETECTORS_DETECTOR_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/codec.h"
#include "core/config_table.h"
#include "core/error.h"
#include "core/window.h"

/* Why a detector scored a point as it did: what it expected and the band it
 * considers normal (NaN when it has none), plus a short reason. `swing`:
 * the part of the series' long-run range a season accounts for, when
 * `expected` is that season's (NaN: none); the paging floors then judge
 * the deviation against the range less it (engine/baseline.h). */
typedef struct vg_explain {
    double expected;
    double lower, upper;
    double swing;
    char   detail[48];
} vg_explain;

typedef struct vg_detector_ops {
    const char *name;          /* "zscore", "seasonal", "iforest" */
    size_t      params_size;

    /* Fills params from defaults then from cfg (the detector's object in
     * the config, NULL-able: defaults). doc gives error positions (NULL-able).
     * window_cap is the pipeline's window length, which some defaults and
     * ranges depend on. Returns 0 or VG_ECONFIG naming the key. */
    int (*configure)(void *params, const vg_conf_doc *doc, const json_t *cfg,
                     uint32_t window_cap, vg_error *err);

    /* Bytes of per-series state for these params: fixed per series. */
    size_t (*state_size)(const void *params);

    /* Makes state a fresh series; seed = config seed mixed with the series
     * key hash, for every random choice the detector makes. */
    void (*init)(void *state, const void *params, uint64_t seed);

    /* Scores value at ts_ms against the series' history. Returns a score in
     * [0,1] (0 also while warming up); fills why (never NULL). Updates state.
     * Deterministic: same state, params and inputs give the same result. */
    double (*score)(void *state, const void *params, const vg_window *w,
                    int64_t ts_ms, double value, vg_explain *why);

    /* Serialises state; load reads it back into a state block init()'ed
     * with the same params. Returns 0, VG_ENOMEM, or VG_EPARSE on input
     * that does not match. */
    int (*save)(const void *state, const void *params, vg_writer *out);
    int (*load)(void *state, const void *params, vg_reader *in, vg_error *err);

    /* The params table configure() reads, to print effective params
     * (`vigil config check`) and the reference. */
    const vg_conf_field *fields;
    size_t               n_fields;
} vg_detector_ops;

/* The registry: every detector vigil knows, in a fixed order. */
size_t vg_detector_count(void);
const vg_detector_ops *vg_detector_at(size_t i);
/* NULL when no detector has that name. */
const vg_detector_ops *vg_detector_find(const char *name);

/* A score in [0,1) from a tail probability given as -log10(p) (its
 * "surprise"), computed in log space so that huge deviations keep distinct
 * scores: 1 - p while p >= 1e-8, then a slower approach to 1 that never
 * reaches it. Monotone in surprise. */
double vg_score_from_surprise(double surprise_log10);

#endif
