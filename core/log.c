/* Logging and rate limits; see log.h. */
#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

static vg_log_level log_level = VG_LOG_INFO;
static vg_log_format log_format = VG_LOG_AUTO;

static const char *const level_names[] = {"debug", "info", "warn", "error", "off"};

void vg_log_set_level(vg_log_level level) { log_level = level; }
void vg_log_set_format(vg_log_format format) { log_format = format; }

int vg_log_level_parse(const char *name)
{
    for (int i = 0; i <= VG_LOG_OFF; i++)
        if (strcasecmp(name, level_names[i]) == 0)
            return i;
    return -1;
}

int64_t vg_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t vg_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Appends s to out as the body of a JSON string. */
static size_t json_escape(char *out, size_t cap, const char *s)
{
    size_t n = 0;
    for (; *s && n + 7 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            out[n++] = '\\';
            out[n++] = (char)c;
        } else if (c < 0x20) {
            n += (size_t)snprintf(out + n, cap - n, "\\u%04x", c);
        } else {
            out[n++] = (char)c;
        }
    }
    out[n] = '\0';
    return n;
}

static void log_write(vg_log_level level, const char *msg)
{
    char line[2048];
    int64_t now = vg_wall_ms();
    time_t secs = (time_t)(now / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    char ts[64];
    snprintf(ts, sizeof(ts), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
             (int)(now % 1000));

    int json = log_format == VG_LOG_JSON ||
               (log_format == VG_LOG_AUTO && !isatty(STDERR_FILENO));
    int n;
    if (json) {
        char esc[1600];
        json_escape(esc, sizeof(esc), msg);
        n = snprintf(line, sizeof(line), "{\"ts\":\"%s\",\"level\":\"%s\",\"msg\":\"%s\"}\n",
                     ts, level_names[level], esc);
    } else {
        n = snprintf(line, sizeof(line), "%s %-5s %s\n", ts, level_names[level], msg);
    }
    if (n > (int)sizeof(line) - 1)
        n = (int)sizeof(line) - 1;
    fwrite(line, 1, (size_t)n, stderr);
}

void vg_log(vg_log_level level, const char *fmt, ...)
{
    if (level < log_level || level >= VG_LOG_OFF)
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    log_write(level, msg);
}

void vg_log_limited(vg_ratelimit *rl, vg_log_level level, const char *fmt, ...)
{
    if (level < log_level || level >= VG_LOG_OFF)
        return;
    int64_t now = vg_now_ms();
    if (now < rl->next_ms) {
        rl->suppressed++;
        return;
    }
    rl->next_ms = now + (rl->interval_ms > 0 ? rl->interval_ms : 5000);

    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (rl->suppressed > 0 && n >= 0 && (size_t)n < sizeof(msg))
        snprintf(msg + n, sizeof(msg) - (size_t)n, " (%llu similar suppressed)",
                 (unsigned long long)rl->suppressed);
    rl->suppressed = 0;
    log_write(level, msg);
}
