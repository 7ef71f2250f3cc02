/* Graphite plaintext -> points.
 *
 *   path value [timestamp]
 *
 * Fields are separated by spaces or tabs; a message holds any number of
 * lines, LF or CRLF (collectd's write_kafka sends CRLF). The series key is
 * the dotted path as is; with graphite_tags (default on), graphite 1.1 tags
 * `path;tag=value;...` become labels. The timestamp is epoch seconds (or
 * ms/us/ns by ts_unit or magnitude); absent or -1 means the message time.
 *
 * A value of `nan` is skipped without error: collectd writes it for the
 * first sample of a rate, so it is expected, not malformed. Infinities and
 * other non-numbers are errors. A bad line is reported and skipped; the good
 * lines of the same message are kept. */
#include <string.h>

#include "streams/parse_internal.h"

typedef struct span {
    size_t off, len;
} span;

static int is_space(char c)
{
    return c == ' ' || c == '\t';
}

/* Splits the line into up to 4 fields (a 4th means "too many"). */
static size_t split(const char *s, size_t i, size_t end, span *f)
{
    size_t n = 0;
    while (n < 4) {
        while (i < end && is_space(s[i]))
            i++;
        if (i == end)
            break;
        f[n].off = i;
        while (i < end && !is_space(s[i]))
            i++;
        f[n].len = i - f[n].off;
        n++;
    }
    return n;
}

/* Splits `name;k=v;k=v` into name and labels. Returns the label count or -1. */
static int read_tags(vg_parser *ps, span path, size_t *name_len, vg_label *labels)
{
    const char *p = ps->msg + path.off;
    const char *semi = memchr(p, ';', path.len);
    if (!ps->p.graphite_tags || semi == NULL) {
        *name_len = path.len;
        return 0;
    }
    *name_len = (size_t)(semi - p);
    int n = 0;
    size_t i = *name_len;
    while (i < path.len) {
        size_t start = ++i;
        while (i < path.len && p[i] != ';')
            i++;
        const char *eq = memchr(p + start, '=', i - start);
        if (eq == NULL || eq == p + start || eq + 1 == p + i)
            return vg__parse_fail(ps, "syntax", path.off + start, "expected ;tag=value");
        if (n == VG_MAX_LABELS)
            return vg__parse_fail(ps, "key", path.off + start, "too many tags");
        labels[n++] = (vg_label){p + start, (size_t)(eq - (p + start)), eq + 1,
                                 (size_t)(p + i - (eq + 1))};
    }
    return n;
}

static int read_ts(vg_parser *ps, span t, int64_t *ts_ms)
{
    const char *s = ps->msg + t.off;
    double v;
    if (t.len == 2 && memcmp(s, "-1", 2) == 0)
        return vg__parse_msg_ts(ps, t.off, ts_ms);
    if (vg__parse_number(s, t.len, &v) != 0 || vg__parse_epoch(ps, v, ts_ms) != 0)
        return vg__parse_fail(ps, "timestamp", t.off, "timestamp is not an epoch time in range");
    return 0;
}

static void parse_line(vg_parser *ps, size_t start, size_t end)
{
    span f[4];
    size_t n = split(ps->msg, start, end, f);
    if (n == 0)
        return;
    if (n < 2 || n > 3) {
        vg__parse_fail(ps, "syntax", n < 2 ? end : f[3].off,
                       "expected \"path value [timestamp]\"");
        return;
    }
    double v;
    const char *vs = ps->msg + f[1].off;
    int rc = vg__parse_number(vs, f[1].len, &v);
    if (rc == -2 && f[1].len == 3 && (vs[0] == 'n' || vs[0] == 'N'))
        return;  /* nan: collectd's first rate, benign */
    if (rc != 0) {
        vg__parse_fail(ps, rc == -2 ? "nan" : "value", f[1].off,
                       rc == -2 ? "value is infinite" : "value is not a number");
        return;
    }
    int64_t ts_ms;
    if (n == 3 ? read_ts(ps, f[2], &ts_ms) != 0 : vg__parse_msg_ts(ps, end, &ts_ms) != 0)
        return;
    vg_label labels[VG_MAX_LABELS];
    size_t name_len;
    int nl = read_tags(ps, f[0], &name_len, labels);
    if (nl < 0)
        return;
    vg__parse_emit(ps, ps->msg + f[0].off, name_len, labels, (size_t)nl, ts_ms, v);
}

static void parse_graphite(vg_parser *ps)
{
    vg__parse_lines(ps, parse_line);
}

static const vg_conf_field graphite_fields[] = {
    {"graphite_tags", VG_CONF_BOOL, offsetof(vg__parse_params, graphite_tags), 1, 0, 1, NULL,
     "read `path;tag=value` tags (graphite 1.1) as labels"},
};

const vg_parser_ops vg_graphite_parser_ops = {
    .name     = "graphite",
    .fields   = graphite_fields,
    .n_fields = VG_CONF_COUNT(graphite_fields),
    .parse    = parse_graphite,
};
