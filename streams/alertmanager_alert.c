/* One vigil event as one Alertmanager postableAlert; see alertmanager_alert.h.
 *
 * Labels. Alertmanager accepts only label names matching
 * [a-zA-Z_][a-zA-Z0-9_]* and answers 400 to the whole batch otherwise, so
 * other characters become '_' (a leading digit gets a '_' before it). A
 * series label that would clash with one of ours (alertname, series,
 * severity) is kept as exported_<name>, as Prometheus does on a scrape
 * clash, so two series that differ only there stay two alerts. The sink
 * passes the severity the firing event had, so a resolved event whose
 * incident peaked higher later still carries the same label set.
 *
 * Times. startsAt is the incident's first anomalous point, clamped to now
 * (a point stamped in the future must not make a future alert). A firing
 * alert has no endsAt: Alertmanager then ends it resolve_timeout after the
 * last post, which is why the sink re-posts firing alerts. A resolved alert
 * has endsAt = the resolving point's time clamped to [startsAt, now]: an
 * endsAt in the future would keep it firing until then, and one before
 * startsAt is rejected. Old times (a replay of last year's data) are kept:
 * Alertmanager stores and notifies them as they are (checked against 0.25
 * in tests/cli/test_alertmanager.sh). */
#include "streams/alertmanager_alert.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/numfmt.h"
#include "core/series_key.h"
#include "core/template.h"

/* Longest label name we write, with "exported_" and the NUL. */
#define NAME_MAX_LEN 256

static int is_reserved(const char *name)
{
    return strcmp(name, "alertname") == 0 || strcmp(name, "series") == 0 ||
           strcmp(name, "severity") == 0;
}

/* A valid Alertmanager label name for raw[len] into out[NAME_MAX_LEN]. */
static void label_name(const char *raw, size_t len, char *out)
{
    size_t n = 0;
    if (len == 0 || (raw[0] >= '0' && raw[0] <= '9'))
        out[n++] = '_';
    for (size_t i = 0; i < len && n < NAME_MAX_LEN - 1 - sizeof("exported_"); i++) {
        char c = raw[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '_';
        out[n++] = ok ? c : '_';
    }
    out[n] = '\0';
    if (is_reserved(out)) {
        memmove(out + 9, out, n + 1);
        memcpy(out, "exported_", 9);
    }
}

static void put(json_t *obj, const char *key, json_t *value, int *failed)
{
    if (value == NULL || json_object_set_new(obj, key, value) != 0)
        *failed = 1;
}

/* Sets key to x with 6 significant digits; NaN sets nothing. */
static void put_number(json_t *obj, const char *key, double x, int *failed)
{
    char text[32];
    if (isnan(x))
        return;
    vg_fmt_sig(text, x, 6);
    put(obj, key, json_string(text), failed);
}

static json_t *labels_object(const vg_event *ev, const char *alertname, int *failed)
{
    vg_label labels[VG_MAX_LABELS];
    char scratch[4096];
    size_t name_len;
    int n = vg_series_key_split(ev->series, ev->series_len, &name_len, labels, VG_MAX_LABELS,
                                scratch, sizeof(scratch));
    json_t *obj = json_object();
    if (n < 0 || obj == NULL) {
        *failed = 1;
        return obj;
    }
    char name[NAME_MAX_LEN];
    for (int i = 0; i < n; i++) {
        label_name(labels[i].name, labels[i].name_len, name);
        put(obj, name, json_stringn(labels[i].value, labels[i].value_len), failed);
    }
    /* The rule's own labels (rules.c keeps them off the names below). */
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)ev->page_labels, key, v)
        put(obj, key, json_deep_copy(v), failed);
    put(obj, "alertname", json_string(ev->alertname ? ev->alertname : alertname), failed);
    put(obj, "series", json_stringn(ev->series, name_len), failed);
    put(obj, "severity", json_string(vg_severity_name(ev->severity)), failed);
    return obj;
}

/* The one line a person reads first in a notification: the rule's words
 * the pipeline rendered, else the default sentence (core/template.h). */
static json_t *summary(const vg_event *ev)
{
    char line[1024];
    if (ev->summary != NULL)
        return json_string(ev->summary);
    vg_template_render(vg_template_default_summary(ev), ev, line, sizeof(line));
    return json_string(line);
}

/* "a, b (resolved), … and 3 more": the series a page lists. */
static json_t *listed_text(const vg_event_page *pg)
{
    static const char resolved[] = " (resolved)", sep[] = ", ", more[] = ", … and %zu more";
    size_t need = sizeof(more) + 24;
    for (size_t i = 0; i < pg->n_listed; i++)
        need += pg->listed[i].series_len + sizeof(resolved) + sizeof(sep);
    char *text = malloc(need);
    if (text == NULL)
        return NULL;
    size_t at = 0;
    for (size_t i = 0; i < pg->n_listed; i++) {
        const vg_event_member *m = &pg->listed[i];
        at += (size_t)snprintf(text + at, need - at, "%s%.*s%s", i > 0 ? sep : "",
                               (int)m->series_len, m->series, m->firing ? "" : resolved);
    }
    if (pg->n_joined > pg->n_listed)
        snprintf(text + at, need - at, more, pg->n_joined - pg->n_listed);
    json_t *value = json_string(text);
    free(text);
    return value;
}

/* A group incident's page (alert.group_window_s): the series that joined
 * it, counted and the first listed, and when its leader resolved if the
 * page outlives it (members still firing). */
static void put_page(json_t *obj, const vg_event_page *pg, int *failed)
{
    char text[32];
    snprintf(text, sizeof(text), "%zu", pg->n_joined);
    put(obj, "members", json_string(text), failed);
    snprintf(text, sizeof(text), "%zu", pg->n_firing);
    put(obj, "members_firing", json_string(text), failed);
    put(obj, "members_listed", listed_text(pg), failed);
    if (!pg->leader_firing) {
        vg_format_rfc3339(pg->leader_end_ms, text);
        put(obj, "leader_resolved", json_string(text), failed);
    }
}

static json_t *annotations_object(const vg_event *ev, int *failed)
{
    json_t *obj = json_object();
    if (obj == NULL) {
        *failed = 1;
        return NULL;
    }
    char text[80], lower[32], upper[32];
    put(obj, "summary", summary(ev), failed);
    if (ev->description != NULL)
        put(obj, "description", json_string(ev->description), failed);
    if (ev->runbook_url != NULL)
        put(obj, "runbook_url", json_string(ev->runbook_url), failed);
    put(obj, "incident", json_string(ev->id), failed);
    if (ev->group_id != NULL)  /* an escalation: the page it joined */
        put(obj, "group_id", json_string(ev->group_id), failed);
    if (ev->page != NULL)
        put_page(obj, ev->page, failed);
    put_number(obj, "value", ev->value, failed);
    put_number(obj, "expected", ev->expected, failed);
    if (!isnan(ev->lower) && !isnan(ev->upper)) {
        vg_fmt_sig(lower, ev->lower, 6);
        vg_fmt_sig(upper, ev->upper, 6);
        snprintf(text, sizeof(text), "[%s, %s]", lower, upper);
        put(obj, "band", json_string(text), failed);
    }
    /* Scores keep their resolution near 1 (see ARCHITECTURE.md). */
    vg_fmt_score(text, ev->score);
    put(obj, "score", json_string(text), failed);
    vg_fmt_score(text, ev->peak);
    put(obj, "peak", json_string(text), failed);
    for (size_t i = 0; i < ev->n_detectors; i++) {
        char key[64];
        snprintf(key, sizeof(key), "score_%s", ev->detectors[i].name);
        vg_fmt_score(text, ev->detectors[i].score);
        put(obj, key, json_string(text), failed);
    }
    return obj;
}

json_t *vg_am_alert_new(const vg_event *ev, const char *alertname,
                        const char *generator_url, int64_t now_ms)
{
    json_t *alert = json_object();
    if (alert == NULL)
        return NULL;
    int failed = 0;
    char when[32];
    int64_t starts = ev->start_ms < now_ms ? ev->start_ms : now_ms;
    put(alert, "labels", labels_object(ev, alertname, &failed), &failed);
    put(alert, "annotations", annotations_object(ev, &failed), &failed);
    vg_format_rfc3339(starts, when);
    put(alert, "startsAt", json_string(when), &failed);
    if (ev->state == VG_ALERT_RESOLVED) {
        int64_t ends = ev->ts_ms < starts ? starts : ev->ts_ms;
        vg_format_rfc3339(ends < now_ms ? ends : now_ms, when);
        put(alert, "endsAt", json_string(when), &failed);
    }
    if (generator_url != NULL && generator_url[0] != '\0')
        put(alert, "generatorURL", json_string(generator_url), &failed);
    if (failed) {
        json_decref(alert);
        return NULL;
    }
    return alert;
}

/* Replaces *json with alert's compact text (alert released); 0 or VG_ENOMEM. */
static int replace_text(char **json, json_t *alert, int failed)
{
    char *text = failed ? NULL : json_dumps(alert, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(alert);
    if (text == NULL)
        return VG_ENOMEM;
    free(*json);
    *json = text;
    return VG_OK;
}

int vg_am_alert_set_end(char **json, int64_t ends_ms)
{
    char when[32];
    json_t *alert = json_loads(*json, 0, NULL);
    if (alert == NULL)
        return VG_EPARSE;
    vg_format_rfc3339(ends_ms, when);
    return replace_text(json, alert, json_object_set_new(alert, "endsAt", json_string(when)));
}

int vg_am_alert_set_page(char **json, const vg_event_page *page, int64_t now_ms)
{
    json_t *alert = json_loads(*json, 0, NULL);
    json_t *annotations = json_object_get(alert, "annotations");
    if (!json_is_object(annotations)) {
        json_decref(alert);
        return VG_EPARSE;
    }
    int failed = 0;
    put_page(annotations, page, &failed);
    if (vg_event_page_ended(page)) {  /* clamped as a resolved event's endsAt */
        char when[32];
        int64_t ends = page->ts_ms < page->start_ms ? page->start_ms : page->ts_ms;
        vg_format_rfc3339(ends < now_ms ? ends : now_ms, when);
        put(alert, "endsAt", json_string(when), &failed);
    }
    return replace_text(json, alert, failed);
}
