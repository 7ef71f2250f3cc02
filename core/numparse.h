/* Decimal number text -> double, fast and correctly rounded.
 *
 * Readers of metric text (CSV rows, message payloads) parse one number per
 * point, so the common shapes (`123.456`, `-1.5e-05`, `10844`) take a fast
 * path: when the digits, read as an integer, are at most 2^53 (so every
 * number of up to 15 significant digits) and the decimal exponent is within
 * +-22, the mantissa and the power of ten are both exact doubles and one
 * IEEE multiply or divide gives the correctly rounded result (Clinger's fast
 * path). Anything else (more digits, large exponents) goes to strtod, so
 * every input round-trips exactly as strtod would read it. The syntax is
 * checked here first, so strtod never sees hex floats or trailing text.
 * strtod reads the C locale's decimal point; vigil never calls setlocale. */
#ifndef VG_CORE_NUMPARSE_H
#define VG_CORE_NUMPARSE_H

#include <stddef.h>

/* Parses all of s[len] (need not be NUL-terminated):
 *   [+-] digits [. [digits]] [(e|E) [+-] digits]   or   [+-] . digits [exponent]
 *   [+-] (nan | inf | infinity), any case
 * Returns 0 with *out set (NaN or +-Inf for those words, +-Inf when the
 * value overflows, 0 on underflow: callers decide whether to accept them),
 * or VG_EPARSE with *out untouched for empty text, spaces, or anything
 * else (VG_ENOMEM only if a number over 127 characters cannot be copied).
 * Thread-safe. */
int vg_num_parse(const char *s, size_t len, double *out);

#endif
