/* Timestamp parsing; see timeparse.h for the accepted forms and the rule
 * that picks the unit of an epoch number. */
#include "core/timeparse.h"

#include <math.h>

#include "core/error.h"

#define MS_PER_DAY 86400000LL

static inline int is_digit(char c)
{
    return (unsigned char)(c - '0') < 10;
}

/* The two digits at s as a number; a value over 65535 when either is not a
 * digit, so one range check later catches both. Branch-free: this runs
 * seven times per CSV row. */
#define NOT_DIGITS (1u << 16)
static inline unsigned two_digits(const char *s)
{
    unsigned a = (unsigned)(unsigned char)s[0] - '0', b = (unsigned)(unsigned char)s[1] - '0';
    return (a * 10 + b) | ((unsigned)(a > 9 || b > 9) << 16);
}

static inline int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;                                   /* [0, 399] */
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1; /* [0, 365] */
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;           /* [0, 146096] */
    return era * 146097 + doe - 719468;
}

int64_t vg_time_days_from_civil(int64_t y, int m, int d)
{
    return days_from_civil(y, m, d);
}

static int days_in_month(int y, int m)
{
    static const unsigned char days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))
        return 29;
    return days[m - 1];
}

/* The zone suffix at s[len] (len > 0): Z, +hh, +hhmm, +hh:mm. Sets the
 * offset east of UTC in ms. */
static int parse_zone(const char *s, size_t len, int64_t *offset_ms)
{
    if (len == 1 && (s[0] == 'Z' || s[0] == 'z')) {
        *offset_ms = 0;
        return 1;
    }
    if ((s[0] != '+' && s[0] != '-') || (len != 3 && len != 5 && len != 6) ||
        (len == 6 && s[3] != ':'))
        return 0;
    unsigned hh = two_digits(s + 1), mm = len == 3 ? 0 : two_digits(s + len - 2);
    if (hh > 23 || mm > 59)
        return 0;
    int64_t off = ((int64_t)hh * 60 + mm) * 60000;
    *offset_ms = s[0] == '-' ? -off : off;
    return 1;
}

static int parse_iso(const char *s, size_t len, int64_t *ts_ms)
{
    if (len < 10 || s[4] != '-' || s[7] != '-')
        return 0;
    unsigned y = two_digits(s) * 100 + two_digits(s + 2);
    unsigned mo = two_digits(s + 5), d = two_digits(s + 8);
    if (y > 9999 || mo - 1 >= 12 || d - 1 >= (unsigned)days_in_month((int)y, (int)mo))
        return 0;
    unsigned h = 0, mi = 0, sec = 0, ms = 0;
    size_t i = 10;
    if (i < len) {
        if ((s[i] != 'T' && s[i] != 't' && s[i] != ' ') || len - i < 6 || s[i + 3] != ':')
            return 0;
        h = two_digits(s + i + 1);
        mi = two_digits(s + i + 4);
        i += 6;
        if (i < len && s[i] == ':') {
            if (len - i < 3)
                return 0;
            sec = two_digits(s + i + 1);
            i += 3;
            if (i < len && (s[i] == '.' || s[i] == ',')) {
                size_t start = ++i;
                for (; i < len && is_digit(s[i]); i++)
                    if (i - start < 3)
                        ms = ms * 10 + (unsigned)(s[i] - '0');
                if (i == start)
                    return 0;
                for (size_t k = i - start; k < 3; k++)
                    ms *= 10;
            }
        }
        if (h > 23 || mi > 59 || sec > 59)
            return 0;
    }
    int64_t offset_ms = 0;
    if (i < len && !parse_zone(s + i, len - i, &offset_ms))
        return 0;
    *ts_ms = days_from_civil(y, (int)mo, (int)d) * MS_PER_DAY +
             ((int64_t)h * 3600 + mi * 60 + sec) * 1000 + ms - offset_ms;
    return 1;
}

/* Integer part thresholds: see the unit table in timeparse.h. */
static int unit_of(uint64_t mag)
{
    if (mag < 100000000000ULL)
        return VG_TIME_EPOCH_S;
    if (mag < 100000000000000ULL)
        return VG_TIME_EPOCH_MS;
    if (mag < 100000000000000000ULL)
        return VG_TIME_EPOCH_US;
    return VG_TIME_EPOCH_NS;
}

static int parse_epoch(const char *s, size_t len, int64_t *ts_ms, int *kind)
{
    size_t i = 0;
    int neg = 0;
    if (i < len && s[i] == '-') {
        neg = 1;
        i++;
    }
    size_t start = i;
    uint64_t mag = 0;
    for (; i < len && is_digit(s[i]); i++) {
        if (i - start >= 19)   /* beyond any int64 nanosecond count */
            return 0;
        mag = mag * 10 + (uint64_t)(s[i] - '0');
    }
    if (i == start || mag > (uint64_t)INT64_MAX)
        return 0;

    int unit = unit_of(mag);
    uint64_t ms, rest;   /* whole ms, and whether anything finer was dropped */
    switch (unit) {
    case VG_TIME_EPOCH_S:  ms = mag * 1000;    rest = 0;              break;
    case VG_TIME_EPOCH_MS: ms = mag;           rest = 0;              break;
    case VG_TIME_EPOCH_US: ms = mag / 1000;    rest = mag % 1000;     break;
    default:               ms = mag / 1000000; rest = mag % 1000000;  break;
    }
    if (i < len) {
        if (s[i] != '.')
            return 0;
        size_t fstart = ++i;
        /* the first three fraction digits of seconds are milliseconds */
        size_t ms_digits = unit == VG_TIME_EPOCH_S ? 3 : 0;
        uint64_t frac_ms = 0;
        for (; i < len && is_digit(s[i]); i++) {
            if (i - fstart < ms_digits)
                frac_ms = frac_ms * 10 + (uint64_t)(s[i] - '0');
            else
                rest |= (uint64_t)(s[i] != '0');
        }
        if (i == fstart || i != len)
            return 0;
        for (size_t k = i - fstart; k < ms_digits; k++)
            frac_ms *= 10;
        ms += frac_ms;
    }
    *ts_ms = neg ? -(int64_t)ms - (rest != 0) : (int64_t)ms;
    *kind = unit;
    return 1;
}

int vg_time_parse(const char *s, size_t len, int64_t *ts_ms, int *kind)
{
    int64_t t;
    int k;
    if (len >= 10 && s[4] == '-') {
        if (!parse_iso(s, len, &t))
            return VG_EPARSE;
        k = VG_TIME_ISO;
    } else if (!parse_epoch(s, len, &t, &k)) {
        return VG_EPARSE;
    }
    *ts_ms = t;
    if (kind != NULL)
        *kind = k;
    return VG_OK;
}

int vg_time_from_epoch_double(double v, int64_t *ts_ms, int *kind)
{
    /* 9.2e18 is below INT64_MAX, so the nanosecond division always fits */
    if (!isfinite(v) || fabs(v) >= 9.2e18)
        return VG_EPARSE;
    int unit = unit_of((uint64_t)fabs(v));
    double ms = unit == VG_TIME_EPOCH_S    ? v * 1e3
                : unit == VG_TIME_EPOCH_MS ? v
                : unit == VG_TIME_EPOCH_US ? v / 1e3
                                           : v / 1e6;
    *ts_ms = (int64_t)floor(ms);
    if (kind != NULL)
        *kind = unit;
    return VG_OK;
}
