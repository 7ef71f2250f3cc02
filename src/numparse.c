/* Decimal number parsing; see numparse.h for the fast path and why it is
 * exact. */
#include "src/numparse.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "src/error.h"

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

/* strtod on a NUL-terminated copy of text already known to be valid. */
static int parse_slow(const char *s, size_t len, double *out)
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

int vg_num_parse(const char *s, size_t len, double *out)
{
    size_t i = 0;
    int neg = 0;
    if (len > 0 && (s[0] == '-' || s[0] == '+')) {
        neg = s[0] == '-';
        i = 1;
    }
    if (i < len && !is_digit(s[i]) && s[i] != '.')
        return parse_word(s + i, len - i, neg, out);

    uint64_t mant = 0;
    int sig = 0;        /* significant digits kept in mant (max 19) */
    int dropped = 0;    /* significant digits beyond those: slow path */
    int64_t exp10 = 0;
    size_t digits = 0;
    for (; i < len && is_digit(s[i]); i++, digits++) {
        if (sig < 19) {
            mant = mant * 10 + (uint64_t)(s[i] - '0');
            sig += mant != 0;
        } else {
            dropped = 1;
        }
    }
    if (i < len && s[i] == '.') {
        for (i++; i < len && is_digit(s[i]); i++, digits++) {
            if (sig < 19) {
                mant = mant * 10 + (uint64_t)(s[i] - '0');
                sig += mant != 0;
                exp10--;
            } else {
                dropped = 1;
            }
        }
    }
    if (digits == 0)
        return VG_EPARSE;
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        int eneg = 0;
        if (i < len && (s[i] == '-' || s[i] == '+'))
            eneg = s[i++] == '-';
        size_t estart = i;
        int64_t e = 0;
        for (; i < len && is_digit(s[i]); i++)
            if (e < 100000)   /* far past any double: keep it from overflowing */
                e = e * 10 + (s[i] - '0');
        if (i == estart)
            return VG_EPARSE;
        exp10 += eneg ? -e : e;
    }
    if (i != len)
        return VG_EPARSE;

    if (mant == 0 && !dropped) {
        *out = neg ? -0.0 : 0.0;
        return VG_OK;
    }
    if (!dropped && sig <= 15 && exp10 >= -22 && exp10 <= 22) {
        double v = (double)mant;
        v = exp10 < 0 ? v / exact_pow10[-exp10] : v * exact_pow10[exp10];
        *out = neg ? -v : v;
        return VG_OK;
    }
    return parse_slow(s, len, out);
}
