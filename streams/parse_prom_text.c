/* Prometheus text exposition format (0.0.4) -> points: a scrape body, or
 * what Telegraf's `prometheus` serializer writes to Kafka.
 *
 *   # HELP http_requests_total The total number of HTTP requests.
 *   # TYPE http_requests_total counter
 *   http_requests_total{method="post",code="200"} 1027 1395066363000
 *
 * A sample keeps its name and labels. `# TYPE` gives the family's type, and
 * with it the series a user alerts on (parse_model.h): a counter becomes its
 * per-second rate (no point for a series' first sample or after a reset); a
 * histogram's and a summary's _count becomes observations per second and
 * _sum with it <family>_mean, the mean observation over the interval (_sum
 * comes before _count in every exposition we know of; a _count without a
 * _sum before it gives no mean); summary quantiles are kept as gauges;
 * histogram buckets are not emitted (a bucket is a count, not a series to
 * score). Gauges, untyped samples and samples of no TYPE are taken as they
 * are. The timestamp is integer milliseconds, or the message time when
 * absent. NaN values (a summary without observations) are skipped without
 * error; ±Inf values are errors. A bad line is reported and skipped, the
 * good ones are kept. */
#include <math.h>
#include <string.h>

#include "streams/parse_model.h"

enum { T_UNTYPED, T_COUNTER, T_GAUGE, T_HISTOGRAM, T_SUMMARY };

#define PENDING_MAX 64  /* _sum values waiting for their _count, per message */

typedef struct pending {
    uint64_t h;     /* family{labels}, 0: taken */
    double   sum;
} pending;

typedef struct prom {
    const char *family;  /* of the last TYPE line, in the message */
    size_t      family_len;
    int         type;
    pending     pending[PENDING_MAX];
    size_t      n_pending;  /* slots used, round robin beyond PENDING_MAX */
} prom;

typedef struct cursor {
    vg_parser *ps;
    const char *s;
    size_t i, end;
} cursor;

static int is_name_char(char c, int first)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
           (!first && c >= '0' && c <= '9');
}

static void skip_blank(cursor *c)
{
    while (c->i < c->end && (c->s[c->i] == ' ' || c->s[c->i] == '\t'))
        c->i++;
}

/* A metric or label name at the cursor; returns its length (0: none). */
static size_t name_at(cursor *c)
{
    size_t start = c->i;
    while (c->i < c->end && is_name_char(c->s[c->i], c->i == start))
        c->i++;
    return c->i - start;
}

/* A word up to a blank, at the cursor. */
static size_t word_at(cursor *c)
{
    size_t start = c->i;
    while (c->i < c->end && c->s[c->i] != ' ' && c->s[c->i] != '\t')
        c->i++;
    return c->i - start;
}

static void type_line(prom *pr, cursor *c)
{
    static const char *const types[] = {"untyped", "counter", "gauge", "histogram", "summary"};
    c->i++;
    skip_blank(c);
    if (word_at(c) != 4 || memcmp(c->s + c->i - 4, "TYPE", 4) != 0)
        return;  /* HELP or a comment */
    skip_blank(c);
    size_t start = c->i, len = name_at(c);
    skip_blank(c);
    size_t tstart = c->i, tlen = word_at(c);
    pr->family = len > 0 ? c->s + start : NULL;
    pr->family_len = len;
    pr->type = T_UNTYPED;
    for (int t = 0; t < (int)(sizeof(types) / sizeof(types[0])); t++)
        if (strlen(types[t]) == tlen && memcmp(types[t], c->s + tstart, tlen) == 0)
            pr->type = t;
}

/* label="value" pairs up to `}`; values are unescaped into scratch. */
static int read_labels(cursor *c, vg_label *labels, size_t *n)
{
    size_t used = 0;
    char *out = c->ps->scratch;
    c->i++;
    for (;;) {
        skip_blank(c);
        if (c->i < c->end && c->s[c->i] == '}') {
            c->i++;
            return 0;
        }
        size_t ns = c->i, nl = name_at(c);
        skip_blank(c);
        if (nl == 0 || c->i + 1 >= c->end || c->s[c->i] != '=' || c->s[c->i + 1] != '"')
            return vg__parse_fail(c->ps, "syntax", c->i, "expected label=\"value\"");
        c->i += 2;
        size_t vs = used;
        for (; c->i < c->end && c->s[c->i] != '"'; c->i++) {
            char ch = c->s[c->i];
            if (ch == '\\' && c->i + 1 < c->end) {
                ch = c->s[++c->i];
                ch = ch == 'n' ? '\n' : ch;
            }
            if (used == sizeof(c->ps->scratch))
                return vg__parse_fail(c->ps, "too_large", c->i, "labels too long");
            out[used++] = ch;
        }
        if (c->i >= c->end)
            return vg__parse_fail(c->ps, "syntax", c->i, "unterminated label value");
        c->i++;
        if (*n == VG_MAX_LABELS)
            return vg__parse_fail(c->ps, "key", ns, "more than %d labels", VG_MAX_LABELS);
        labels[(*n)++] = (vg_label){c->s + ns, nl, out + vs, used - vs};
        skip_blank(c);
        if (c->i < c->end && c->s[c->i] == ',')
            c->i++;
        else if (c->i >= c->end || c->s[c->i] != '}')
            return vg__parse_fail(c->ps, "syntax", c->i, "expected , or }");
    }
}

/* value [timestamp] to the end of the line. Returns 1 for a NaN value
 * (skipped), 0, or -1. */
static int read_value_ts(cursor *c, double *v, int64_t *ts_ms)
{
    skip_blank(c);
    size_t vs = c->i, vl = word_at(c);
    int rc = vg__parse_number(c->s + vs, vl, v);
    if (rc == -2 && vl == 3 && (c->s[vs] == 'N' || c->s[vs] == 'n'))
        return 1;
    if (rc != 0)
        return vg__parse_fail(c->ps, rc == -2 ? "nan" : "value", vs,
                              rc == -2 ? "value is infinite" : "value is not a number");
    skip_blank(c);
    if (c->i == c->end)
        return vg__parse_msg_ts(c->ps, c->i, ts_ms);
    size_t ts = c->i, tl = word_at(c);
    int64_t ms = 0;
    int ok = tl > 0 && tl <= 15;
    for (size_t k = 0; ok && k < tl; k++) {
        ok = c->s[ts + k] >= '0' && c->s[ts + k] <= '9';
        ms = ms * 10 + (c->s[ts + k] - '0');
    }
    skip_blank(c);
    if (!ok || c->i != c->end || ms > VG__MAX_EPOCH_MS)
        return vg__parse_fail(c->ps, "timestamp", ts,
                              "expected a timestamp in ms at the end of the line");
    *ts_ms = ms;
    return 0;
}

/* The hash of family{labels}, pairing a _sum with its _count. */
static uint64_t family_hash(const prom *pr, const vg_label *labels, size_t n)
{
    char key[VG__KEY_MAX];
    int klen = vg_series_key_build(key, sizeof(key), pr->family, pr->family_len, labels, n);
    return klen < 0 ? 0 : vg_hash64(key, (size_t)klen, 0);
}

static double take_sum(prom *pr, uint64_t h)
{
    size_t used = pr->n_pending < PENDING_MAX ? pr->n_pending : PENDING_MAX;
    for (size_t k = 0; k < used; k++)
        if (pr->pending[k].h == h) {
            pr->pending[k].h = 0;
            return pr->pending[k].sum;
        }
    return NAN;
}

/* Emits one sample by its family's type. */
static void sample(vg_parser *ps, prom *pr, const char *name, size_t len,
                   const vg_label *labels, size_t n, int64_t ts_ms, double v)
{
    int ours = pr->family != NULL && len >= pr->family_len &&
               memcmp(name, pr->family, pr->family_len) == 0;
    const char *suffix = ours ? name + pr->family_len : "";
    size_t sl = ours ? len - pr->family_len : 0;
#define IS(s) (sl == sizeof(s) - 1 && memcmp(suffix, s, sl) == 0)
    int type = ours ? pr->type : T_UNTYPED;
    if (type == T_COUNTER && (IS("") || IS("_total")))
        vg__model_counter(ps, name, len, labels, n, ts_ms, v);
    else if ((type == T_HISTOGRAM && IS("_bucket")) || (type == T_COUNTER && IS("_created")))
        return;
    else if ((type == T_HISTOGRAM || type == T_SUMMARY) && IS("_sum"))
        pr->pending[pr->n_pending++ % PENDING_MAX] = (pending){
            family_hash(pr, labels, n), v};
    else if ((type == T_HISTOGRAM || type == T_SUMMARY) && IS("_count"))
        vg__model_cumulative(ps, pr->family, pr->family_len, labels, n, ts_ms, v,
                             take_sum(pr, family_hash(pr, labels, n)));
    else
        vg__parse_emit(ps, name, len, labels, n, ts_ms, v);
#undef IS
}

static void parse_line(vg_parser *ps, size_t start, size_t end, void *arg)
{
    prom *pr = arg;
    cursor c = {ps, ps->msg, start, end};
    skip_blank(&c);
    if (c.i == c.end)
        return;
    if (c.s[c.i] == '#') {
        type_line(pr, &c);
        return;
    }
    size_t ns = c.i, nl = name_at(&c);
    if (nl == 0) {
        vg__parse_fail(ps, "syntax", c.i, "expected a metric name");
        return;
    }
    vg_label labels[VG_MAX_LABELS];
    size_t n = 0;
    skip_blank(&c);
    if (c.i < c.end && c.s[c.i] == '{' && read_labels(&c, labels, &n) != 0)
        return;
    double v;
    int64_t ts_ms;
    if (read_value_ts(&c, &v, &ts_ms) == 0)
        sample(ps, pr, c.s + ns, nl, labels, n, ts_ms, v);
}

static void parse_prom_text(vg_parser *ps)
{
    prom pr = {0};
    vg__parse_lines_arg(ps, parse_line, &pr);
}

static const vg_conf_field prom_fields[] = {VG__PARSE_FIELD_RATE_SERIES};

const vg_parser_ops vg_prom_text_parser_ops = {
    .name      = "prometheus-text",
    .fields    = prom_fields,
    .n_fields  = VG_CONF_COUNT(prom_fields),
    .configure = vg__model_configure,
    .parse     = parse_prom_text,
};
