/* A series leaving this instance with an incident firing
 * (engine/pipeline_score.c, engine/pipeline_state.c): evicted at the series
 * cap, it resolves with reason "evicted"; dropped because its partition was
 * revoked, the outputs are told to stop notifying it and no event is made.
 * Either way vigil_incidents_firing goes down. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/vigil_metrics.h"
#include "engine/config.h"
#include "engine/pipeline.h"
#include "tests/unit/helpers.h"

#define MAX_EVENTS 8
#define FIRING_SERIES "disk{host=\"a\"}"

/* A sink that records the events and the incidents disowned. */
typedef struct notes {
    vg_event events[MAX_EVENTS];
    size_t   n;
    char     disowned[MAX_EVENTS][33];
    size_t   n_disowned;
} notes;

static int notes_emit(void *self, const vg_event *ev)
{
    notes *r = self;
    assert_true(r->n < MAX_EVENTS);
    r->events[r->n] = *ev;
    r->events[r->n++].series = NULL;  /* borrowed for the call only */
    return 0;
}

static void notes_disown(void *self, const char *id)
{
    notes *r = self;
    assert_true(r->n_disowned < MAX_EVENTS);
    snprintf(r->disowned[r->n_disowned++], 33, "%s", id);
}

static void notes_close(void *self)
{
    free(self);
}

static const vg_sink_ops notes_ops = {
    .name = "notes", .emit = notes_emit, .close = notes_close, .disown = notes_disown,
};

typedef struct setup {
    vg_config   *cfg;
    vg_pipeline *p;
    notes       *rec;
} setup;

/* A pipeline holding at most max_series series, with FIRING_SERIES firing
 * (a steady level that jumps and stays: it never resolves). */
static setup firing(int max_series)
{
    char text[256];
    snprintf(text, sizeof(text),
             "{\"max_series\": %d, \"detectors\": {\"zscore\": {}}, \"alert\": {\"threshold\":"
             " 0.9999, \"fire_after\": 1, \"resolve_after\": 100000, \"warmup_s\": 0}}",
             max_series);
    vg_error err = {0};
    setup s = {vg_config_load_string(text, "<test>", &err), NULL, NULL};
    assert_non_null(s.cfg);
    s.p = vg_pipeline_new(s.cfg, &err);
    assert_non_null(s.p);
    vg_sink *sink = malloc(sizeof(*sink));
    sink->ops = &notes_ops;
    sink->self = s.rec = calloc(1, sizeof(notes));
    assert_int_equal(vg_pipeline_add_sink(s.p, sink), 0);

    vg_batch b;
    vg_batch_init(&b);
    for (int i = 0; i < 600; i++) {
        double v = (i % 2 ? 101.0 : 99.0) + (i >= 590 ? 50.0 : 0.0);
        vg_batch_push(&b, FIRING_SERIES, strlen(FIRING_SERIES), (int64_t)i * 60000, v, NULL);
    }
    vg_pipeline_process(s.p, &b);
    vg_batch_release(&b);
    assert_int_equal(s.rec->n, 1);
    assert_int_equal(s.rec->events[0].state, VG_ALERT_FIRING);
    return s;
}

static void release(setup *s)
{
    vg_pipeline_free(s->p);
    vg_config_free(s->cfg);
}

/* The sum of every vigil_incidents_firing child. */
static double firing_gauge(void)
{
    size_t len;
    char *text = vg_metrics_render(vg_metric_registry(), &len, NULL);
    assert_non_null(text);
    double sum = 0.0;
    const char *name = "\nvigil_incidents_firing{";
    for (const char *at = strstr(text, name); at != NULL; at = strstr(at + 1, name))
        sum += strtod(strchr(at, '}') + 1, NULL);
    free(text);
    return sum;
}

static void evicted_firing_incident_resolves(void **state)
{
    (void)state;
    setup s = firing(1);
    assert_true(firing_gauge() == 1.0);
    vg_batch b;
    vg_batch_init(&b);
    vg_origin at = {"metrics", 3, 41};
    vg_batch_push(&b, "other", 5, 600 * 60000, 1.0, &at);
    vg_pipeline_process(s.p, &b);
    vg_batch_release(&b);

    assert_int_equal(vg_series_table_evicted(vg_pipeline_series(s.p)), 1);
    assert_int_equal(s.rec->n, 2);
    const vg_event *ev = &s.rec->events[1];
    assert_int_equal(ev->state, VG_ALERT_RESOLVED);
    assert_string_equal(ev->id, s.rec->events[0].id);
    assert_string_equal(ev->reason, "evicted");
    assert_int_equal(ev->ts_ms, 599 * 60000);  /* the series' last point */
    assert_int_equal(ev->origin.partition, 3);  /* the point that evicted it */
    assert_int_equal(ev->origin.offset, 41);
    assert_int_equal(vg_pipeline_get_stats(s.p)->events_resolved, 1);
    assert_true(firing_gauge() == 0.0);
    release(&s);
}

static void revoked_firing_incident_disowned(void **state)
{
    (void)state;
    setup s = firing(10);
    assert_true(firing_gauge() == 1.0);
    assert_int_equal(vg_pipeline_drop_series(s.p, FIRING_SERIES, strlen(FIRING_SERIES)), 0);
    assert_int_equal(s.rec->n, 1);  /* no event: the new owner resolves it */
    assert_int_equal(s.rec->n_disowned, 1);
    assert_string_equal(s.rec->disowned[0], s.rec->events[0].id);
    assert_int_equal(vg_series_table_count(vg_pipeline_series(s.p)), 0);
    assert_true(firing_gauge() == 0.0);
    assert_int_equal(vg_pipeline_drop_series(s.p, FIRING_SERIES, strlen(FIRING_SERIES)),
                     VG_ENOTFOUND);
    assert_int_equal(s.rec->n_disowned, 1);
    release(&s);
}

int main(void)
{
    assert_non_null(vg_metric_registry());
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(evicted_firing_incident_resolves),
        cmocka_unit_test(revoked_firing_incident_disowned),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
