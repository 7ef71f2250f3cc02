/* Table-driven validation of config objects.
 *
 * Each module describes its options in one vg_conf_field table (key, type,
 * offset, default, range, help); vg_conf_apply fills a params struct from
 * defaults and then from one JSON object of a document (core/config_doc.h),
 * rejecting unknown keys with the key's file:line:column. The same table
 * prints the reference (vg_conf_describe) and effective values
 * (vg_conf_dump). */
#ifndef VG_CORE_CONFIG_TABLE_H
#define VG_CORE_CONFIG_TABLE_H

#include <jansson.h>
#include <stddef.h>

#include "core/config_doc.h"
#include "core/error.h"

typedef enum vg_conf_type {
    VG_CONF_INT,     /* int64_t, whole JSON number */
    VG_CONF_UINT32,  /* uint32_t */
    VG_CONF_DOUBLE,  /* double, JSON integer or real */
    VG_CONF_BOOL,    /* int, JSON true/false */
    VG_CONF_STRING,  /* char[max], max = buffer size incl. NUL */
    VG_CONF_ENUM,    /* int: index into `choices` ("max|mean|vote") */
    VG_CONF_OBJECT,  /* const json_t *, borrowed from the document (NULL when
                        absent): a sub-object another table or module reads */
    VG_CONF_ARRAY,   /* const json_t *, as OBJECT, for an array */
    VG_CONF_TEXT,    /* const char *, borrowed from the document (NULL when
                        absent): a string of any length kept as written */
} vg_conf_type;

typedef struct vg_conf_field {
    const char  *key;
    vg_conf_type type;
    size_t       offset;   /* into the params struct */
    double       def;      /* numbers, bools, enum index */
    double       min, max; /* inclusive range; STRING: max = buffer size */
    const char  *choices;  /* ENUM: '|'-separated; STRING: default text */
    const char  *help;
} vg_conf_field;

/* Writes each field's default into base. */
void vg_conf_defaults(const vg_conf_field *fields, size_t n, void *base);

/* Applies defaults, then the members of obj (NULL-able: defaults only).
 * `path` prefixes key names in messages ("detectors.zscore"). Rejects a
 * non-object, an unknown key (unless listed in `also_allowed`, a NULL-
 * terminated array of keys another module reads, NULL-able), a wrong type or
 * an out-of-range value, naming the key and its position. */
int vg_conf_apply(const vg_conf_doc *doc, const json_t *obj, const char *path,
                  const vg_conf_field *fields, size_t n,
                  const char *const *also_allowed, void *base, vg_error *err);

/* As vg_conf_apply without the defaults: only the keys present in obj
 * change base (what a rule overriding a few top-level settings needs). On
 * error, base may hold some of the new values. */
int vg_conf_apply_over(const vg_conf_doc *doc, const json_t *obj, const char *path,
                       const vg_conf_field *fields, size_t n,
                       const char *const *also_allowed, void *base, vg_error *err);

/* Prints the effective values in base, one `path.key = value` per line. */
void vg_conf_dump(const vg_conf_field *fields, size_t n, const void *base, const char *path,
                  void *file /* FILE* */);

/* Prints the table as reference text (key, type, default, range, help). */
void vg_conf_describe(const vg_conf_field *fields, size_t n, const char *path,
                      void *file /* FILE* */);

#define VG_CONF_COUNT(table) (sizeof(table) / sizeof((table)[0]))

#endif
