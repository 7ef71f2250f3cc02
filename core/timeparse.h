/* Timestamp text -> int64 milliseconds since the epoch, UTC.
 *
 * Hand-written (no sscanf, strptime or mktime) because it runs once per CSV
 * row and once per message: civil dates become days with Howard Hinnant's
 * days-from-civil arithmetic. Used by the CSV reader and the message parsers.
 *
 * Accepted forms (the whole text, nothing before or after):
 *   YYYY-MM-DD
 *   YYYY-MM-DD[T|t| ]HH:MM[:SS[.fff...]][zone]
 *       zone: Z, z, +hh, +hhmm, +hh:mm, -hh, -hhmm, -hh:mm; no zone means UTC.
 *       Ranges are checked (month 1-12, day within the month, leap years,
 *       hour 0-23, minute and second 0-59, zone up to 23:59); a fraction
 *       takes any number of digits (',' also works as the decimal mark).
 *   [-]digits[.digits]   an epoch number, its unit chosen by magnitude:
 *       |integer part| <  1e11  seconds       (up to year 5138)
 *       |integer part| <  1e14  milliseconds  (1973-03-03 .. 5138)
 *       |integer part| <  1e17  microseconds  (1973-03-03 .. 5138)
 *       otherwise               nanoseconds   (1973-03-03 .. 2262)
 *       i.e. the unit is the coarsest one that puts the instant after
 *       1973-03-03; small numbers are seconds. No exponent form.
 * Digits finer than a millisecond are dropped by rounding toward minus
 * infinity, so "-0.0005" is -1 ms and "...:59.9999" stays in the same second. */
#ifndef VG_CORE_TIMEPARSE_H
#define VG_CORE_TIMEPARSE_H

#include <stddef.h>
#include <stdint.h>

/* What a parsed timestamp looked like, for diagnostics and tests. */
typedef enum vg_time_kind {
    VG_TIME_ISO,       /* calendar date and time */
    VG_TIME_EPOCH_S,
    VG_TIME_EPOCH_MS,
    VG_TIME_EPOCH_US,
    VG_TIME_EPOCH_NS,
} vg_time_kind;

/* Parses s[len] (need not be NUL-terminated) into *ts_ms; sets *kind
 * (NULL-able) to a vg_time_kind. Returns 0, or VG_EPARSE for anything not
 * in the forms above (bad ranges, trailing junk, empty text, overflow);
 * *ts_ms and *kind are untouched on error. Thread-safe. */
int vg_time_parse(const char *s, size_t len, int64_t *ts_ms, int *kind);

/* An epoch number already held as a double (e.g. a JSON real), with the
 * same magnitude rule and rounding. VG_EPARSE for NaN, infinities and
 * values beyond the int64 range. */
int vg_time_from_epoch_double(double v, int64_t *ts_ms, int *kind);

/* Days from 1970-01-01 to the proleptic Gregorian date y-m-d (m 1-12,
 * d 1-31, not checked); negative before 1970. */
int64_t vg_time_days_from_civil(int64_t y, int m, int d);

#endif
