/* Grouped incidents (engine/group.c): series of one group open, join,
 * leave and close one incident; other groups and ungrouped series stay
 * apart; ids are the group's, stable, and event ids name each change. */
#include <math.h>
#include <string.h>

#include "tests/unit/helpers.h"

#include "engine/group.h"

static vg_rule host_rule(void)
{
    vg_rule r;
    memset(&r, 0, sizeof(r));
    r.name = "host";
    r.group_by[0] = "instance";
    r.n_group_by = 1;
    return r;
}

static vg_event member(const char *series, vg_alert_state state, int64_t start, int64_t ts,
                       vg_severity severity)
{
    vg_event ev;
    memset(&ev, 0, sizeof(ev));
    ev.series = series;
    ev.series_len = strlen(series);
    ev.state = state;
    ev.severity = severity;
    ev.start_ms = start;
    ev.ts_ms = ts;
    ev.peak = 0.999;
    ev.value = ev.expected = ev.lower = ev.upper = NAN;
    ev.summary = "words";
    vg_event_make_id(&ev);
    return ev;
}

/* Feeds one member event; returns the group event's change ("" for none). */
static const char *feed(vg_groups *g, const vg_rule *r, vg_event *ev, vg_group_event *out)
{
    int rc = vg_groups_update(g, r, ev, out);
    assert_true(rc >= 0);
    return rc == 1 ? out->group.change : "";
}

static void one_host_one_incident(void **state)
{
    (void)state;
    vg_rule r = host_rule();
    vg_groups *g = vg_groups_new();
    vg_group_event *out = malloc(sizeof(*out));
    assert_non_null(out);
    vg_event a = member("cpu{instance=\"h1\"}", VG_ALERT_FIRING, 1000, 1000, VG_SEVERITY_CRITICAL);
    vg_event b = member("mem{instance=\"h1\"}", VG_ALERT_FIRING, 1000, 1000, VG_SEVERITY_WARNING);
    vg_event c = member("cpu{instance=\"h2\"}", VG_ALERT_FIRING, 2000, 2000, VG_SEVERITY_WARNING);

    assert_string_equal(feed(g, &r, &a, out), "opened");
    char id[33], first_event[33];
    memcpy(id, out->ev.id, sizeof(id));
    memcpy(first_event, out->ev.event_id, sizeof(first_event));
    assert_memory_equal(out->ev.series, "host{instance=\"h1\"}", out->ev.series_len);
    assert_int_equal(out->ev.state, VG_ALERT_FIRING);
    assert_string_equal(a.group_id, id);  /* the member points at its group */
    assert_null(out->ev.group_id);

    assert_string_equal(feed(g, &r, &b, out), "joined");
    assert_string_equal(out->ev.id, id);  /* the same incident */
    assert_string_not_equal(out->ev.event_id, first_event);  /* same ts, another event */
    assert_int_equal(out->ev.severity, VG_SEVERITY_CRITICAL);  /* the opener's: stable labels */
    assert_int_equal(out->group.n_firing, 2);
    assert_int_equal(out->group.n_members, 2);
    assert_memory_equal(out->group.first, a.series, a.series_len);
    assert_memory_equal(out->group.member, b.series, b.series_len);

    assert_string_equal(feed(g, &r, &c, out), "opened");  /* another host */
    assert_string_not_equal(out->ev.id, id);
    assert_int_equal(vg_groups_open(g), 2);

    vg_event a_res = member(a.series, VG_ALERT_RESOLVED, 1000, 5000, VG_SEVERITY_CRITICAL);
    assert_string_equal(feed(g, &r, &a_res, out), "left");
    assert_int_equal(out->ev.state, VG_ALERT_FIRING);
    assert_int_equal(out->group.n_firing, 1);
    assert_false(out->members[0].firing);
    assert_true(out->members[1].firing);
    vg_event b_res = member(b.series, VG_ALERT_RESOLVED, 1000, 9000, VG_SEVERITY_WARNING);
    assert_string_equal(feed(g, &r, &b_res, out), "closed");
    assert_int_equal(out->ev.state, VG_ALERT_RESOLVED);
    assert_string_equal(out->ev.id, id);
    assert_true(out->ev.duration_s == 8.0);
    assert_non_null(strstr(out->ev.summary, "back to normal"));
    assert_int_equal(vg_groups_open(g), 1);
    /* the event JSON lists the members */
    json_t *obj = vg_event_to_json(&out->ev);
    assert_non_null(obj);
    json_t *grp = json_object_get(obj, "group");
    assert_int_equal(json_array_size(json_object_get(grp, "members")), 2);
    assert_string_equal(json_string_value(json_object_get(grp, "change")), "closed");
    json_decref(obj);

    /* a resolve of a group not open here, a series without the label: none */
    assert_string_equal(feed(g, &r, &b_res, out), "");
    vg_event bare = member("cpu", VG_ALERT_FIRING, 1, 1, VG_SEVERITY_WARNING);
    assert_string_equal(feed(g, &r, &bare, out), "");
    assert_null(bare.group_id);
    /* h1 again: a new incident */
    vg_event again = member(a.series, VG_ALERT_FIRING, 20000, 20000, VG_SEVERITY_WARNING);
    assert_string_equal(feed(g, &r, &again, out), "opened");
    assert_string_not_equal(out->ev.id, id);
    free(out);
    vg_groups_free(g);
}

/* With a window, only series firing within it of the group's opening
 * join; a later one, the group still open, is an incident of its own
 * (its events ungrouped: not a member, no group id), and the group closes
 * with its members. Without the window (the control) it joins. */
static void window_bounds_joining(void **state)
{
    (void)state;
    vg_rule r = host_rule(), unbounded = host_rule();
    r.group_window_ms = 60000;
    vg_groups *g = vg_groups_new(), *control = vg_groups_new();
    vg_group_event *out = malloc(sizeof(*out));
    assert_non_null(out);
    vg_event a = member("cpu{instance=\"h1\"}", VG_ALERT_FIRING, 1000, 1000, VG_SEVERITY_WARNING);
    vg_event b = member("mem{instance=\"h1\"}", VG_ALERT_FIRING, 61000, 61000,
                        VG_SEVERITY_WARNING);
    vg_event c = member("disk{instance=\"h1\"}", VG_ALERT_FIRING, 61001, 61001,
                        VG_SEVERITY_WARNING);
    assert_string_equal(feed(g, &r, &a, out), "opened");
    assert_string_equal(feed(g, &r, &b, out), "joined");  /* 60 s after: within */
    assert_string_equal(feed(g, &r, &c, out), "");        /* 1 ms past the window */
    assert_null(c.group_id);
    vg_event c_control = c;
    vg_event a_control = a;
    assert_string_equal(feed(control, &unbounded, &a_control, out), "opened");
    assert_string_equal(feed(control, &unbounded, &c_control, out), "joined");

    vg_event c_res = member(c.series, VG_ALERT_RESOLVED, 61001, 70000, VG_SEVERITY_WARNING);
    assert_string_equal(feed(g, &r, &c_res, out), "");
    assert_null(c_res.group_id);
    vg_event a_res = member(a.series, VG_ALERT_RESOLVED, 1000, 80000, VG_SEVERITY_WARNING);
    vg_event b_res = member(b.series, VG_ALERT_RESOLVED, 61000, 90000, VG_SEVERITY_WARNING);
    assert_string_equal(feed(g, &r, &a_res, out), "left");
    assert_string_equal(feed(g, &r, &b_res, out), "closed");
    assert_int_equal(out->group.n_members, 2);
    free(out);
    vg_groups_free(g);
    vg_groups_free(control);
}

typedef struct listed {
    size_t  n;
    int64_t start[4];
} listed;

static void list_member(void *ctx, const char *series, size_t len, int64_t start_ms)
{
    listed *l = ctx;
    (void)series;
    (void)len;
    l->start[l->n++] = start_ms;
}

/* Feedback finds a group's members by the group's id and series, open or
 * recently closed; not by another id. */
static void members_by_group_id(void **state)
{
    (void)state;
    vg_rule r = host_rule();
    vg_groups *g = vg_groups_new();
    vg_group_event *out = malloc(sizeof(*out));
    assert_non_null(out);
    vg_event a = member("cpu{instance=\"h1\"}", VG_ALERT_FIRING, 1000, 1000, VG_SEVERITY_WARNING);
    vg_event b = member("mem{instance=\"h1\"}", VG_ALERT_FIRING, 2000, 2000, VG_SEVERITY_WARNING);
    feed(g, &r, &a, out);
    feed(g, &r, &b, out);
    char id[33], key[64];
    memcpy(id, out->ev.id, sizeof(id));
    snprintf(key, sizeof(key), "%.*s", (int)out->ev.series_len, out->ev.series);
    listed l = {0};
    assert_int_equal(vg_groups_members(g, key, strlen(key), id, list_member, &l), 2);
    assert_int_equal(l.start[0], 1000);
    assert_int_equal(l.start[1], 2000);
    vg_event a_res = member(a.series, VG_ALERT_RESOLVED, 1000, 5000, VG_SEVERITY_WARNING);
    vg_event b_res = member(b.series, VG_ALERT_RESOLVED, 2000, 6000, VG_SEVERITY_WARNING);
    feed(g, &r, &a_res, out);
    assert_string_equal(feed(g, &r, &b_res, out), "closed");
    l.n = 0;
    assert_int_equal(vg_groups_members(g, key, strlen(key), id, list_member, &l), 2);
    assert_int_equal(vg_groups_members(g, key, strlen(key), a.id, list_member, &l), 0);
    assert_int_equal(vg_groups_members(g, a.series, a.series_len, id, list_member, &l), 0);
    free(out);
    vg_groups_free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(one_host_one_incident),
        cmocka_unit_test(window_bounds_joining),
        cmocka_unit_test(members_by_group_id),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
