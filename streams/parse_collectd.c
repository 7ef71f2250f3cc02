/* collectd write_kafka messages -> points, in its JSON and Command formats.
 *
 * Naming, the same for both formats: one series per collectd value (one per
 * data source of a value list), in the style of collectd's own
 * write_prometheus plugin,
 *
 *   collectd_<plugin>_<type>[_<dsname>]{host, plugin_instance, type_instance}
 *
 * with empty instances left out and `_<dsname>` added when the type has
 * several data sources or its only one is not called "value":
 *   cpu-0/cpu-idle          -> collectd_cpu_cpu{host="h",plugin_instance="0",type_instance="idle"}
 *   interface-lo/if_octets  -> collectd_interface_if_octets_rx{...}, ..._tx{...}
 *   load/load               -> collectd_load_load_shortterm{host="h"}, ...
 * The Command format carries no data-source names or types, so a few common
 * types of collectd's types.db are built in (below); for any other type a
 * single value is "value" (a GAUGE) and several are named by index (_0, _1).
 *
 * DERIVE and COUNTER values are either already per-second rates (JSON with
 * StoreRates true, collectd's default) or raw counters (StoreRates false;
 * Command always), which `counters: raw` turns into rates per series; an
 * ABSOLUTE raw value is divided by the interval. null (JSON) and U (Command)
 * values are unknown and skipped without error.
 *
 * The two formats are two encodings of one value-list model with the same
 * naming and counter handling, so they share this file: it exports two
 * parser tables rather than one. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "streams/parse_internal.h"

enum { DS_GAUGE, DS_DERIVE, DS_COUNTER, DS_ABSOLUTE };

#define MAX_DS 16

typedef struct str {
    const char *s;
    size_t      len;
} str;

typedef struct value_list {
    str    host, plugin, plugin_instance, type, type_instance;
    double time_s, interval_s;
    size_t n;                 /* data sources */
    str    dsnames[MAX_DS];
    int    dstypes[MAX_DS];
} value_list;

/* The types.db entries the Command format needs names and kinds for. */
typedef struct known_type {
    const char *type;
    int         kind;
    const char *ds[3];
} known_type;

static const known_type known_types[] = {
    {"cpu",           DS_DERIVE, {"value"}},
    {"if_octets",     DS_DERIVE, {"rx", "tx"}},
    {"if_packets",    DS_DERIVE, {"rx", "tx"}},
    {"if_errors",     DS_DERIVE, {"rx", "tx"}},
    {"if_dropped",    DS_DERIVE, {"rx", "tx"}},
    {"load",          DS_GAUGE,  {"shortterm", "midterm", "longterm"}},
    {"disk_octets",   DS_DERIVE, {"read", "write"}},
    {"disk_ops",      DS_DERIVE, {"read", "write"}},
    {"disk_time",     DS_DERIVE, {"read", "write"}},
    {"disk_merged",   DS_DERIVE, {"read", "write"}},
    {"contextswitch", DS_DERIVE, {"value"}},
    {"fork_rate",     DS_DERIVE, {"value"}},
    {"derive",        DS_DERIVE, {"value"}},
    {"counter",       DS_COUNTER, {"value"}},
    {"absolute",      DS_ABSOLUTE, {"value"}},
};

static const known_type *find_type(str type)
{
    for (size_t i = 0; i < sizeof(known_types) / sizeof(known_types[0]); i++)
        if (strlen(known_types[i].type) == type.len &&
            memcmp(known_types[i].type, type.s, type.len) == 0)
            return &known_types[i];
    return NULL;
}

static size_t known_ds_count(const known_type *kt)
{
    size_t n = 0;
    while (n < 3 && kt->ds[n] != NULL)
        n++;
    return n;
}

/* Emits value `i` of vl. */
static void emit_value(vg_parser *ps, const value_list *vl, size_t i, double v)
{
    char name[VG__KEY_MAX];
    str ds = vl->dsnames[i];
    int with_ds = vl->n > 1 || ds.len != 5 || memcmp(ds.s, "value", 5) != 0;
    int len = snprintf(name, sizeof(name), "collectd_%.*s_%.*s%s%.*s",
                       (int)vl->plugin.len, vl->plugin.s, (int)vl->type.len, vl->type.s,
                       with_ds ? "_" : "", with_ds ? (int)ds.len : 0, ds.s);
    if (len < 0 || (size_t)len >= sizeof(name)) {
        vg__parse_fail(ps, "key", SIZE_MAX, "collectd name too long");
        return;
    }
    vg_label labels[3] = {
        {"host", 4, vl->host.s, vl->host.len},
        {"plugin_instance", 15, vl->plugin_instance.s, vl->plugin_instance.len},
        {"type_instance", 13, vl->type_instance.s, vl->type_instance.len},
    };
    int kind = vl->dstypes[i];
    if (ps->p.counters == VG__COUNTERS_RAW && (kind == DS_DERIVE || kind == DS_COUNTER)) {
        vg__parse_emit_rate(ps, name, (size_t)len, labels, 3, vl->time_s, v);
        return;
    }
    if (ps->p.counters == VG__COUNTERS_RAW && kind == DS_ABSOLUTE) {
        if (vl->interval_s <= 0) {
            vg__parse_fail(ps, "missing_field", SIZE_MAX, "ABSOLUTE value without an interval");
            return;
        }
        v /= vl->interval_s;
    }
    vg__parse_emit(ps, name, (size_t)len, labels, 3, llround(vl->time_s * 1000.0), v);
}

/* collectd times are epoch seconds, whatever ts_unit says. */
static int check_time(vg_parser *ps, double t, size_t pos)
{
    if (isfinite(t) && t >= 0 && t < 253402300800.0)
        return 0;
    return vg__parse_fail(ps, "timestamp", pos, "time is not epoch seconds in range");
}

/* ---- JSON: [{"values":[..],"dstypes":[..],"dsnames":[..],"time":..,...}] */

static int json_str(vg_parser *ps, const vg__jnode *obj, const char *key, int required,
                    size_t idx, str *out)
{
    const vg__jnode *v = vg__jnode_get(obj, key);
    if (v == NULL && !required) {
        *out = (str){"", 0};
        return 0;
    }
    if (v == NULL)
        return vg__parse_fail(ps, "missing_field", SIZE_MAX, "element %zu: no \"%s\"", idx,
                              key);
    if (v->type != VG__J_STRING)
        return vg__parse_fail(ps, "type", SIZE_MAX, "element %zu: \"%s\" is not a string",
                              idx, key);
    *out = (str){v->s, v->len};
    return 0;
}

static int json_array_of(vg_parser *ps, const vg__jnode *obj, const char *key, size_t idx,
                         const vg__jnode **out)
{
    *out = vg__jnode_get(obj, key);
    if (*out == NULL)
        return vg__parse_fail(ps, "missing_field", SIZE_MAX, "element %zu: no \"%s\"", idx,
                              key);
    if ((*out)->type != VG__J_ARRAY)
        return vg__parse_fail(ps, "type", SIZE_MAX, "element %zu: \"%s\" is not an array",
                              idx, key);
    return 0;
}

static int json_dstype(const vg__jnode *v)
{
    static const char *const names[] = {"gauge", "derive", "counter", "absolute"};
    for (int k = 0; v->type == VG__J_STRING && k < 4; k++)
        if (strlen(names[k]) == v->len && memcmp(v->s, names[k], v->len) == 0)
            return k;
    return -1;
}

static int is_number(const vg__jnode *v)
{
    return v != NULL && (v->type == VG__J_INT || v->type == VG__J_REAL);
}

static void json_value_list(vg_parser *ps, const vg__jnode *obj, size_t idx)
{
    value_list vl;
    const vg__jnode *values, *dstypes, *dsnames;
    if (idx == SIZE_MAX)
        idx = 0;  /* a lone value list: call it element 0 */
    if (obj->type != VG__J_OBJECT) {
        vg__parse_fail(ps, "type", SIZE_MAX, "element %zu: expected an object", idx);
        return;
    }
    if (json_array_of(ps, obj, "values", idx, &values) != 0 ||
        json_array_of(ps, obj, "dstypes", idx, &dstypes) != 0 ||
        json_array_of(ps, obj, "dsnames", idx, &dsnames) != 0 ||
        json_str(ps, obj, "host", 1, idx, &vl.host) != 0 ||
        json_str(ps, obj, "plugin", 1, idx, &vl.plugin) != 0 ||
        json_str(ps, obj, "plugin_instance", 0, idx, &vl.plugin_instance) != 0 ||
        json_str(ps, obj, "type", 1, idx, &vl.type) != 0 ||
        json_str(ps, obj, "type_instance", 0, idx, &vl.type_instance) != 0)
        return;
    vl.n = vg__jnode_count(values);
    if (vl.n == 0 || vl.n > MAX_DS || vg__jnode_count(dstypes) != vl.n ||
        vg__jnode_count(dsnames) != vl.n) {
        vg__parse_fail(ps, "type", SIZE_MAX,
                       "element %zu: values, dstypes and dsnames must have the same "
                       "length (1 to %d)", idx, MAX_DS);
        return;
    }
    const vg__jnode *t = vg__jnode_get(obj, "time");
    const vg__jnode *iv = vg__jnode_get(obj, "interval");
    if (!is_number(t)) {
        vg__parse_fail(ps, t ? "type" : "missing_field", SIZE_MAX,
                       "element %zu: \"time\" missing or not a number", idx);
        return;
    }
    if (check_time(ps, t->d, SIZE_MAX) != 0)
        return;
    vl.time_s = t->d;
    vl.interval_s = is_number(iv) ? iv->d : 0;
    const vg__jnode *type = dstypes + 1, *name = dsnames + 1;
    for (size_t i = 0; i < vl.n; i++, type += 1 + type->size, name += 1 + name->size) {
        vl.dstypes[i] = json_dstype(type);
        if (vl.dstypes[i] < 0 || name->type != VG__J_STRING || name->len == 0) {
            vg__parse_fail(ps, "type", SIZE_MAX,
                           "element %zu: data source %zu has a bad name or type", idx, i);
            return;
        }
        vl.dsnames[i] = (str){name->s, name->len};
    }
    size_t i = 0;
    vg__jnode_foreach(values, v) {
        if (v->type == VG__J_NULL) {
            i++;
            continue;  /* unknown, e.g. the first rate */
        }
        if (!is_number(v))
            vg__parse_fail(ps, "type", SIZE_MAX, "element %zu: value %zu is not a number",
                           idx, i);
        else
            emit_value(ps, &vl, i, v->d);
        i++;
    }
}

static void parse_collectd_json(vg_parser *ps)
{
    vg__parse_json_each(ps, json_value_list);
}

/* ---- Command: PUTVAL "host/plugin-pi/type-ti" interval=1.000 time:v1[:v2...] */

#define MAX_TOKENS 32

static const char *const index_names[MAX_DS] = {
    "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15",
};

/* Splits "a-b" at the first '-' into a and b (b empty when there is none). */
static void split_instance(str whole, str *a, str *b)
{
    const char *dash = memchr(whole.s, '-', whole.len);
    if (dash == NULL) {
        *a = whole;
        *b = (str){"", 0};
        return;
    }
    *a = (str){whole.s, (size_t)(dash - whole.s)};
    *b = (str){dash + 1, whole.len - a->len - 1};
}

/* Reads the identifier at *i (quoted or not) into scratch. Returns 0 or -1. */
static int read_identifier(vg_parser *ps, size_t *i, size_t end, str *id)
{
    const char *m = ps->msg;
    size_t n = 0;
    if (*i < end && m[*i] == '"') {
        size_t start = (*i)++;
        while (*i < end && m[*i] != '"') {
            if (m[*i] == '\\' && *i + 1 < end)
                (*i)++;
            if (n == sizeof(ps->scratch))
                return vg__parse_fail(ps, "too_large", start, "identifier too long");
            ps->scratch[n++] = m[(*i)++];
        }
        if (*i >= end)
            return vg__parse_fail(ps, "syntax", start, "unterminated quoted identifier");
        (*i)++;
        *id = (str){ps->scratch, n};
        return 0;
    }
    size_t start = *i;
    while (*i < end && m[*i] != ' ' && m[*i] != '\t')
        (*i)++;
    *id = (str){m + start, *i - start};
    return 0;
}

static int parse_identifier(vg_parser *ps, str id, size_t pos, value_list *vl)
{
    const char *s1 = memchr(id.s, '/', id.len);
    const char *s2 = s1 ? memchr(s1 + 1, '/', id.len - (size_t)(s1 + 1 - id.s)) : NULL;
    if (s2 == NULL || s1 == id.s || s2 == s1 + 1 || s2 + 1 == id.s + id.len)
        return vg__parse_fail(ps, "syntax", pos, "identifier is not host/plugin/type");
    vl->host = (str){id.s, (size_t)(s1 - id.s)};
    split_instance((str){s1 + 1, (size_t)(s2 - s1 - 1)}, &vl->plugin, &vl->plugin_instance);
    split_instance((str){s2 + 1, (size_t)(id.s + id.len - s2 - 1)}, &vl->type,
                   &vl->type_instance);
    if (vl->plugin.len == 0 || vl->type.len == 0)
        return vg__parse_fail(ps, "syntax", pos, "empty plugin or type in identifier");
    return 0;
}

/* Names and kinds of the n values of vl's type. Returns 0 or -1. */
static int name_sources(vg_parser *ps, value_list *vl, size_t n, size_t pos)
{
    const known_type *kt = find_type(vl->type);
    if (kt != NULL && known_ds_count(kt) != n)
        return vg__parse_fail(ps, "type", pos, "type %s has %zu values, got %zu", kt->type,
                              known_ds_count(kt), n);
    vl->n = n;
    for (size_t k = 0; k < n; k++) {
        const char *name = kt ? kt->ds[k] : n == 1 ? "value" : index_names[k];
        vl->dsnames[k] = (str){name, strlen(name)};
        vl->dstypes[k] = kt ? kt->kind : DS_GAUGE;
    }
    return 0;
}

/* One "time:v1:v2..." token; all its values are checked before any is
 * emitted. */
static void values_token(vg_parser *ps, value_list *vl, size_t off, size_t len)
{
    const char *t = ps->msg + off;
    double values[MAX_DS];
    int known[MAX_DS];
    size_t n = 0, i = 0;
    const char *colon = memchr(t, ':', len);
    size_t tlen = (size_t)(colon - t);
    if (tlen == 1 && t[0] == 'N') {
        int64_t ms;
        if (vg__parse_msg_ts(ps, off, &ms) != 0)
            return;
        vl->time_s = (double)ms / 1000.0;
    } else if (vg__parse_number(t, tlen, &vl->time_s) != 0) {
        vg__parse_fail(ps, "timestamp", off, "time is not a number");
        return;
    } else if (check_time(ps, vl->time_s, off) != 0) {
        return;
    }
    for (i = tlen + 1; i <= len; i++) {
        size_t start = i;
        while (i < len && t[i] != ':')
            i++;
        if (n == MAX_DS) {
            vg__parse_fail(ps, "type", off + start, "more than %d values", MAX_DS);
            return;
        }
        known[n] = !(i - start == 1 && t[start] == 'U');
        int rc = known[n] ? vg__parse_number(t + start, i - start, &values[n]) : 0;
        if (rc != 0) {
            vg__parse_fail(ps, rc == -2 ? "nan" : "value", off + start,
                           "value is not a number or U");
            return;
        }
        n++;
    }
    if (name_sources(ps, vl, n, off) != 0)
        return;
    for (size_t k = 0; k < n; k++)
        if (known[k])
            emit_value(ps, vl, k, values[k]);
}

static void command_line(vg_parser *ps, size_t start, size_t end)
{
    const char *m = ps->msg;
    size_t i = start;
    while (i < end && (m[i] == ' ' || m[i] == '\t'))
        i++;
    if (i == end)
        return;
    if (end - i < 7 || strncasecmp(m + i, "PUTVAL", 6) != 0 || (m[i + 6] != ' ' &&
                                                                m[i + 6] != '\t')) {
        vg__parse_fail(ps, "syntax", i, "expected PUTVAL");
        return;
    }
    i += 7;
    while (i < end && (m[i] == ' ' || m[i] == '\t'))
        i++;

    value_list vl = {.interval_s = 0};
    str id = {"", 0};
    size_t id_pos = i;
    if (read_identifier(ps, &i, end, &id) != 0 || parse_identifier(ps, id, id_pos, &vl) != 0)
        return;

    /* Options (key=value) first, so interval is known for every value. */
    size_t tok_off[MAX_TOKENS], tok_len[MAX_TOKENS], ntok = 0;
    while (i < end) {
        while (i < end && (m[i] == ' ' || m[i] == '\t'))
            i++;
        if (i == end)
            break;
        size_t s = i;
        while (i < end && m[i] != ' ' && m[i] != '\t')
            i++;
        const char *colon = memchr(m + s, ':', i - s);
        const char *eq = memchr(m + s, '=', i - s);
        if (colon == NULL && eq != NULL) {
            if (eq - (m + s) == 8 && memcmp(m + s, "interval", 8) == 0 &&
                (vg__parse_number(eq + 1, (size_t)(m + i - eq - 1), &vl.interval_s) != 0 ||
                 vl.interval_s <= 0)) {
                vg__parse_fail(ps, "value", s, "interval is not a positive number");
                return;
            }
            continue;
        }
        if (colon == NULL) {
            vg__parse_fail(ps, "syntax", s, "expected option=value or time:values");
            return;
        }
        if (ntok == MAX_TOKENS) {
            vg__parse_fail(ps, "too_large", s, "more than %d value sets", MAX_TOKENS);
            return;
        }
        tok_off[ntok] = s;
        tok_len[ntok++] = i - s;
    }
    if (ntok == 0) {
        vg__parse_fail(ps, "missing_field", end, "PUTVAL without values");
        return;
    }
    for (size_t k = 0; k < ntok; k++)
        values_token(ps, &vl, tok_off[k], tok_len[k]);
}

static void parse_collectd_command(vg_parser *ps)
{
    vg__parse_lines(ps, command_line);
}

/* ---- configuration ----------------------------------------------------- */

/* Resolves counters "auto" (JSON: already rates, collectd's StoreRates
 * default; Command: always raw) and keeps the last counters when raw. */
static int configure_counters(vg_parser *ps, int auto_counters, vg_error *err)
{
    if (ps->p.counters == VG__COUNTERS_AUTO)
        ps->p.counters = auto_counters;
    if (ps->p.counters != VG__COUNTERS_RAW)
        return VG_OK;
    ps->rates = vg_counter_rate_new(ps->p.rate_series, err);
    return ps->rates != NULL ? VG_OK : VG_ENOMEM;
}

static int configure_json(vg_parser *ps, vg_error *err)
{
    return configure_counters(ps, VG__COUNTERS_RATE, err);
}

static int configure_command(vg_parser *ps, vg_error *err)
{
    return configure_counters(ps, VG__COUNTERS_RAW, err);
}

#define P(field) offsetof(vg__parse_params, field)
#define COLLECTD_FIELDS                                                                   \
    {"counters", VG_CONF_ENUM, P(counters), VG__COUNTERS_AUTO, 0, 0, "auto|rate|raw",   \
     "DERIVE/COUNTER values: raw counters (turned into per-second rates) or already "   \
     "rates; auto: rate for collectd-json (StoreRates true), raw for collectd-command"}, \
    {"rate_series", VG_CONF_UINT32, P(rate_series), 16384, 16, 16777216, NULL,          \
     "raw counters: number of series whose last counter is kept"}
static const vg_conf_field json_fields[] = {COLLECTD_FIELDS, VG__PARSE_FIELD_JSON_FAST};
static const vg_conf_field command_fields[] = {COLLECTD_FIELDS};
#undef COLLECTD_FIELDS
#undef P

const vg_parser_ops vg_collectd_json_parser_ops = {
    .name      = "collectd-json",
    .fields    = json_fields,
    .n_fields  = VG_CONF_COUNT(json_fields),
    .configure = configure_json,
    .parse     = parse_collectd_json,
};

const vg_parser_ops vg_collectd_command_parser_ops = {
    .name      = "collectd-command",
    .fields    = command_fields,
    .n_fields  = VG_CONF_COUNT(command_fields),
    .configure = configure_command,
    .parse     = parse_collectd_command,
};
