/* Config documents with positions; see config_doc.h.
 *
 * jansson parses (and rejects duplicate keys); then a small scanner walks
 * the same text alongside the tree, in the tree's order (jansson keeps
 * object members in insertion order, which is text order), recording where
 * each object key and array element starts. Lines and columns are 1-based
 * and columns count characters, not bytes, as jansson's own do. The side
 * table is a small open-addressing hash keyed by (parent, key or index).
 * If the scan ever disagrees with the tree it stops: later lookups fall
 * back to the document name, never to a wrong position. */
#include "core/config_doc.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/grow.h"
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
    conf_pos *pos = vg_grow(doc->pos, &doc->cap_pos, doc->n_pos, sizeof(*pos), 64);
    if (pos == NULL)
        return VG_ENOMEM;
    doc->pos = pos;
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

/* A linear search: only ever on an error path. */
void vg_conf_where_value(const vg_conf_doc *doc, const json_t *v, char *out, size_t cap)
{
    for (size_t i = 0; doc != NULL && i < doc->n_pos; i++) {
        if (doc->pos[i].value == v) {
            format_where(out, cap, doc->name, doc->pos[i].line, doc->pos[i].col);
            return;
        }
    }
    snprintf(out, cap, "%s", doc != NULL ? doc->name : "config");
}
