/* vigil.json: the core keys, validated from one table, and the sub-objects
 * that other modules validate themselves; see config.h. */
#include "engine/config.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "streams/stream.h"

/* The top-level keys. The sub-objects are borrowed here and validated by
 * the modules that read them (each from its own table); "alert" and "log"
 * are this file's own tables below. */
#define C(field) offsetof(vg_config, field)
static const vg_conf_field core_fields[] = {
    {"window", VG_CONF_UINT32, C(window), 200, 8, 65536, NULL,
     "values kept per series (the detectors' history)"},
    {"max_series", VG_CONF_INT, C(max_series), 100000, 1, 100000000, NULL,
     "series tracked at once; beyond it the least recently seen is evicted"},
    {"seed", VG_CONF_INT, C(seed), 42, 0, 9007199254740991.0, NULL,
     "mixed with each series key into every random choice"},
    {"workers", VG_CONF_INT, C(workers), 0, 0, 256, NULL,
     "scoring threads, each owning a share of the series; output is the same for any "
     "number (0: one per online CPU; 1: no threads)"},
    {"instance", VG_CONF_STRING, C(instance), 0, 0, 64, "",
     "names this vigil in its events (`vigil replay`: \"replay\"); empty: the host name"},
    {"detectors", VG_CONF_OBJECT, C(detectors), 0, 0, 0, NULL,
     "{name: {params}}: only the listed detectors run (absent: all, with defaults)"},
    {"ensemble", VG_CONF_OBJECT, C(ensemble), 0, 0, 0, NULL,
     "how the detectors' scores become one (ensemble.*)"},
    {"guards", VG_CONF_OBJECT, C(guards), 0, 0, 0, NULL,
     "false-positive guards (guards.*)"},
    {"input", VG_CONF_OBJECT, C(input), 0, 0, 0, NULL,
     "the source of `vigil run` (input.*; required there)"},
    {"csv", VG_CONF_OBJECT, C(csv), 0, 0, 0, NULL, "the CSV source of `vigil replay` (csv.*)"},
    {"state", VG_CONF_OBJECT, C(state), 0, 0, 0, NULL, "saved state of `vigil run` (state.*)"},
    {"metrics", VG_CONF_OBJECT, C(metrics), 0, 0, 0, NULL,
     "the /metrics, /healthz and /readyz endpoint (metrics.*; absent: off)"},
    {"remote_write", VG_CONF_OBJECT, C(remote_write), 0, 0, 0, NULL,
     "Prometheus remote-write receiver of `vigil run` (remote_write.*; absent: off)"},
    {"outputs", VG_CONF_ARRAY, C(outputs), 0, 0, 0, NULL,
     "[{\"type\": ..., ...}]: where events go (outputs[].*; absent: console)"},
    {"rules", VG_CONF_ARRAY, C(rules), 0, 0, 0, NULL,
     "per-series overrides, first match wins (rules[].*)"},
};
#undef C

static const vg_conf_field alert_fields[] = {
    /* 3.5e-4 a point: with confirmation (fire_after, corroborate, rearm_s)
     * a lower per-point level than 1e-4 catches more faults for the same
     * pages; chosen by leave-one-machine-out on smd-dev (docs/quality.md,
     * "Corroboration across a host's series" and branch q-smd). */
    {"threshold", VG_CONF_DOUBLE, offsetof(vg_alert_params, threshold), 0.99965, 0, 1, NULL,
     "final score at or above which a point is anomalous"},
    {"critical", VG_CONF_DOUBLE, offsetof(vg_alert_params, critical), 0.9999999, 0, 1, NULL,
     "peak score at or above which an incident is critical, else warning"},
    /* Two points confirm an incident: an honest threshold of 1e-4 a point
     * pages once a week per series at 1-minute steps on noise alone; two in
     * a row are about 1e-8 (docs/quality.md, "Incidents that match faults"). */
    {"fire_after", VG_CONF_UINT32, offsetof(vg_alert_params, fire_after), 2, 1, 10000, NULL,
     "consecutive anomalous points before an incident fires"},
    /* The critical level: a spike that high is not noise and pages alone. */
    {"fire_at_once", VG_CONF_DOUBLE, offsetof(vg_alert_params, fire_at_once), 0.9999999, 0, 1,
     NULL, "final score at or above which a single anomalous point fires without waiting "
     "for fire_after (0: off)"},
    /* A fault moves several of a host's metrics at once, noise one at a
     * time: a pending point another series of the host corroborates is
     * confirmed (docs/quality.md, "Corroboration across a host's series"). */
    {"corroborate", VG_CONF_DOUBLE, offsetof(vg_alert_params, corroborate), 0.9999, 0, 1, NULL,
     "a pending anomalous point fires at once when another series of its group (its rule's "
     "group.by labels, else host and instance, else its wide CSV file) scored at or above this "
     "within corroborate_s (0: off)"},
    {"corroborate_s", VG_CONF_DOUBLE, offsetof(vg_alert_params, corroborate_s), 60, 0, 1e9,
     NULL, "seconds apart a group member's high score may be and still corroborate"},
    /* One page per host event: chosen by leave-one-machine-out on smd-dev
     * (docs/quality.md, "One page per host event"). */
    {"group_window_s", VG_CONF_DOUBLE, offsetof(vg_alert_params, group_window_s), 300, 0, 1e9,
     NULL, "a series firing within this many seconds of the firing of another series of its "
     "group (as for corroborate) joins that incident while it is open (its series not all "
     "resolved): its events carry group_id, the "
     "leader's incident id, and are recorded but not notified (one page per host event; "
     "the leader's alert lists them and stays open while they fire; a higher severity "
     "pages itself; 0: off)"},
    /* Chosen by leave-one-machine-out on smd-dev (docs/quality.md, branch
     * q-smd). */
    {"rearm_s", VG_CONF_DOUBLE, offsetof(vg_alert_params, rearm_s), 21600, 0, 1e9, NULL,
     "seconds after an incident fired during which the series opens no new incident unless "
     "a point scores fire_at_once (0: off)"},
    {"resolve_after", VG_CONF_UINT32, offsetof(vg_alert_params, resolve_after), 5, 1, 100000, NULL,
     "consecutive normal points before a firing incident resolves"},
    /* A day at any sampling rate would outlast most faults an operator
     * wants to hear about until fixed; 6 hours is a shift. */
    {"accept_after_s", VG_CONF_DOUBLE, offsetof(vg_alert_params, accept_after_s), 21600, 0,
     1e9, NULL,
     "seconds an incident may fire before its level is accepted as the new normal "
     "(it resolves, the model relearns); 0: never"},
    /* Off by default: holding cost 5.7 NAB points on nab-dev and lost in
     * every leave-one-group-out fold on both corpora (docs/quality.md). */
    {"hold_model", VG_CONF_BOOL, offsetof(vg_alert_params, hold_model), 0, 0, 1, NULL,
     "while an incident is open the series' model does not learn (the fault must not "
     "become the new normal); false: it learns as usual"},
    {"min_deviation", VG_CONF_DOUBLE, offsetof(vg_alert_params, min_deviation), 0, 0, 1e300,
     NULL, "paging floor: smallest |value - expected| that pages, in the series' units"},
    {"min_change", VG_CONF_DOUBLE, offsetof(vg_alert_params, min_change), 0.01, 0, 1e6, NULL,
     "paging floor: smallest |value - expected| / |expected| that pages, unless the "
     "deviation exceeds the series' whole long-run range"},
    {"min_range", VG_CONF_DOUBLE, offsetof(vg_alert_params, min_range), 0.5, 0, 1e6, NULL,
     "paging floor: smallest |value - expected| that pages, as a share of the series' "
     "long-run range (max - min; less the daily season's swing for a run the calendar's "
     "CUSUM reports)"},
    {"range_span", VG_CONF_DOUBLE, offsetof(vg_alert_params, range_span), 10000, 10, 1e9,
     NULL, "points the long-run range remembers (its extremes decay over about this many)"},
    {"beyond_range", VG_CONF_DOUBLE, offsetof(vg_alert_params, beyond_range), 0.25, 0, 1e6,
     NULL, "a value beyond the long-run range as it stood at the last midnight (UTC) by more "
     "than this share of its width is anomalous whatever its score, so a slow drift the "
     "detectors follow still pages; the paging floors apply; 0: off"},
    /* A drift is slow: two hours beyond the range tell it from the spikes
     * and busy hours of a spiky series (smd-dev: docs/quality.md, branch
     * q-smd); three fail slow_drift_pages (the day's downswing pulls the
     * drift back within the margin). */
    {"beyond_for_s", VG_CONF_DOUBLE, offsetof(vg_alert_params, beyond_for_s), 7200, 0, 1e9,
     NULL, "seconds a value must stay beyond the settled range (beyond_range) before it is "
     "anomalous"},
    /* A day covers a daily cycle; 100 points give the detectors' calibration
     * something to stand on at slow sampling rates. */
    {"warmup_s", VG_CONF_DOUBLE, offsetof(vg_alert_params, warmup_s), 86400, 0, 1e9, NULL,
     "paging warm-up: a new series pages only this many seconds after its first point "
     "(it is scored and learns meanwhile)"},
    {"warmup_points", VG_CONF_UINT32, offsetof(vg_alert_params, warmup_points), 100, 0,
     1000000000, NULL, "paging warm-up: a new series pages only once it has learned this "
     "many points"},
    {"direction", VG_CONF_ENUM, offsetof(vg_alert_params, direction), VG_DIRECTION_BOTH, 0, 0,
     "up|down|both", "suppression: which deviations from the expected value may page"},
    {"min_relative", VG_CONF_DOUBLE, offsetof(vg_alert_params, min_relative), 0, 0, 1e6, NULL,
     "suppression: smallest |value - expected| / |expected| that pages, without "
     "min_change's long-run-range exception (0.05: ignore changes under 5 %)"},
    {"skip_model_update", VG_CONF_BOOL, offsetof(vg_alert_params, skip_model_update), 0, 0, 1,
     NULL, "a point the detectors flag but a floor or the direction suppresses does not "
     "update the series' model; false: the model learns from it"},
};

typedef struct log_params {
    int level;
} log_params;

static const vg_conf_field log_fields[] = {
    {"level", VG_CONF_ENUM, offsetof(log_params, level), VG_LOG_INFO, 0, 0,
     "debug|info|warn|error|off", "least severe log level written"},
};

/* Top-level objects read by this file's other tables. */
static const char *const own_objects[] = {"alert", "log", NULL};

/* The member `key` of root, which must be an object when present. */
static int object_member(const vg_conf_doc *doc, const json_t *root, const char *key,
                         const json_t **out, vg_error *err)
{
    const json_t *v = json_object_get(root, key);
    *out = v;
    if (v == NULL || json_is_object(v))
        return VG_OK;
    char where[64];
    vg_conf_where(doc, root, key, 0, where, sizeof(where));
    return vg_error_set_at(err, VG_ECONFIG, where, "%s: must be an object", key);
}

static int config_fill(vg_config *cfg, vg_error *err)
{
    const vg_conf_doc *doc = cfg->doc;
    const json_t *root = doc ? vg_conf_doc_root(doc) : NULL;
    int rc = vg_conf_apply(doc, root, "", core_fields, VG_CONF_COUNT(core_fields),
                           own_objects, cfg, err);
    const json_t *alert = NULL, *log = NULL;
    if (rc != VG_OK ||
        (rc = object_member(doc, root, "alert", &alert, err)) != VG_OK ||
        (rc = object_member(doc, root, "log", &log, err)) != VG_OK)
        return rc;
    rc = vg_conf_apply(doc, alert, "alert", alert_fields, VG_CONF_COUNT(alert_fields),
                       NULL, &cfg->alert, err);
    if (rc != VG_OK)
        return rc;
    log_params lp;
    rc = vg_conf_apply(doc, log, "log", log_fields, VG_CONF_COUNT(log_fields), NULL, &lp, err);
    cfg->log_level = lp.level;
    return rc;
}

static vg_config *config_from_doc(vg_conf_doc *doc, vg_error *err)
{
    vg_config *cfg = calloc(1, sizeof(*cfg));
    if (cfg == NULL) {
        vg_conf_doc_free(doc);
        vg_error_set(err, VG_ENOMEM, "config");
        return NULL;
    }
    cfg->doc = doc;
    if (config_fill(cfg, err) != VG_OK) {
        vg_config_free(cfg);
        return NULL;
    }
    return cfg;
}

vg_config *vg_config_load(const char *path, vg_error *err)
{
    vg_conf_doc *doc = vg_conf_doc_load_file(path, err);
    return doc ? config_from_doc(doc, err) : NULL;
}

vg_config *vg_config_load_string(const char *text, const char *name, vg_error *err)
{
    vg_conf_doc *doc = vg_conf_doc_load_string(text, name, err);
    return doc ? config_from_doc(doc, err) : NULL;
}

vg_config *vg_config_default(vg_error *err)
{
    return config_from_doc(NULL, err);
}

void vg_config_free(vg_config *cfg)
{
    if (cfg == NULL)
        return;
    vg_conf_doc_free(cfg->doc);
    free(cfg);
}

int vg_config_alert_over(const vg_config *cfg, const json_t *obj, const char *path,
                         vg_alert_params *out, vg_error *err)
{
    *out = cfg->alert;
    return vg_conf_apply_over(cfg->doc, obj, path, alert_fields, VG_CONF_COUNT(alert_fields),
                              NULL, out, err);
}

const char *vg_config_output_type(const vg_config *cfg, size_t i, vg_error *err)
{
    const json_t *out = json_array_get(cfg->outputs, i);
    const char *type = json_string_value(json_object_get(out, "type"));
    char where[64];
    if (type != NULL && vg_sink_type_find(type) != NULL)
        return type;
    if (type == NULL) {
        vg_conf_where(cfg->doc, cfg->outputs, NULL, i, where, sizeof(where));
        vg_error_set_at(err, VG_ECONFIG, where, "outputs[%zu].type: must be a string", i);
    } else {
        vg_conf_where(cfg->doc, out, "type", 0, where, sizeof(where));
        vg_error_set_at(err, VG_ECONFIG, where, "outputs[%zu].type: unknown output type \"%.40s\"",
                        i, type);
    }
    return NULL;
}

void vg_config_describe(FILE *out)
{
    vg_conf_describe(core_fields, VG_CONF_COUNT(core_fields), "", out);
    vg_conf_describe(alert_fields, VG_CONF_COUNT(alert_fields), "alert", out);
    vg_conf_describe(log_fields, VG_CONF_COUNT(log_fields), "log", out);
}

void vg_config_dump_alert(const vg_alert_params *alert, FILE *out)
{
    vg_conf_dump(alert_fields, VG_CONF_COUNT(alert_fields), alert, "alert", out);
}
