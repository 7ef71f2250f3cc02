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

/* A series firing within the window but after the incident's page ended
 * (its leader and every member resolved) leads a new incident: joining
 * would notify no one (the live collectd run of branch q-live8: a
 * loopback flood 3 minutes after an unrelated host event paged nothing). */
static void a_page_that_ended_is_not_joined(void **state)
{
    (void)state;
    vg_joins *j = vg_joins_new(NULL, NULL);
    const vg_event_page *page;
    char id[33];
    vg_event lead = event("disk", VG_ALERT_FIRING, 0, 0);
    assert_int_equal(vg_joins_fire(j, HOST_A, &lead, WINDOW, 1, id), VG_JOIN_NONE);
    vg_event eth = event("eth0", VG_ALERT_FIRING, 0, 0);
    assert_int_equal(vg_joins_fire(j, HOST_A, &eth, WINDOW, 1, id), VG_JOIN_MEMBER);
    vg_event lead_done = event("disk", VG_ALERT_RESOLVED, 0, MINUTE);
    vg_joins_resolve(j, &lead_done, id, &page);
    /* eth0 still fires: the page is open, a series may join it */
    vg_event cpu = event("cpu", VG_ALERT_FIRING, 0, MINUTE);
    assert_int_equal(vg_joins_fire(j, HOST_A, &cpu, WINDOW, 1, id), VG_JOIN_MEMBER);
    assert_string_equal(id, lead.id);
    vg_event eth_done = event("eth0", VG_ALERT_RESOLVED, 0, 2 * MINUTE);
    assert_int_equal(vg_joins_resolve(j, &eth_done, id, &page), VG_JOIN_MEMBER);
    vg_event cpu_done = event("cpu", VG_ALERT_RESOLVED, 0, 2 * MINUTE);
    assert_int_equal(vg_joins_resolve(j, &cpu_done, id, &page), VG_JOIN_MEMBER);
    /* all resolved, within the window: lo leads (pages), net joins lo */
    vg_event lo = event("lo", VG_ALERT_FIRING, 0, 3 * MINUTE);
    assert_int_equal(vg_joins_fire(j, HOST_A, &lo, WINDOW, 1, id), VG_JOIN_NONE);
    vg_event net = event("net", VG_ALERT_FIRING, 0, 3 * MINUTE);
    assert_int_equal(vg_joins_fire(j, HOST_A, &net, WINDOW, 1, id), VG_JOIN_MEMBER);
    assert_string_equal(id, lo.id);
    vg_joins_free(j);
}

/* What page_fn was told, the last page copied. */
typedef struct pages {
    size_t        told;
    vg_event_page last;  /* its id and listed cleared: valid for the call only */
    char          id[33];
    char          listed_first[64];
} pages;

static void keep_page(void *ctx, const vg_event_page *page)
{
    pages *p = ctx;
    p->told++;
    p->last = *page;
    p->last.listed = NULL;
    p->last.id = NULL;
    snprintf(p->id, sizeof(p->id), "%s", page->id);
    snprintf(p->listed_first, sizeof(p->listed_first), "%.*s",
             page->n_listed > 0 ? (int)page->listed[0].series_len : 0,
             page->n_listed > 0 ? page->listed[0].series : "");
}

static vg_event with_severity(vg_event ev, vg_severity severity)
{
    ev.severity = severity;
    return ev;
}

/* A critical joining a warning's page pages itself (both its events), and
 * raises the page: a second critical joins quietly, a warning too. */
static void a_higher_severity_escalates_once(void **state)
{
    (void)state;
    vg_joins *j = vg_joins_new(NULL, NULL);
    const vg_event_page *page;
    char id[33];
    vg_event lead = with_severity(event("cpu", VG_ALERT_FIRING, 0, 0), VG_SEVERITY_WARNING);
    assert_int_equal(vg_joins_fire(j, HOST_A, &lead, WINDOW, 1, id), VG_JOIN_NONE);
    vg_event warn = with_severity(event("io", VG_ALERT_FIRING, 0, MINUTE), VG_SEVERITY_WARNING);
    assert_int_equal(vg_joins_fire(j, HOST_A, &warn, WINDOW, 1, id), VG_JOIN_MEMBER);
    vg_event crit = with_severity(event("mem", VG_ALERT_FIRING, 0, MINUTE), VG_SEVERITY_CRITICAL);
    assert_int_equal(vg_joins_fire(j, HOST_A, &crit, WINDOW, 1, id), VG_JOIN_ESCALATED);
    assert_string_equal(id, lead.id);
    vg_event crit2 = with_severity(event("disk", VG_ALERT_FIRING, 0, 2 * MINUTE),
                                   VG_SEVERITY_CRITICAL);
    assert_int_equal(vg_joins_fire(j, HOST_A, &crit2, WINDOW, 1, id), VG_JOIN_MEMBER);
    vg_event crit_done = event("mem", VG_ALERT_RESOLVED, 0, 3 * MINUTE);
    assert_int_equal(vg_joins_resolve(j, &crit_done, id, &page), VG_JOIN_ESCALATED);
    assert_string_equal(id, lead.id);
    vg_event crit2_done = event("disk", VG_ALERT_RESOLVED, 0, 3 * MINUTE);
    assert_int_equal(vg_joins_resolve(j, &crit2_done, id, &page), VG_JOIN_MEMBER);
    /* a critical leader: nothing above it */
    vg_event lead_b = with_severity(event("cpu", VG_ALERT_FIRING, 0, 0), VG_SEVERITY_CRITICAL);
    assert_int_equal(vg_joins_fire(j, HOST_B, &lead_b, WINDOW, 1, id), VG_JOIN_NONE);
    vg_event crit_b = with_severity(event("mem", VG_ALERT_FIRING, 0, 0), VG_SEVERITY_CRITICAL);
    assert_int_equal(vg_joins_fire(j, HOST_B, &crit_b, WINDOW, 1, id), VG_JOIN_MEMBER);
    vg_joins_free(j);
}

/* The page lists who joined, as they join and resolve; the leader
 * resolving with members firing keeps it open, and the last member's
 * resolve ends it (told, at that time). Past VG_PAGE_LISTED the count
 * goes on. */
static void the_page_follows_its_members(void **state)
{
    (void)state;
    pages seen = {0};
    vg_joins *j = vg_joins_new(keep_page, &seen);
    const vg_event_page *page;
    char id[33], name[16];
    vg_event lead = event("cpu", VG_ALERT_FIRING, 0, 0);
    vg_joins_fire(j, HOST_A, &lead, WINDOW, 1, id);
    assert_int_equal(seen.told, 0);  /* no members, nothing to tell */
    vg_event mem = event("mem", VG_ALERT_FIRING, 0, MINUTE);
    vg_joins_fire(j, HOST_A, &mem, WINDOW, 1, id);
    assert_int_equal(seen.told, 1);
    assert_string_equal(seen.id, lead.id);
    assert_int_equal(seen.last.n_joined, 1);
    assert_int_equal(seen.last.n_firing, 1);
    assert_string_equal(seen.listed_first, "mem");
    assert_true(seen.last.leader_firing);

    vg_event lead_done = event("cpu", VG_ALERT_RESOLVED, 0, 2 * MINUTE);
    assert_int_equal(vg_joins_resolve(j, &lead_done, id, &page), VG_JOIN_NONE);
    assert_non_null(page);
    assert_false(page->leader_firing);
    assert_int_equal(page->leader_end_ms, 2 * MINUTE);
    assert_false(vg_event_page_ended(page));  /* mem fires: still open */
    assert_int_equal(seen.told, 1);           /* the resolved event carries it */

    vg_event mem_done = event("mem", VG_ALERT_RESOLVED, 0, 9 * MINUTE);
    assert_int_equal(vg_joins_resolve(j, &mem_done, id, &page), VG_JOIN_MEMBER);
    assert_null(page);
    assert_int_equal(seen.told, 2);
    assert_true(vg_event_page_ended(&seen.last));  /* the page ends now */
    assert_int_equal(seen.last.ts_ms, 9 * MINUTE);
    assert_int_equal(seen.last.n_joined, 1);
    assert_int_equal(vg_joins_count(j), 1);  /* only the group's joinable leader */

    /* a leader whose members are all done: its resolved ends the page */
    vg_event lead2 = event("cpu", VG_ALERT_FIRING, 0, 10 * MINUTE);
    vg_joins_fire(j, HOST_B, &lead2, WINDOW, 1, id);
    for (int i = 0; i < VG_PAGE_LISTED + 2; i++) {
        snprintf(name, sizeof(name), "s%02d", i);
        vg_event m = event(name, VG_ALERT_FIRING, 0, 11 * MINUTE);
        assert_int_equal(vg_joins_fire(j, HOST_B, &m, WINDOW, 1, id), VG_JOIN_MEMBER);
        vg_event done = event(name, VG_ALERT_RESOLVED, 0, 12 * MINUTE);
        assert_int_equal(vg_joins_resolve(j, &done, id, &page), VG_JOIN_MEMBER);
    }
    assert_int_equal(seen.last.n_joined, VG_PAGE_LISTED + 2);
    assert_int_equal(seen.last.n_listed, VG_PAGE_LISTED);
    assert_string_equal(seen.listed_first, "s00");
    vg_event lead2_done = event("cpu", VG_ALERT_RESOLVED, 0, 13 * MINUTE);
    vg_joins_resolve(j, &lead2_done, id, &page);
    assert_non_null(page);
    assert_true(vg_event_page_ended(page));
    vg_joins_free(j);
}

/* A member that never resolves is forgotten a day (event time) after its
 * leader fired, counted, and the page it held open ends; its resolve,
 * should it come, names no group incident. One handed over to another
 * instance goes at once, uncounted. */
static void members_that_never_resolve_are_forgotten(void **state)
{
    (void)state;
    pages seen = {0};
    vg_joins *j = vg_joins_new(keep_page, &seen);
    const vg_event_page *page;
    char id[33];
    vg_event lead = event("cpu", VG_ALERT_FIRING, 0, 0);
    vg_joins_fire(j, HOST_A, &lead, WINDOW, 1, id);
    vg_event mem = event("mem", VG_ALERT_FIRING, 0, MINUTE);
    vg_joins_fire(j, HOST_A, &mem, WINDOW, 1, id);
    vg_event lead_done = event("cpu", VG_ALERT_RESOLVED, 0, 2 * MINUTE);
    vg_joins_resolve(j, &lead_done, id, &page);
    vg_event other = event("net", VG_ALERT_FIRING, 0, VG_JOIN_FORGET_MS);  /* just in time */
    vg_joins_fire(j, HOST_B, &other, WINDOW, 1, id);
    assert_int_equal(vg_joins_forgotten(j), 0);
    assert_int_equal(vg_joins_count(j), 2);
    vg_event later = event("net", VG_ALERT_RESOLVED, 0, VG_JOIN_FORGET_MS + 1);
    vg_joins_resolve(j, &later, id, &page);
    assert_int_equal(vg_joins_forgotten(j), 1);  /* mem */
    assert_true(vg_event_page_ended(&seen.last));
    assert_string_equal(seen.id, lead.id);
    vg_event mem_done = event("mem", VG_ALERT_RESOLVED, 0, VG_JOIN_FORGET_MS + 2);
    assert_int_equal(vg_joins_resolve(j, &mem_done, id, &page), VG_JOIN_NONE);

    /* handed over: the page ends, not counted */
    vg_event lead3 = event("cpu", VG_ALERT_FIRING, 0, 2 * VG_JOIN_FORGET_MS);
    vg_joins_fire(j, HOST_A, &lead3, WINDOW, 1, id);
    vg_event io = event("io", VG_ALERT_FIRING, 0, 2 * VG_JOIN_FORGET_MS);
    assert_int_equal(vg_joins_fire(j, HOST_A, &io, WINDOW, 1, id), VG_JOIN_MEMBER);
    vg_event lead3_done = event("cpu", VG_ALERT_RESOLVED, 0, 2 * VG_JOIN_FORGET_MS + MINUTE);
    vg_joins_resolve(j, &lead3_done, id, &page);
    size_t told = seen.told;
    vg_joins_drop(j, "io", 2);
    assert_int_equal(seen.told, told + 1);
    assert_true(vg_event_page_ended(&seen.last));
    assert_int_equal(vg_joins_forgotten(j), 1);  /* io is not counted */
    vg_joins_free(j);
}

/* Beyond VG_JOIN_MAX_ENTRIES remembered, the oldest group incident goes,
 * counted when its series fire. */
static void entries_are_bounded(void **state)
{
    (void)state;
    vg_joins *j = vg_joins_new(NULL, NULL);
    char id[33], name[16];
    for (int g = 0; g < VG_JOIN_MAX_ENTRIES + 50; g++) {
        snprintf(name, sizeof(name), "cpu%d", g);
        vg_event lead = event(name, VG_ALERT_FIRING, 0, g);
        vg_joins_fire(j, (uint64_t)g + 10, &lead, WINDOW, 1, id);
    }
    assert_int_equal(vg_joins_count(j), VG_JOIN_MAX_ENTRIES);
    assert_int_equal(vg_joins_forgotten(j), 50);
    vg_event first = event("cpu0", VG_ALERT_RESOLVED, 0, 10);  /* forgotten: plain */
    const vg_event_page *page;
    assert_int_equal(vg_joins_resolve(j, &first, id, &page), VG_JOIN_NONE);
    vg_joins_free(j);
}

/* --- end to end ---------------------------------------------------------- */

typedef struct capture {
    size_t firing, joined_firing, joined_resolved, notified, topic, hook_joined;
    size_t escalated, pages, pages_ended, resolved_with_page;
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
    capture *c = self;
    c->notified += ev->state == VG_ALERT_FIRING;
    c->escalated += ev->escalated;
    c->resolved_with_page += ev->page != NULL && vg_event_page_ended(ev->page);
    return 0;
}

static void notify_page(void *self, const vg_event_page *page)
{
    capture *c = self;
    c->pages++;
    c->pages_ended += vg_event_page_ended(page);
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
    .name = "notify", .emit = notify_emit, .close = vg_test_sink_free, .page = notify_page,
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
    seen.escalated = note->escalated;
    seen.pages = note->pages;
    seen.pages_ended = note->pages_ended;
    seen.resolved_with_page = note->resolved_with_page;
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
    assert_int_equal(one.escalated, 0);
    assert_int_equal(one.pages, 4);  /* two joined, two resolved */
    assert_int_equal(one.pages_ended + one.resolved_with_page, 1);  /* h1's page ended once */
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

/* h1's disk is critical, its cpu (the leader) and mem warnings: disk
 * pages itself, both its events notified, and counts as a page for the
 * operator view; mem joins quietly. The same with 1 to 4 workers. */
static void a_critical_member_pages_whatever_the_workers(void **state)
{
    (void)state;
    const char *cfg = "{\"alert\": {" QUICK "}, \"rules\": ["
                      "{\"match\": {\"name\": \"cpu\"}, \"severity\": \"warning\"},"
                      "{\"match\": {\"name\": \"mem\"}, \"severity\": \"warning\"},"
                      "{\"match\": {\"name\": \"disk\"}, \"severity\": \"critical\"}]}";
    capture one = run(cfg, 1);
    assert_int_equal(one.firing, 4);
    assert_int_equal(one.joined_firing, 2);  /* both carry the leader's id */
    assert_int_equal(one.notified, 3);       /* h1's leader, h1's disk, h2 */
    assert_int_equal(one.escalated, 2);      /* disk's firing and resolved */
    assert_int_equal(one.hook_joined, 1);    /* mem only: disk paged */
    for (int workers = 2; workers <= 4; workers++) {
        capture many = run(cfg, workers);
        assert_memory_equal(&one, &many, sizeof(one));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(members_join_the_leader_and_resolve_under_it),
        cmocka_unit_test(leader_again_and_muted_page_alone),
        cmocka_unit_test(a_page_that_ended_is_not_joined),
        cmocka_unit_test(a_higher_severity_escalates_once),
        cmocka_unit_test(the_page_follows_its_members),
        cmocka_unit_test(members_that_never_resolve_are_forgotten),
        cmocka_unit_test(entries_are_bounded),
        cmocka_unit_test(host_event_pages_once_whatever_the_workers),
        cmocka_unit_test(a_critical_member_pages_whatever_the_workers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
