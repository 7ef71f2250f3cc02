/* Message parsers: the parser object, its options, the format dispatch and
 * the helpers every format shares (see parse.h and parse_internal.h).
 *
 * Parsing a message never allocates beyond what the batch needs: keys are
 * built in the parser's buffer and copied into the batch arena. Only the
 * first error of a message is kept in err (it is the one worth reading),
 * but every good part is still appended. */
#include "streams/parse.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/utf8.h"
#include "streams/parse_internal.h"

#define P(field) offsetof(vg__parse_params, field)
/* The keys every format reads; "format"'s choices come from the registry
 * (see vg_parser_common_fields). */
static const vg_conf_field common_fields[] = {
    {"format", VG_CONF_ENUM, P(format), 0, 0, 0, NULL, "message format"},
    {"ts_unit", VG_CONF_ENUM, P(ts_unit), VG__TS_AUTO, 0, 0, "auto|s|ms|us|ns",
     "unit of epoch timestamps; auto decides by magnitude"},
    {"max_bytes", VG_CONF_INT, P(max_bytes), 1048576, 1, 67108864, NULL,
     "largest message accepted, in bytes"},
    /* Read by the Kafka input (kafka_source_open.c), not the parser: it is
     * here so that it is a key of every format, in one table. */
    {"repartition", VG_CONF_BOOL, P(repartition), 0, 0, 1, NULL,
     "re-key the topic's points by series through the internal topic "
     "<group>-<topic>-repartition before scoring (for producers that do not key by series)"},
};
#undef P

#define COMMON_MAX  VG_CONF_COUNT(common_fields)
#define KEYS_MAX    64   /* keys of every format together, for the first pass */

size_t vg_parser_common_fields(vg_conf_field *out, size_t cap, char *choices,
                               size_t choices_cap)
{
    vg_assert(cap >= COMMON_MAX && choices_cap > 0);
    size_t used = 0;
    choices[0] = '\0';
    for (size_t i = 0; i < vg_parser_type_count(); i++) {
        int n = snprintf(choices + used, choices_cap - used, "%s%s", i ? "|" : "",
                         vg_parser_type_at(i)->name);
        vg_assert(n > 0 && (size_t)n < choices_cap - used);
        used += (size_t)n;
    }
    memcpy(out, common_fields, sizeof(common_fields));
    out[0].choices = choices;
    return COMMON_MAX;
}

/* Collects the keys of `fields` into keys[*n] (NULL-terminated later). */
static void add_keys(const char **keys, size_t *n, const vg_conf_field *fields, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        vg_assert(*n + 1 < KEYS_MAX);
        keys[(*n)++] = fields[i].key;
    }
}

/* A key of another format is an error of its own, clearer than "unknown". */
static int foreign_key(const vg_parser_ops *ops, const vg_conf_doc *doc, const json_t *cfg,
                       const char *const *common, vg_error *err)
{
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)cfg, key, v) {
        int known = 0;
        for (size_t i = 0; common[i] != NULL && !known; i++)
            known = strcmp(common[i], key) == 0;
        for (size_t i = 0; i < ops->n_fields && !known; i++)
            known = strcmp(ops->fields[i].key, key) == 0;
        if (!known) {
            char where[sizeof(err->where)];
            vg_conf_where(doc, cfg, key, 0, where, sizeof(where));
            return vg_error_set_at(err, VG_ECONFIG, where,
                                   "parser.%s: not a key of format \"%s\"", key, ops->name);
        }
    }
    return VG_OK;
}

/* Two passes: the common keys (every format's keys allowed, so a typo gets
 * its near miss from all of them), then the chosen format's own keys. */
static int configure(vg_parser *ps, const vg_conf_doc *doc, const json_t *cfg, vg_error *err)
{
    vg_conf_field common[COMMON_MAX];
    char choices[256];
    size_t n_common = vg_parser_common_fields(common, COMMON_MAX, choices, sizeof(choices));
    const char *all[KEYS_MAX], *common_keys[COMMON_MAX + 1];
    size_t n_all = 0, n_common_keys = 0;
    for (size_t i = 0; i < vg_parser_type_count(); i++)
        add_keys(all, &n_all, vg_parser_type_at(i)->fields, vg_parser_type_at(i)->n_fields);
    all[n_all] = NULL;
    add_keys(common_keys, &n_common_keys, common, n_common);
    common_keys[n_common_keys] = NULL;

    int rc = vg_conf_apply(doc, cfg, "parser", common, n_common, all, &ps->p, err);
    if (rc != VG_OK)
        return rc;
    ps->ops = vg_parser_type_at((size_t)ps->p.format);
    if (cfg != NULL && (rc = foreign_key(ps->ops, doc, cfg, common_keys, err)) != VG_OK)
        return rc;
    rc = vg_conf_apply(doc, cfg, "parser", ps->ops->fields, ps->ops->n_fields, common_keys,
                       &ps->p, err);
    if (rc == VG_OK && ps->ops->configure != NULL)
        rc = ps->ops->configure(ps, err);
    return rc;
}

vg_parser *vg_parser_new(const vg_conf_doc *doc, const json_t *cfg, vg_error *err)
{
    vg_parser *ps = calloc(1, sizeof(*ps));
    if (ps == NULL) {
        vg_error_set(err, VG_ENOMEM, "parser");
        return NULL;
    }
    ps->reason = "";
    if (configure(ps, doc, cfg, err) != VG_OK)
        goto out_free_parser;
    return ps;

out_free_parser:
    vg_parser_free(ps);
    return NULL;
}

void vg_parser_free(vg_parser *ps)
{
    if (ps == NULL)
        return;
    vg_counter_rate_free(ps->rates);
    free(ps);
}

const char *vg_parser_last_reason(const vg_parser *ps)
{
    return ps->reason;
}

int vg_parser_parse(vg_parser *ps, const char *msg, size_t len, int64_t msg_ts_ms,
                    const vg_origin *origin, vg_batch *out, vg_error *err)
{
    size_t n0 = out->n;
    if (msg == NULL)  /* an empty Kafka payload */
        len = 0;
    ps->msg = msg != NULL ? msg : "";
    ps->len = len;
    ps->msg_ts_ms = msg_ts_ms;
    ps->origin = origin;
    ps->out = out;
    ps->err = err;
    ps->failed = 0;
    ps->nomem = 0;

    if ((int64_t)len > ps->p.max_bytes)
        vg__parse_fail(ps, "too_large", SIZE_MAX, "message of %zu bytes exceeds max_bytes %lld",
                       len, (long long)ps->p.max_bytes);
    else
        ps->ops->parse(ps);

    if (ps->nomem)
        return vg_error_set(err, VG_ENOMEM, "parser: batch of %zu points", out->n);
    if (ps->failed)
        return VG_EPARSE;
    return (int)(out->n - n0);
}

int vg__parse_fail(vg_parser *ps, const char *reason, size_t pos, const char *fmt, ...)
{
    if (ps->failed)
        return -1;
    ps->failed = 1;
    ps->reason = reason;
    if (ps->err == NULL)
        return -1;

    char where[sizeof(ps->err->where)];
    int w = 0;
    const vg_origin *o = ps->origin;
    if (o != NULL && o->source != NULL) {
        if (o->partition >= 0)
            w = snprintf(where, sizeof(where), "%s/%d@%lld", o->source, (int)o->partition,
                         (long long)o->offset);
        else
            w = snprintf(where, sizeof(where), "%s:%lld", o->source, (long long)o->offset);
    }
    if (w < 0 || (size_t)w >= sizeof(where))
        w = (int)strlen(where);
    if (pos != SIZE_MAX && pos <= ps->len) {
        size_t line = 1, col = 1;
        for (size_t i = 0; i < pos; i++) {
            if (ps->msg[i] == '\n') {
                line++;
                col = 1;
            } else {
                col++;
            }
        }
        snprintf(where + w, sizeof(where) - (size_t)w, "%s%zu:%zu", w ? ":" : "", line, col);
    } else if (w == 0) {
        where[0] = '\0';
    }

    char text[sizeof(ps->err->msg)];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    vg_error_set_at(ps->err, VG_EPARSE, where, "%s: %s", ps->ops->name, text);
    return -1;
}

/* Whether s[len] can be a metric or label name inside a key: characters
 * that would make the key ambiguous to vg_series_key_split are refused, in
 * label names also = and ,. (A flag, not a set of characters: this runs
 * for every byte of every key.) */
static int name_ok(const char *s, size_t len, int label)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f || c == '{' || c == '}' || c == '"' || c == '\\' ||
            (label && (c == '=' || c == ',')))
            return 0;
    }
    return 1;
}

/* Writes the key into ps->key; returns its length or -1 (error recorded). */
static int build_key(vg_parser *ps, const char *name, size_t name_len,
                     const vg_label *labels, size_t n)
{
    int bad = !name_ok(name, name_len, 0);
    for (size_t i = 0; i < n && !bad; i++)
        bad = labels[i].name_len == 0 || !name_ok(labels[i].name, labels[i].name_len, 1);
    if (bad)
        return vg__parse_fail(ps, "key", SIZE_MAX,
                              "series \"%.*s\": names cannot hold braces, quotes, "
                              "backslashes or control characters (labels: nor = or ,)",
                              (int)(name_len < 40 ? name_len : 40), name);
    int klen = vg_series_key_build(ps->key, sizeof(ps->key), name, name_len, labels, n);
    if (klen == VG_EPARSE)
        return vg__parse_fail(ps, "missing_field", SIZE_MAX, "empty series name");
    if (klen < 0)
        return vg__parse_fail(ps, "key", SIZE_MAX,
                              "series key of \"%.*s\" too long or more than %d labels",
                              (int)(name_len < 40 ? name_len : 40), name, VG_MAX_LABELS);
    /* Every parser builds its keys here: one check keeps bytes that are not
     * UTF-8 out of every series name, label and event (JSON needs UTF-8). */
    if (!vg_utf8_valid(ps->key, (size_t)klen))
        return vg__parse_fail(ps, "key", SIZE_MAX, "series key is not valid UTF-8");
    return klen;
}

static int push(vg_parser *ps, size_t klen, int64_t ts_ms, double value)
{
    if (vg_batch_push(ps->out, ps->key, klen, ts_ms, value, ps->origin) == NULL) {
        ps->nomem = 1;
        return -1;
    }
    return 0;
}

int vg__parse_emit(vg_parser *ps, const char *name, size_t name_len,
                   const vg_label *labels, size_t n, int64_t ts_ms, double value)
{
    if (!isfinite(value))
        return vg__parse_fail(ps, "nan", SIZE_MAX, "value of \"%.*s\" is not finite",
                              (int)(name_len < 40 ? name_len : 40), name);
    int klen = build_key(ps, name, name_len, labels, n);
    if (klen < 0)
        return -1;
    return push(ps, (size_t)klen, ts_ms, value);
}

int vg__parse_emit_rate(vg_parser *ps, const char *name, size_t name_len,
                        const vg_label *labels, size_t n, double t_s, double counter)
{
    int klen = build_key(ps, name, name_len, labels, n);
    if (klen < 0)
        return -1;
    double rate;
    uint64_t h = vg_hash64(ps->key, (size_t)klen, 0);
    if (!vg_counter_rate_update(ps->rates, h, t_s, counter, &rate))
        return 0;
    return push(ps, (size_t)klen, llround(t_s * 1000.0), rate);
}

/* Exact for up to 15 significant digits and 22 decimals: an integer below
 * 2^53 divided by an exact power of ten rounds once (Clinger's fast path). */
static int fast_decimal(const char *s, size_t len, double *v)
{
    static const double pow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                   1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                   1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    size_t i = 0;
    int neg = 0;
    if (i < len && (s[i] == '-' || s[i] == '+'))
        neg = s[i++] == '-';
    uint64_t m = 0;
    int digits = 0, frac = -1;
    for (; i < len; i++) {
        char c = s[i];
        if (c >= '0' && c <= '9') {
            m = m * 10 + (uint64_t)(c - '0');
            digits++;
            if (frac >= 0)
                frac++;
        } else if (c == '.' && frac < 0) {
            frac = 0;
        } else {
            return -1;
        }
    }
    if (digits == 0 || digits > 15 || frac == 0)
        return -1;
    double d = (double)m;
    if (frac > 0)
        d /= pow10[frac];
    *v = neg ? -d : d;
    return 0;
}

int vg__parse_number(const char *s, size_t len, double *v)
{
    if (fast_decimal(s, len, v) == 0)
        return 0;
    char buf[128];
    if (len == 0 || len >= sizeof(buf))
        return -1;
    size_t i = (s[0] == '-' || s[0] == '+') ? 1 : 0;
    if (i < len && (s[i] == 'n' || s[i] == 'N' || s[i] == 'i' || s[i] == 'I')) {
        size_t rest = len - i;
        if ((rest == 3 && strncasecmp(s + i, "nan", 3) == 0) ||
            (rest == 3 && strncasecmp(s + i, "inf", 3) == 0) ||
            (rest == 8 && strncasecmp(s + i, "infinity", 8) == 0))
            return -2;
        return -1;
    }
    /* strtod also takes spaces, hex and nan(...): allow only decimal text. */
    for (size_t k = i; k < len; k++) {
        char c = s[k];
        if (!((c >= '0' && c <= '9') || c == '.' || c == 'e' || c == 'E' || c == '-' ||
              c == '+'))
            return -1;
    }
    if (i == len)
        return -1;
    memcpy(buf, s, len);
    buf[len] = '\0';
    char *end;
    double d = strtod(buf, &end);
    if (end != buf + len)
        return -1;
    if (!isfinite(d))
        return -2;
    *v = d;
    return 0;
}

int vg__parse_epoch(const vg_parser *ps, double v, int64_t *ts_ms)
{
    if (!isfinite(v) || v < 0)
        return -1;
    int unit = ps->p.ts_unit;
    if (unit == VG__TS_AUTO)
        unit = v < 1e11 ? VG__TS_S : v < 1e14 ? VG__TS_MS : v < 1e17 ? VG__TS_US : VG__TS_NS;
    static const double to_ms[] = {0, 1e3, 1, 1e-3, 1e-6};
    double ms = v * to_ms[unit];
    if (ms > (double)VG__MAX_EPOCH_MS)
        return -1;
    *ts_ms = llround(ms);
    return 0;
}

int vg__parse_epoch_int(const vg_parser *ps, int64_t v, int64_t *ts_ms)
{
    if (v < 0)
        return -1;
    int unit = ps->p.ts_unit;
    if (unit == VG__TS_AUTO)
        unit = v < 100000000000LL ? VG__TS_S
             : v < 100000000000000LL ? VG__TS_MS
             : v < 100000000000000000LL ? VG__TS_US : VG__TS_NS;
    int64_t ms;
    switch (unit) {
    case VG__TS_S:
        if (v > VG__MAX_EPOCH_MS / 1000)
            return -1;
        ms = v * 1000;
        break;
    case VG__TS_MS: ms = v; break;
    case VG__TS_US: ms = (v + 500) / 1000; break;  /* rounded, as vg__parse_epoch */
    default:        ms = (v + 500000) / 1000000; break;
    }
    if (ms > VG__MAX_EPOCH_MS)
        return -1;
    *ts_ms = ms;
    return 0;
}

void vg__parse_lines_arg(vg_parser *ps,
                         void (*line)(vg_parser *ps, size_t start, size_t end, void *arg),
                         void *arg)
{
    size_t start = 0;
    while (start < ps->len && !ps->nomem) {
        const char *nl = memchr(ps->msg + start, '\n', ps->len - start);
        size_t next = nl ? (size_t)(nl - ps->msg) : ps->len;
        size_t end = next;
        if (end > start && ps->msg[end - 1] == '\r')
            end--;
        const char *nul = memchr(ps->msg + start, '\0', end - start);
        if (nul != NULL)
            vg__parse_fail(ps, "syntax", (size_t)(nul - ps->msg), "NUL byte in line");
        else
            line(ps, start, end, arg);
        start = next + 1;
    }
}

/* A function pointer cannot travel as a void *: it goes in a struct. */
typedef struct plain_line {
    void (*line)(vg_parser *ps, size_t start, size_t end);
} plain_line;

static void call_plain(vg_parser *ps, size_t start, size_t end, void *arg)
{
    ((const plain_line *)arg)->line(ps, start, end);
}

void vg__parse_lines(vg_parser *ps, void (*line)(vg_parser *ps, size_t start, size_t end))
{
    plain_line p = {line};
    vg__parse_lines_arg(ps, call_plain, &p);
}

int vg__parse_msg_ts(vg_parser *ps, size_t pos, int64_t *ts_ms)
{
    if (ps->msg_ts_ms < 0)
        return vg__parse_fail(ps, "timestamp", pos,
                              "no timestamp in the payload and none on the message");
    *ts_ms = ps->msg_ts_ms;
    return 0;
}
