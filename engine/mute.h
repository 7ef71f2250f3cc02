/* Mute windows of a rule: times when its incidents are recorded in the
 * event log as muted but not notified (Alertmanager, the alert topic).
 *
 *   "mute": {"windows": [
 *       {"cron": "* 1-2 * * 0", "tz": "Europe/Berlin"},   every Sunday 01:00-02:59
 *       {"from": "2026-12-24T00:00:00Z", "until": "2026-12-27T00:00:00Z"}],
 *    "skip_model_update": false}             true: muted points are not learned
 *
 * A recurring window is the set of minutes its five cron fields (minute,
 * hour, day of month, month, day of week; `*`, `N`, `N-M`, `/step`, lists)
 * match in its time zone (IANA name, default UTC), with cron's rule that a
 * day matches either restricted day field. A one-off window is [from,
 * until). Whether an incident is muted is decided when it fires and holds
 * until it resolves. Time zones come from libc (TZ, localtime_r), looked up
 * once per quarter hour of data, under a lock: TZ is process-wide. */
#ifndef VG_ENGINE_MUTE_H
#define VG_ENGINE_MUTE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config_table.h"
#include "core/error.h"

typedef struct vg_mute_window {
    int64_t  from_ms, until_ms;  /* one-off; from_ms == until_ms: recurring */
    uint64_t minutes;            /* bit m: minute m matches */
    uint32_t hours, days;        /* bit h; bit d (1-31) */
    uint16_t months;             /* bit m (1-12) */
    uint8_t  weekdays;           /* bit d (0 = Sunday) */
    uint8_t  days_any, weekdays_any;
    char     tz[64];             /* "": UTC */
    int64_t  slot;               /* the quarter hour whose UTC offset is cached */
    int32_t  offset_s;
} vg_mute_window;

typedef struct vg_mute {
    vg_mute_window *w;
    size_t          n;
    int             skip_model_update;
} vg_mute;

/* Reads a rule's "mute" object (NULL-able: no windows) into m; rule is its
 * index for errors. Returns 0 or VG_ECONFIG naming the key. Free with
 * vg_mute_release(). */
int vg_mute_parse(vg_mute *m, const vg_conf_doc *doc, const json_t *obj, size_t rule,
                  vg_error *err);
void vg_mute_release(vg_mute *m);

/* Prints the reference of a rule's "mute" keys (FILE *file). */
void vg_mute_describe(void *file);

/* 1 when ts_ms falls in one of m's windows. Updates the windows' caches:
 * one thread at a time per vg_mute. */
int vg_mute_active(vg_mute *m, int64_t ts_ms);

#endif
