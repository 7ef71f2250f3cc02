/* Error records and the code table; see error.h. */
#include "core/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *vg_strerror(int code)
{
    switch (code) {
    case VG_OK:
        return "success";
#define X(name, num, text) \
    case num:              \
        return text;
        VG_ERRORS(X)
#undef X
    default:
        return "unknown error";
    }
}

static int error_vset(vg_error *err, int code, const char *where,
                      const char *fmt, va_list ap)
{
    if (err == NULL)
        return code;
    err->code = code;
    snprintf(err->where, sizeof(err->where), "%s", where ? where : "");
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    return code;
}

int vg_error_set(vg_error *err, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    error_vset(err, code, NULL, fmt, ap);
    va_end(ap);
    return code;
}

int vg_error_set_at(vg_error *err, int code, const char *where, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    error_vset(err, code, where, fmt, ap);
    va_end(ap);
    return code;
}

void vg_error_clear(vg_error *err)
{
    if (err != NULL)
        memset(err, 0, sizeof(*err));
}

const char *vg_error_format(const vg_error *err, char *buf, unsigned long size)
{
    if (err->where[0] != '\0')
        snprintf(buf, size, "%s: %s", err->where, err->msg);
    else
        snprintf(buf, size, "%s", err->msg[0] ? err->msg : vg_strerror(err->code));
    return buf;
}

void vg__assert_fail(const char *expr, const char *file, int line)
{
    fprintf(stderr, "vigil: assertion failed: %s (%s:%d)\n", expr, file, line);
    abort();
}
