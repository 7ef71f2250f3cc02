/* Logging: one line per message on stderr, JSON lines when stderr is not a
 * terminal (for log shippers), a readable line when it is.
 *
 * Repeated messages about bad input go through a vg_ratelimit, which logs at
 * most once per interval and says how many it held back (librdkafka style).
 * Thread-safe: each line is written with one fwrite. */
#ifndef VG_CORE_LOG_H
#define VG_CORE_LOG_H

#include <stdint.h>

typedef enum vg_log_level {
    VG_LOG_DEBUG,
    VG_LOG_INFO,
    VG_LOG_WARN,
    VG_LOG_ERROR,
    VG_LOG_OFF,
} vg_log_level;

typedef enum vg_log_format {
    VG_LOG_AUTO,  /* JSON unless stderr is a terminal */
    VG_LOG_TEXT,
    VG_LOG_JSON,
} vg_log_format;

void vg_log_set_level(vg_log_level level);
void vg_log_set_format(vg_log_format format);

/* Parses "debug", "info", "warn", "error", "off"; returns -1 if unknown. */
int vg_log_level_parse(const char *name);

void vg_log(vg_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define vg_debug(...) vg_log(VG_LOG_DEBUG, __VA_ARGS__)
#define vg_info(...)  vg_log(VG_LOG_INFO, __VA_ARGS__)
#define vg_warn(...)  vg_log(VG_LOG_WARN, __VA_ARGS__)
#define vg_err(...)   vg_log(VG_LOG_ERROR, __VA_ARGS__)

/* A rate limit for one kind of message; zero-initialise, then set
 * interval_ms (0 means the default of 5 s). */
typedef struct vg_ratelimit {
    int64_t  interval_ms;
    int64_t  next_ms;
    uint64_t suppressed;
} vg_ratelimit;

/* Logs if the interval has passed since the last logged line, appending
 * "(N similar suppressed)" when lines were held back; else counts it. */
void vg_log_limited(vg_ratelimit *rl, vg_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Monotonic milliseconds, for rate limits and timing. */
int64_t vg_now_ms(void);
/* Wall-clock milliseconds since the epoch, UTC. */
int64_t vg_wall_ms(void);

#endif
