/* Fast number formatting for the hot output paths (scores files), where
 * printf's "%.17g" would cost more than scoring the point. */
#ifndef VG_CORE_NUMFMT_H
#define VG_CORE_NUMFMT_H

#include <stddef.h>

/* Writes x with at most `sig` (1..15) significant digits, trailing zeros
 * trimmed, like printf("%.*g") (exponent form for very large or small
 * magnitudes); NaN writes nothing. out must hold 32 bytes. Returns length. */
size_t vg_fmt_sig(char *out, double x, int sig);

/* Writes a score in [0,1] with 15 decimals, trailing zeros trimmed, so
 * scores near 1 keep their order in text. out must hold 32 bytes. */
size_t vg_fmt_score(char *out, double s);

/* Writes a signed integer; out must hold 21 bytes. Returns length. */
size_t vg_fmt_i64(char *out, long long v);

#endif
