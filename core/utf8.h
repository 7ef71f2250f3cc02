/* UTF-8 validation, shared by everything that must refuse other bytes
 * (series keys from the parsers, Prometheus label values). */
#ifndef VG_CORE_UTF8_H
#define VG_CORE_UTF8_H

#include <stddef.h>

/* Whether s[len] is valid UTF-8: no overlong forms, surrogates, code
 * points above U+10FFFF, stray or missing continuation bytes. */
int vg_utf8_valid(const char *s, size_t len);

#endif
