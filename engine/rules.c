/* Per-series rules; see rules.h. */
#include "engine/rules.h"

#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/alert.h"
#include "core/series_key.h"
#include "core/template.h"

static const char *const rule_keys[] = {"match", "detectors", "ensemble", "alert", "severity",
                                        "name", "alertname", "labels", "annotations", "mute",
                                        "group", NULL};
/* Rule keys whose value is a string rather than an object. */
static const char *const string_keys[] = {"severity", "name", "alertname", NULL};
static const char *const annotation_keys[] = {"summary", "description", "runbook_url", NULL};

static int listed(const char *const *list, const char *key)
{
    for (size_t k = 0; list[k] != NULL; k++)
        if (strcmp(list[k], key) == 0)
            return 1;
    return 0;
}

static int rule_error(const vg_conf_doc *doc, const json_t *parent, const char *key,
                      size_t index, vg_error *err, const char *what, size_t rule)
{
    char where[64];
    vg_conf_where(doc, parent, key, index, where, sizeof(where));
    return vg_error_set_at(err, VG_ECONFIG, where, "rules[%zu]%s%s: %s", rule,
                           key ? "." : "", key ? key : "", what);
}

/* A label name Alertmanager accepts: [a-zA-Z_][a-zA-Z0-9_]*. */
static int label_name_ok(const char *s)
{
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_'))
        return 0;
    return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") ==
           strlen(s);
}

/* name, alertname, labels and annotations (types already checked). */
static int parse_words(vg_rule *r, const vg_conf_doc *doc, const json_t *obj, size_t i,
                       vg_error *err)
{
    snprintf(r->name_buf, sizeof(r->name_buf), "rules[%zu]", i);
    const char *name = json_string_value(json_object_get(obj, "name"));
    r->name = name != NULL ? name : r->name_buf;
    r->alertname = json_string_value(json_object_get(obj, "alertname"));
    r->page_labels = json_object_get(obj, "labels");
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)r->page_labels, key, v) {
        if (!label_name_ok(key) || !json_is_string(v) || strcmp(key, "alertname") == 0 ||
            strcmp(key, "series") == 0 || strcmp(key, "severity") == 0)
            return rule_error(doc, r->page_labels, key, 0, err,
                              "labels: a label name ([a-zA-Z_][a-zA-Z0-9_]*, not alertname, "
                              "series or severity) and a string", i);
    }
    const json_t *ann = json_object_get(obj, "annotations");
    json_object_foreach((json_t *)ann, key, v) {
        if (!listed(annotation_keys, key) || !json_is_string(v))
            return rule_error(doc, ann, key, 0, err,
                              "annotations: summary, description or runbook_url, a string", i);
        vg_error terr = {0};
        if (vg_template_check(json_string_value(v), &terr) != VG_OK)
            return rule_error(doc, ann, key, 0, err, terr.msg, i);
    }
    r->summary = json_string_value(json_object_get(ann, "summary"));
    r->description = json_string_value(json_object_get(ann, "description"));
    r->runbook_url = json_string_value(json_object_get(ann, "runbook_url"));
    return VG_OK;
}

/* Longest group window accepted: a week. */
#define GROUP_WINDOW_MAX_S 604800

/* "group": {"by": ["label", ...], "window_s": S}: 1 to VG_GROUP_BY_MAX
 * label names, and the seconds after its opening a series may join. */
static int parse_group(vg_rule *r, const vg_conf_doc *doc, const json_t *obj, size_t i,
                       vg_error *err)
{
    const json_t *group = json_object_get(obj, "group");
    if (group == NULL)
        return VG_OK;
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)group, key, v) {
        if (strcmp(key, "by") != 0 && strcmp(key, "window_s") != 0)
            return rule_error(doc, group, key, 0, err,
                              "group takes \"by\" and \"window_s\" only", i);
    }
    const json_t *window = json_object_get(group, "window_s");
    if (window != NULL) {
        double s = json_number_value(window);
        if (!json_is_number(window) || !(s >= 0 && s <= GROUP_WINDOW_MAX_S))
            return rule_error(doc, group, "window_s", 0, err,
                              "group.window_s: seconds, 0 (no window) to 604800", i);
        r->group_window_ms = (int64_t)(s * 1000.0);
    }
    const json_t *by = json_object_get(group, "by");
    size_t n = json_array_size(by);
    if (n == 0 || n > VG_GROUP_BY_MAX)
        return rule_error(doc, group, "by", 0, err,
                          "group.by: an array of 1 to 4 label names", i);
    for (size_t k = 0; k < n; k++) {
        const char *label = json_string_value(json_array_get(by, k));
        if (label == NULL || !label_name_ok(label))
            return rule_error(doc, by, NULL, k, err,
                              "group.by: a label name ([a-zA-Z_][a-zA-Z0-9_]*)", i);
        r->group_by[k] = label;
    }
    r->n_group_by = n;
    return VG_OK;
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
        if (!listed(rule_keys, key))
            return rule_error(doc, obj, key, 0, err, "unknown key", i);
        if (listed(string_keys, key) ? !json_is_string(v) : !json_is_object(v))
            return rule_error(doc, obj, key, 0, err,
                              listed(string_keys, key) ? "must be a string" : "must be an object",
                              i);
    }
    memset(r, 0, sizeof(*r));
    r->object = obj;
    int rc = parse_words(r, doc, obj, i, err);
    if (rc == VG_OK)
        rc = parse_group(r, doc, obj, i, err);
    if (rc == VG_OK)
        rc = vg_mute_parse(&r->mute, doc, json_object_get(obj, "mute"), i, err);
    if (rc != VG_OK)
        return rc;
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
        rules->n = i + 1;  /* what to release */
        if (rc != VG_OK) {
            vg_rules_release(rules);
            return rc;
        }
    }
    return VG_OK;
}

void vg_rules_release(vg_rules *rules)
{
    for (size_t i = 0; i < rules->n; i++)
        vg_mute_release(&rules->rules[i].mute);
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
