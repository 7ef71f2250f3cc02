/* Loading NAB-style label windows (see labels.h).
 *
 * The whole file is parsed with jansson, checked, and copied into flat
 * arrays so lookups never touch JSON again. The timestamp parser here only
 * knows the label format (a full date and time, optional fraction); it is
 * kept private so that the CSV reader's parser stays the one public one. */
#include "src/labels.h"

#include <ctype.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct label_entry {
    char            *key;
    vg_label_window *w;
    size_t           n;
} label_entry;

struct vg_labels {
    label_entry *entries;
    size_t       n;
};

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * days_from_civil). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int days_in_month(int y, int m)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 ? 28 + leap : days[m - 1];
}

/* Reads exactly `width` digits at *p into *out and advances *p. */
static int read_digits(const char **p, int width, int *out)
{
    int v = 0;
    for (int i = 0; i < width; i++) {
        if (!isdigit((unsigned char)(*p)[i]))
            return -1;
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += width;
    *out = v;
    return 0;
}

/* "YYYY-MM-DD HH:MM:SS[.f...][Z]" ('T' may replace the space) to epoch ms,
 * UTC. The fraction may have 1 to 9 digits; below a millisecond it is
 * truncated. Returns 0, or -1 if the text is not exactly that. */
static int parse_time(const char *s, int64_t *ms)
{
    const char *p = s;
    int y, mo, d, h, mi, sec;
    if (read_digits(&p, 4, &y) || *p++ != '-' || read_digits(&p, 2, &mo) ||
        *p++ != '-' || read_digits(&p, 2, &d) || (*p != ' ' && *p != 'T'))
        return -1;
    p++;
    if (read_digits(&p, 2, &h) || *p++ != ':' || read_digits(&p, 2, &mi) ||
        *p++ != ':' || read_digits(&p, 2, &sec))
        return -1;
    if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 ||
        mi > 59 || sec > 59)
        return -1;
    int frac_ms = 0;
    if (*p == '.') {
        p++;
        int digits = 0;
        while (isdigit((unsigned char)*p) && digits < 9) {
            if (digits < 3)
                frac_ms = frac_ms * 10 + (*p - '0');
            digits++;
            p++;
        }
        if (digits == 0)
            return -1;
        for (int i = digits; i < 3; i++)
            frac_ms *= 10;
    }
    if (*p == 'Z')
        p++;
    if (*p != '\0')
        return -1;
    int64_t secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
    *ms = secs * 1000 + frac_ms;
    return 0;
}

/* One window end from JSON: a timestamp string or an epoch number. */
static int parse_end(const json_t *v, int64_t *ms)
{
    if (json_is_string(v))
        return parse_time(json_string_value(v), ms);
    if (!json_is_number(v))
        return -1;
    double x = json_number_value(v);
    if (!isfinite(x) || fabs(x) >= 9.0e15)   /* beyond int64 ms range once scaled */
        return -1;
    *ms = fabs(x) < 1e11 ? (int64_t)llround(x * 1000.0) : (int64_t)llround(x);
    return 0;
}

static int window_cmp(const void *a, const void *b)
{
    const vg_label_window *x = a, *y = b;
    return (x->start_ms > y->start_ms) - (x->start_ms < y->start_ms);
}

/* Fills e from one key's JSON list; errors name the key and the index. */
static int parse_entry(label_entry *e, const char *key, const json_t *list,
                       const char *name, vg_error *err)
{
    if (!json_is_array(list))
        return vg_error_set_at(err, VG_EPARSE, name,
                               "\"%s\": expected a list of [start, end] windows", key);
    e->n = json_array_size(list);
    if (e->n > 0) {
        e->w = calloc(e->n, sizeof(*e->w));
        if (e->w == NULL)
            return vg_error_set(err, VG_ENOMEM, "%zu label windows", e->n);
    }
    for (size_t i = 0; i < e->n; i++) {
        const json_t *pair = json_array_get(list, i);
        if (!json_is_array(pair) || json_array_size(pair) != 2)
            return vg_error_set_at(err, VG_EPARSE, name,
                                   "\"%s\"[%zu]: expected [start, end]", key, i);
        for (size_t j = 0; j < 2; j++) {
            int64_t *end = j == 0 ? &e->w[i].start_ms : &e->w[i].end_ms;
            if (parse_end(json_array_get(pair, j), end) != 0)
                return vg_error_set_at(err, VG_EPARSE, name,
                                       "\"%s\"[%zu][%zu]: expected \"YYYY-MM-DD HH:MM:SS[.ffffff]\" "
                                       "or an epoch number", key, i, j);
        }
        if (e->w[i].end_ms < e->w[i].start_ms)
            return vg_error_set_at(err, VG_EPARSE, name,
                                   "\"%s\"[%zu]: window ends before it starts", key, i);
    }
    if (e->n > 1)
        qsort(e->w, e->n, sizeof(*e->w), window_cmp);
    for (size_t i = 1; i < e->n; i++)
        if (e->w[i].start_ms <= e->w[i - 1].end_ms)
            return vg_error_set_at(err, VG_EPARSE, name,
                                   "\"%s\": windows overlap (merge them)", key);
    e->key = strdup(key);
    if (e->key == NULL)
        return vg_error_set(err, VG_ENOMEM, "label key");
    return 0;
}

/* Builds the set from a parsed document (borrowed). */
static vg_labels *labels_from_json(const json_t *root, const char *name,
                                   vg_error *err)
{
    if (!json_is_object(root)) {
        vg_error_set_at(err, VG_EPARSE, name,
                        "expected an object mapping file keys to window lists");
        return NULL;
    }
    vg_labels *l = calloc(1, sizeof(*l));
    if (l == NULL)
        goto out_nomem;
    size_t n = json_object_size(root);
    if (n > 0) {
        l->entries = calloc(n, sizeof(*l->entries));
        if (l->entries == NULL)
            goto out_free_labels;
    }
    const char *key;
    const json_t *list;
    json_object_foreach((json_t *)root, key, list) {
        /* Counted before parsing so a half-filled entry is freed too. */
        label_entry *e = &l->entries[l->n++];
        if (parse_entry(e, key, list, name, err) != 0) {
            vg_labels_free(l);
            return NULL;
        }
    }
    return l;

out_free_labels:
    free(l);
out_nomem:
    vg_error_set(err, VG_ENOMEM, "label set");
    return NULL;
}

/* jansson's error as "name:line:col"; a long name loses its head, not the
 * position. */
static void set_json_error(vg_error *err, const char *name, const json_error_t *je)
{
    char pos[32], where[sizeof(err->where)];
    int pos_len = snprintf(pos, sizeof(pos), ":%d:%d", je->line, je->column);
    size_t room = sizeof(where) - 1 - (size_t)pos_len;
    size_t name_len = strlen(name);
    if (name_len > room)
        snprintf(where, sizeof(where), "...%s%s", name + name_len - (room - 3), pos);
    else
        snprintf(where, sizeof(where), "%s%s", name, pos);
    vg_error_set_at(err, VG_EPARSE, where, "%s", je->text);
}

vg_labels *vg_labels_parse(const char *text, size_t len, const char *name,
                           vg_error *err)
{
    if (name == NULL)
        name = "labels";
    json_error_t je;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (root == NULL) {
        set_json_error(err, name, &je);
        return NULL;
    }
    vg_labels *l = labels_from_json(root, name, err);
    json_decref(root);
    return l;
}

vg_labels *vg_labels_load(const char *path, vg_error *err)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        vg_error_set_at(err, VG_EIO, path, "cannot open the labels file");
        return NULL;
    }
    json_error_t je;
    json_t *root = json_loadf(f, JSON_REJECT_DUPLICATES, &je);
    fclose(f);
    if (root == NULL) {
        set_json_error(err, path, &je);
        return NULL;
    }
    vg_labels *l = labels_from_json(root, path, err);
    json_decref(root);
    return l;
}

void vg_labels_free(vg_labels *l)
{
    if (l == NULL)
        return;
    for (size_t i = 0; i < l->n; i++) {
        free(l->entries[i].key);
        free(l->entries[i].w);
    }
    free(l->entries);
    free(l);
}

size_t vg_labels_count(const vg_labels *l)
{
    return l->n;
}

const char *vg_labels_key(const vg_labels *l, size_t i)
{
    vg_assert(i < l->n);
    return l->entries[i].key;
}

const vg_label_window *vg_labels_windows(const vg_labels *l, size_t i, size_t *n)
{
    vg_assert(i < l->n);
    *n = l->entries[i].n;
    return l->entries[i].w;
}

/* True when path is key or ends with "/" + key. */
static int key_matches(const char *path, size_t path_len, const char *key,
                       size_t key_len)
{
    if (key_len > path_len)
        return 0;
    const char *tail = path + path_len - key_len;
    if (memcmp(tail, key, key_len) != 0)
        return 0;
    return key_len == path_len || tail[-1] == '/';
}

int vg_labels_find(const vg_labels *l, const char *path,
                   const vg_label_window **windows, size_t *n)
{
    size_t path_len = strlen(path);
    const label_entry *best = NULL;
    size_t best_len = 0;
    for (size_t i = 0; i < l->n; i++) {
        size_t key_len = strlen(l->entries[i].key);
        if (key_len > 0 && (best == NULL || key_len > best_len) &&
            key_matches(path, path_len, l->entries[i].key, key_len)) {
            best = &l->entries[i];
            best_len = key_len;
        }
    }
    if (best == NULL)
        return VG_ENOTFOUND;
    *windows = best->w;
    *n = best->n;
    return 0;
}

size_t vg_labels_window_of(const vg_label_window *w, size_t n, int64_t ts)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (w[mid].end_ms < ts)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && w[lo].start_ms <= ts ? lo : n;
}
