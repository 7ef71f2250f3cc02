/* Canonical series keys; see series_key.h. */
#include "core/series_key.h"

#include <string.h>

#include "core/error.h"

uint64_t vg_hash64(const void *bytes, size_t len, uint64_t seed)
{
    const unsigned char *p = bytes;
    uint64_t h = 0xcbf29ce484222325ULL ^ seed;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    /* FNV-1a mixes the low bits poorly; a murmur3 finaliser fixes that so
     * the low bits can index a power-of-two table. */
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

static int label_cmp(const vg_label *a, const vg_label *b)
{
    size_t n = a->name_len < b->name_len ? a->name_len : b->name_len;
    int c = memcmp(a->name, b->name, n);
    if (c != 0)
        return c;
    return (a->name_len > b->name_len) - (a->name_len < b->name_len);
}

typedef struct key_out {
    char  *buf;
    size_t cap, len;
    int    overflow;
} key_out;

static void put(key_out *o, const char *s, size_t n)
{
    if (o->len + n + 1 > o->cap) {
        o->overflow = 1;
        return;
    }
    memcpy(o->buf + o->len, s, n);
    o->len += n;
}

static void put_escaped(key_out *o, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        switch (s[i]) {
        case '\\': put(o, "\\\\", 2); break;
        case '"':  put(o, "\\\"", 2); break;
        case '\n': put(o, "\\n", 2); break;
        default:   put(o, &s[i], 1); break;
        }
    }
}

int vg_series_key_build(char *out, size_t cap, const char *name, size_t name_len,
                        const vg_label *labels, size_t n)
{
    if (name_len == 0)
        return VG_EPARSE;
    if (n > VG_MAX_LABELS || cap == 0)
        return VG_ERANGE;

    /* Insertion sort of pointers: label sets are small. */
    const vg_label *sorted[VG_MAX_LABELS];
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (labels[i].value_len == 0)
            continue;
        size_t j = m++;
        while (j > 0 && label_cmp(sorted[j - 1], &labels[i]) > 0) {
            sorted[j] = sorted[j - 1];
            j--;
        }
        sorted[j] = &labels[i];
    }

    key_out o = {out, cap, 0, 0};
    put(&o, name, name_len);
    if (m > 0) {
        put(&o, "{", 1);
        for (size_t i = 0; i < m; i++) {
            if (i > 0)
                put(&o, ",", 1);
            put(&o, sorted[i]->name, sorted[i]->name_len);
            put(&o, "=\"", 2);
            put_escaped(&o, sorted[i]->value, sorted[i]->value_len);
            put(&o, "\"", 1);
        }
        put(&o, "}", 1);
    }
    if (o.overflow)
        return VG_ERANGE;
    out[o.len] = '\0';
    return (int)o.len;
}

int vg_series_key_split(const char *key, size_t len, size_t *name_len,
                        vg_label *labels, size_t max_labels,
                        char *scratch, size_t scratch_cap)
{
    const char *brace = memchr(key, '{', len);
    if (brace == NULL) {
        *name_len = len;
        return len > 0 ? 0 : VG_EPARSE;
    }
    *name_len = (size_t)(brace - key);
    if (*name_len == 0 || key[len - 1] != '}')
        return VG_EPARSE;

    size_t i = *name_len + 1, end = len - 1, n = 0, used = 0;
    while (i < end) {
        size_t name_start = i;
        while (i < end && key[i] != '=')
            i++;
        if (i + 1 >= end || key[i + 1] != '"' || i == name_start)
            return VG_EPARSE;
        if (n == max_labels)
            return VG_ERANGE;
        vg_label *l = &labels[n++];
        l->name = key + name_start;
        l->name_len = i - name_start;
        i += 2;
        l->value = scratch + used;
        size_t vstart = used;
        for (;;) {
            if (i >= end)
                return VG_EPARSE;
            char c = key[i++];
            if (c == '"')
                break;
            if (c == '\\') {
                if (i >= end)
                    return VG_EPARSE;
                c = key[i++];
                c = c == 'n' ? '\n' : c;
            }
            if (used + 1 >= scratch_cap)
                return VG_ERANGE;
            scratch[used++] = c;
        }
        l->value_len = used - vstart;
        if (i < end) {
            if (key[i] != ',')
                return VG_EPARSE;
            i++;
        }
    }
    return (int)n;
}
