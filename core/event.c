/* Event ids, RFC 3339 timestamps, and the event's JSON; see event.h.
 *
 * The JSON is built with jansson in one fixed key order and dumped compact
 * with 17 significant digits, so the same event always gives the same bytes
 * (replays can be diffed) and every double reads back bit for bit. Numbers
 * JSON cannot hold (NaN, and infinities) are written as null. */
#include "core/event.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/series_key.h"

#define ENCODE_FLAGS (JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17))

/* Two fixed, unrelated seeds make two independent 64-bit halves. */
#define ID_SEED_HI 0x9e3779b97f4a7c15ULL
#define ID_SEED_LO 0xc2b2ae3d27d4eb4fULL

void vg_event_make_id(vg_event *ev)
{
    /* key + '\0' + decimal start: the NUL keeps "a1"+"23" apart from "a"+"123". */
    char stack[512];
    char *buf = stack;
    size_t need = ev->series_len + 1 + 21;
    if (need > sizeof(stack))
        buf = malloc(need);
    uint64_t hi, lo;
    if (buf == NULL) {
        /* Same bytes, hashed in two pieces: only reached out of memory, and
         * still deterministic, but not the canonical id. */
        hi = vg_hash64(ev->series, ev->series_len, ID_SEED_HI) ^ (uint64_t)ev->start_ms;
        lo = vg_hash64(ev->series, ev->series_len, ID_SEED_LO) ^ (uint64_t)ev->start_ms;
    } else {
        memcpy(buf, ev->series, ev->series_len);
        buf[ev->series_len] = '\0';
        int n = snprintf(buf + ev->series_len + 1, 21, "%" PRId64, ev->start_ms);
        size_t len = ev->series_len + 1 + (size_t)n;
        hi = vg_hash64(buf, len, ID_SEED_HI);
        lo = vg_hash64(buf, len, ID_SEED_LO);
        if (buf != stack)
            free(buf);
    }
    snprintf(ev->id, sizeof(ev->id), "%016" PRIx64 "%016" PRIx64, hi, lo);
    /* The event's own id: the incident's, its state and the point's time. */
    char tail[48];
    int n = snprintf(tail, sizeof(tail), "%s/%d/%" PRId64, ev->id, (int)ev->state, ev->ts_ms);
    snprintf(ev->event_id, sizeof(ev->event_id), "%016" PRIx64 "%016" PRIx64,
             vg_hash64(tail, (size_t)n, ID_SEED_HI), vg_hash64(tail, (size_t)n, ID_SEED_LO));
}

/* Floor division (C's rounds towards zero). */
static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

void vg_format_rfc3339(int64_t ts_ms, char out[32])
{
    /* Quotient and remainder, not ts - days * 86400000: that overflows
     * near INT64_MIN. */
    int64_t days = ts_ms / 86400000;
    int64_t ms_of_day = ts_ms % 86400000;
    if (ms_of_day < 0) {
        ms_of_day += 86400000;
        days--;
    }

    /* Howard Hinnant's civil_from_days: proleptic Gregorian, any year. */
    int64_t z = days + 719468;
    int64_t era = floor_div(z, 146097);
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int     day = (int)(doy - (153 * mp + 2) / 5 + 1);
    int     month = (int)(mp < 10 ? mp + 3 : mp - 9);
    int64_t year = yoe + era * 400 + (month <= 2);

    int ms = (int)(ms_of_day % 1000);
    int sec = (int)(ms_of_day / 1000 % 60);
    int min = (int)(ms_of_day / 60000 % 60);
    int hour = (int)(ms_of_day / 3600000);
    /* Years beyond 0000-9999 are outside RFC 3339; they are still written
     * (ISO 8601 expanded style) so nothing is lost. */
    snprintf(out, 32, "%04" PRId64 "-%02d-%02dT%02d:%02d:%02d.%03dZ",
             year, month, day, hour, min, sec, ms);
}

/* A JSON number, or null for what JSON cannot hold. */
static json_t *number(double x)
{
    return isfinite(x) ? json_real(x) : json_null();
}

static json_t *band(double lower, double upper)
{
    json_t *a = json_array();
    if (json_array_append_new(a, number(lower)) != 0 ||
        json_array_append_new(a, number(upper)) != 0) {
        json_decref(a);
        return NULL;
    }
    return a;
}

/* Sets obj[key] = v (taken), remembering any failure (a NULL v included)
 * so the builder can check once at the end. */
static void put(json_t *obj, const char *key, json_t *v, int *failed)
{
    if (json_object_set_new(obj, key, v) != 0)
        *failed = 1;
}

static json_t *labels_object(const vg_event *ev, size_t *name_len, int *failed)
{
    json_t *labels = json_object();
    vg_label l[VG_MAX_LABELS];
    char *scratch = malloc(ev->series_len + 1);
    int n = scratch == NULL ? VG_ENOMEM
                            : vg_series_key_split(ev->series, ev->series_len, name_len,
                                                  l, VG_MAX_LABELS, scratch,
                                                  ev->series_len + 1);
    if (n == VG_ENOMEM)
        *failed = 1;
    if (n < 0)
        *name_len = ev->series_len;  /* not canonical: all of it is the name */
    for (int i = 0; i < n; i++) {
        if (json_object_setn_new(labels, l[i].name, l[i].name_len,
                                 json_stringn(l[i].value, l[i].value_len)) != 0)
            *failed = 1;
    }
    free(scratch);
    return labels;
}

static json_t *detectors_object(const vg_event *ev, int *failed)
{
    json_t *all = json_object();
    for (size_t i = 0; i < ev->n_detectors && i < VG_MAX_DETECTORS; i++) {
        const vg_event_detector *d = &ev->detectors[i];
        json_t *o = json_object();
        put(o, "score", number(d->score), failed);
        put(o, "expected", number(d->expected), failed);
        put(o, "band", band(d->lower, d->upper), failed);
        put(o, "detail", json_stringn(d->detail, strnlen(d->detail, sizeof(d->detail))),
            failed);
        put(all, d->name, o, failed);
    }
    return all;
}

static json_t *source_object(const vg_origin *o, int *failed)
{
    json_t *src = json_object();
    json_t *name = o->source != NULL ? json_string(o->source) : json_null();
    if (o->partition < 0) {
        put(src, "file", name, failed);
        put(src, "row", json_integer(o->offset), failed);
    } else {
        put(src, "topic", name, failed);
        put(src, "partition", json_integer(o->partition), failed);
        put(src, "offset", json_integer(o->offset), failed);
    }
    return src;
}

static json_t *text(const char *s)
{
    return s != NULL ? json_string(s) : json_null();
}

/* What a person reads and where the event came from (schema 2). */
static void put_words(json_t *obj, const vg_event *ev, int *failed)
{
    put(obj, "muted", json_boolean(ev->muted), failed);
    put(obj, "rule", text(ev->rule), failed);
    put(obj, "instance", text(ev->instance), failed);
    put(obj, "summary", text(ev->summary), failed);
    put(obj, "description", text(ev->description), failed);
    if (ev->runbook_url != NULL)
        put(obj, "runbook_url", json_string(ev->runbook_url), failed);
    if (ev->alertname != NULL)
        put(obj, "alertname", json_string(ev->alertname), failed);
    if (ev->page_labels != NULL)
        put(obj, "page_labels", json_deep_copy(ev->page_labels), failed);
    if (ev->group != NULL)
        put(obj, "group", vg_event_group_json(ev->group), failed);
    if (ev->group_id != NULL)
        put(obj, "group_id", json_string(ev->group_id), failed);
    if (ev->escalated)
        put(obj, "escalated", json_true(), failed);
}

json_t *vg_event_to_json(const vg_event *ev)
{
    if (ev->feedback != NULL)
        return vg_event_feedback_json(ev);
    json_t *obj = json_object();
    if (obj == NULL)
        return NULL;
    int failed = 0;
    char ts[32];
    size_t name_len;
    vg_format_rfc3339(ev->ts_ms, ts);

    put(obj, "schema", json_integer(VG_EVENT_SCHEMA), &failed);
    put(obj, "id", json_string(ev->id), &failed);
    put(obj, "event_id", json_string(ev->event_id), &failed);
    put(obj, "state", json_string(vg_alert_state_name(ev->state)), &failed);
    put(obj, "severity", json_string(vg_severity_name(ev->severity)), &failed);
    put(obj, "series", json_stringn(ev->series, ev->series_len), &failed);
    json_t *labels = labels_object(ev, &name_len, &failed);
    put(obj, "name", json_stringn(ev->series, name_len), &failed);
    put(obj, "labels", labels, &failed);
    put(obj, "ts", json_string(ts), &failed);
    put(obj, "ts_ms", json_integer(ev->ts_ms), &failed);
    put(obj, "start_ms", json_integer(ev->start_ms), &failed);
    put(obj, "duration_s", number(ev->duration_s), &failed);
    put(obj, "value", number(ev->value), &failed);
    put(obj, "expected", number(ev->expected), &failed);
    put(obj, "band", band(ev->lower, ev->upper), &failed);
    put(obj, "score", number(ev->score), &failed);
    put(obj, "peak", number(ev->peak), &failed);
    if (ev->reason != NULL)
        put(obj, "reason", json_string(ev->reason), &failed);
    put_words(obj, ev, &failed);
    put(obj, "detectors", detectors_object(ev, &failed), &failed);
    put(obj, "source", source_object(&ev->origin, &failed), &failed);

    /* Failed means out of memory, or a key or detail that is not UTF-8. */
    if (failed) {
        json_decref(obj);
        return NULL;
    }
    return obj;
}

int vg_event_encode(const vg_event *ev, char *buf, size_t cap)
{
    json_t *obj = vg_event_to_json(ev);
    if (obj == NULL)
        return VG_ENOMEM;
    size_t n = json_dumpb(obj, buf, cap, ENCODE_FLAGS);
    json_decref(obj);
    if (n == 0)
        return VG_ENOMEM;
    if (n >= cap || n > INT32_MAX)
        return VG_ERANGE;
    buf[n] = '\0';
    return (int)n;
}

/* Parsing back: each reader names the field it rejects. */
typedef struct parse_ctx {
    char     *storage;
    size_t    cap, used;
    vg_error *err;
} parse_ctx;

static int bad(parse_ctx *pc, const char *field, const char *what)
{
    return vg_error_set(pc->err, VG_EPARSE, "event field \"%s\": %s", field, what);
}

static int get_int(parse_ctx *pc, const json_t *obj, const char *field, int64_t *out)
{
    const json_t *v = json_object_get(obj, field);
    if (!json_is_integer(v))
        return bad(pc, field, "must be an integer");
    *out = json_integer_value(v);
    return VG_OK;
}

/* A number, or null for NaN. */
static int get_number(parse_ctx *pc, const json_t *v, const char *field, double *out)
{
    if (json_is_null(v)) {
        *out = NAN;
        return VG_OK;
    }
    if (!json_is_number(v))
        return bad(pc, field, "must be a number or null");
    *out = json_number_value(v);
    return VG_OK;
}

static int get_band(parse_ctx *pc, const json_t *v, const char *field, double *lower,
                    double *upper)
{
    if (!json_is_array(v) || json_array_size(v) != 2)
        return bad(pc, field, "must be [lower, upper]");
    if (get_number(pc, json_array_get(v, 0), field, lower) != 0 ||
        get_number(pc, json_array_get(v, 1), field, upper) != 0)
        return VG_EPARSE;
    return VG_OK;
}

/* Copies a string into storage; *out points at the copy. */
static int keep(parse_ctx *pc, const char *field, const char *s, size_t len,
                const char **out)
{
    if (len + 1 > pc->cap - pc->used)
        return bad(pc, field, "does not fit in the storage buffer");
    char *dst = pc->storage + pc->used;
    memcpy(dst, s, len);
    dst[len] = '\0';
    pc->used += len + 1;
    *out = dst;
    return VG_OK;
}

static int get_string(parse_ctx *pc, const json_t *obj, const char *field,
                      const char **out, size_t *len)
{
    const json_t *v = json_object_get(obj, field);
    if (!json_is_string(v))
        return bad(pc, field, "must be a string");
    *len = json_string_length(v);
    return keep(pc, field, json_string_value(v), *len, out);
}

static int parse_state(parse_ctx *pc, const json_t *obj, vg_event *ev)
{
    const char *state = json_string_value(json_object_get(obj, "state"));
    const char *severity = json_string_value(json_object_get(obj, "severity"));
    if (state != NULL && strcmp(state, "firing") == 0)
        ev->state = VG_ALERT_FIRING;
    else if (state != NULL && strcmp(state, "resolved") == 0)
        ev->state = VG_ALERT_RESOLVED;
    else
        return bad(pc, "state", "must be \"firing\" or \"resolved\"");
    if (severity != NULL && strcmp(severity, "warning") == 0)
        ev->severity = VG_SEVERITY_WARNING;
    else if (severity != NULL && strcmp(severity, "critical") == 0)
        ev->severity = VG_SEVERITY_CRITICAL;
    else
        return bad(pc, "severity", "must be \"warning\" or \"critical\"");
    return VG_OK;
}

static int parse_id(parse_ctx *pc, const json_t *obj, const char *field, char out[33])
{
    const char *id = json_string_value(json_object_get(obj, field));
    if (id == NULL || strlen(id) != 32 || strspn(id, "0123456789abcdef") != 32)
        return bad(pc, field, "must be 32 lowercase hex digits");
    memcpy(out, id, 33);
    return VG_OK;
}

static int parse_detectors(parse_ctx *pc, const json_t *obj, vg_event *ev)
{
    const json_t *all = json_object_get(obj, "detectors");
    if (!json_is_object(all) || json_object_size(all) > VG_MAX_DETECTORS)
        return bad(pc, "detectors", "must be an object of at most 8 detectors");
    const char *name;
    const json_t *d;
    ev->n_detectors = 0;
    json_object_foreach((json_t *)all, name, d) {
        vg_event_detector *out = &ev->detectors[ev->n_detectors++];
        const json_t *detail = json_object_get(d, "detail");
        if (!json_is_object(d) || !json_is_string(detail) ||
            json_string_length(detail) >= sizeof(out->detail))
            return bad(pc, "detectors", "each must hold score, expected, band, detail");
        if (keep(pc, "detectors", name, strlen(name), &out->name) != 0 ||
            get_number(pc, json_object_get(d, "score"), "detectors", &out->score) != 0 ||
            get_number(pc, json_object_get(d, "expected"), "detectors", &out->expected) != 0 ||
            get_band(pc, json_object_get(d, "band"), "detectors", &out->lower,
                     &out->upper) != 0)
            return VG_EPARSE;
        memcpy(out->detail, json_string_value(detail), json_string_length(detail) + 1);
    }
    return VG_OK;
}

static int parse_source(parse_ctx *pc, const json_t *obj, vg_origin *o)
{
    const json_t *src = json_object_get(obj, "source");
    const int is_file = json_object_get(src, "file") != NULL;
    const json_t *name = json_object_get(src, is_file ? "file" : "topic");
    int64_t partition = -1;
    if (!json_is_object(src) || (!json_is_string(name) && !json_is_null(name)))
        return bad(pc, "source", "must hold file and row, or topic, partition and offset");
    if (get_int(pc, src, is_file ? "row" : "offset", &o->offset) != 0 ||
        (!is_file && get_int(pc, src, "partition", &partition) != 0))
        return VG_EPARSE;
    if (!is_file && (partition < 0 || partition > INT32_MAX))
        return bad(pc, "partition", "must be between 0 and 2147483647");
    o->partition = (int32_t)partition;
    o->source = NULL;
    if (json_is_string(name))
        return keep(pc, "source", json_string_value(name), json_string_length(name),
                    &o->source);
    return VG_OK;
}

/* An optional string: absent or null leaves *out NULL. */
static int get_text(parse_ctx *pc, const json_t *obj, const char *field, const char **out)
{
    const json_t *v = json_object_get(obj, field);
    if (v == NULL || json_is_null(v))
        return VG_OK;
    if (!json_is_string(v))
        return bad(pc, field, "must be a string or null");
    return keep(pc, field, json_string_value(v), json_string_length(v), out);
}

static int parse_words(parse_ctx *pc, const json_t *obj, vg_event *ev)
{
    const json_t *muted = json_object_get(obj, "muted");
    const json_t *labels = json_object_get(obj, "page_labels");
    if (parse_id(pc, obj, "event_id", ev->event_id) != 0)
        return VG_EPARSE;
    if (!json_is_boolean(muted))
        return bad(pc, "muted", "must be true or false");
    ev->muted = json_is_true(muted);
    if (labels != NULL && !json_is_object(labels))
        return bad(pc, "page_labels", "must be an object");
    ev->page_labels = labels;
    if (get_number(pc, json_object_get(obj, "duration_s"), "duration_s", &ev->duration_s) != 0 ||
        get_text(pc, obj, "rule", &ev->rule) != 0 ||
        get_text(pc, obj, "instance", &ev->instance) != 0 ||
        get_text(pc, obj, "summary", &ev->summary) != 0 ||
        get_text(pc, obj, "description", &ev->description) != 0 ||
        get_text(pc, obj, "runbook_url", &ev->runbook_url) != 0 ||
        get_text(pc, obj, "alertname", &ev->alertname) != 0)
        return VG_EPARSE;
    return VG_OK;
}

int vg_event_from_json(const json_t *obj, vg_event *ev, char *storage, size_t cap,
                       vg_error *err)
{
    parse_ctx pc = {storage, cap, 0, err};
    int64_t schema = 0;
    memset(ev, 0, sizeof(*ev));
    if (!json_is_object(obj))
        return vg_error_set(err, VG_EPARSE, "event: must be a JSON object");
    if (get_int(&pc, obj, "schema", &schema) != 0)
        return VG_EPARSE;
    if (schema != VG_EVENT_SCHEMA)
        return bad(&pc, "schema", "unsupported version");
    if (parse_id(&pc, obj, "id", ev->id) != 0 || parse_state(&pc, obj, ev) != 0 ||
        get_string(&pc, obj, "series", &ev->series, &ev->series_len) != 0 ||
        get_int(&pc, obj, "ts_ms", &ev->ts_ms) != 0 ||
        get_int(&pc, obj, "start_ms", &ev->start_ms) != 0 ||
        get_number(&pc, json_object_get(obj, "value"), "value", &ev->value) != 0 ||
        get_number(&pc, json_object_get(obj, "expected"), "expected", &ev->expected) != 0 ||
        get_band(&pc, json_object_get(obj, "band"), "band", &ev->lower, &ev->upper) != 0 ||
        get_number(&pc, json_object_get(obj, "score"), "score", &ev->score) != 0 ||
        get_number(&pc, json_object_get(obj, "peak"), "peak", &ev->peak) != 0 ||
        parse_detectors(&pc, obj, ev) != 0 || parse_source(&pc, obj, &ev->origin) != 0 ||
        parse_words(&pc, obj, ev) != 0)
        return VG_EPARSE;
    const json_t *reason = json_object_get(obj, "reason");
    if (reason == NULL)
        return VG_OK;
    if (!json_is_string(reason))
        return bad(&pc, "reason", "must be a string");
    return keep(&pc, "reason", json_string_value(reason), json_string_length(reason),
                &ev->reason);
}

const char *vg_alert_state_name(vg_alert_state s)
{
    switch (s) {
    case VG_ALERT_NORMAL:   return "normal";
    case VG_ALERT_PENDING:  return "pending";
    case VG_ALERT_FIRING:   return "firing";
    case VG_ALERT_RESOLVED: return "resolved";
    }
    return "unknown";
}

const char *vg_severity_name(vg_severity s)
{
    switch (s) {
    case VG_SEVERITY_WARNING:  return "warning";
    case VG_SEVERITY_CRITICAL: return "critical";
    }
    return "unknown";
}
