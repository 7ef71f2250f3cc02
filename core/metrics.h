/* A small self-metrics registry rendered in the Prometheus text format 0.0.4.
 *
 * A registry holds families (counter, gauge, histogram), each with up to
 * VG_METRICS_MAX_LABELS label names and a bounded number of children, one
 * per combination of label values. Children can be added while the process
 * runs (a new partition, a new parse-error reason) up to the family's bound.
 *
 * Threads: updates are C11 atomics, so any number of threads may update
 * children while one scraper renders; nothing on the update path takes a
 * lock or allocates. Registering a family or a child takes a mutex (writers
 * only) and publishes the new entry with a release store, so rendering never
 * waits for a writer and never sees a half-built child. Memory for every
 * child is reserved when its family is registered.
 *
 * Families render in registration order, children in the order their label
 * values were first seen, so the text is deterministic for a given sequence
 * of calls. A counter registered as "x" renders as "x_total". */
#ifndef VG_CORE_METRICS_H
#define VG_CORE_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/error.h"

#define VG_METRICS_MAX_LABELS 3
#define VG_METRICS_MAX_BUCKETS 32

typedef struct vg_metrics vg_metrics;
typedef struct vg_metric_family vg_metric_family;
typedef struct vg_metric_child vg_metric_child;

typedef enum vg_metric_type {
    VG_METRIC_COUNTER,
    VG_METRIC_GAUGE,
    VG_METRIC_HISTOGRAM,
} vg_metric_type;

/* What a family is. Strings are copied at registration. */
typedef struct vg_metric_desc {
    vg_metric_type type;
    const char    *name;         /* [a-zA-Z_:][a-zA-Z0-9_:]*; counters without "_total" */
    const char    *help;         /* one line; escaped when rendered */
    const char    *labels[VG_METRICS_MAX_LABELS]; /* label names, NULL-terminated if fewer */
    size_t         max_children; /* label combinations kept; 0 for an unlabelled family */
    const double  *bounds;       /* histograms: finite upper bounds, strictly increasing */
    size_t         n_bounds;     /* 1..VG_METRICS_MAX_BUCKETS; "+Inf" is implied */
} vg_metric_desc;

/* Returns a new registry for at most max_families families, or NULL with
 * err set. Free with vg_metrics_free(). */
vg_metrics *vg_metrics_new(size_t max_families, vg_error *err);
/* Frees the registry and every family and child in it. No thread may
 * update or render it any more. NULL does nothing. */
void vg_metrics_free(vg_metrics *reg);

/* Registers a family. Returns it (borrowed, valid until vg_metrics_free),
 * or NULL with err set: VG_EARG for a bad name, label name or bounds,
 * VG_ESTATE for a name already registered, VG_EFULL when the registry is
 * full, VG_ENOMEM. */
vg_metric_family *vg_metrics_register(vg_metrics *reg, const vg_metric_desc *d,
                                      vg_error *err);

/* The child of an unlabelled family (borrowed). vg_assert()s that the
 * family has no labels. */
vg_metric_child *vg_metrics_plain(vg_metric_family *f);

/* Finds or adds the child for `values` (one per label name of the family;
 * any bytes, escaped when rendered). A child dropped earlier comes back at
 * zero. Returns it (borrowed, valid until vg_metrics_free), or NULL with err
 * set: VG_EFULL when the family already holds max_children combinations,
 * VG_EARG for a NULL value, VG_ENOMEM. Takes the registry's mutex: resolve
 * children once, outside hot loops, and keep the pointer. */
vg_metric_child *vg_metrics_child(vg_metric_family *f, const char *const *values,
                                  vg_error *err);

/* The child for `values` if it was ever added (dropped or not), else NULL.
 * Lock-free. */
vg_metric_child *vg_metrics_find(vg_metric_family *f, const char *const *values);

/* Hides a labelled child from the exposition and zeroes it (a revoked
 * partition's lag). Its slot stays reserved for the same label values. */
void vg_metrics_drop(vg_metric_child *c);

/* Updates; lock-free, any thread. The type is vg_assert()ed. */
void vg_metrics_inc(vg_metric_child *c, uint64_t n);    /* counter += n */
void vg_metrics_add(vg_metric_child *c, double v);      /* counter (v >= 0) or gauge */
void vg_metrics_set(vg_metric_child *c, double v);      /* gauge = v */
void vg_metrics_observe(vg_metric_child *c, double v);  /* histogram */

/* A counter's or gauge's current value; a histogram's observation count. */
double vg_metrics_value(const vg_metric_child *c);

/* Writes the exposition text (text/plain; version=0.0.4) to out. Returns 0
 * or VG_EIO when out fails. Any thread; never blocks writers. */
int vg_metrics_write(const vg_metrics *reg, FILE *out);

/* As vg_metrics_write into a new NUL-terminated buffer (the caller frees
 * it with free()); *len gets its length. NULL with err set on VG_ENOMEM. */
char *vg_metrics_render(const vg_metrics *reg, size_t *len, vg_error *err);

#endif
