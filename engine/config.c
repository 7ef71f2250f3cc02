/* vigil.json: the core keys, validated from one table, and the sub-objects
 * that other modules validate themselves; see config.h. */
#include "engine/config.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"

/* The core's own keys. Alert keys live under "alert". */
static const vg_conf_field core_fields[] = {
    {"window", VG_CONF_UINT32, offsetof(vg_config, window), 200, 8, 65536, NULL,
     "values kept per series (the detectors' history)"},
    {"max_series", VG_CONF_INT, offsetof(vg_config, max_series), 100000, 1, 100000000, NULL,
     "series tracked at once; beyond it the least recently seen is evicted"},
    {"seed", VG_CONF_INT, offsetof(vg_config, seed), 42, 0, 9007199254740991.0, NULL,
     "mixed with each series key into every random choice"},
};

static const vg_conf_field alert_fields[] = {
    {"threshold", VG_CONF_DOUBLE, offsetof(vg_alert_params, threshold), 0.99999, 0, 1, NULL,
     "final score at or above which a point is anomalous"},
    {"critical", VG_CONF_DOUBLE, offsetof(vg_alert_params, critical), 0.9999999, 0, 1, NULL,
     "peak score at or above which an incident is critical, else warning"},
    {"fire_after", VG_CONF_UINT32, offsetof(vg_alert_params, fire_after), 1, 1, 10000, NULL,
     "consecutive anomalous points before an incident fires"},
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
     "long-run range (max - min)"},
    {"range_span", VG_CONF_DOUBLE, offsetof(vg_alert_params, range_span), 10000, 10, 1e9,
     NULL, "points the long-run range remembers (its extremes decay over about this many)"},
};

typedef struct log_params {
    int level;
} log_params;

static const vg_conf_field log_fields[] = {
    {"level", VG_CONF_ENUM, offsetof(log_params, level), VG_LOG_INFO, 0, 0,
     "debug|info|warn|error|off", "least severe log level written"},
};

/* Top-level keys that belong to other modules: they validate them. */
static const char *const delegated_keys[] = {
    "alert", "log", "detectors", "ensemble", "guards", "outputs", "input",
    "csv", "state", "metrics", "rules", NULL,
};

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
                           delegated_keys, cfg, err);
    if (rc != VG_OK)
        return rc;

    const json_t *alert = NULL, *log = NULL;
    if (root != NULL) {
        if ((rc = object_member(doc, root, "alert", &alert, err)) != VG_OK ||
            (rc = object_member(doc, root, "log", &log, err)) != VG_OK ||
            (rc = object_member(doc, root, "detectors", &cfg->detectors, err)) != VG_OK ||
            (rc = object_member(doc, root, "ensemble", &cfg->ensemble, err)) != VG_OK ||
            (rc = object_member(doc, root, "guards", &cfg->guards, err)) != VG_OK ||
            (rc = object_member(doc, root, "input", &cfg->input, err)) != VG_OK ||
            (rc = object_member(doc, root, "csv", &cfg->csv, err)) != VG_OK ||
            (rc = object_member(doc, root, "state", &cfg->state, err)) != VG_OK ||
            (rc = object_member(doc, root, "metrics", &cfg->metrics, err)) != VG_OK)
            return rc;
        cfg->outputs = json_object_get(root, "outputs");
        cfg->rules = json_object_get(root, "rules");
        const char *arrays[] = {"outputs", "rules"};
        for (size_t i = 0; i < 2; i++) {
            const json_t *v = json_object_get(root, arrays[i]);
            if (v != NULL && !json_is_array(v)) {
                char where[64];
                vg_conf_where(doc, root, arrays[i], 0, where, sizeof(where));
                return vg_error_set_at(err, VG_ECONFIG, where, "%s: must be an array",
                                       arrays[i]);
            }
        }
    }
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
