/* Vector's metric events, as its `json` codec writes them -> points.
 *
 *   {"name":"login.count","namespace":"app","tags":{"host":"h"},
 *    "timestamp":"2019-11-01T21:15:47+00:00","kind":"absolute",
 *    "counter":{"value":27.0}}
 *
 * The series is `<namespace>_<name>{tags}` (`<name>` without a namespace),
 * as Vector's prometheus sinks name it. By value type and kind:
 *   gauge                          the value
 *   counter, kind absolute         per-second rate (parse_model.h)
 *   counter, kind incremental      the increment as sent (Vector already
 *                                  made the difference over its interval)
 *   aggregated_histogram/_summary, absolute: <name>_count (observations
 *                                  per second) and <name>_mean
 * Other value types (set, distribution, incremental histograms) are errors
 * of reason "unsupported". An array of events is read element by element; a
 * bad event is reported and the good ones are kept. The timestamp is RFC
 * 3339 text (or epoch), or the message time when absent. Null tag values
 * (Vector's bare tags) are left out. */
#include <stdio.h>
#include <string.h>

#include "streams/parse_model.h"

typedef struct event {
    const char *where;
    vg_label    labels[VG_MAX_LABELS];
    size_t      n;
    int64_t     ts_ms;
    size_t      name_len;  /* in ps->scratch */
} event;

static int read_tags(vg_parser *ps, event *e, const vg__jnode *tags)
{
    if (tags == NULL)
        return 0;
    if (tags->type != VG__J_OBJECT)
        return vg__parse_fail(ps, "type", SIZE_MAX, "%s\"tags\" is not an object", e->where);
    vg__jnode_foreach(tags, g) {
        if (g->type == VG__J_NULL)
            continue;
        if (g->type != VG__J_STRING || e->n == VG_MAX_LABELS)
            return vg__parse_fail(ps, g->type != VG__J_STRING ? "type" : "key", SIZE_MAX,
                                  "%stag \"%.*s\" is not a string or one too many", e->where,
                                  (int)g->key_len, g->key);
        e->labels[e->n++] = (vg_label){g->key, g->key_len, g->s, g->len};
    }
    return 0;
}

/* `<namespace>_<name>` into scratch. */
static int read_name(vg_parser *ps, event *e, const vg__jnode *m)
{
    const vg__jnode *name = vg__jnode_get(m, "name"), *ns = vg__jnode_get(m, "namespace");
    if (name == NULL || name->type != VG__J_STRING)
        return vg__parse_fail(ps, "missing_field", SIZE_MAX, "%sno string \"name\"", e->where);
    size_t nl = ns != NULL && ns->type == VG__J_STRING && ns->len > 0 ? ns->len + 1 : 0;
    if (nl + name->len >= sizeof(ps->scratch))
        return vg__parse_fail(ps, "key", SIZE_MAX, "%sname too long", e->where);
    if (nl > 0) {
        memcpy(ps->scratch, ns->s, ns->len);
        ps->scratch[ns->len] = '_';
    }
    memcpy(ps->scratch + nl, name->s, name->len);
    e->name_len = nl + name->len;
    return 0;
}

/* A number member of obj, or an error. */
static int number(vg_parser *ps, const event *e, const vg__jnode *obj, const char *key,
                  double *v)
{
    const vg__jnode *x = vg__jnode_get(obj, key);
    if (x == NULL || (x->type != VG__J_INT && x->type != VG__J_REAL))
        return vg__parse_fail(ps, "missing_field", SIZE_MAX, "%sno number \"%s\"", e->where,
                              key);
    *v = x->d;
    return 0;
}

static void value(vg_parser *ps, const event *e, const vg__jnode *m, int incremental)
{
    const char *name = ps->scratch;
    const vg__jnode *g = vg__jnode_get(m, "gauge"), *c = vg__jnode_get(m, "counter");
    const vg__jnode *h = vg__jnode_get(m, "aggregated_histogram");
    if (h == NULL)
        h = vg__jnode_get(m, "aggregated_summary");
    double v = 0, sum = 0;
    if (g != NULL || c != NULL) {
        if (number(ps, e, g != NULL ? g : c, "value", &v) != 0)
            return;
        if (c != NULL && !incremental)
            vg__model_counter(ps, name, e->name_len, e->labels, e->n, e->ts_ms, v);
        else
            vg__parse_emit(ps, name, e->name_len, e->labels, e->n, e->ts_ms, v);
    } else if (h != NULL && !incremental) {
        if (number(ps, e, h, "count", &v) == 0 && number(ps, e, h, "sum", &sum) == 0)
            vg__model_cumulative(ps, name, e->name_len, e->labels, e->n, e->ts_ms, v, sum);
    } else {
        vg__parse_fail(ps, "unsupported", SIZE_MAX,
                       "%sonly gauge, counter and absolute aggregated_histogram/_summary "
                       "values are read", e->where);
    }
}

static int str_is(const vg__jnode *x, const char *s)
{
    return x != NULL && x->type == VG__J_STRING && x->len == strlen(s) &&
           memcmp(x->s, s, x->len) == 0;
}

static void one_event(vg_parser *ps, const vg__jnode *m, size_t idx)
{
    char where[32] = "";
    if (idx != SIZE_MAX)
        snprintf(where, sizeof(where), "event %zu: ", idx);
    event e = {.where = where};
    if (m->type != VG__J_OBJECT) {
        vg__parse_fail(ps, "type", SIZE_MAX, "%sexpected an object", where);
        return;
    }
    const vg__jnode *kind = vg__jnode_get(m, "kind"), *t = vg__jnode_get(m, "timestamp");
    int incremental = str_is(kind, "incremental");
    if (kind != NULL && !incremental && !str_is(kind, "absolute")) {
        vg__parse_fail(ps, "type", SIZE_MAX, "%s\"kind\" is neither absolute nor incremental",
                       where);
        return;
    }
    if (t == NULL ? vg__parse_msg_ts(ps, SIZE_MAX, &e.ts_ms) != 0
                  : vg__jnode_time(ps, t, &e.ts_ms) != 0) {
        if (t != NULL)
            vg__parse_fail(ps, "timestamp", SIZE_MAX,
                           "%s\"timestamp\" is not an RFC 3339 or epoch time in range", where);
        return;
    }
    if (read_name(ps, &e, m) != 0 || read_tags(ps, &e, vg__jnode_get(m, "tags")) != 0)
        return;
    value(ps, &e, m, incremental);
}

static void parse_vector(vg_parser *ps)
{
    vg__parse_json_each(ps, one_event);
}

static const vg_conf_field vector_fields[] = {
    VG__PARSE_FIELD_RATE_SERIES,
    VG__PARSE_FIELD_JSON_FAST,
};

const vg_parser_ops vg_vector_json_parser_ops = {
    .name      = "vector-json",
    .fields    = vector_fields,
    .n_fields  = VG_CONF_COUNT(vector_fields),
    .configure = vg__model_configure,
    .parse     = parse_vector,
};
