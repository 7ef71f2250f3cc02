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
 * multi-series object uses all its string members as labels. A `__name__`
 * label (Prometheus) is never a label: it names the series when there is
 * no series field. The timestamp is an epoch number or numeric string in
 * s/ms/us/ns (see ts_unit), RFC 3339 text, or the message time when absent. Values are numbers or numeric strings; NaN,
 * infinities, other strings, null and other types are errors. */
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

static int is_label_name(const vg_parser *ps, const vg__jnode *m)
{
    for (size_t i = 0; i < ps->n_label_names; i++)
        if (vg__jnode_key_is(m, ps->label_names[i]))
            return 1;
    return 0;
}

static int add_label(vg_parser *ps, const ctx *c, vg_label *labels, size_t *n,
                     const vg__jnode *m)
{
    if (m->type != VG__J_STRING)
        return vg__parse_fail(ps, "type", SIZE_MAX, "%slabel \"%.*s\" is not a string",
                              c->where, (int)m->key_len, m->key);
    if (vg__jnode_key_is(m, "__name__"))
        return 0;  /* the series name (Prometheus), never a label */
    if (*n == VG_MAX_LABELS)
        return vg__parse_fail(ps, "key", SIZE_MAX, "%smore than %d labels", c->where,
                              VG_MAX_LABELS);
    labels[(*n)++] = (vg_label){m->key, m->key_len, m->s, m->len};
    return 0;
}

static int read_labels(vg_parser *ps, const ctx *c, const vg__jnode *obj, vg_label *labels,
                       size_t *n, int strings_are_labels)
{
    const vg__jnode *lo = vg__jnode_get(obj, ps->p.labels_field);
    if (lo != NULL) {
        if (lo->type != VG__J_OBJECT)
            return vg__parse_fail(ps, "type", SIZE_MAX, "%s\"%s\" is not an object",
                                  c->where, ps->p.labels_field);
        vg__jnode_foreach(lo, m)
            if (add_label(ps, c, labels, n, m) != 0)
                return -1;
    }
    for (size_t i = 0; i < ps->n_label_names; i++) {
        const vg__jnode *m = vg__jnode_get(obj, ps->label_names[i]);
        if (m != NULL && add_label(ps, c, labels, n, m) != 0)
            return -1;
    }
    if (strings_are_labels) {
        vg__jnode_foreach(obj, m) {
            if (m->type == VG__J_STRING && !vg__jnode_key_is(m, ps->p.series_field) &&
                !vg__jnode_key_is(m, ps->p.ts_field) && add_label(ps, c, labels, n, m) != 0)
                return -1;
        }
    }
    return 0;
}

static int read_ts(vg_parser *ps, const ctx *c, const vg__jnode *obj, int64_t *ts_ms)
{
    const vg__jnode *t = vg__jnode_get(obj, ps->p.ts_field);
    if (t == NULL)
        return vg__parse_msg_ts(ps, SIZE_MAX, ts_ms);
    if (vg__jnode_time(ps, t, ts_ms) != 0)
        return vg__parse_fail(ps, "timestamp", SIZE_MAX,
                              "%s\"%s\" is not an epoch or RFC 3339 time in range", c->where,
                              ps->p.ts_field);
    return 0;
}

static int read_value(vg_parser *ps, const ctx *c, const vg__jnode *v, double *value)
{
    const char *name = ps->p.value_field;
    if (v->type == VG__J_INT || v->type == VG__J_REAL) {
        *value = v->d;
        return 0;
    }
    if (v->type == VG__J_NULL)
        return vg__parse_fail(ps, "missing_field", SIZE_MAX, "%s\"%s\" is null", c->where,
                              name);
    if (v->type != VG__J_STRING)
        return vg__parse_fail(ps, "type", SIZE_MAX, "%s\"%s\" is not a number", c->where,
                              name);
    int rc = vg__parse_number(v->s, v->len, value);
    if (rc == -2)
        return vg__parse_fail(ps, "nan", SIZE_MAX, "%s\"%s\" is NaN or infinite", c->where,
                              name);
    if (rc != 0)
        return vg__parse_fail(ps, "type", SIZE_MAX, "%s\"%s\" is a string, not a number",
                              c->where, name);
    return 0;
}

static void one_point(vg_parser *ps, const ctx *c, const vg__jnode *obj, const vg__jnode *v)
{
    vg_label labels[VG_MAX_LABELS];
    size_t n = 0;
    int64_t ts_ms;
    double value;
    const vg__jnode *s = vg__jnode_get(obj, ps->p.series_field);
    const vg__jnode *lo = vg__jnode_get(obj, ps->p.labels_field);
    if (s == NULL && lo != NULL)  /* Prometheus' name label (its Kafka adapter) */
        s = vg__jnode_get(lo, "__name__");
    if (s == NULL) {
        vg__parse_fail(ps, "missing_field", SIZE_MAX, "%sno \"%s\"", c->where,
                       ps->p.series_field);
        return;
    }
    if (s->type != VG__J_STRING) {
        vg__parse_fail(ps, "type", SIZE_MAX, "%s\"%s\" is not a string", c->where,
                       ps->p.series_field);
        return;
    }
    if (read_value(ps, c, v, &value) != 0 || read_ts(ps, c, obj, &ts_ms) != 0 ||
        read_labels(ps, c, obj, labels, &n, 0) != 0)
        return;
    vg__parse_emit(ps, s->s, s->len, labels, n, ts_ms, value);
}

static int is_reserved(const vg_parser *ps, const vg__jnode *m)
{
    return vg__jnode_key_is(m, ps->p.series_field) || vg__jnode_key_is(m, ps->p.ts_field) ||
           vg__jnode_key_is(m, ps->p.labels_field) || is_label_name(ps, m);
}

/* One series per numeric member; other members are labels or ignored. */
static void many_series(vg_parser *ps, const ctx *c, const vg__jnode *obj)
{
    vg_label labels[VG_MAX_LABELS];
    size_t n = 0;
    int64_t ts_ms;
    if (read_ts(ps, c, obj, &ts_ms) != 0 ||
        read_labels(ps, c, obj, labels, &n, ps->n_label_names == 0) != 0)
        return;

    /* The "<series>_" prefix is built once in scratch; members follow it. */
    size_t plen = 0;
    const vg__jnode *s = vg__jnode_get(obj, ps->p.series_field);
    if (s != NULL && s->type == VG__J_STRING && s->len > 0) {
        plen = s->len + 1;
        if (plen >= sizeof(ps->scratch)) {
            vg__parse_fail(ps, "key", SIZE_MAX, "%sseries name too long", c->where);
            return;
        }
        memcpy(ps->scratch, s->s, s->len);
        ps->scratch[plen - 1] = '_';
    }

    int found = 0;
    vg__jnode_foreach(obj, m) {
        if ((m->type != VG__J_INT && m->type != VG__J_REAL) || is_reserved(ps, m))
            continue;
        found = 1;
        if (plen + m->key_len >= sizeof(ps->scratch)) {
            vg__parse_fail(ps, "key", SIZE_MAX, "%sseries name too long", c->where);
            continue;
        }
        memcpy(ps->scratch + plen, m->key, m->key_len);
        vg__parse_emit(ps, ps->scratch, plen + m->key_len, labels, n, ts_ms, m->d);
    }
    if (!found)
        vg__parse_fail(ps, "missing_field", SIZE_MAX, "%sno \"%s\" and no numeric member",
                       c->where, ps->p.value_field);
}

static void one_object(vg_parser *ps, const vg__jnode *obj, size_t idx)
{
    ctx c;
    ctx_init(&c, idx);
    if (obj->type != VG__J_OBJECT) {
        vg__parse_fail(ps, "type", SIZE_MAX, "%sexpected an object", c.where);
        return;
    }
    const vg__jnode *v = vg__jnode_get(obj, ps->p.value_field);
    if (v != NULL)
        one_point(ps, &c, obj, v);
    else
        many_series(ps, &c, obj);
}

static void parse_json(vg_parser *ps)
{
    vg__parse_json_each(ps, one_object);
}

/* Splits the comma-separated label_fields option into ps->label_names. */
static int json_configure(vg_parser *ps, vg_error *err)
{
    memcpy(ps->label_names_buf, ps->p.label_fields, sizeof(ps->label_names_buf));
    char *save = NULL;
    for (char *tok = strtok_r(ps->label_names_buf, ", ", &save); tok != NULL;
         tok = strtok_r(NULL, ", ", &save)) {
        if (ps->n_label_names == VG_MAX_LABELS)
            return vg_error_set_at(err, VG_ECONFIG, "parser.label_fields",
                                   "more than %d label fields", VG_MAX_LABELS);
        ps->label_names[ps->n_label_names++] = tok;
    }
    return 0;
}


#define P(field) offsetof(vg__parse_params, field)
static const vg_conf_field json_fields[] = {
    {"series_field", VG_CONF_STRING, P(series_field), 0, 0, VG__FIELD_MAX, "series",
     "member holding the series name"},
    {"ts_field", VG_CONF_STRING, P(ts_field), 0, 0, VG__FIELD_MAX, "ts",
     "member holding the timestamp (absent: the Kafka message time)"},
    {"value_field", VG_CONF_STRING, P(value_field), 0, 0, VG__FIELD_MAX, "value",
     "member holding the value; objects without it give one series per numeric member"},
    {"labels_field", VG_CONF_STRING, P(labels_field), 0, 0, VG__FIELD_MAX, "labels",
     "member holding an object of string labels"},
    {"label_fields", VG_CONF_STRING, P(label_fields), 0, 0, 512, "",
     "comma-separated top-level string members used as labels "
     "(empty: every top-level string member of a multi-value object)"},
    VG__PARSE_FIELD_JSON_FAST,
};
#undef P

const vg_parser_ops vg_json_parser_ops = {
    .name      = "json",
    .fields    = json_fields,
    .n_fields  = VG_CONF_COUNT(json_fields),
    .configure = json_configure,
    .parse     = parse_json,
};
