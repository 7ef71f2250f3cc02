/* Influx line protocol -> points.
 *
 *   measurement[,tag=value...] field=value[,field=value...] [timestamp]
 *
 * One series per numeric field, named `<measurement>_<field>` with the tags
 * as labels: `cpu,host=a usage_user=0.5` gives cpu_usage_user{host="a"}.
 * Floats, integers (`5i`) and unsigned integers (`5u`) are values; string
 * fields ("...") and booleans are skipped, not errors. The timestamp is an
 * integer read with ts_unit (auto: by magnitude, so normal nanosecond times
 * work), or the message time when absent. Backslash escapes `\,` `\ ` `\=`
 * `\\` are undone in names, tags and field keys. A message holds any number
 * of lines (LF or CRLF; blank lines and `#` comments are ignored); a bad
 * line is reported and skipped, and the good lines are kept. A line is
 * all-or-nothing: its points are appended only once all of it parsed. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "streams/parse_internal.h"

#define MAX_FIELDS 256

typedef struct field {
    size_t off, len;   /* unescaped key in scratch */
    double value;
} field;

typedef struct line {
    vg_parser *ps;
    const char *s;     /* the whole message */
    size_t i, end;     /* cursor and end of line (before CR/LF) */
    size_t used;       /* bytes of scratch used */
} line;

static int is_space(char c)
{
    return c == ' ' || c == '\t';
}

/* Copies an escaped token up to an unescaped stop character into scratch.
 * Sets *off and *len; returns 0, or -1 when scratch is full. */
static int token(line *l, const char *stops, size_t *off, size_t *len)
{
    char *out = l->ps->scratch;
    size_t start = l->used;
    while (l->i < l->end) {
        char c = l->s[l->i];
        /* strchr also finds the terminator: a NUL byte stops every token. */
        if (c == '\\' && l->i + 1 < l->end && l->s[l->i + 1] != '\0' &&
            strchr(",= \\\"", l->s[l->i + 1]) != NULL) {
            c = l->s[l->i + 1];
            l->i += 2;
        } else if (strchr(stops, c) != NULL) {
            break;
        } else {
            l->i++;
        }
        if (l->used == sizeof(l->ps->scratch))
            return -1;
        out[l->used++] = c;
    }
    *off = start;
    *len = l->used - start;
    return 0;
}

static int fail(line *l, const char *reason, const char *what)
{
    return vg__parse_fail(l->ps, reason, l->i, "%s", what);
}

/* Reads an unquoted field value; *skip is set for booleans. */
static int field_value(line *l, double *v, int *skip)
{
    size_t start = l->i;
    while (l->i < l->end && l->s[l->i] != ',' && !is_space(l->s[l->i]))
        l->i++;
    const char *t = l->s + start;
    size_t n = l->i - start;
    static const char *const bools[] = {"t", "T", "true", "True", "TRUE",
                                        "f", "F", "false", "False", "FALSE"};
    *skip = 0;
    for (size_t b = 0; b < sizeof(bools) / sizeof(bools[0]); b++)
        if (strlen(bools[b]) == n && memcmp(bools[b], t, n) == 0) {
            *skip = 1;
            return 0;
        }
    if (n >= 2 && (t[n - 1] == 'i' || t[n - 1] == 'u')) {
        size_t k = (t[0] == '-' && t[n - 1] == 'i') ? 1 : 0;
        if (k == n - 1)
            goto bad;
        for (size_t j = k; j < n - 1; j++)
            if (t[j] < '0' || t[j] > '9')
                goto bad;
        n--;
    }
    int rc = vg__parse_number(t, n, v);
    if (rc == -2) {
        l->i = start;
        return fail(l, "nan", "field value is NaN or infinite");
    }
    if (rc == 0)
        return 0;
bad:
    l->i = start;
    return fail(l, "value", "field value is not a number, string or boolean");
}

static int skip_string(line *l)
{
    size_t start = l->i++;
    while (l->i < l->end && l->s[l->i] != '"')
        l->i += l->s[l->i] == '\\' ? 2 : 1;
    if (l->i >= l->end) {
        l->i = start;
        return fail(l, "syntax", "unterminated string field");
    }
    l->i++;
    return 0;
}

static int read_tags(line *l, vg_label *labels, size_t *n)
{
    while (l->i < l->end && l->s[l->i] == ',') {
        l->i++;
        size_t ko, kl, vo, vl;
        if (token(l, "=, \t", &ko, &kl) != 0)
            return fail(l, "too_large", "line too long");
        if (l->i >= l->end || l->s[l->i] != '=' || kl == 0)
            return fail(l, "syntax", "expected tag=value");
        l->i++;
        if (token(l, ", \t", &vo, &vl) != 0)
            return fail(l, "too_large", "line too long");
        if (vl == 0)
            return fail(l, "syntax", "empty tag value");
        if (*n == VG_MAX_LABELS)
            return fail(l, "key", "too many tags");
        /* scratch is a fixed array in the parser: pointers into it stay valid. */
        char *scratch = l->ps->scratch;
        labels[(*n)++] = (vg_label){scratch + ko, kl, scratch + vo, vl};
    }
    return 0;
}

static int read_fields(line *l, field *fields, size_t *n)
{
    for (;;) {
        size_t ko, kl;
        if (token(l, "=, \t", &ko, &kl) != 0)
            return fail(l, "too_large", "line too long");
        if (l->i >= l->end || l->s[l->i] != '=' || kl == 0)
            return fail(l, "syntax", "expected field=value");
        l->i++;
        if (l->i < l->end && l->s[l->i] == '"') {
            if (skip_string(l) != 0)
                return -1;
        } else {
            double v;
            int skip;
            if (field_value(l, &v, &skip) != 0)
                return -1;
            if (!skip) {
                if (*n == MAX_FIELDS)
                    return fail(l, "too_large", "too many fields");
                fields[(*n)++] = (field){ko, kl, v};
            }
        }
        if (l->i >= l->end || l->s[l->i] != ',')
            return 0;
        l->i++;
    }
}

static int read_ts(line *l, int64_t *ts_ms)
{
    while (l->i < l->end && is_space(l->s[l->i]))
        l->i++;
    if (l->i == l->end)
        return vg__parse_msg_ts(l->ps, l->i, ts_ms);
    size_t start = l->i;
    int neg = l->s[l->i] == '-';
    l->i += neg;
    int64_t v = 0;
    size_t digits = 0;
    int overflow = 0;
    for (; l->i < l->end && l->s[l->i] >= '0' && l->s[l->i] <= '9'; l->i++, digits++) {
        int d = l->s[l->i] - '0';
        overflow |= v > (INT64_MAX - d) / 10;
        if (!overflow)
            v = v * 10 + d;
    }
    size_t after = l->i;
    while (l->i < l->end && is_space(l->s[l->i]))
        l->i++;
    if (digits == 0 || l->i != l->end) {
        l->i = digits == 0 ? start : after;
        return fail(l, "syntax", "expected an integer timestamp at the end of the line");
    }
    if (neg || overflow || vg__parse_epoch_int(l->ps, v, ts_ms) != 0) {
        l->i = start;
        return fail(l, "timestamp", "timestamp out of range");
    }
    return 0;
}

static void parse_line(vg_parser *ps, size_t start, size_t end)
{
    line l = {ps, ps->msg, start, end, 0};
    while (l.i < l.end && is_space(l.s[l.i]))
        l.i++;
    if (l.i == l.end || l.s[l.i] == '#')
        return;

    size_t mo, ml;
    vg_label labels[VG_MAX_LABELS];
    size_t nl = 0, nf = 0;
    field fields[MAX_FIELDS];
    int64_t ts_ms;
    if (token(&l, ", \t", &mo, &ml) != 0) {
        fail(&l, "too_large", "line too long");
        return;
    }
    if (ml == 0) {
        fail(&l, "syntax", "empty measurement");
        return;
    }
    if (read_tags(&l, labels, &nl) != 0)
        return;
    if (l.i >= l.end || !is_space(l.s[l.i])) {
        fail(&l, "syntax", "expected a space before the fields");
        return;
    }
    while (l.i < l.end && is_space(l.s[l.i]))
        l.i++;
    if (read_fields(&l, fields, &nf) != 0 || read_ts(&l, &ts_ms) != 0)
        return;

    /* Names "<measurement>_<field>" are built in the scratch left over. */
    for (size_t k = 0; k < nf; k++) {
        if (l.used + ml + 1 + fields[k].len > sizeof(ps->scratch)) {
            fail(&l, "too_large", "line too long");
            return;
        }
    }
    for (size_t k = 0; k < nf; k++) {
        size_t len = ml + 1 + fields[k].len;
        char *name = ps->scratch + l.used;
        memcpy(name, ps->scratch + mo, ml);
        name[ml] = '_';
        memcpy(name + ml + 1, ps->scratch + fields[k].off, fields[k].len);
        vg__parse_emit(ps, name, len, labels, nl, ts_ms, fields[k].value);
    }
}

static void parse_influx(vg_parser *ps)
{
    vg__parse_lines(ps, parse_line);
}

/* Influx lines name everything themselves: no keys beyond the common ones. */
const vg_parser_ops vg_influx_parser_ops = {
    .name  = "influx",
    .parse = parse_influx,
};
