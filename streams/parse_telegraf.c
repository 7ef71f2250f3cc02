/* Telegraf's `json` serializer -> points.
 *
 *   {"fields":{"usage_idle":97.5,"usage_user":1.2},"name":"cpu",
 *    "tags":{"cpu":"cpu0","host":"a"},"timestamp":1700000000}
 *
 * One series per numeric field, named `<name>_<field>` with the tags as
 * labels (as the influx format names them): the metric above gives
 * cpu_usage_idle{cpu="cpu0",host="a"} and cpu_usage_user{...}. String and
 * boolean fields are skipped, not errors (Telegraf sends them for some
 * inputs). With `batch_format = "batch"` Telegraf wraps metrics in
 * {"metrics":[...]}; a bad metric of a batch is reported and the good ones
 * are kept. The timestamp is epoch (seconds by default; json_timestamp_units
 * picks ms/us/ns, read by magnitude or ts_unit) or RFC 3339 text
 * (json_timestamp_format), or the message time when absent. Telegraf has
 * no counter type in this format: every field is taken as it is. */
#include <stdio.h>
#include <string.h>

#include "streams/parse_internal.h"

static void one_metric(vg_parser *ps, const vg__jnode *m, size_t idx)
{
    char where[32] = "";
    if (idx != SIZE_MAX)
        snprintf(where, sizeof(where), "metric %zu: ", idx);
    if (m->type != VG__J_OBJECT) {
        vg__parse_fail(ps, "type", SIZE_MAX, "%sexpected an object", where);
        return;
    }
    const vg__jnode *name = vg__jnode_get(m, "name"), *fields = vg__jnode_get(m, "fields");
    const vg__jnode *tags = vg__jnode_get(m, "tags"), *t = vg__jnode_get(m, "timestamp");
    if (name == NULL || name->type != VG__J_STRING || fields == NULL ||
        fields->type != VG__J_OBJECT) {
        vg__parse_fail(ps, "missing_field", SIZE_MAX,
                       "%sexpected a string \"name\" and an object \"fields\"", where);
        return;
    }
    vg_label labels[VG_MAX_LABELS];
    size_t n = 0;
    if (tags != NULL && tags->type != VG__J_OBJECT) {
        vg__parse_fail(ps, "type", SIZE_MAX, "%s\"tags\" is not an object", where);
        return;
    }
    if (tags != NULL) {
        vg__jnode_foreach(tags, g) {
            if (g->type != VG__J_STRING || n == VG_MAX_LABELS) {
                vg__parse_fail(ps, g->type != VG__J_STRING ? "type" : "key", SIZE_MAX,
                               "%stag \"%.*s\" is not a string or one too many", where,
                               (int)g->key_len, g->key);
                return;
            }
            labels[n++] = (vg_label){g->key, g->key_len, g->s, g->len};
        }
    }
    int64_t ts_ms;
    if (t == NULL ? vg__parse_msg_ts(ps, SIZE_MAX, &ts_ms) != 0
                  : vg__jnode_time(ps, t, &ts_ms) != 0) {
        if (t != NULL)
            vg__parse_fail(ps, "timestamp", SIZE_MAX,
                           "%s\"timestamp\" is not an epoch or RFC 3339 time in range", where);
        return;
    }
    if (name->len + 1 >= sizeof(ps->scratch)) {
        vg__parse_fail(ps, "key", SIZE_MAX, "%sname too long", where);
        return;
    }
    memcpy(ps->scratch, name->s, name->len);
    ps->scratch[name->len] = '_';
    size_t plen = name->len + 1;
    vg__jnode_foreach(fields, f) {
        if (f->type != VG__J_INT && f->type != VG__J_REAL)
            continue;
        if (plen + f->key_len > sizeof(ps->scratch)) {
            vg__parse_fail(ps, "key", SIZE_MAX, "%sfield name too long", where);
            continue;
        }
        memcpy(ps->scratch + plen, f->key, f->key_len);
        vg__parse_emit(ps, ps->scratch, plen + f->key_len, labels, n, ts_ms, f->d);
    }
}

static void parse_telegraf(vg_parser *ps)
{
    vg__parse_json_batch(ps, "metrics", one_metric);
}

static const vg_conf_field telegraf_fields[] = {VG__PARSE_FIELD_JSON_FAST};

const vg_parser_ops vg_telegraf_json_parser_ops = {
    .name     = "telegraf-json",
    .fields   = telegraf_fields,
    .n_fields = VG_CONF_COUNT(telegraf_fields),
    .parse    = parse_telegraf,
};
