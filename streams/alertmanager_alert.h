/* One vigil event as one Alertmanager postableAlert (API v2).
 *
 * Alertmanager identifies an alert by its label set, so the labels depend
 * only on what a firing event and its resolved event share: the series
 * labels, the rule's labels, `alertname` (the rule's, else the output's),
 * `series` (the metric name) and `severity` (of the incident; see the .c
 * file). Everything else, which may change between the two, goes in
 * annotations: the summary and description sentences, runbook_url, value,
 * band, scores; for a group incident's leader (alert.group_window_s) the
 * series that joined it, for an escalated member the page it joined. */
#ifndef VG_STREAMS_ALERTMANAGER_ALERT_H
#define VG_STREAMS_ALERTMANAGER_ALERT_H

#include <jansson.h>
#include <stdint.h>

#include "core/event.h"

/* Returns a new postableAlert object for ev (caller json_decref()s), or NULL
 * when out of memory or when the series key does not split. alertname is
 * the `alertname` label unless the event carries its rule's; generator_url (NULL-able, "" = none) becomes
 * generatorURL. now_ms is the wall clock: startsAt is clamped to at most
 * now_ms and a resolved endsAt to [startsAt, now_ms] (see the .c file). */
json_t *vg_am_alert_new(const vg_event *ev, const char *alertname,
                        const char *generator_url, int64_t now_ms);

/* Rewrites the endsAt of the alert text *json (compact, as the sink
 * encodes it) to ends_ms (wall clock); the old text is freed. For a
 * resolved released at close before its hold ended (alertmanager_sink.c).
 * Returns 0, or VG_EPARSE / VG_ENOMEM with *json untouched. */
int vg_am_alert_set_end(char **json, int64_t ends_ms);

/* Rewrites the page annotations of the firing alert text *json of a
 * group incident's leader (members, members_firing, members_listed,
 * leader_resolved: see the .c file) to `page`, and when the page ended
 * adds endsAt (page->ts_ms clamped as a resolved's, now_ms the wall
 * clock), making it the page's resolved. Returns 0, or VG_EPARSE /
 * VG_ENOMEM with *json untouched. */
int vg_am_alert_set_page(char **json, const vg_event_page *page, int64_t now_ms);

#endif
