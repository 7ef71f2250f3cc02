/* One page per host event (engine/incident_join.c, alert.group_window_s):
 * a series firing within the window of its group's leader joins the
 * leader's incident, and its resolved event names it too; the window
 * counts from the leader's firing; the leader firing again, a muted
 * incident, another group and the first firing after the window lead or
 * page alone. End to end through the pipeline: joined members are recorded
 * with group_id but not notified, the hook says joined, and a window of 0
 * turns it off. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/config.h"
#include "engine/corroborate.h"
#include "engine/incident_join.h"
#include "engine/pipeline.h"
#include "tests/unit/helpers.h"

#define MINUTE 60000
#define WINDOW (5 * MINUTE)
#define HOST_A 7   /* any group number above VG_GROUP_NONE */
#define HOST_B 8

static vg_event event(const char *series, vg_alert_state state, int64_t start, int64_t ts)
{
    vg_event ev;
    memset(&ev, 0, sizeof(ev));
    ev.series = series;
    ev.series_len = strlen(series);
    ev.state = state;
    ev.start_ms = start;
    ev.ts_ms = ts;
    vg_event_make_id(&ev);
    return ev;
}

static void members_join_the_leader_and_resolve_under_it(void **state)
{
    (void)state;
    vg_joins *j = vg_joins_new(NULL, NULL);
    const vg_event_page *page;
    assert_non_null(j);
    char id[33];
    vg_event lead = event("cpu", VG_ALERT_FIRING, 0, MINUTE);
    assert_int_equal(vg_joins_fire(j, HOST_A, &lead, WINDOW, 1, id), 0);  /* it pages */
    vg_event mem = event("mem", VG_ALERT_FIRING, MINUTE, MINUTE);  /* same minute */
    assert_int_equal(vg_joins_fire(j, HOST_A, &mem, WINDOW, 1, id), 1);
    assert_string_equal(id, lead.id);
    vg_event disk = event("disk", VG_ALERT_FIRING, 0, MINUTE + WINDOW);  /* the window's end */
    assert_int_equal(vg_joins_fire(j, HOST_A, &disk, WINDOW, 1, id), 1);
    assert_string_equal(id, lead.id);
    vg_event early = event("swap", VG_ALERT_FIRING, 0, 0);  /* from a lagging partition */
    assert_int_equal(vg_joins_fire(j, HOST_A, &early, WINDOW, 1, id), 1);
    assert_string_equal(id, lead.id);
    vg_event other = event("cpu2", VG_ALERT_FIRING, 0, 2 * MINUTE);  /* another host */
    assert_int_equal(vg_joins_fire(j, HOST_B, &other, WINDOW, 1, id), 0);

    /* the leader resolving does not touch its members */
    vg_event lead_done = event("cpu", VG_ALERT_RESOLVED, 0, 3 * MINUTE);
    assert_int_equal(vg_joins_resolve(j, &lead_done, id, &page), 0);
    assert_non_null(page);  /* its page stays open: members fire */
    assert_false(vg_event_page_ended(page));
    memset(id, 0, sizeof(id));
    vg_event mem_done = event("mem", VG_ALERT_RESOLVED, MINUTE, 4 * MINUTE);
    assert_int_equal(vg_joins_resolve(j, &mem_done, id, &page), 1);
    assert_string_equal(id, lead.id);
    assert_int_equal(vg_joins_resolve(j, &mem_done, id, &page), 0);  /* once */

    /* 1 ms past the window: leads the host's next incident; the old one
     * stays only while disk, its member, fires */
    vg_event net = event("net", VG_ALERT_FIRING, 0, MINUTE + WINDOW + 1);
    assert_int_equal(vg_joins_fire(j, HOST_A, &net, WINDOW, 1, id), 0);
    assert_int_equal(vg_joins_count(j), 3);
    vg_event io = event("io", VG_ALERT_FIRING, 0, MINUTE + WINDOW + 2);
    assert_int_equal(vg_joins_fire(j, HOST_A, &io, WINDOW, 1, id), 1);
    assert_string_equal(id, net.id);
    vg_event swap_done = event("swap", VG_ALERT_RESOLVED, 0, 20 * MINUTE);
    assert_int_equal(vg_joins_resolve(j, &swap_done, id, &page), 1);
    vg_event disk_done = event("disk", VG_ALERT_RESOLVED, 0, 20 * MINUTE);
    assert_int_equal(vg_joins_resolve(j, &disk_done, id, &page), 1);
    assert_string_equal(id, lead.id);  /* the incident it joined, not the newer one */
    assert_int_equal(vg_joins_count(j), 2);
    vg_joins_free(j);
}

/* The leader firing again within the window is an incident of its own; a
 * muted incident joins but leads nothing (it pages no one), so the next
 * series pages. */
static void leader_again_and_muted_page_alone(void **state)
{
    (void)state;
    vg_joins *j = vg_joins_new(NULL, NULL);
    char id[33];
    vg_event lead = event("cpu", VG_ALERT_FIRING, 0, 0);
    assert_int_equal(vg_joins_fire(j, HOST_A, &lead, WINDOW, 1, id), 0);
    vg_event again = event("cpu", VG_ALERT_FIRING, MINUTE, MINUTE);
    assert_int_equal(vg_joins_fire(j, HOST_A, &again, WINDOW, 1, id), 0);
    vg_event mem = event("mem", VG_ALERT_FIRING, 2 * MINUTE, 2 * MINUTE);
    assert_int_equal(vg_joins_fire(j, HOST_A, &mem, WINDOW, 1, id), 1);
    assert_string_equal(id, again.id);  /* the second incident leads now */

    vg_event muted = event("disk", VG_ALERT_FIRING, 0, 0);
    assert_int_equal(vg_joins_fire(j, HOST_B, &muted, WINDOW, 0, id), 0);
    vg_event next = event("net", VG_ALERT_FIRING, 0, MINUTE);
    assert_int_equal(vg_joins_fire(j, HOST_B, &next, WINDOW, 1, id), 0);  /* pages */
    vg_event late_muted = event("io", VG_ALERT_FIRING, 0, 2 * MINUTE);
    assert_int_equal(vg_joins_fire(j, HOST_B, &late_muted, WINDOW, 0, id), 1);
    assert_string_equal(id, next.id);
    vg_joins_free(j);
}

/* --- end to end ---------------------------------------------------------- */

typedef struct capture {
    size_t firing, joined_firing, joined_resolved, notified, topic, hook_joined;
    char   lead_id[33];
} capture;

static int capture_emit(void *self, const vg_event *ev)
{
    capture *c = self;
    if (ev->state != VG_ALERT_FIRING) {
        c->joined_resolved += ev->group_id != NULL;
        return 0;
    }
    c->firing++;
    if (ev->group_id == NULL) {
        memcpy(c->lead_id, ev->id, sizeof(c->lead_id));
        return 0;
    }
    c->joined_firing++;
    assert_string_equal(ev->group_id, c->lead_id);
    return 0;
}

/* A notifying output (Alertmanager-like: records_muted 0). */
static int notify_emit(void *self, const vg_event *ev)
{
    ((capture *)self)->notified += ev->state == VG_ALERT_FIRING;
    return 0;
}

static void count_hook(void *ctx, const vg_batch *b, const vg_point *pt, const vg_point_result *r)
{
    (void)b;
    (void)pt;
    ((capture *)ctx)->hook_joined += r->joined != 0;
}

static const vg_sink_ops record_ops = {
    .name = "record", .emit = capture_emit, .close = vg_test_sink_free, .records_muted = 1,
};
static const vg_sink_ops notify_ops = {
    .name = "notify", .emit = notify_emit, .close = vg_test_sink_free,
};
/* The alert topic's kind: notifies, and records joined incidents too. */
static const vg_sink_ops topic_ops = {
    .name = "topic", .emit = notify_emit, .close = vg_test_sink_free, .records_joined = 1,
};

/* Four series of host h1 and one of h2, a day of noise, then a step on
 * three of h1's in the same minute and on h2's: h1 pages once (its two
 * others join), h2 once. Returns what was seen. */
static capture run(const char *cfg_text, int workers)
{
    vg_error err = {0};
    vg_config *cfg = vg_config_load_string(cfg_text, "<test>", &err);
    assert_non_null(cfg);
    cfg->workers = workers;
    vg_pipeline *p = vg_pipeline_new(cfg, &err);
    assert_non_null(p);
    capture *rec = calloc(1, sizeof(*rec)), *note = calloc(1, sizeof(*note));
    capture *topic = calloc(1, sizeof(*topic));
    capture seen = {0};
    vg_sink *s1 = malloc(sizeof(*s1)), *s2 = malloc(sizeof(*s2)), *s3 = malloc(sizeof(*s3));
    *s1 = (vg_sink){&record_ops, rec};
    *s2 = (vg_sink){&notify_ops, note};
    *s3 = (vg_sink){&topic_ops, topic};
    assert_int_equal(vg_pipeline_add_sink(p, s1), 0);
    assert_int_equal(vg_pipeline_add_sink(p, s2), 0);
    assert_int_equal(vg_pipeline_add_sink(p, s3), 0);
    vg_pipeline_set_hook(p, count_hook, &seen);
    const char *keys[] = {"cpu{host=\"h1\"}", "mem{host=\"h1\"}", "disk{host=\"h1\"}",
                          "net{host=\"h1\"}", "cpu{host=\"h2\"}"};
    uint64_t seed = 3;
    vg_batch b;
    vg_batch_init(&b);
    for (int t = 0; t < 2000; t++) {
        for (size_t k = 0; k < 5; k++) {
            double v = 100.0 + 10.0 * (double)k + vg_test_normal(&seed);
            if (t >= 1800 && t < 1830 && k != 3)
                v += 80.0;
            vg_batch_push(&b, keys[k], strlen(keys[k]), (int64_t)t * MINUTE, v, NULL);
        }
        if (b.n >= 500) {
            assert_true(vg_pipeline_process(p, &b) >= 0);
            vg_batch_reset(&b);
        }
    }
    assert_true(vg_pipeline_process(p, &b) >= 0);
    vg_batch_release(&b);
    vg_pipeline_flush(p, 0);
    seen.firing = rec->firing;
    seen.joined_firing = rec->joined_firing;
    seen.joined_resolved = rec->joined_resolved;
    seen.notified = note->notified;
    seen.topic = topic->notified;
    vg_pipeline_free(p);
    vg_config_free(cfg);
    return seen;
}

#define QUICK "\"warmup_s\": 0, \"warmup_points\": 100, \"rearm_s\": 0"

static void host_event_pages_once_whatever_the_workers(void **state)
{
    (void)state;
    capture one = run("{\"alert\": {" QUICK "}}", 1);
    assert_int_equal(one.firing, 4);         /* every series' incident is recorded */
    assert_int_equal(one.joined_firing, 2);  /* h1's two others joined its leader */
    assert_int_equal(one.joined_resolved, 2);
    assert_int_equal(one.notified, 2);       /* one page per host */
    assert_int_equal(one.topic, 4);          /* the alert topic records every one */
    assert_int_equal(one.hook_joined, 2);
    for (int workers = 2; workers <= 4; workers++) {
        capture many = run("{\"alert\": {" QUICK "}}", workers);
        assert_memory_equal(&one, &many, sizeof(one));
    }
    /* off: every series pages */
    capture off = run("{\"alert\": {" QUICK ", \"group_window_s\": 0}}", 1);
    assert_int_equal(off.firing, 4);
    assert_int_equal(off.joined_firing + off.joined_resolved + off.hook_joined, 0);
    assert_int_equal(off.notified, 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(members_join_the_leader_and_resolve_under_it),
        cmocka_unit_test(leader_again_and_muted_page_alone),
        cmocka_unit_test(host_event_pages_once_whatever_the_workers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
