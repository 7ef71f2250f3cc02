/* vigil's configuration: the top-level keys of vigil.json.
 *
 * This module validates the keys the core owns (window, series cap, seed,
 * alert) and hands the sub-objects other modules own (detectors, ensemble,
 * outputs, kafka, ...) on as borrowed JSON, each module validating its own
 * with vg_conf_apply. Unknown top-level keys are errors. */
#ifndef VG_ENGINE_CONFIG_H
#define VG_ENGINE_CONFIG_H

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>

#include "engine/alert.h"
#include "core/config_table.h"
#include "core/error.h"

typedef struct vg_config {
    vg_conf_doc    *doc;         /* owned; NULL for the built-in defaults */
    uint32_t        window;      /* values kept per series */
    int64_t         max_series;  /* series cap before least-recently-seen eviction */
    int64_t         seed;        /* mixed into every per-series random choice */
    int64_t         workers;     /* scoring threads; 0: one per online CPU */
    int             log_level;   /* vg_log_level */
    char            instance[64]; /* events' instance; "": the host name */
    vg_alert_params alert;
    /* Borrowed from doc, NULL when absent: */
    const json_t   *detectors;   /* {name: {params}}; absent = every detector, defaults */
    const json_t   *ensemble;
    const json_t   *guards;      /* false-positive guards */
    const json_t   *outputs;     /* [{"type": ..., ...}] */
    const json_t   *input;       /* Kafka input: brokers, topics, group, formats, kafka{} */
    const json_t   *csv;         /* CSV reader options */
    const json_t   *state;       /* saved-state options */
    const json_t   *metrics;     /* /metrics endpoint */
    const json_t   *rules;       /* per-series rules */
} vg_config;

/* Returns a new config from a file, or NULL with err = "path:line:col: key:
 * what is wrong". Free with vg_config_free(). */
vg_config *vg_config_load(const char *path, vg_error *err);
/* As above from text (tests, inline configs). */
vg_config *vg_config_load_string(const char *text, const char *name, vg_error *err);
/* The built-in defaults (no file). */
vg_config *vg_config_default(vg_error *err);
void vg_config_free(vg_config *cfg);

/* The top-level alert settings overridden by the keys of obj (a rule's
 * "alert" object; path names it in errors). Returns 0 or VG_ECONFIG. */
int vg_config_alert_over(const vg_config *cfg, const json_t *obj, const char *path,
                         vg_alert_params *out, vg_error *err);

/* The "type" of outputs[i], which must name a registered sink; NULL with
 * err (VG_ECONFIG) at the output's position otherwise. Borrowed from cfg. */
const char *vg_config_output_type(const vg_config *cfg, size_t i, vg_error *err);

/* Prints alert settings, `alert.key = value` per line. */
void vg_config_dump_alert(const vg_alert_params *alert, FILE *out);

/* Prints the reference of the core keys. */
void vg_config_describe(FILE *out);

#endif
