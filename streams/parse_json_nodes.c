/* JSON messages -> the parser's node array (see parse_internal.h).
 *
 * Most messages on a metrics topic are small and plain, and building a
 * jansson tree for each costs more than everything else a point needs. So
 * a plain message is scanned directly into the node array: strings of
 * printable ASCII without escapes, numbers, literals, at most four levels
 * of nesting, no duplicate keys. The scanner gives up on anything else
 * (including every syntax error) before anything is emitted, and jansson
 * reads the message instead, so errors and unusual input get jansson's
 * full treatment and messages, and both readers produce the same nodes. */
#include <string.h>

#include "core/timeparse.h"
#include "streams/parse_internal.h"

#define SCAN_DEPTH 3  /* root array, element, member, member's children */
#define TREE_DEPTH 2  /* jansson, per element: element, member, children */

/* ---- nodes */

int vg__jnode_key_is(const vg__jnode *c, const char *key)
{
    return c->key != NULL && strlen(key) == c->key_len && memcmp(c->key, key, c->key_len) == 0;
}

const vg__jnode *vg__jnode_get(const vg__jnode *obj, const char *key)
{
    if (obj->type != VG__J_OBJECT)
        return NULL;
    vg__jnode_foreach(obj, c)
        if (vg__jnode_key_is(c, key))
            return c;
    return NULL;
}

size_t vg__jnode_count(const vg__jnode *c)
{
    size_t n = 0;
    vg__jnode_foreach(c, e)
        n++;
    return n;
}

/* An all-digit string is read as an integer so ns timestamps stay exact. */
static int string_epoch(const vg_parser *ps, const char *s, size_t len, int64_t *ts_ms)
{
    int all_digits = len > 0 && len <= 18;
    int64_t iv = 0;
    for (size_t i = 0; all_digits && i < len; i++) {
        all_digits = s[i] >= '0' && s[i] <= '9';
        iv = iv * 10 + (s[i] - '0');
    }
    if (all_digits)
        return vg__parse_epoch_int(ps, iv, ts_ms);
    double v;
    if (vg__parse_number(s, len, &v) != 0)
        return -1;
    return vg__parse_epoch(ps, v, ts_ms);
}

int vg__jnode_time(const vg_parser *ps, const vg__jnode *t, int64_t *ts_ms)
{
    if (t->type == VG__J_INT)
        return vg__parse_epoch_int(ps, t->i, ts_ms);
    if (t->type == VG__J_REAL)
        return vg__parse_epoch(ps, t->d, ts_ms);
    if (t->type != VG__J_STRING)
        return -1;
    if (string_epoch(ps, t->s, t->len, ts_ms) == 0)
        return 0;
    /* RFC 3339 (the Prometheus Kafka adapter, Vector); epoch text was
     * tried above with ts_unit, so only calendar forms count here. */
    int64_t ms;
    int kind;
    if (vg_time_parse(t->s, t->len, &ms, &kind) != 0 || kind != VG_TIME_ISO || ms < 0 ||
        ms > VG__MAX_EPOCH_MS)
        return -1;
    *ts_ms = ms;
    return 0;
}

/* ---- the fast scanner: returns 0, or -1 to hand the message to jansson */

typedef struct scan {
    vg_parser  *ps;
    const char *s;
    size_t      len, i, n;
} scan;

static void skip_ws(scan *sc)
{
    while (sc->i < sc->len && (sc->s[sc->i] == ' ' || sc->s[sc->i] == '\n' ||
                               sc->s[sc->i] == '\r' || sc->s[sc->i] == '\t'))
        sc->i++;
}

static int scan_string(scan *sc, const char **s, size_t *len)
{
    size_t start = ++sc->i;
    while (sc->i < sc->len) {
        unsigned char c = (unsigned char)sc->s[sc->i];
        if (c == '"') {
            *s = sc->s + start;
            *len = sc->i++ - start;
            return 0;
        }
        if (c == '\\' || c < 0x20 || c >= 0x80)
            return -1;
        sc->i++;
    }
    return -1;
}

static int digits(scan *sc)
{
    size_t start = sc->i;
    while (sc->i < sc->len && sc->s[sc->i] >= '0' && sc->s[sc->i] <= '9')
        sc->i++;
    return sc->i > start ? 0 : -1;
}

/* JSON's number grammar, exactly; integers must fit int64 as in jansson. */
static int scan_number(scan *sc, vg__jnode *nd)
{
    size_t start = sc->i;
    int real = 0;
    if (sc->i < sc->len && sc->s[sc->i] == '-')
        sc->i++;
    if (sc->i < sc->len && sc->s[sc->i] == '0')
        sc->i++;
    else if (digits(sc) != 0)
        return -1;
    if (sc->i < sc->len && sc->s[sc->i] == '.') {
        sc->i++;
        real = 1;
        if (digits(sc) != 0)
            return -1;
    }
    if (sc->i < sc->len && (sc->s[sc->i] == 'e' || sc->s[sc->i] == 'E')) {
        sc->i++;
        real = 1;
        if (sc->i < sc->len && (sc->s[sc->i] == '+' || sc->s[sc->i] == '-'))
            sc->i++;
        if (digits(sc) != 0)
            return -1;
    }
    const char *t = sc->s + start;
    size_t n = sc->i - start;
    if (real) {
        nd->type = VG__J_REAL;
        return vg__parse_number(t, n, &nd->d) == 0 ? 0 : -1;
    }
    int neg = t[0] == '-';
    uint64_t v = 0, limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (size_t k = (size_t)neg; k < n; k++) {
        uint64_t d = (uint64_t)(t[k] - '0');
        if (v > (limit - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    nd->type = VG__J_INT;
    nd->i = neg ? (int64_t)(0 - v) : (int64_t)v;
    nd->d = (double)nd->i;
    return 0;
}

static int scan_literal(scan *sc, const char *word, vg__jnode *nd, vg__jtype type)
{
    size_t n = strlen(word);
    if (sc->len - sc->i < n || memcmp(sc->s + sc->i, word, n) != 0)
        return -1;
    sc->i += n;
    nd->type = (uint8_t)type;
    nd->i = word[0] == 't';
    return 0;
}

/* Whether a completed child of nodes[parent] is named key. */
static int has_member(const scan *sc, size_t parent, const char *key, size_t key_len)
{
    for (size_t c = parent + 1; c < sc->n; c += 1 + sc->ps->nodes[c].size) {
        const vg__jnode *nd = &sc->ps->nodes[c];
        if (nd->key_len == key_len && memcmp(nd->key, key, key_len) == 0)
            return 1;
    }
    return 0;
}

static int scan_value(scan *sc, const char *key, size_t key_len, int depth);

/* Members or elements of the container at nodes[me], up to `close`. */
static int scan_children(scan *sc, size_t me, char close, int depth)
{
    sc->i++;
    skip_ws(sc);
    if (sc->i < sc->len && sc->s[sc->i] == close) {
        sc->i++;
        return 0;
    }
    for (;;) {
        const char *key = NULL;
        size_t key_len = 0;
        if (close == '}') {
            if (sc->i >= sc->len || sc->s[sc->i] != '"' || scan_string(sc, &key, &key_len) != 0 ||
                has_member(sc, me, key, key_len))
                return -1;
            skip_ws(sc);
            if (sc->i >= sc->len || sc->s[sc->i] != ':')
                return -1;
            sc->i++;
            skip_ws(sc);
        }
        if (scan_value(sc, key, key_len, depth + 1) != 0)
            return -1;
        skip_ws(sc);
        if (sc->i >= sc->len)
            return -1;
        char c = sc->s[sc->i++];
        if (c == close)
            return 0;
        if (c != ',')
            return -1;
        skip_ws(sc);
    }
}

static int scan_value(scan *sc, const char *key, size_t key_len, int depth)
{
    if (sc->n == VG__JNODES || depth > SCAN_DEPTH || sc->i >= sc->len)
        return -1;
    size_t me = sc->n++;
    vg__jnode *nd = &sc->ps->nodes[me];
    *nd = (vg__jnode){.key = key, .key_len = key_len};
    int rc;
    switch (sc->s[sc->i]) {
    case '"':
        nd->type = VG__J_STRING;
        rc = scan_string(sc, &nd->s, &nd->len);
        break;
    case '{':
        nd->type = VG__J_OBJECT;
        rc = scan_children(sc, me, '}', depth);
        break;
    case '[':
        nd->type = VG__J_ARRAY;
        rc = scan_children(sc, me, ']', depth);
        break;
    case 't': rc = scan_literal(sc, "true", nd, VG__J_BOOL); break;
    case 'f': rc = scan_literal(sc, "false", nd, VG__J_BOOL); break;
    case 'n': rc = scan_literal(sc, "null", nd, VG__J_NULL); break;
    default:  rc = scan_number(sc, nd); break;
    }
    nd->size = (uint32_t)(sc->n - me - 1);
    return rc;
}

static int fast_scan(vg_parser *ps)
{
    scan sc = {ps, ps->msg, ps->len, 0, 0};
    skip_ws(&sc);
    if (sc.i >= sc.len || (sc.s[sc.i] != '{' && sc.s[sc.i] != '['))
        return -1;
    if (scan_value(&sc, NULL, 0, 0) != 0)
        return -1;
    skip_ws(&sc);
    return sc.i == sc.len ? 0 : -1;
}

/* ---- jansson: one element at a time into the node array */

static int from_tree(vg_parser *ps, const json_t *v, const char *key, size_t *n, int depth)
{
    if (*n == VG__JNODES)
        return -1;
    size_t me = (*n)++;
    vg__jnode *nd = &ps->nodes[me];
    *nd = (vg__jnode){.key = key, .key_len = key ? strlen(key) : 0};
    switch (json_typeof(v)) {
    case JSON_STRING:
        nd->type = VG__J_STRING;
        nd->s = json_string_value(v);
        nd->len = json_string_length(v);
        break;
    case JSON_INTEGER:
        nd->type = VG__J_INT;
        nd->i = json_integer_value(v);
        nd->d = (double)nd->i;
        break;
    case JSON_REAL:
        nd->type = VG__J_REAL;
        nd->d = json_real_value(v);
        break;
    case JSON_TRUE:
    case JSON_FALSE:
        nd->type = VG__J_BOOL;
        nd->i = json_is_true(v);
        break;
    case JSON_NULL:
        nd->type = VG__J_NULL;
        break;
    case JSON_OBJECT: {
        nd->type = VG__J_OBJECT;
        const char *k;
        json_t *m;
        if (depth < TREE_DEPTH)
            json_object_foreach((json_t *)v, k, m)
                if (from_tree(ps, m, k, n, depth + 1) != 0)
                    return -1;
        break;
    }
    case JSON_ARRAY: {
        nd->type = VG__J_ARRAY;
        size_t i;
        json_t *e;
        if (depth < TREE_DEPTH)
            json_array_foreach(v, i, e)
                if (from_tree(ps, e, NULL, n, depth + 1) != 0)
                    return -1;
        break;
    }
    }
    ps->nodes[me].size = (uint32_t)(*n - me - 1);
    return 0;
}

static void each_tree(vg_parser *ps, const json_t *v, size_t idx,
                      void (*each)(vg_parser *ps, const vg__jnode *v, size_t idx))
{
    size_t n = 0;
    if (from_tree(ps, v, NULL, &n, 0) != 0) {
        vg__parse_fail(ps, "too_large", SIZE_MAX, "a JSON object with more than %d values",
                       VG__JNODES);
        return;
    }
    each(ps, &ps->nodes[0], idx);
}

/* The elements of root's array member `batch`, or NULL when root is not
 * such a batch (batch NULL: never). */
static const json_t *tree_batch(const json_t *root, const char *batch)
{
    const json_t *a = batch != NULL ? json_object_get(root, batch) : NULL;
    return json_is_array(a) ? a : NULL;
}

void vg__parse_json_batch(vg_parser *ps, const char *batch,
                          void (*each)(vg_parser *ps, const vg__jnode *v, size_t idx))
{
    if (ps->p.json_fast && fast_scan(ps) == 0) {
        const vg__jnode *root = &ps->nodes[0];
        const vg__jnode *a = batch != NULL ? vg__jnode_get(root, batch) : NULL;
        if (a != NULL && a->type == VG__J_ARRAY)
            root = a;
        size_t idx = 0;
        if (root->type != VG__J_ARRAY)
            each(ps, root, SIZE_MAX);
        else
            vg__jnode_foreach(root, e)
                each(ps, e, idx++);
        return;
    }
    json_error_t jerr;
    json_t *root = json_loadb(ps->msg, ps->len, JSON_DECODE_ANY, &jerr);
    if (root == NULL) {
        /* jansson's position is just past the last byte it read. */
        size_t pos = jerr.position > 0 ? (size_t)jerr.position - 1 : 0;
        vg__parse_fail(ps, "json", pos, "%s", jerr.text);
        return;
    }
    const json_t *a = tree_batch(root, batch);
    if (a == NULL)
        a = root;
    if (json_is_array(a)) {
        size_t i;
        json_t *e;
        json_array_foreach(a, i, e)
            each_tree(ps, e, i, each);
    } else {
        each_tree(ps, a, SIZE_MAX, each);
    }
    json_decref(root);
}

void vg__parse_json_each(vg_parser *ps,
                         void (*each)(vg_parser *ps, const vg__jnode *v, size_t idx))
{
    vg__parse_json_batch(ps, NULL, each);
}
