/* Sources and sinks: the two small interfaces of streams/.
 *
 * A source yields batches of points, reports its position (what it
 * returned so far) and commits a position once told it is done (every event
 * it caused safely out, its state saved). A sink
 * takes events; flush() returns once everything emitted so far is durable
 * (acknowledged by the broker, written to the file), which is what lets the
 * Kafka source commit offsets only after their events are out. */
#ifndef VG_STREAMS_STREAM_H
#define VG_STREAMS_STREAM_H

#include <jansson.h>

#include "core/config_table.h"
#include "core/error.h"
#include "core/event.h"
#include "core/point.h"
#include "streams/offsets.h"

typedef struct vg_source_ops {
    const char *name;        /* "kafka", "csv" */
    const char *config_key;  /* the vigil.json object it reads: "input", "csv" */
    /* Its config table (for the reference), and a check of a config object
     * that validates everything opening it would, opening nothing. */
    const vg_conf_field *fields;
    size_t               n_fields;
    int  (*check)(const vg_conf_doc *doc, const json_t *cfg, vg_error *err);
    /* Appends points to out (which the caller reset). Returns the number of
     * points added (0 on timeout), VG_EEOF when the source is exhausted, or
     * another negative VG_E* on a fatal error. Bad input is not fatal: it is
     * counted and logged by the source and skipped. */
    int  (*poll)(void *self, vg_batch *out, int timeout_ms);
    /* NULL-able (a source without positions): the position of everything
     * poll() returned so far, bad input included. Borrowed, valid until the
     * next poll() or close(). */
    const vg_offsets *(*position)(void *self);
    /* NULL-able: every message before pos is processed and every event it
     * caused durable (and its state saved): the source may commit pos. */
    int  (*commit)(void *self, const vg_offsets *pos);
    void (*close)(void *self);
} vg_source_ops;

typedef struct vg_source {
    const vg_source_ops *ops;
    void                *self;
} vg_source;

static inline int vg_source_poll(vg_source *src, vg_batch *out, int timeout_ms)
{
    return src->ops->poll(src->self, out, timeout_ms);
}
static inline const vg_offsets *vg_source_position(vg_source *src)
{
    return src->ops->position ? src->ops->position(src->self) : NULL;
}
static inline int vg_source_commit(vg_source *src, const vg_offsets *pos)
{
    return src->ops->commit && pos != NULL ? src->ops->commit(src->self, pos) : 0;
}
/* Closes and frees; NULL does nothing. */
void vg_source_close(vg_source *src);

/* The source registry, for the reference and `vigil config check`. Each
 * source has its own open function (a file path, rebalance hooks). */
size_t vg_source_type_count(void);
const vg_source_ops *vg_source_type_at(size_t i);

/* One scored point, for the sinks that write scores (score op below). */
typedef struct vg_score_sample {
    const char *key;       /* the canonical series key, borrowed for the call */
    size_t      key_len;
    int64_t     ts_ms;
    double      value;
    double      score;     /* final, [0,1]; NaN while warming up */
    double      expected, lower, upper;  /* NaN when no detector has one */
} vg_score_sample;

typedef struct vg_sink_ops {
    const char *name;  /* the "type" in the config's outputs list */
    /* Its config table (keys beside "type"), and a check of a config object
     * that validates everything open() would, opening nothing. */
    const vg_conf_field *fields;
    size_t               n_fields;
    int   (*check)(const vg_conf_doc *doc, const json_t *cfg, vg_error *err);
    /* Returns a new sink from its config object, or NULL with err set. */
    void *(*open)(const vg_conf_doc *doc, const json_t *cfg, vg_error *err);
    /* Queues or writes ev (borrowed for the call only). 0 or VG_E*. */
    int   (*emit)(void *self, const vg_event *ev);
    /* Returns once every emitted event is durable, or VG_ETIMEOUT. */
    int   (*flush)(void *self, int timeout_ms);
    void  (*close)(void *self);
    /* NULL-able: incident `id` (a firing one) now belongs to another
     * instance, whose events take over: stop notifying it (re-posts). */
    void  (*disown)(void *self, const char *id);
    /* NULL-able: the page of a group incident (alert.group_window_s,
     * engine/incident_join.h) changed: a series joined or resolved, or it
     * ended (vg_event_page_ended: its leader's resolved was held back by
     * members firing). A notifying output updates its alert of page->id
     * (borrowed for the call). The leader's resolved comes to emit with
     * ev->page; a sink with this op keeps the page open while
     * page->n_firing > 0. */
    void  (*page)(void *self, const vg_event_page *page);
    /* 1: a record of every event (event log, console), muted incidents,
     * group members' events and feedback records included; 0: a
     * notification channel, which those skip. */
    int   records_muted;
    /* 1: also takes the events of an incident that joined another series'
     * (alert.group_window_s: event.joined): the alert topic, a record of
     * every series' incident that consumers read; 0: only the leader's. */
    int   records_joined;
    /* NULL-able: takes the scored points of the series it selects, s[n]
     * (borrowed for the call: keys included), a scoring thread's share of a
     * batch at a time, from the scoring threads, several at once:
     * thread-safe, and never blocks (scores are derived data, dropped and
     * counted rather than ever holding scoring or a checkpoint back). A
     * series' points come in order. */
    void  (*score)(void *self, const vg_score_sample *s, size_t n);
    /* NULL-able (every series): 1 when the scores of series `key` go to
     * score(). Asked once per series and set of outputs (the pipeline keeps
     * the answer with the series), from the scoring threads: thread-safe. */
    int   (*selects)(void *self, const char *key, size_t key_len);
} vg_sink_ops;

typedef struct vg_sink {
    const vg_sink_ops *ops;
    void              *self;
} vg_sink;

static inline int vg_sink_emit(vg_sink *sink, const vg_event *ev)
{
    return sink->ops->emit(sink->self, ev);
}
static inline int vg_sink_flush(vg_sink *sink, int timeout_ms)
{
    return sink->ops->flush ? sink->ops->flush(sink->self, timeout_ms) : 0;
}

static inline void vg_sink_disown(vg_sink *sink, const char *id)
{
    if (sink->ops->disown != NULL)
        sink->ops->disown(sink->self, id);
}

static inline void vg_sink_page(vg_sink *sink, const vg_event_page *page)
{
    if (sink->ops->page != NULL)
        sink->ops->page(sink->self, page);
}

/* Opens a sink of a registered type ("ndjson", "kafka", "alertmanager", ...)
 * from its config object. Returns a new sink (free with vg_sink_close) or
 * NULL with err naming the type or key. */
vg_sink *vg_sink_open(const char *type, const vg_conf_doc *doc, const json_t *cfg,
                      vg_error *err);
/* Flushes (bounded), closes and frees; NULL does nothing. */
void vg_sink_close(vg_sink *sink);

/* Validates cfg as vg_sink_open(type, ...) would, opening nothing. Returns
 * 0 or VG_ECONFIG with err naming the type or key and its position. */
int vg_sink_check(const char *type, const vg_conf_doc *doc, const json_t *cfg,
                  vg_error *err);

/* The sink registry, for help text and tests. */
size_t vg_sink_type_count(void);
const vg_sink_ops *vg_sink_type_at(size_t i);
/* NULL when no sink has that type name. */
const vg_sink_ops *vg_sink_type_find(const char *type);

#endif
