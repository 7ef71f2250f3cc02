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
 *      "severity": "critical",                fixed severity for its incidents
 *      "name": "db-latency",                  in events and metrics (else "rules[i]")
 *      "alertname": "DbLatency",              Alertmanager's alertname
 *      "labels": {"team": "db"},              added to its alerts' labels
 *      "annotations": {"summary": "{{series}} {{direction}} to {{value}}",
 *                      "description": "...", "runbook_url": "https://..."},
 *      "mute": {"windows": [...]},            engine/mute.h
 *      "group": {"by": ["instance"],          one incident per host: engine/group.h
 *                "window_s": 300}}            joined only within 300 s of its opening
 *   ]
 *
 * Suppression (alert.direction, alert.min_deviation, alert.min_relative,
 * alert.skip_model_update) is part of the rule's "alert" overrides. The
 * annotations are `{{variable}}` templates (core/template.h), checked here.
 *
 * A rule is matched once, when a series is first seen (or reloaded), never
 * per point. */
#ifndef VG_ENGINE_RULES_H
#define VG_ENGINE_RULES_H

#include <jansson.h>
#include <stddef.h>

#include "core/config_table.h"
#include "core/error.h"
#include "engine/mute.h"

#define VG_GROUP_BY_MAX 4

typedef struct vg_rule {
    const json_t *object;     /* the rule (borrowed from the config) */
    const char   *name;       /* "name", else "rules[i]" (in name_buf) */
    char          name_buf[32];
    /* The words of its pages (borrowed; NULL: the defaults): */
    const char   *alertname;
    const json_t *page_labels;   /* {label: "value"} added to its alerts */
    const char   *summary, *description, *runbook_url;  /* core/template.h */
    const char   *name_glob;  /* NULL: any name */
    const json_t *labels;     /* {label: glob}, NULL: any labels */
    const json_t *detectors;  /* NULL: inherit */
    const json_t *ensemble;   /* NULL: inherit */
    const json_t *alert;      /* NULL: inherit */
    int           severity;   /* -1: from the score, else a vg_severity */
    vg_mute       mute;       /* its mute windows (engine/mute.h) */
    const char   *group_by[VG_GROUP_BY_MAX];  /* borrowed; n_group_by 0: no grouping */
    size_t        n_group_by;
    int64_t       group_window_ms;  /* 0: any member firing while the group is open joins */
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

/* Prints the reference of a rule's keys (FILE *file). */
void vg_rules_describe(void *file);

/* The index of the first rule matching the series key, or -1. */
int vg_rules_match(const vg_rules *rules, const char *key, size_t key_len);

#endif
