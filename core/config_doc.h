/* Config documents: the parsed JSON plus the line and column of every
 * object key and array element, so an error about a value can say where it
 * is: `vigil.json:12:7: detectors.zscore.window: must be between 8 and
 * 65536`. jansson's tree has no positions, so vg_conf_doc_* re-scans the
 * text in the same order as the tree (duplicate keys are rejected, so the
 * two walks agree) and keeps a side table keyed by (parent node, key or
 * index). */
#ifndef VG_CORE_CONFIG_DOC_H
#define VG_CORE_CONFIG_DOC_H

#include <jansson.h>
#include <stddef.h>

#include "core/error.h"

typedef struct vg_conf_doc vg_conf_doc;

/* Returns a new document parsed from a file (name used in messages), or NULL
 * with err->where = "file:line:col". Free with vg_conf_doc_free(). */
vg_conf_doc *vg_conf_doc_load_file(const char *path, vg_error *err);
/* As above from a string; `name` is used in messages (e.g. "<inline>"). */
vg_conf_doc *vg_conf_doc_load_string(const char *text, const char *name, vg_error *err);
void vg_conf_doc_free(vg_conf_doc *doc);

/* The root value (borrowed, valid until vg_conf_doc_free). */
json_t *vg_conf_doc_root(const vg_conf_doc *doc);

/* Writes "name:line:col" of the member `key` of object `parent` (or of
 * element `index` of array `parent` when key is NULL) into out. Falls back
 * to the document name alone when unknown. doc may be NULL ("config"). */
void vg_conf_where(const vg_conf_doc *doc, const json_t *parent, const char *key,
                   size_t index, char *out, size_t cap);

/* Writes "name:line:col" of where the value v itself starts (for "must be
 * an object"), or the document name when unknown. A linear search: for
 * error paths only. doc may be NULL ("config"). */
void vg_conf_where_value(const vg_conf_doc *doc, const json_t *v, char *out, size_t cap);

#endif
