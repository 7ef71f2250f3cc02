/* Generic JSON messages -> points.
 *
 * Accepted shapes (field names are options, defaults shown):
 *   one point     {"series":"cpu","labels":{"host":"a"},"ts":1700000000000,"value":0.5}
 *   many points   an array of such objects (a bad element is reported, the
 *                 good ones are kept)
 *   many series   an object without "value": each numeric member is one
 *                 series named after the member (prefixed "<series>_" when
 *                 "series" is present), e.g. {"ts":..,"host":"a","cpu":0.5}
 *                 gives cpu{host="a"}.
 * Labels come from the "labels" object (string values only) and from the
 * top-level members named in label_fields; when label_fields is empty, a
 * multi-series object uses all its string members as labels. The timestamp
 * is an epoch number or numeric string in s/ms/us/ns (see ts_unit), or the
 * message time when absent. Values are numbers or numeric strings; NaN,
 * infinities, other strings, null and other types are errors. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "streams/parse_internal.h"

/* "element 3: " inside an array, "" for a lone object. */
typedef struct ctx {
    char where[32];
} ctx;

static void ctx_init(ctx *c, size_t idx)
{
    if (idx == SIZE_MAX)
        c->where[0] = '\0';
    else
        snprintf(c->where, sizeof(c->where), "element %zu: ", idx);
}

static int is_label_name(const vg_parser *ps, const char *key)
{
    for (size_t i = 0; i < ps->n_label_names; i++)
        if (strcmp(ps->label_names[i], key) == 0)
            return 1;
    return 0;
}

static int add_label(vg_parser *ps, const ctx *c, vg_label *labels, size_t *n,
                     const char *name, const json_t *v)
{
    if (!json_is_string(v))
        return vg__parse_fail(ps, "type", SIZE_MAX, "%slabel \"%s\" is not a string",
                              c->where, name);
    if (*n == VG_MAX_LABELS)
        return vg__parse_fail(ps, "key", SIZE_MAX, "%smore than %d labels", c->where,
                              VG_MAX_LABELS);
    labels[*n] = (vg_label){name, strlen(name), json_string_value(v),
                            json_string_length(v)};
    (*n)++;
    return 0;
}

static int read_labels(vg_parser *ps, const ctx *c, const json_t *obj, vg_label *labels,
                       size_t *n, int strings_are_labels)
{
    const json_t *lo = json_object_get(obj, ps->p.labels_field);
    if (lo != NULL) {
        if (!json_is_object(lo))
            return vg__parse_fail(ps, "type", SIZE_MAX, "%s\"%s\" is not an object",
                                  c->where, ps->p.labels_field);
        const char *k;
        const json_t *v;
        json_object_foreach((json_t *)lo, k, v)
            if (add_label(ps, c, labels, n, k, v) != 0)
                return -1;
    }
    for (size_t i = 0; i < ps->n_label_names; i++) {
        const json_t *v = json_object_get(obj, ps->label_names[i]);
        if (v != NULL && add_label(ps, c, labels, n, ps->label_names[i], v) != 0)
            return -1;
    }
    if (strings_are_labels) {
        const char *k;
        const json_t *v;
        json_object_foreach((json_t *)obj, k, v) {
            if (json_is_string(v) && strcmp(k, ps->p.series_field) != 0 &&
                strcmp(k, ps->p.ts_field) != 0 && add_label(ps, c, labels, n, k, v) != 0)
                return -1;
        }
    }
    return 0;
}

/* An all-digit string is read as an integer so ns timestamps stay exact. */
static int string_epoch(vg_parser *ps, const char *s, size_t len, int64_t *ts_ms)
{
    int digits = len > 0 && len <= 18;
    for (size_t i = 0; digits && i < len; i++)
        digits = s[i] >= '0' && s[i] <= '9';
    if (digits)
        return vg__parse_epoch_int(ps, strtoll(s, NULL, 10), ts_ms);
    double v;
    if (vg__parse_number(s, len, &v) != 0)
        return -1;
    return vg__parse_epoch(ps, v, ts_ms);
}

static int read_ts(vg_parser *ps, const ctx *c, const json_t *obj, int64_t *ts_ms)
{
    const json_t *t = json_object_get(obj, ps->p.ts_field);
    int rc = -1;
    if (t == NULL)
        return vg__parse_msg_ts(ps, SIZE_MAX, ts_ms);
    if (json_is_integer(t))
        rc = vg__parse_epoch_int(ps, json_integer_value(t), ts_ms);
    else if (json_is_real(t))
        rc = vg__parse_epoch(ps, json_real_value(t), ts_ms);
    else if (json_is_string(t))
        rc = string_epoch(ps, json_string_value(t), json_string_length(t), ts_ms);
    if (rc != 0)
        return vg__parse_fail(ps, "timestamp", SIZE_MAX,
                              "%s\"%s\" is not an epoch time in range", c->where,
                              ps->p.ts_field);
    return 0;
}

static int read_value(vg_parser *ps, const ctx *c, const json_t *v, const char *name,
                      double *value)
{
    if (json_is_number(v)) {
        *value = json_number_value(v);
        return 0;
    }
    if (json_is_null(v))
        return vg__parse_fail(ps, "missing_field", SIZE_MAX, "%s\"%s\" is null", c->where,
                              name);
    if (!json_is_string(v))
        return vg__parse_fail(ps, "type", SIZE_MAX, "%s\"%s\" is not a number", c->where,
                              name);
    int rc = vg__parse_number(json_string_value(v), json_string_length(v), value);
    if (rc == -2)
        return vg__parse_fail(ps, "nan", SIZE_MAX, "%s\"%s\" is NaN or infinite", c->where,
                              name);
    if (rc != 0)
        return vg__parse_fail(ps, "type", SIZE_MAX, "%s\"%s\" is a string, not a number",
                              c->where, name);
    return 0;
}

static void one_point(vg_parser *ps, const ctx *c, const json_t *obj, const json_t *jv)
{
    vg_label labels[VG_MAX_LABELS];
    size_t n = 0;
    int64_t ts_ms;
    double value;
    const json_t *s = json_object_get(obj, ps->p.series_field);
    if (s == NULL) {
        vg__parse_fail(ps, "missing_field", SIZE_MAX, "%sno \"%s\"", c->where,
                       ps->p.series_field);
        return;
    }
    if (!json_is_string(s)) {
        vg__parse_fail(ps, "type", SIZE_MAX, "%s\"%s\" is not a string", c->where,
                       ps->p.series_field);
        return;
    }
    if (read_value(ps, c, jv, ps->p.value_field, &value) != 0 ||
        read_ts(ps, c, obj, &ts_ms) != 0 || read_labels(ps, c, obj, labels, &n, 0) != 0)
        return;
    vg__parse_emit(ps, json_string_value(s), json_string_length(s), labels, n, ts_ms, value);
}

static int is_reserved(const vg_parser *ps, const char *k)
{
    return strcmp(k, ps->p.series_field) == 0 || strcmp(k, ps->p.ts_field) == 0 ||
           strcmp(k, ps->p.labels_field) == 0 || is_label_name(ps, k);
}

/* One series per numeric member; other members are labels or ignored. */
static void many_series(vg_parser *ps, const ctx *c, const json_t *obj)
{
    vg_label labels[VG_MAX_LABELS];
    size_t n = 0;
    int64_t ts_ms;
    if (read_ts(ps, c, obj, &ts_ms) != 0 ||
        read_labels(ps, c, obj, labels, &n, ps->n_label_names == 0) != 0)
        return;

    /* The "<series>_" prefix is built once in scratch; members follow it. */
    size_t plen = 0;
    const json_t *s = json_object_get(obj, ps->p.series_field);
    if (json_is_string(s) && json_string_length(s) > 0) {
        plen = json_string_length(s) + 1;
        if (plen >= sizeof(ps->scratch)) {
            vg__parse_fail(ps, "key", SIZE_MAX, "%sseries name too long", c->where);
            return;
        }
        memcpy(ps->scratch, json_string_value(s), plen - 1);
        ps->scratch[plen - 1] = '_';
    }

    int found = 0;
    const char *k;
    const json_t *v;
    json_object_foreach((json_t *)obj, k, v) {
        if (!json_is_number(v) || is_reserved(ps, k))
            continue;
        found = 1;
        size_t klen = strlen(k);
        if (plen + klen >= sizeof(ps->scratch)) {
            vg__parse_fail(ps, "key", SIZE_MAX, "%sseries name too long", c->where);
            continue;
        }
        memcpy(ps->scratch + plen, k, klen);
        vg__parse_emit(ps, ps->scratch, plen + klen, labels, n, ts_ms, json_number_value(v));
    }
    if (!found)
        vg__parse_fail(ps, "missing_field", SIZE_MAX, "%sno \"%s\" and no numeric member",
                       c->where, ps->p.value_field);
}

static void one_object(vg_parser *ps, const json_t *obj, size_t idx)
{
    ctx c;
    ctx_init(&c, idx);
    if (!json_is_object(obj)) {
        vg__parse_fail(ps, "type", SIZE_MAX, "%sexpected an object", c.where);
        return;
    }
    const json_t *v = json_object_get(obj, ps->p.value_field);
    if (v != NULL)
        one_point(ps, &c, obj, v);
    else
        many_series(ps, &c, obj);
}

void vg__parse_json(vg_parser *ps)
{
    vg__parse_json_each(ps, one_object);
}
