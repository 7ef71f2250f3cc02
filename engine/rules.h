/* Per-series rules: config entries matched on a series' name and labels
 * (shell globs, fnmatch(3)) that choose its detectors, their parameters,
 * the ensemble, the alert thresholds and the severity. The first rule that
 * matches wins; a series no rule matches uses the top-level settings.
 *
 *   "rules": [
 *     {"match": {"name": "latency_*", "labels": {"host": "db-*"}},
 *      "detectors": {"zscore": {"k": 4}},     replaces the detector set
 *      "ensemble": {"combine": "mean"},       replaces the ensemble settings
 *      "alert": {"threshold": 0.9999},        overrides these keys only
 *      "severity": "critical"}                fixed severity for its incidents
 *   ]
 *
 * A rule is matched once, when a series is first seen (or reloaded), never
 * per point. */
#ifndef VG_ENGINE_RULES_H
#define VG_ENGINE_RULES_H

#include <jansson.h>
#include <stddef.h>

#include "core/config_table.h"
#include "core/error.h"

typedef struct vg_rule {
    const json_t *object;     /* the rule (borrowed from the config) */
    const char   *name_glob;  /* NULL: any name */
    const json_t *labels;     /* {label: glob}, NULL: any labels */
    const json_t *detectors;  /* NULL: inherit */
    const json_t *ensemble;   /* NULL: inherit */
    const json_t *alert;      /* NULL: inherit */
    int           severity;   /* -1: from the score, else a vg_severity */
} vg_rule;

typedef struct vg_rules {
    vg_rule *rules;
    size_t   n;
} vg_rules;

/* Reads cfg->rules (the array, NULL-able: no rules) into rules, checking
 * every key. Returns 0 or VG_ECONFIG naming the rule and key. Free with
 * vg_rules_release(). */
int vg_rules_parse(vg_rules *rules, const vg_conf_doc *doc, const json_t *array,
                   vg_error *err);
void vg_rules_release(vg_rules *rules);

/* The index of the first rule matching the series key, or -1. */
int vg_rules_match(const vg_rules *rules, const char *key, size_t key_len);

#endif
