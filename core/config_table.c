/* Config documents with positions, and table-driven validation; see conf.h.
 *
 * jansson parses (and rejects duplicate keys); then a small scanner walks
 * the same text alongside the tree, in the tree's order (jansson keeps
 * object members in insertion order, which is text order), recording where
 * each object key and array element starts. Lines and columns are 1-based
 * and columns count characters, not bytes, as jansson's own do. The side
 * table is a small open-addressing hash keyed by (parent, key or index).
 * If the scan ever disagrees with the tree it stops: later lookups fall
 * back to the document name, never to a wrong position.
 *
 * A numeric field whose min and max are both 0 has no range. */
#include "core/config_table.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/series_key.h"

typedef struct conf_pos {
    const json_t *parent;
    const char   *key;    /* borrowed from the tree; NULL for array elements */
    size_t        index;
    const json_t *value;  /* to place errors about a value itself */
    uint32_t      line, col;
} conf_pos;

struct vg_conf_doc {
    json_t   *root;
    char     *name;
    conf_pos *pos;
    size_t    n_pos, cap_pos;
    size_t   *slots;      /* pos index + 1; 0 = empty */
    size_t    mask;
};

/* ---- the position side table ------------------------------------------ */

static uint64_t pos_hash(const json_t *parent, const char *key, size_t index)
{
    uint64_t seed = (uint64_t)(uintptr_t)parent;
    if (key != NULL)
        return vg_hash64(key, strlen(key), seed);
    return vg_hash64(&index, sizeof(index), ~seed);
}

static int pos_add(vg_conf_doc *doc, const conf_pos *p)
{
    if (doc->n_pos == doc->cap_pos) {
        size_t cap = doc->cap_pos ? doc->cap_pos * 2 : 64;
        conf_pos *pos = realloc(doc->pos, cap * sizeof(*pos));
        if (pos == NULL)
            return VG_ENOMEM;
        doc->pos = pos;
        doc->cap_pos = cap;
    }
    doc->pos[doc->n_pos++] = *p;
    return VG_OK;
}

static int pos_index_build(vg_conf_doc *doc)
{
    size_t n = 16;
    while (n < 2 * doc->n_pos)
        n *= 2;
    doc->slots = calloc(n, sizeof(*doc->slots));
    if (doc->slots == NULL)
        return VG_ENOMEM;
    doc->mask = n - 1;
    for (size_t k = 0; k < doc->n_pos; k++) {
        const conf_pos *p = &doc->pos[k];
        size_t i = pos_hash(p->parent, p->key, p->index) & doc->mask;
        while (doc->slots[i] != 0)
            i = (i + 1) & doc->mask;
        doc->slots[i] = k + 1;
    }
    return VG_OK;
}

static const conf_pos *pos_find(const vg_conf_doc *doc, const json_t *parent,
                                const char *key, size_t index)
{
    if (doc == NULL || doc->slots == NULL)
        return NULL;
    for (size_t i = pos_hash(parent, key, index) & doc->mask; doc->slots[i] != 0;
         i = (i + 1) & doc->mask) {
        const conf_pos *p = &doc->pos[doc->slots[i] - 1];
        if (p->parent != parent)
            continue;
        if (key != NULL ? (p->key != NULL && strcmp(p->key, key) == 0)
                        : (p->key == NULL && p->index == index))
            return p;
    }
    return NULL;
}

/* ---- the scanner ---------------------------------------------------------- */

typedef struct scanner {
    const char  *p, *end;
    uint32_t     line, col;
    vg_conf_doc *doc;
    int          failed;
} scanner;

static void advance(scanner *s)
{
    unsigned char c = (unsigned char)*s->p++;
    if (c == '\n') {
        s->line++;
        s->col = 1;
    } else if ((c & 0xC0) != 0x80) {  /* not a UTF-8 continuation byte */
        s->col++;
    }
}

static void skip_ws(scanner *s)
{
    while (s->p < s->end && strchr(" \t\r\n", *s->p) != NULL && *s->p != '\0')
        advance(s);
}

static int expect(scanner *s, char c)
{
    skip_ws(s);
    if (s->p >= s->end || *s->p != c) {
        s->failed = 1;
        return 0;
    }
    advance(s);
    return 1;
}

/* Skips a string token; *raw and *raw_len give its undecoded contents. */
static void scan_string(scanner *s, const char **raw, size_t *raw_len)
{
    if (!expect(s, '"'))
        return;
    *raw = s->p;
    while (s->p < s->end && *s->p != '"') {
        if (*s->p == '\\' && s->p + 1 < s->end)
            advance(s);
        advance(s);
    }
    *raw_len = (size_t)(s->p - *raw);
    expect(s, '"');
}

static void record(scanner *s, const json_t *parent, const char *key, size_t index,
                   const json_t *value, uint32_t line, uint32_t col)
{
    conf_pos p = {parent, key, index, value, line, col};
    if (pos_add(s->doc, &p) != 0)
        s->failed = 1;
}

static void scan_value(scanner *s, const json_t *v);

static void scan_object(scanner *s, const json_t *obj)
{
    void *it = json_object_iter((json_t *)obj);
    advance(s);  /* '{' */
    skip_ws(s);
    if (s->p < s->end && *s->p == '}') {
        advance(s);
        return;
    }
    while (!s->failed) {
        skip_ws(s);
        uint32_t line = s->line, col = s->col;
        const char *raw = NULL;
        size_t raw_len = 0;
        scan_string(s, &raw, &raw_len);
        if (s->failed || it == NULL) {
            s->failed = 1;
            return;
        }
        const char *key = json_object_iter_key(it);
        /* Cheap agreement check; keys with escapes are trusted to order. */
        if (memchr(raw, '\\', raw_len) == NULL &&
            (strlen(key) != raw_len || memcmp(key, raw, raw_len) != 0)) {
            s->failed = 1;
            return;
        }
        json_t *child = json_object_iter_value(it);
        record(s, obj, key, 0, child, line, col);
        if (!expect(s, ':'))
            return;
        scan_value(s, child);
        it = json_object_iter_next((json_t *)obj, it);
        skip_ws(s);
        if (s->p < s->end && *s->p == ',') {
            advance(s);
            continue;
        }
        expect(s, '}');
        return;
    }
}

static void scan_array(scanner *s, const json_t *arr)
{
    advance(s);  /* '[' */
    skip_ws(s);
    if (s->p < s->end && *s->p == ']') {
        advance(s);
        return;
    }
    for (size_t i = 0; !s->failed; i++) {
        skip_ws(s);
        if (i >= json_array_size(arr)) {
            s->failed = 1;
            return;
        }
        json_t *child = json_array_get(arr, i);
        record(s, arr, NULL, i, child, s->line, s->col);
        scan_value(s, child);
        skip_ws(s);
        if (s->p < s->end && *s->p == ',') {
            advance(s);
            continue;
        }
        expect(s, ']');
        return;
    }
}

static void scan_value(scanner *s, const json_t *v)
{
    skip_ws(s);
    if (s->failed || s->p >= s->end) {
        s->failed = 1;
        return;
    }
    if (*s->p == '{' && json_is_object(v)) {
        scan_object(s, v);
    } else if (*s->p == '[' && json_is_array(v)) {
        scan_array(s, v);
    } else if (*s->p == '"' && json_is_string(v)) {
        const char *raw;
        size_t raw_len;
        scan_string(s, &raw, &raw_len);
    } else if (strchr("{[\"", *s->p) == NULL) {
        while (s->p < s->end && strchr(",]}: \t\r\n", *s->p) == NULL)
            advance(s);
    } else {
        s->failed = 1;
    }
}

/* ---- documents ------------------------------------------------------------ */

/* "name:line:col", keeping line:col whole and eliding the start of a name
 * too long for out (vg_error.where is 64 bytes). */
static void format_where(char *out, size_t cap, const char *name, long line, long col)
{
    char tail[48];
    int tn = snprintf(tail, sizeof(tail), ":%ld:%ld", line, col);
    size_t name_len = strlen(name);
    if (name_len + (size_t)tn < cap || cap < (size_t)tn + 8)
        snprintf(out, cap, "%s%s", name, tail);
    else
        snprintf(out, cap, "...%s%s", name + name_len - (cap - 1 - (size_t)tn - 3), tail);
}

vg_conf_doc *vg_conf_doc_load_string(const char *text, const char *name, vg_error *err)
{
    size_t len = strlen(text);
    name = name != NULL ? name : "<inline>";
    json_error_t jerr;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL) {
        char where[sizeof(err->where)];
        format_where(where, sizeof(where), name, jerr.line, jerr.column);
        vg_error_set_at(err, VG_ECONFIG, where, "%s", jerr.text);
        return NULL;
    }
    vg_conf_doc *doc = calloc(1, sizeof(*doc));
    if (doc == NULL)
        goto out_free_root;
    doc->root = root;
    doc->name = strdup(name);
    if (doc->name == NULL)
        goto out_free_doc;

    scanner s = {text, text + len, 1, 1, doc, 0};
    scan_value(&s, root);
    if (pos_index_build(doc) != 0)
        goto out_free_doc;
    return doc;

out_free_doc:
    vg_conf_doc_free(doc);
    vg_error_set(err, VG_ENOMEM, "config document %s", name);
    return NULL;
out_free_root:
    json_decref(root);
    vg_error_set(err, VG_ENOMEM, "config document %s", name);
    return NULL;
}

vg_conf_doc *vg_conf_doc_load_file(const char *path, vg_error *err)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        vg_error_set_at(err, VG_EIO, path, "cannot open: %s", strerror(errno));
        return NULL;
    }
    char *text = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (cap - len < 4096) {
            cap = cap ? cap * 2 : 16384;
            char *grown = realloc(text, cap + 1);
            if (grown == NULL) {
                free(text);
                fclose(f);
                vg_error_set_at(err, VG_ENOMEM, path, "cannot hold the file");
                return NULL;
            }
            text = grown;
        }
        size_t got = fread(text + len, 1, cap - len, f);
        len += got;
        if (got == 0)
            break;
    }
    int read_failed = ferror(f);
    fclose(f);
    if (read_failed) {
        free(text);
        vg_error_set_at(err, VG_EIO, path, "cannot read");
        return NULL;
    }
    text[len] = '\0';
    /* A NUL inside the file would end the text early: say so. */
    vg_conf_doc *doc = NULL;
    if (strlen(text) != len)
        vg_error_set_at(err, VG_ECONFIG, path, "file holds a NUL byte");
    else
        doc = vg_conf_doc_load_string(text, path, err);
    free(text);
    return doc;
}

void vg_conf_doc_free(vg_conf_doc *doc)
{
    if (doc == NULL)
        return;
    json_decref(doc->root);
    free(doc->name);
    free(doc->pos);
    free(doc->slots);
    free(doc);
}

json_t *vg_conf_doc_root(const vg_conf_doc *doc)
{
    return doc->root;
}

void vg_conf_where(const vg_conf_doc *doc, const json_t *parent, const char *key,
                   size_t index, char *out, size_t cap)
{
    const conf_pos *p = pos_find(doc, parent, key, index);
    if (p != NULL)
        format_where(out, cap, doc->name, p->line, p->col);
    else
        snprintf(out, cap, "%s", doc != NULL ? doc->name : "config");
}

/* Where a value itself sits (for "must be an object"): a linear search,
 * only ever on an error path. */
static void where_of_value(const vg_conf_doc *doc, const json_t *v, char *out, size_t cap)
{
    for (size_t i = 0; doc != NULL && i < doc->n_pos; i++) {
        if (doc->pos[i].value == v) {
            format_where(out, cap, doc->name, doc->pos[i].line, doc->pos[i].col);
            return;
        }
    }
    snprintf(out, cap, "%s", doc != NULL ? doc->name : "config");
}

/* ---- applying a field table -------------------------------------------- */

static void *field_ptr(void *base, const vg_conf_field *f)
{
    return (char *)base + f->offset;
}

/* The n-th '|'-separated choice: *len bytes at the returned pointer. */
static const char *choice_at(const char *choices, int n, size_t *len)
{
    const char *c = choices;
    for (; n > 0 && c != NULL; n--) {
        c = strchr(c, '|');
        c = c != NULL ? c + 1 : NULL;
    }
    if (c == NULL) {
        *len = 0;
        return "";
    }
    *len = strcspn(c, "|");
    return c;
}

/* The index of s among the choices, or -1. */
static int choice_index(const char *choices, const char *s)
{
    size_t len;
    for (int i = 0;; i++) {
        const char *c = choice_at(choices, i, &len);
        if (len == 0)
            return -1;
        if (strlen(s) == len && memcmp(c, s, len) == 0)
            return i;
    }
}

void vg_conf_defaults(const vg_conf_field *fields, size_t n, void *base)
{
    for (size_t i = 0; i < n; i++) {
        const vg_conf_field *f = &fields[i];
        void *p = field_ptr(base, f);
        switch (f->type) {
        case VG_CONF_INT:    *(int64_t *)p = (int64_t)f->def; break;
        case VG_CONF_UINT32: *(uint32_t *)p = (uint32_t)f->def; break;
        case VG_CONF_DOUBLE: *(double *)p = f->def; break;
        case VG_CONF_BOOL:   *(int *)p = f->def != 0; break;
        case VG_CONF_ENUM:   *(int *)p = (int)f->def; break;
        case VG_CONF_STRING:
            snprintf(p, (size_t)f->max, "%s", f->choices != NULL ? f->choices : "");
            break;
        }
    }
}

static int has_range(const vg_conf_field *f)
{
    return !(f->min == 0 && f->max == 0);
}

/* Checks and stores one value; on failure returns a static description of
 * what is wrong, or writes one into why[cap] and returns it. */
static const char *set_field(const vg_conf_field *f, const json_t *v, void *base,
                             char *why, size_t cap)
{
    void *p = field_ptr(base, f);
    switch (f->type) {
    case VG_CONF_INT:
    case VG_CONF_UINT32:
    case VG_CONF_DOUBLE: {
        if (!json_is_number(v))
            return "must be a number";
        double x = json_number_value(v);
        int whole = json_is_integer(v) || (x == floor(x) && fabs(x) < 0x1p63);
        if (f->type != VG_CONF_DOUBLE && !whole)
            return "must be a whole number";
        double lo = f->min, hi = f->max;
        if (f->type == VG_CONF_UINT32) {
            lo = has_range(f) && lo > 0 ? lo : 0;
            hi = has_range(f) && hi < UINT32_MAX ? hi : UINT32_MAX;
        }
        if ((has_range(f) || f->type == VG_CONF_UINT32) && (x < lo || x > hi)) {
            snprintf(why, cap, "must be between %.15g and %.15g", lo, hi);
            return why;
        }
        if (f->type == VG_CONF_INT)
            *(int64_t *)p = json_is_integer(v) ? json_integer_value(v) : (int64_t)x;
        else if (f->type == VG_CONF_UINT32)
            *(uint32_t *)p = (uint32_t)x;
        else
            *(double *)p = x;
        return NULL;
    }
    case VG_CONF_BOOL:
        if (!json_is_boolean(v))
            return "must be a boolean (true or false)";
        *(int *)p = json_is_true(v);
        return NULL;
    case VG_CONF_STRING:
        if (!json_is_string(v))
            return "must be a string";
        if (json_string_length(v) + 1 > (size_t)f->max) {
            snprintf(why, cap, "must be at most %.0f bytes long", f->max - 1);
            return why;
        }
        memcpy(p, json_string_value(v), json_string_length(v) + 1);
        return NULL;
    case VG_CONF_ENUM: {
        int i = json_is_string(v) ? choice_index(f->choices, json_string_value(v)) : -1;
        if (i < 0) {
            snprintf(why, cap, "must be one of %s", f->choices);
            return why;
        }
        *(int *)p = i;
        return NULL;
    }
    }
    return "has a field type this version does not know";
}

/* Edit distance, for "did you mean"; keys longer than 63 are never close. */
static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 63 || lb > 63)
        return SIZE_MAX;
    size_t row[64];
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

/* The known key closest to key, if it is close enough to be a typo. */
static const char *near_miss(const char *key, const vg_conf_field *fields, size_t n,
                             const char *const *also_allowed)
{
    const char *best = NULL;
    size_t best_d = strlen(key) < 4 ? 1 : 2;  /* short keys: one edit only */
    for (size_t i = 0; i < n; i++) {
        size_t d = edit_distance(key, fields[i].key);
        if (d <= best_d) {
            best = fields[i].key;
            best_d = d;
        }
    }
    for (size_t i = 0; also_allowed != NULL && also_allowed[i] != NULL; i++) {
        size_t d = edit_distance(key, also_allowed[i]);
        if (d <= best_d) {
            best = also_allowed[i];
            best_d = d;
        }
    }
    return best;
}

static int listed(const char *key, const char *const *keys)
{
    for (size_t i = 0; keys != NULL && keys[i] != NULL; i++) {
        if (strcmp(keys[i], key) == 0)
            return 1;
    }
    return 0;
}

static int apply(const vg_conf_doc *doc, const json_t *obj, const char *path,
                 const vg_conf_field *fields, size_t n, const char *const *also_allowed,
                 void *base, vg_error *err)
{
    char where[sizeof(err->where)];
    path = path != NULL ? path : "";
    if (obj == NULL)
        return VG_OK;
    if (!json_is_object(obj)) {
        where_of_value(doc, obj, where, sizeof(where));
        return vg_error_set_at(err, VG_ECONFIG, where, "%s: must be an object",
                               path[0] != '\0' ? path : "config");
    }

    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)obj, key, v) {
        const vg_conf_field *f = NULL;
        for (size_t i = 0; i < n && f == NULL; i++)
            f = strcmp(fields[i].key, key) == 0 ? &fields[i] : NULL;
        if (f == NULL && listed(key, also_allowed))
            continue;

        const char *why = NULL;
        char detail[96];
        if (f == NULL) {
            const char *guess = near_miss(key, fields, n, also_allowed);
            snprintf(detail, sizeof(detail), "unknown key \"%.24s\"%s%.24s%s", key,
                     guess ? ", did you mean \"" : "", guess ? guess : "",
                     guess ? "\"?" : "");
            why = detail;
        } else {
            why = set_field(f, v, base, detail, sizeof(detail));
        }
        if (why != NULL) {
            vg_conf_where(doc, obj, key, 0, where, sizeof(where));
            return vg_error_set_at(err, VG_ECONFIG, where, "%s%s%s: %s", path,
                                   path[0] != '\0' ? "." : "", key, why);
        }
    }
    return VG_OK;
}

int vg_conf_apply(const vg_conf_doc *doc, const json_t *obj, const char *path,
                  const vg_conf_field *fields, size_t n,
                  const char *const *also_allowed, void *base, vg_error *err)
{
    vg_conf_defaults(fields, n, base);
    return apply(doc, obj, path, fields, n, also_allowed, base, err);
}

int vg_conf_apply_over(const vg_conf_doc *doc, const json_t *obj, const char *path,
                       const vg_conf_field *fields, size_t n,
                       const char *const *also_allowed, void *base, vg_error *err)
{
    return apply(doc, obj, path, fields, n, also_allowed, base, err);
}

static void describe_default(const vg_conf_field *f, char *out, size_t cap)
{
    size_t len;
    const char *c;
    switch (f->type) {
    case VG_CONF_BOOL:
        snprintf(out, cap, "%s", f->def != 0 ? "true" : "false");
        break;
    case VG_CONF_STRING:
        snprintf(out, cap, "\"%s\"", f->choices != NULL ? f->choices : "");
        break;
    case VG_CONF_ENUM:
        c = choice_at(f->choices, (int)f->def, &len);
        snprintf(out, cap, "%.*s", (int)len, c);
        break;
    default:
        snprintf(out, cap, "%.15g", f->def);
        break;
    }
}

static void describe_range(const vg_conf_field *f, char *out, size_t cap)
{
    switch (f->type) {
    case VG_CONF_BOOL:
        snprintf(out, cap, "true|false");
        break;
    case VG_CONF_STRING:
        snprintf(out, cap, "< %.0f bytes", f->max);
        break;
    case VG_CONF_ENUM:
        snprintf(out, cap, "%s", f->choices);
        break;
    default:
        if (has_range(f))
            snprintf(out, cap, "%.15g..%.15g", f->min, f->max);
        else
            snprintf(out, cap, "any");
        break;
    }
}

void vg_conf_describe(const vg_conf_field *fields, size_t n, const char *path, void *file)
{
    static const char *const type_names[] = {
        [VG_CONF_INT] = "integer", [VG_CONF_UINT32] = "integer",
        [VG_CONF_DOUBLE] = "number", [VG_CONF_BOOL] = "boolean",
        [VG_CONF_STRING] = "string", [VG_CONF_ENUM] = "choice",
    };
    FILE *out = file;
    for (size_t i = 0; i < n; i++) {
        const vg_conf_field *f = &fields[i];
        char key[96], def[64], range[96];
        snprintf(key, sizeof(key), "%s%s%s", path != NULL ? path : "",
                 path != NULL && path[0] != '\0' ? "." : "", f->key);
        describe_default(f, def, sizeof(def));
        describe_range(f, range, sizeof(range));
        fprintf(out, "%-32s %-8s %-12s %-20s %s\n", key, type_names[f->type], def, range,
                f->help != NULL ? f->help : "");
    }
}

void vg_conf_dump(const vg_conf_field *fields, size_t n, const void *base, const char *path,
                  void *file)
{
    FILE *out = file;
    const char *b = base;
    for (size_t i = 0; i < n; i++) {
        const vg_conf_field *f = &fields[i];
        const char *at = b + f->offset;
        fprintf(out, "  %s%s%s = ", path, path[0] ? "." : "", f->key);
        switch (f->type) {
        case VG_CONF_INT:
            fprintf(out, "%lld\n", (long long)*(const int64_t *)(const void *)at);
            break;
        case VG_CONF_UINT32:
            fprintf(out, "%u\n", *(const uint32_t *)(const void *)at);
            break;
        case VG_CONF_DOUBLE:
            fprintf(out, "%.15g\n", *(const double *)(const void *)at);
            break;
        case VG_CONF_BOOL:
            fprintf(out, "%s\n", *(const int *)(const void *)at ? "true" : "false");
            break;
        case VG_CONF_STRING:
            fprintf(out, "\"%s\"\n", at);
            break;
        case VG_CONF_ENUM: {
            size_t len;
            const char *c = choice_at(f->choices, *(const int *)(const void *)at, &len);
            fprintf(out, "%.*s\n", (int)len, c);
            break;
        }
        }
    }
}
