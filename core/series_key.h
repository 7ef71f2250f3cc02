/* Series keys: the metric name plus its labels in canonical order,
 * `name{a="x",b="y"}` with labels sorted by name and values escaped as in
 * Prometheus (\\, \", \n). Two points with the same name and label set get
 * byte-identical keys whatever order their labels arrived in. */
#ifndef VG_CORE_SERIES_KEY_H
#define VG_CORE_SERIES_KEY_H

#include <stddef.h>
#include <stdint.h>

#define VG_MAX_LABELS 32

typedef struct vg_label {
    const char *name;
    size_t      name_len;
    const char *value;
    size_t      value_len;
} vg_label;

/* Writes the canonical key of name + labels[n] into out[cap], NUL-terminated.
 * Labels with an empty value are left out (as in Prometheus). Returns the
 * key length, or VG_ERANGE when it does not fit or n > VG_MAX_LABELS,
 * VG_EPARSE when the name is empty. */
int vg_series_key_build(char *out, size_t cap, const char *name, size_t name_len,
                        const vg_label *labels, size_t n);

/* Splits a canonical key back into its name and labels. Label views point
 * into the key for names and into scratch[scratch_cap] for unescaped values.
 * Returns the label count, or VG_EPARSE / VG_ERANGE. A key without braces is
 * a bare name with no labels. */
int vg_series_key_split(const char *key, size_t len, size_t *name_len,
                        vg_label *labels, size_t max_labels,
                        char *scratch, size_t scratch_cap);

/* 64-bit hash of bytes (FNV-1a with a final avalanche); seed 0 for keys. */
uint64_t vg_hash64(const void *bytes, size_t len, uint64_t seed);

#endif
