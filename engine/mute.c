/* Mute windows; see mute.h. */
#include "engine/mute.h"

#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/timeparse.h"

#define SLOT_S 900  /* every UTC offset in use is a multiple of 15 minutes */

typedef struct mute_conf {
    const json_t *windows;
    int           skip_model_update;
} mute_conf;

static const vg_conf_field mute_fields[] = {
    {"windows", VG_CONF_ARRAY, offsetof(mute_conf, windows), 0, 0, 0, NULL,
     "when to mute: each {cron, tz} (a minute matching the cron) or {from, until}"},
    {"skip_model_update", VG_CONF_BOOL, offsetof(mute_conf, skip_model_update), 0, 0, 0, NULL,
     "true: points in a window are not learned (a planned outage)"},
};

typedef struct window_conf {
    const char *cron, *tz, *from, *until;
} window_conf;

#define W(f) offsetof(window_conf, f)
static const vg_conf_field window_fields[] = {
    {"cron", VG_CONF_TEXT, W(cron), 0, 0, 0, NULL,
     "minute hour day-of-month month day-of-week: the minutes muted"},
    {"tz", VG_CONF_TEXT, W(tz), 0, 0, 0, NULL, "the cron's time zone (default UTC)"},
    {"from", VG_CONF_TEXT, W(from), 0, 0, 0, NULL, "start of a one-off window (RFC 3339)"},
    {"until", VG_CONF_TEXT, W(until), 0, 0, 0, NULL, "its end (RFC 3339), after from"},
};
#undef W

static int mute_error(const vg_conf_doc *doc, const json_t *parent, const char *key,
                      size_t rule, vg_error *err, const char *what)
{
    char where[64];
    vg_conf_where(doc, parent, key, 0, where, sizeof(where));
    return vg_error_set_at(err, VG_ECONFIG, where, "rules[%zu].mute%s%s: %s", rule,
                           key ? "." : "", key ? key : "", what);
}

/* One number of a cron field; advances *s. -1 when there is none. */
static long number(const char **s)
{
    char *end;
    if (**s < '0' || **s > '9')
        return -1;
    long v = strtol(*s, &end, 10);
    *s = end;
    return v;
}

/* One cron field (`*`, `N`, `N-M`, each with an optional `/step`, joined
 * by commas) into bits lo..hi. Returns 0, or -1 when malformed. */
static int cron_field(const char *s, int lo, int hi, uint64_t *bits, uint8_t *any)
{
    *bits = 0;
    *any = s[0] == '*' && s[1] == '\0';
    for (;;) {
        long a = lo, b = hi, step = 1;
        if (*s == '*') {
            s++;
        } else {
            a = b = number(&s);
            if (*s == '-') {
                s++;
                b = number(&s);
            } else if (*s == '/') {
                b = hi;  /* N/step: from N on */
            }
        }
        if (*s == '/') {
            s++;
            step = number(&s);
        }
        if (a < lo || b > hi || a > b || step < 1)
            return -1;
        for (long v = a; v <= b; v += step)
            *bits |= (uint64_t)1 << v;
        if (*s == '\0')
            return 0;
        if (*s++ != ',')
            return -1;
    }
}

static int parse_cron(vg_mute_window *w, const char *text)
{
    char fields[5][64];
    char rest;
    if (sscanf(text, "%63s %63s %63s %63s %63s %c", fields[0], fields[1], fields[2],
               fields[3], fields[4], &rest) != 5)
        return -1;
    uint64_t h, d, mo, wd;
    uint8_t any;
    if (cron_field(fields[0], 0, 59, &w->minutes, &any) != 0 ||
        cron_field(fields[1], 0, 23, &h, &any) != 0 ||
        cron_field(fields[2], 1, 31, &d, &w->days_any) != 0 ||
        cron_field(fields[3], 1, 12, &mo, &any) != 0 ||
        cron_field(fields[4], 0, 7, &wd, &w->weekdays_any) != 0)
        return -1;
    w->hours = (uint32_t)h;
    w->days = (uint32_t)d;
    w->months = (uint16_t)mo;
    w->weekdays = (uint8_t)(wd | (wd >> 7));  /* 7 is Sunday too */
    return 0;
}

/* A zone libc can load: an IANA name found in the zone database. */
static int zone_exists(const char *tz)
{
    const char *dir = getenv("TZDIR");
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir ? dir : "/usr/share/zoneinfo", tz);
    return tz[0] != '\0' && tz[0] != '/' && strstr(tz, "..") == NULL &&
           access(path, R_OK) == 0;
}

static int parse_window(vg_mute_window *w, const vg_conf_doc *doc, const json_t *obj,
                        size_t rule, vg_error *err)
{
    char path[48];
    snprintf(path, sizeof(path), "rules[%zu].mute.windows[]", rule);
    window_conf c;
    int rc = vg_conf_apply(doc, obj, path, window_fields, VG_CONF_COUNT(window_fields), NULL, &c,
                           err);
    if (rc != VG_OK)
        return rc;
    memset(w, 0, sizeof(*w));
    w->slot = INT64_MIN;
    const char *cron = c.cron, *tz = c.tz, *from = c.from, *until = c.until;
    if (cron != NULL && from == NULL && until == NULL) {
        if (parse_cron(w, cron) != 0)
            return mute_error(doc, obj, "cron", rule, err,
                              "five fields: minute hour day-of-month month day-of-week");
        if (tz != NULL && !zone_exists(tz))
            return mute_error(doc, obj, "tz", rule, err, "not a time zone in the zone database");
        snprintf(w->tz, sizeof(w->tz), "%s", tz ? tz : "");
        return VG_OK;
    }
    if (cron != NULL || tz != NULL || from == NULL || until == NULL ||
        vg_time_parse(from, strlen(from), &w->from_ms, NULL) != VG_OK ||
        vg_time_parse(until, strlen(until), &w->until_ms, NULL) != VG_OK ||
        w->until_ms <= w->from_ms)
        return mute_error(doc, obj, NULL, rule, err,
                          "a window is {cron, tz} or {from, until} with from < until (RFC 3339)");
    return VG_OK;
}

int vg_mute_parse(vg_mute *m, const vg_conf_doc *doc, const json_t *obj, size_t rule,
                  vg_error *err)
{
    memset(m, 0, sizeof(*m));
    if (obj == NULL)
        return VG_OK;
    char path[32];
    snprintf(path, sizeof(path), "rules[%zu].mute", rule);
    mute_conf c;
    int rc = vg_conf_apply(doc, obj, path, mute_fields, VG_CONF_COUNT(mute_fields), NULL, &c,
                           err);
    if (rc != VG_OK)
        return rc;
    if (c.windows == NULL)
        return mute_error(doc, obj, NULL, rule, err, "needs \"windows\" (an array)");
    const json_t *windows = c.windows;
    m->skip_model_update = c.skip_model_update;
    m->w = calloc(json_array_size(windows) + 1, sizeof(*m->w));
    if (m->w == NULL)
        return vg_error_set(err, VG_ENOMEM, "mute windows");
    for (size_t i = 0; i < json_array_size(windows); i++) {
        rc = parse_window(&m->w[i], doc, json_array_get(windows, i), rule, err);
        if (rc != VG_OK) {
            vg_mute_release(m);
            return rc;
        }
        m->n++;
    }
    return VG_OK;
}

void vg_mute_describe(void *file)
{
    vg_conf_describe(mute_fields, VG_CONF_COUNT(mute_fields), "rules[].mute", file);
    vg_conf_describe(window_fields, VG_CONF_COUNT(window_fields), "rules[].mute.windows[]",
                     file);
}

void vg_mute_release(vg_mute *m)
{
    free(m->w);
    memset(m, 0, sizeof(*m));
}

static pthread_mutex_t tz_lock = PTHREAD_MUTEX_INITIALIZER;

/* The UTC offset of zone tz at t, from libc: TZ is switched and put back. */
static int32_t utc_offset(const char *tz, time_t t)
{
    pthread_mutex_lock(&tz_lock);
    const char *was = getenv("TZ");
    char *saved = was ? strdup(was) : NULL;
    setenv("TZ", tz, 1);
    tzset();
    struct tm tm;
    long off = localtime_r(&t, &tm) ? tm.tm_gmtoff : 0;
    if (saved != NULL)
        setenv("TZ", saved, 1);
    else
        unsetenv("TZ");
    tzset();
    free(saved);
    pthread_mutex_unlock(&tz_lock);
    return (int32_t)off;
}

static int recurring_matches(vg_mute_window *w, int64_t ts_ms)
{
    int64_t s = ts_ms >= 0 ? ts_ms / 1000 : (ts_ms - 999) / 1000;
    int64_t slot = s >= 0 ? s / SLOT_S : (s - SLOT_S + 1) / SLOT_S;
    if (w->tz[0] != '\0' && slot != w->slot) {
        w->offset_s = utc_offset(w->tz, (time_t)(slot * SLOT_S));
        w->slot = slot;
    }
    time_t local = (time_t)(s + (w->tz[0] != '\0' ? w->offset_s : 0));
    struct tm tm;
    if (gmtime_r(&local, &tm) == NULL)
        return 0;
    int dom = (w->days >> tm.tm_mday) & 1, dow = (w->weekdays >> tm.tm_wday) & 1;
    /* cron: with both day fields restricted, either one matching will do */
    int day = w->days_any || w->weekdays_any ? dom && dow : dom || dow;
    return ((w->minutes >> tm.tm_min) & 1) && ((w->hours >> tm.tm_hour) & 1) &&
           ((w->months >> (tm.tm_mon + 1)) & 1) && day;
}

int vg_mute_active(vg_mute *m, int64_t ts_ms)
{
    for (size_t i = 0; i < m->n; i++) {
        vg_mute_window *w = &m->w[i];
        if (w->from_ms != w->until_ms ? ts_ms >= w->from_ms && ts_ms < w->until_ms
                                      : recurring_matches(w, ts_ms))
            return 1;
    }
    return 0;
}
