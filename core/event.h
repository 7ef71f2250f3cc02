/* Events: what vigil tells the world about an incident, and their JSON.
 *
 * One event is one JSON object: one line of the NDJSON log, one message on
 * the alert topic (keyed by series). The id (the incident's) is stable
 * across restarts and replays: a hash of the series key and the incident's
 * start, so a firing and its resolved share it, and a duplicate after a
 * crash carries it too. The event id also hashes the state and the point's
 * time, so it names one event: firing and resolved differ. */
#ifndef VG_CORE_EVENT_H
#define VG_CORE_EVENT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/point.h"

/* The states an incident reports and how bad it is: the vocabulary of events,
 * used by the alert state machine (engine/alert.h) that drives them. */
typedef enum vg_alert_state {
    VG_ALERT_NORMAL,
    VG_ALERT_PENDING,
    VG_ALERT_FIRING,
    VG_ALERT_RESOLVED,  /* only ever reported in an event; the series is normal again */
} vg_alert_state;

typedef enum vg_severity {
    VG_SEVERITY_WARNING,
    VG_SEVERITY_CRITICAL,
} vg_severity;

const char *vg_alert_state_name(vg_alert_state s);
const char *vg_severity_name(vg_severity s);

#define VG_EVENT_SCHEMA 2
/* The one limit on detectors per pipeline (an event carries each one's
 * score; the ensemble combines at most this many). */
#define VG_MAX_DETECTORS 8

typedef struct vg_event_detector {
    const char *name;      /* borrowed: the detector's static name */
    double      score;     /* the detector's score for the point, [0,1] */
    double      expected;  /* NaN when the detector has no expectation */
    double      lower, upper;
    char        detail[48];
} vg_event_detector;

/* A grouped incident (engine/group.h): the series of one group (a rule's
 * group-by labels, e.g. one host) anomalous together, one incident. */
typedef struct vg_event_member {
    const char *series;     /* borrowed */
    size_t      series_len;
    int         firing;     /* bool: still anomalous; else it left */
    double      peak;       /* its incident's highest score */
    int64_t     start_ms;   /* when it fired */
} vg_event_member;

typedef struct vg_event_group {
    const char            *change;      /* "opened", "joined", "left", "closed" */
    const char            *member;      /* the series that made this change; borrowed */
    size_t                 member_len;
    const char            *first;       /* the series that fired first; borrowed */
    size_t                 first_len;
    size_t                 n_firing;    /* members anomalous now */
    size_t                 n_members;   /* members listed (every series that fired in it) */
    const vg_event_member *members;
} vg_event_group;

/* The page of a group incident (alert.group_window_s,
 * engine/incident_join.h), as the notifying outputs show it: the leader's
 * alert, and the series that joined its incident. */
typedef struct vg_event_page {
    const char            *id;             /* the leader's incident id: the page's */
    int64_t                ts_ms;          /* the event time of this change */
    int64_t                start_ms;       /* the leader's incident start */
    int                    leader_firing;  /* bool; 0: resolved at leader_end_ms */
    int64_t                leader_end_ms;
    size_t                 n_joined;       /* series that joined it */
    size_t                 n_firing;       /* of them, firing now */
    size_t                 n_listed;       /* the first to join, at most VG_PAGE_LISTED */
    const vg_event_member *listed;         /* their series and state */
} vg_event_page;

/* Series a page names at most (the counts go on beyond). */
#define VG_PAGE_LISTED 10

/* 1 when the page is over: its leader and every series that joined it
 * resolved (or were forgotten). */
static inline int vg_event_page_ended(const vg_event_page *pg)
{
    return !pg->leader_firing && pg->n_firing == 0;
}

/* A verdict someone sent on an incident (engine/feedback.h), accepted or
 * refused: an event of its own, recorded (event log, console), never
 * notified. Strings borrowed, NULL-able when the message lacked them. */
typedef struct vg_event_feedback {
    const char *verdict;   /* "not_anomalous", "anomalous"; NULL: not one of them */
    const char *source;    /* where it came from: "http", "kafka" */
    const char *result;    /* "accepted" or "refused" */
    const char *detail;    /* accepted: what changed; refused: why */
} vg_event_feedback;

typedef struct vg_event {
    char              id[33];        /* the incident's: 32 hex digits */
    char              event_id[33];  /* this event's: 32 hex digits */
    vg_alert_state    state;         /* FIRING or RESOLVED */
    vg_severity       severity;
    const char       *series;        /* canonical key; borrowed */
    size_t            series_len;
    int64_t           ts_ms;         /* the point that caused the event */
    int64_t           start_ms;      /* the incident's first anomalous point */
    double            value;
    double            expected, lower, upper;  /* NaN when unknown */
    double            score;         /* final (ensemble) score */
    double            peak;          /* highest score of the incident so far */
    const char       *reason;        /* resolved: why ("back to baseline", "new level
                                        accepted"); firing: "beyond its long-run range"
                                        when no score did it; NULL: none; borrowed */
    size_t            n_detectors;
    vg_event_detector detectors[VG_MAX_DETECTORS];
    vg_origin         origin;
    double            duration_s;    /* ts_ms - start_ms, in seconds */
    int               muted;         /* bool: recorded, not notified (a mute window) */
    /* Borrowed, NULL-able: */
    const char       *rule;          /* the rule's name ("default": none matched) */
    const char       *instance;      /* the vigil instance that made it */
    const char       *alertname;     /* the rule's; NULL: the output's default */
    const json_t     *page_labels;   /* the rule's extra labels {name: "value"} */
    const char       *summary;       /* words a person reads (core/template.h) */
    const char       *description;
    const char       *runbook_url;
    /* Grouping (engine/group.h, engine/incident_join.h), NULL-able: */
    const vg_event_group *group;     /* set on a group's own events */
    const char       *group_id;      /* the incident that pages for this one: a
                                        member's group's, or the leader's that a
                                        series' incident joined (recorded, not
                                        notified) */
    int               joined;        /* bool: group_id is the leader's incident this
                                        one joined (alert.group_window_s), not a
                                        group's (recorded also by the alert topic) */
    int               escalated;     /* bool: joined, with a higher severity than its
                                        page's: notified too (it pages itself) */
    const vg_event_page *page;       /* a leader's resolved whose incident others
                                        joined: its page (notifying outputs only) */
    /* NULL-able: set, this event is a feedback record (vg_event_feedback_json)
     * and only id, event_id, series, ts_ms and instance of the rest count. */
    const vg_event_feedback *feedback;
} vg_event;

/* Fills ev->id from the series key and the incident start, and
 * ev->event_id from those, the state and ts_ms. */
void vg_event_make_id(vg_event *ev);

/* Returns a new JSON object for ev (caller json_decref()s), or NULL. A
 * feedback record's is vg_event_feedback_json's; an incident event's keys:
 * schema, id, event_id, state, severity, series, name, labels{}, ts (RFC 3339
 * UTC), ts_ms, start_ms, duration_s, value, expected, band [lower, upper],
 * score, peak, reason (only when set), muted, rule, instance, summary,
 * description, runbook_url, alertname, page_labels{} (the last three only
 * when set), group{change, member, first, firing, members[{series, state,
 * peak, start_ms}]} (a group's event) or group_id (a member's; escalated: true
 * when it pages itself), only when set, detectors{name: {score, expected, band, detail}},
 * source{file,row} or source{topic,partition,offset}. NaN numbers become
 * null; an unset string becomes null. */
json_t *vg_event_to_json(const vg_event *ev);

/* Appends the compact one-line JSON of ev (no newline) to buf[cap];
 * returns the length or VG_ERANGE / VG_ENOMEM. */
int vg_event_encode(const vg_event *ev, char *buf, size_t cap);

/* Parses an event's JSON back (the round-trip tests, and tools reading the
 * log). String fields point into storage[cap]; detector names into it too;
 * page_labels is borrowed from obj.
 * Returns 0 or VG_EPARSE naming the field. */
int vg_event_from_json(const json_t *obj, vg_event *ev, char *storage, size_t cap,
                       vg_error *err);

/* The "group" object of a group's event (core/event_group.c), or NULL when
 * out of memory or a key is not UTF-8. */
json_t *vg_event_group_json(const vg_event_group *g);

/* The JSON of a feedback record (core/event_feedback.c): schema, kind
 * ("feedback"), id (the incident named; null when the message had none),
 * event_id, series (null when none), ts, ts_ms (when it was received),
 * instance, verdict (null when not a valid one), source, result, detail.
 * NULL when out of memory or a string is not UTF-8. */
json_t *vg_event_feedback_json(const vg_event *ev);

/* Writes "YYYY-MM-DDTHH:MM:SS.mmmZ" for ts_ms into out[32]. */
void vg_format_rfc3339(int64_t ts_ms, char out[32]);

#endif
