/* Table-driven validation of config objects; see config_table.h.
 *
 * A numeric field whose min and max are both 0 has no range. */
#include "core/config_table.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

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
        case VG_CONF_OBJECT:
        case VG_CONF_ARRAY:  *(const json_t **)p = NULL; break;
        case VG_CONF_TEXT:   *(const char **)p = NULL; break;
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
    case VG_CONF_OBJECT:
    case VG_CONF_ARRAY:
        if (f->type == VG_CONF_OBJECT ? !json_is_object(v) : !json_is_array(v))
            return f->type == VG_CONF_OBJECT ? "must be an object" : "must be an array";
        *(const json_t **)p = v;
        return NULL;
    case VG_CONF_TEXT:
        if (!json_is_string(v))
            return "must be a string";
        *(const char **)p = json_string_value(v);
        return NULL;
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
        vg_conf_where_value(doc, obj, where, sizeof(where));
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
    case VG_CONF_OBJECT:
    case VG_CONF_ARRAY:
    case VG_CONF_TEXT:
        snprintf(out, cap, "none");
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
    case VG_CONF_OBJECT:
    case VG_CONF_ARRAY:
    case VG_CONF_TEXT:
        snprintf(out, cap, "-");
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
        [VG_CONF_OBJECT] = "object", [VG_CONF_ARRAY] = "array",
        [VG_CONF_TEXT] = "string",
    };
    FILE *out = file;
    for (size_t i = 0; i < n; i++) {
        const vg_conf_field *f = &fields[i];
        char key[96], def[64], range[256];
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
        case VG_CONF_OBJECT:
        case VG_CONF_ARRAY: {
            /* Sub-objects are dumped by the tables that read them. */
            const json_t *v = *(const json_t *const *)(const void *)at;
            fprintf(out, "%s\n", v == NULL ? "none" : f->type == VG_CONF_OBJECT ? "{...}"
                                                                                : "[...]");
            break;
        }
        case VG_CONF_TEXT: {
            const char *text = *(const char *const *)(const void *)at;
            if (text == NULL)
                fprintf(out, "none\n");
            else
                fprintf(out, "\"%s\"\n", text);
            break;
        }
        }
    }
}
