/* Decimal number parsing; see numparse.h for the fast path and why it is
 * exact. */
#include "core/numparse.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/error.h"

/* Every power of ten up to 1e22 is exactly representable as a double. */
static const double exact_pow10[23] = {
    1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

static inline int is_digit(char c)
{
    return (unsigned char)(c - '0') < 10;
}

static int parse_word(const char *s, size_t len, int neg, double *out)
{
    if ((len == 3 && strncasecmp(s, "nan", 3) == 0)) {
        *out = neg ? -NAN : NAN;
        return VG_OK;
    }
    if ((len == 3 && strncasecmp(s, "inf", 3) == 0) ||
        (len == 8 && strncasecmp(s, "infinity", 8) == 0)) {
        *out = neg ? -INFINITY : INFINITY;
        return VG_OK;
    }
    return VG_EPARSE;
}

/* strtod on a NUL-terminated copy of text already known to be valid; out
 * of line so the fast path keeps a small stack frame. */
__attribute__((noinline)) static int parse_slow(const char *s, size_t len, double *out)
{
    char small[128];
    char *buf = len < sizeof(small) ? small : malloc(len + 1);
    if (buf == NULL)
        return VG_ENOMEM;
    memcpy(buf, s, len);
    buf[len] = '\0';
    *out = strtod(buf, NULL);
    if (buf != small)
        free(buf);
    return VG_OK;
}

/* Skips leading zeros (and a decimal point among them) from p; used only to
 * count significant digits when there are more than 19 digits in all. */
static size_t significant(const char *p, const char *e, size_t ndigits)
{
    for (; p < e && (*p == '0' || *p == '.'); p++)
        ndigits -= *p == '0';
    return ndigits;
}

int vg_num_parse(const char *s, size_t len, double *out)
{
    const char *p = s, *e = s + len;
    int neg = 0;
    if (p < e && (*p == '-' || *p == '+'))
        neg = *p++ == '-';
    if (p < e && !is_digit(*p) && *p != '.')
        return parse_word(p, (size_t)(e - p), neg, out);

    /* All digits go into mant; more than 19 significant ones would wrap it,
     * so those take the slow path. */
    const char *digits = p;
    uint64_t mant = 0;
    for (; p < e && is_digit(*p); p++)
        mant = mant * 10 + (uint64_t)(*p - '0');
    size_t ndigits = (size_t)(p - digits);
    int64_t exp10 = 0;
    if (p < e && *p == '.') {
        const char *frac = ++p;
        for (; p < e && is_digit(*p); p++)
            mant = mant * 10 + (uint64_t)(*p - '0');
        exp10 = -(int64_t)(p - frac);
        ndigits += (size_t)(p - frac);
    }
    if (ndigits == 0)
        return VG_EPARSE;
    if (p < e && (*p == 'e' || *p == 'E')) {
        p++;
        int eneg = 0;
        if (p < e && (*p == '-' || *p == '+'))
            eneg = *p++ == '-';
        const char *estart = p;
        int64_t x = 0;
        for (; p < e && is_digit(*p); p++)
            if (x < 100000)   /* far past any double: keep it from overflowing */
                x = x * 10 + (*p - '0');
        if (p == estart)
            return VG_EPARSE;
        exp10 += eneg ? -x : x;
    }
    if (p != e)
        return VG_EPARSE;

    /* Clinger's fast path: mant and 10^|exp10| are exact doubles, so one
     * rounding gives the correctly rounded result. */
    if ((ndigits <= 19 || significant(digits, e, ndigits) <= 19) &&
        mant <= (1ULL << 53) && exp10 >= -22 && exp10 <= 22) {
        double v = (double)mant;
        v = exp10 < 0 ? v / exact_pow10[-exp10] : v * exact_pow10[exp10];
        *out = neg ? -v : v;
        return VG_OK;
    }
    return parse_slow(s, len, out);
}
