/* Number formatting with integer arithmetic; see numfmt.h. */
#include "core/numfmt.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static const double pow10_table[] = {
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

/* floor(log10(ax)) for ax > 0: a table walk over the common range (it
 * costs less than log10 itself), log10 outside it. */
static int decimal_exponent(double ax)
{
    if (ax >= 1.0 && ax < 1e22) {
        int e = 0;
        while (e < 22 && ax >= pow10_table[e + 1])
            e++;
        return e;
    }
    if (ax < 1.0 && ax >= 1e-6) {
        int e = -1;
        while (ax * pow10_table[-e] < 1.0)
            e--;
        return e;
    }
    return (int)floor(log10(ax));
}

static const char digit_pairs[201] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

/* Writes the decimal digits of v, exactly `width` of them (zero-padded),
 * two at a time: the divisions are most of the cost. */
static void put_digits(char *out, uint64_t v, int width)
{
    int i = width;
    while (i >= 2) {
        unsigned pair = (unsigned)(v % 100);
        v /= 100;
        i -= 2;
        out[i] = digit_pairs[2 * pair];
        out[i + 1] = digit_pairs[2 * pair + 1];
    }
    if (i == 1)
        out[0] = (char)('0' + v % 10);
}

size_t vg_fmt_i64(char *out, long long v)
{
    char tmp[24];
    int n = 0;
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u > 0);
    size_t len = 0;
    if (v < 0)
        out[len++] = '-';
    while (n > 0)
        out[len++] = tmp[--n];
    out[len] = '\0';
    return len;
}

size_t vg_fmt_sig(char *out, double x, int sig)
{
    if (isnan(x)) {
        out[0] = '\0';
        return 0;
    }
    if (sig < 1)
        sig = 1;
    if (sig > 15)
        sig = 15;
    if (x == 0.0) {
        strcpy(out, "0");
        return 1;
    }
    double ax = fabs(x);
    int e = decimal_exponent(ax);
    /* Outside the plain-notation range, or where the scale would not be an
     * exact power of ten, printf is both right and rare. */
    int shift = sig - 1 - e;
    if (isinf(x) || e < -5 || e >= sig || shift > 22 || shift < 0) {
        int n = snprintf(out, 32, "%.*g", sig, x);
        return (size_t)n;
    }
    uint64_t scaled = (uint64_t)(ax * pow10_table[shift] + 0.5);
    if (scaled >= (uint64_t)pow10_table[sig]) {  /* rounding carried: 9.99.. -> 10.0 */
        scaled /= 10;
        e++;
        shift--;
        if (e >= sig)
            return (size_t)snprintf(out, 32, "%.*g", sig, x);
    }
    /* Trailing zeros of the digits are dropped before placing them, so
     * the fraction never needs trimming afterwards. */
    int ndig = sig;
    while (ndig > e + 1 && ndig > 1 && scaled % 10 == 0) {
        scaled /= 10;
        ndig--;
    }
    char digits[16];
    put_digits(digits, scaled, ndig);
    size_t n = 0;
    if (x < 0)
        out[n++] = '-';
    if (e >= 0) {
        memcpy(out + n, digits, (size_t)e + 1);
        n += (size_t)e + 1;
        if (e + 1 < ndig) {
            out[n++] = '.';
            memcpy(out + n, digits + e + 1, (size_t)(ndig - e - 1));
            n += (size_t)(ndig - e - 1);
        }
    } else {
        out[n++] = '0';
        out[n++] = '.';
        for (int i = 0; i < -e - 1; i++)
            out[n++] = '0';
        memcpy(out + n, digits, (size_t)ndig);
        n += (size_t)ndig;
    }
    out[n] = '\0';
    return n;
}

size_t vg_fmt_score(char *out, double s)
{
    if (isnan(s)) {
        out[0] = '\0';
        return 0;
    }
    if (s <= 0.0) {
        strcpy(out, "0");
        return 1;
    }
    if (s >= 1.0) {
        strcpy(out, "1");
        return 1;
    }
    uint64_t scaled = (uint64_t)(s * 1e15 + 0.5);
    if (scaled >= 1000000000000000ULL) {
        strcpy(out, "1");
        return 1;
    }
    out[0] = '0';
    out[1] = '.';
    put_digits(out + 2, scaled, 15);
    size_t n = 17;
    while (out[n - 1] == '0')
        n--;
    if (out[n - 1] == '.')
        n--;
    out[n] = '\0';
    return n;
}
