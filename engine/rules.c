/* Per-series rules; see rules.h. */
#include "engine/rules.h"

#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "engine/alert.h"
#include "core/series_key.h"

static const char *const rule_keys[] = {"match", "detectors", "ensemble", "alert", "severity",
                                        NULL};

static int rule_error(const vg_conf_doc *doc, const json_t *parent, const char *key,
                      size_t index, vg_error *err, const char *what, size_t rule)
{
    char where[64];
    vg_conf_where(doc, parent, key, index, where, sizeof(where));
    return vg_error_set_at(err, VG_ECONFIG, where, "rules[%zu]%s%s: %s", rule,
                           key ? "." : "", key ? key : "", what);
}

static int parse_one(vg_rule *r, const vg_conf_doc *doc, const json_t *array, size_t i,
                     vg_error *err)
{
    const json_t *obj = json_array_get(array, i);
    if (!json_is_object(obj))
        return rule_error(doc, array, NULL, i, err, "must be an object", i);
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)obj, key, v) {
        size_t k = 0;
        while (rule_keys[k] != NULL && strcmp(rule_keys[k], key) != 0)
            k++;
        if (rule_keys[k] == NULL)
            return rule_error(doc, obj, key, 0, err, "unknown key", i);
        if (strcmp(key, "severity") != 0 && !json_is_object(v))
            return rule_error(doc, obj, key, 0, err, "must be an object", i);
    }
    memset(r, 0, sizeof(*r));
    r->object = obj;
    r->detectors = json_object_get(obj, "detectors");
    r->ensemble = json_object_get(obj, "ensemble");
    r->alert = json_object_get(obj, "alert");
    r->severity = -1;
    const json_t *sev = json_object_get(obj, "severity");
    if (sev != NULL) {
        const char *s = json_string_value(sev);
        if (s != NULL && strcmp(s, "warning") == 0)
            r->severity = VG_SEVERITY_WARNING;
        else if (s != NULL && strcmp(s, "critical") == 0)
            r->severity = VG_SEVERITY_CRITICAL;
        else
            return rule_error(doc, obj, "severity", 0, err, "must be warning or critical", i);
    }

    const json_t *match = json_object_get(obj, "match");
    if (match == NULL)
        return rule_error(doc, array, NULL, i, err, "needs a \"match\" object", i);
    json_object_foreach((json_t *)match, key, v) {
        if (strcmp(key, "name") == 0 && json_is_string(v)) {
            r->name_glob = json_string_value(v);
        } else if (strcmp(key, "labels") == 0 && json_is_object(v)) {
            const char *label;
            json_t *glob;
            json_object_foreach(v, label, glob) {
                if (!json_is_string(glob))
                    return rule_error(doc, v, label, 0, err, "label pattern must be a string", i);
            }
            r->labels = v;
        } else {
            return rule_error(doc, match, key, 0, err,
                              "match takes \"name\" (a glob) and \"labels\" ({label: glob})",
                              i);
        }
    }
    return VG_OK;
}

int vg_rules_parse(vg_rules *rules, const vg_conf_doc *doc, const json_t *array,
                   vg_error *err)
{
    memset(rules, 0, sizeof(*rules));
    size_t n = json_array_size(array);
    if (n == 0)
        return VG_OK;
    rules->rules = calloc(n, sizeof(*rules->rules));
    if (rules->rules == NULL)
        return vg_error_set(err, VG_ENOMEM, "rules");
    for (size_t i = 0; i < n; i++) {
        int rc = parse_one(&rules->rules[i], doc, array, i, err);
        if (rc != VG_OK) {
            vg_rules_release(rules);
            return rc;
        }
    }
    rules->n = n;
    return VG_OK;
}

void vg_rules_release(vg_rules *rules)
{
    free(rules->rules);
    memset(rules, 0, sizeof(*rules));
}

/* Matches a glob against a counted string (fnmatch wants NUL-terminated). */
static int glob_matches(const char *glob, const char *s, size_t len)
{
    char buf[512];
    if (len >= sizeof(buf))
        return 0;
    memcpy(buf, s, len);
    buf[len] = '\0';
    return fnmatch(glob, buf, 0) == 0;
}

static int rule_matches(const vg_rule *r, const char *name, size_t name_len,
                        const vg_label *labels, size_t n_labels)
{
    if (r->name_glob != NULL && !glob_matches(r->name_glob, name, name_len))
        return 0;
    const char *label;
    json_t *glob;
    json_object_foreach((json_t *)r->labels, label, glob) {
        const vg_label *found = NULL;
        for (size_t i = 0; i < n_labels; i++)
            if (labels[i].name_len == strlen(label) &&
                memcmp(labels[i].name, label, labels[i].name_len) == 0)
                found = &labels[i];
        /* A missing label is the empty string, as in Prometheus. */
        if (!glob_matches(json_string_value(glob), found ? found->value : "",
                          found ? found->value_len : 0))
            return 0;
    }
    return 1;
}

int vg_rules_match(const vg_rules *rules, const char *key, size_t key_len)
{
    if (rules->n == 0)
        return -1;
    size_t name_len;
    vg_label labels[VG_MAX_LABELS];
    char scratch[1024];
    int n = vg_series_key_split(key, key_len, &name_len, labels, VG_MAX_LABELS, scratch,
                                sizeof(scratch));
    if (n < 0) {  /* not a canonical key: match on the whole key as a name */
        name_len = key_len;
        n = 0;
    }
    for (size_t i = 0; i < rules->n; i++)
        if (rule_matches(&rules->rules[i], key, name_len, labels, (size_t)n))
            return (int)i;
    return -1;
}
