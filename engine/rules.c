/* Per-series rules; see rules.h. */
#include "engine/rules.h"

#include <fnmatch.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/alert.h"
#include "core/series_key.h"
#include "core/template.h"

/* What one rule says, as written (every pointer borrowed from the config). */
typedef struct rule_conf {
    const json_t *match, *detectors, *ensemble, *alert, *labels, *annotations, *mute, *group;
    const char   *name, *alertname;
    int           severity;  /* index into "score|warning|critical" */
} rule_conf;

#define R(f) offsetof(rule_conf, f)
static const vg_conf_field rule_fields[] = {
    {"match", VG_CONF_OBJECT, R(match), 0, 0, 0, NULL,
     "which series: {\"name\": glob, \"labels\": {label: glob}} (required; {} matches all)"},
    {"name", VG_CONF_TEXT, R(name), 0, 0, 0, NULL,
     "the rule's name in events and metrics (default rules[i])"},
    {"severity", VG_CONF_ENUM, R(severity), 0, 0, 0, "score|warning|critical",
     "its incidents' severity: from the score, or always this one"},
    {"detectors", VG_CONF_OBJECT, R(detectors), 0, 0, 0, NULL,
     "detector settings for these series (detectors.*), over the top level's"},
    {"ensemble", VG_CONF_OBJECT, R(ensemble), 0, 0, 0, NULL, "ensemble.* over the top level's"},
    {"alert", VG_CONF_OBJECT, R(alert), 0, 0, 0, NULL,
     "alert.* over the top level's (thresholds, floors, fire_after ...)"},
    {"alertname", VG_CONF_TEXT, R(alertname), 0, 0, 0, NULL,
     "Alertmanager alertname of its pages (default: the output's alertname)"},
    {"labels", VG_CONF_OBJECT, R(labels), 0, 0, 0, NULL,
     "{label: value} added to its pages (not alertname, series or severity)"},
    {"annotations", VG_CONF_OBJECT, R(annotations), 0, 0, 0, NULL,
     "summary, description, runbook_url: templates of its pages (rules[].annotations)"},
    {"mute", VG_CONF_OBJECT, R(mute), 0, 0, 0, NULL,
     "windows when its incidents are recorded but not notified (rules[].mute)"},
    {"group", VG_CONF_OBJECT, R(group), 0, 0, 0, NULL,
     "one incident for series firing together (rules[].group)"},
};
#undef R

typedef struct match_conf {
    const char   *name;
    const json_t *labels;
} match_conf;

static const vg_conf_field match_fields[] = {
    {"name", VG_CONF_TEXT, offsetof(match_conf, name), 0, 0, 0, NULL,
     "a glob on the series name (absent: any name)"},
    {"labels", VG_CONF_OBJECT, offsetof(match_conf, labels), 0, 0, 0, NULL,
     "{label: glob}; a missing label is the empty string"},
};

typedef struct annotations_conf {
    const char *summary, *description, *runbook_url;
} annotations_conf;

#define A(f) offsetof(annotations_conf, f)
static const vg_conf_field annotation_fields[] = {
    {"summary", VG_CONF_TEXT, A(summary), 0, 0, 0, NULL,
     "template of the page's summary ({{series}}, {{value}}, {{score}} ...)"},
    {"description", VG_CONF_TEXT, A(description), 0, 0, 0, NULL,
     "template of the page's description"},
    {"runbook_url", VG_CONF_TEXT, A(runbook_url), 0, 0, 0, NULL,
     "template of the page's runbook link"},
};
#undef A

typedef struct group_conf {
    const json_t *by;
    double        window_s;
} group_conf;

static const vg_conf_field group_fields[] = {
    {"by", VG_CONF_ARRAY, offsetof(group_conf, by), 0, 0, 0, NULL,
     "1 to 4 label names: series sharing their values make one incident (required)"},
    {"window_s", VG_CONF_DOUBLE, offsetof(group_conf, window_s), 0, 0, 604800, NULL,
     "seconds after a group opens that a series may join (0: while it is firing)"},
};

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

/* Its pages' labels (a free-form map: checked here) and annotations. */
static int parse_words(vg_rule *r, const vg_conf_doc *doc, const rule_conf *c, const char *path,
                       size_t i, vg_error *err)
{
    snprintf(r->name_buf, sizeof(r->name_buf), "rules[%zu]", i);
    r->name = c->name != NULL ? c->name : r->name_buf;
    r->alertname = c->alertname;
    r->page_labels = c->labels;
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)r->page_labels, key, v) {
        if (!label_name_ok(key) || !json_is_string(v) || strcmp(key, "alertname") == 0 ||
            strcmp(key, "series") == 0 || strcmp(key, "severity") == 0)
            return rule_error(doc, r->page_labels, key, 0, err,
                              "labels: a label name ([a-zA-Z_][a-zA-Z0-9_]*, not alertname, "
                              "series or severity) and a string", i);
    }
    char sub[64];
    snprintf(sub, sizeof(sub), "%s.annotations", path);
    annotations_conf a;
    int rc = vg_conf_apply(doc, c->annotations, sub, annotation_fields,
                           VG_CONF_COUNT(annotation_fields), NULL, &a, err);
    if (rc != VG_OK)
        return rc;
    json_object_foreach((json_t *)c->annotations, key, v) {
        vg_error terr = {0};
        if (vg_template_check(json_string_value(v), &terr) != VG_OK)
            return rule_error(doc, c->annotations, key, 0, err, terr.msg, i);
    }
    r->summary = a.summary;
    r->description = a.description;
    r->runbook_url = a.runbook_url;
    return VG_OK;
}

static int parse_group(vg_rule *r, const vg_conf_doc *doc, const json_t *obj, const char *path,
                       size_t i, vg_error *err)
{
    if (obj == NULL)
        return VG_OK;
    char sub[64];
    snprintf(sub, sizeof(sub), "%s.group", path);
    group_conf g;
    int rc = vg_conf_apply(doc, obj, sub, group_fields, VG_CONF_COUNT(group_fields), NULL, &g,
                           err);
    if (rc != VG_OK)
        return rc;
    r->group_window_ms = (int64_t)(g.window_s * 1000.0);
    size_t n = json_array_size(g.by);
    if (n == 0 || n > VG_GROUP_BY_MAX)
        return rule_error(doc, obj, "by", 0, err, "group.by: an array of 1 to 4 label names", i);
    for (size_t k = 0; k < n; k++) {
        const char *label = json_string_value(json_array_get(g.by, k));
        if (label == NULL || !label_name_ok(label))
            return rule_error(doc, g.by, NULL, k, err,
                              "group.by: a label name ([a-zA-Z_][a-zA-Z0-9_]*)", i);
        r->group_by[k] = label;
    }
    r->n_group_by = n;
    return VG_OK;
}

static int parse_match(vg_rule *r, const vg_conf_doc *doc, const json_t *obj, const char *path,
                       size_t i, vg_error *err)
{
    char sub[64];
    snprintf(sub, sizeof(sub), "%s.match", path);
    match_conf m;
    int rc = vg_conf_apply(doc, obj, sub, match_fields, VG_CONF_COUNT(match_fields), NULL, &m,
                           err);
    if (rc != VG_OK)
        return rc;
    const char *label;
    json_t *glob;
    json_object_foreach((json_t *)m.labels, label, glob) {
        if (!json_is_string(glob))
            return rule_error(doc, m.labels, label, 0, err, "label pattern must be a string", i);
    }
    r->name_glob = m.name;
    r->labels = m.labels;
    return VG_OK;
}

static int parse_one(vg_rule *r, const vg_conf_doc *doc, const json_t *array, size_t i,
                     vg_error *err)
{
    const json_t *obj = json_array_get(array, i);
    char path[32];
    snprintf(path, sizeof(path), "rules[%zu]", i);
    memset(r, 0, sizeof(*r));
    rule_conf c;
    int rc = vg_conf_apply(doc, obj, path, rule_fields, VG_CONF_COUNT(rule_fields), NULL, &c,
                           err);
    if (rc != VG_OK)
        return rc;
    if (c.match == NULL)
        return rule_error(doc, array, NULL, i, err, "needs a \"match\" object", i);
    r->object = obj;
    r->detectors = c.detectors;
    r->ensemble = c.ensemble;
    r->alert = c.alert;
    static const int severities[] = {-1, VG_SEVERITY_WARNING, VG_SEVERITY_CRITICAL};
    r->severity = severities[c.severity];
    rc = parse_words(r, doc, &c, path, i, err);
    if (rc == VG_OK)
        rc = parse_match(r, doc, c.match, path, i, err);
    if (rc == VG_OK)
        rc = parse_group(r, doc, c.group, path, i, err);
    if (rc == VG_OK)
        rc = vg_mute_parse(&r->mute, doc, c.mute, i, err);
    return rc;
}

void vg_rules_describe(void *file)
{
    vg_conf_describe(rule_fields, VG_CONF_COUNT(rule_fields), "rules[]", file);
    vg_conf_describe(match_fields, VG_CONF_COUNT(match_fields), "rules[].match", file);
    vg_conf_describe(annotation_fields, VG_CONF_COUNT(annotation_fields),
                     "rules[].annotations", file);
    vg_conf_describe(group_fields, VG_CONF_COUNT(group_fields), "rules[].group", file);
    vg_mute_describe(file);
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
