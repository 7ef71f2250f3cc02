/* Unit tests for the Alertmanager sink's outbox
 * (streams/alertmanager_outbox.c), driven by a fake clock: what is due
 * when, re-posts of firing alerts, the resolve hold, drops when full. */
#include "tests/unit/helpers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "streams/alertmanager_outbox.h"

#define RESEND 1000
#define HOLD 100
#define ID_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define ID_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define ID_C "cccccccccccccccccccccccccccccccc"

static vg_am_outbox *outbox(size_t cap)
{
    vg_am_outbox_params p = {.cap = cap, .resend_ms = RESEND, .hold_ms = HOLD};
    vg_am_outbox *o = vg_am_outbox_new(&p);
    assert_non_null(o);
    return o;
}

static void push(vg_am_outbox *o, const char *id, int resolved, const char *text, int64_t now,
                 uint64_t *dropped)
{
    assert_int_equal(vg_am_outbox_push(o, id, resolved, VG_SEVERITY_WARNING, strdup(text), now,
                                       dropped),
                     VG_OK);
}

static void firing_reposted_until_resolved(void **state)
{
    (void)state;
    vg_am_outbox *o = outbox(16);
    vg_am_item items[8];
    uint64_t dropped = 0;
    push(o, ID_A, 0, "fire-a", 0, &dropped);
    assert_int_equal(vg_am_outbox_next_due(o, 0), INT64_MIN);
    assert_int_equal(vg_am_outbox_take(o, 0, items, 8), 1);
    assert_string_equal(items[0].json, "fire-a");
    assert_int_equal(items[0].resolved, 0);
    assert_int_equal(vg_am_outbox_queued(o), 0);
    /* in flight: nothing due, and no re-post of an alert not posted yet */
    assert_int_equal(vg_am_outbox_next_due(o, 5), INT64_MAX);
    vg_am_outbox_done(o, items, 1, 10);
    assert_null(items[0].json);
    assert_int_equal(vg_am_outbox_next_due(o, 10), 10 + RESEND);
    assert_int_equal(vg_am_outbox_take(o, 10 + RESEND - 1, items, 8), 0);
    /* the re-post is a copy of the same text, due every RESEND */
    assert_int_equal(vg_am_outbox_take(o, 10 + RESEND, items, 8), 1);
    assert_string_equal(items[0].json, "fire-a");
    vg_am_outbox_done(o, items, 1, 20 + RESEND);
    assert_int_equal(vg_am_outbox_next_due(o, 0), 20 + 2 * RESEND);

    /* resolved: held until HOLD after the first post (10), then no more re-posts */
    push(o, ID_A, 1, "res-a", 50, &dropped);
    assert_int_equal(vg_am_outbox_queued(o), 1);
    assert_int_equal(vg_am_outbox_next_due(o, 50), 10 + HOLD);
    assert_int_equal(vg_am_outbox_take(o, 10 + HOLD - 1, items, 8), 0);
    assert_int_equal(vg_am_outbox_take(o, 10 + HOLD, items, 8), 1);
    assert_string_equal(items[0].json, "res-a");
    assert_int_equal(items[0].resolved, 1);
    assert_string_equal(items[0].id, ID_A);
    vg_am_outbox_done(o, items, 1, 200);
    assert_int_equal(vg_am_outbox_next_due(o, 200), INT64_MAX);
    assert_int_equal(vg_am_outbox_take(o, 100000, items, 8), 0);
    assert_int_equal(dropped, 0);
    vg_am_outbox_free(o);
}

/* A revoked partition's firing incidents are no longer re-posted, even
 * one whose post was in flight at the revoke; the others go on. */
static void disowned_incident_not_reposted(void **state)
{
    (void)state;
    vg_am_outbox *o = outbox(16);
    vg_am_item items[8];
    uint64_t dropped = 0;
    const char *ids[] = {ID_A, ID_B, ID_C};
    for (int64_t i = 0; i < 3; i++) {
        push(o, ids[i], 0, ids[i], 10 * i, &dropped);
        if (i == 1) {  /* A and B posted; C stays in flight */
            assert_int_equal(vg_am_outbox_take(o, 0, items, 8), 2);
            vg_am_outbox_done(o, items, 2, 10);
        }
    }
    assert_int_equal(vg_am_outbox_take(o, 20, items, 8), 1);
    assert_int_equal(vg_am_outbox_disown(o, ID_A), 1);
    assert_int_equal(vg_am_outbox_disown(o, ID_C), 1);  /* in flight */
    assert_int_equal(vg_am_outbox_disown(o, ID_C), 0);
    vg_am_outbox_done(o, items, 1, 30);
    for (int64_t now = 10 + RESEND; now < 10 + 5 * RESEND; now += RESEND) {
        assert_int_equal(vg_am_outbox_take(o, now, items, 8), 1);
        assert_string_equal(items[0].id, ID_B);
        vg_am_outbox_done(o, items, 1, now);
    }
    /* a resolved of a disowned incident (its new owner's) is not held */
    push(o, ID_A, 1, "res-a", 0, &dropped);
    assert_int_equal(vg_am_outbox_next_due(o, 0), INT64_MIN);
    vg_am_outbox_free(o);
}

static void resolved_waits_for_its_firing_only(void **state)
{
    (void)state;
    vg_am_outbox *o = outbox(16);
    vg_am_item items[8];
    uint64_t dropped = 0;
    push(o, ID_A, 0, "fire-a", 0, &dropped);
    assert_int_equal(vg_am_outbox_take(o, 0, items, 8), 1);  /* in flight */
    push(o, ID_A, 1, "res-a", 1, &dropped);
    push(o, ID_B, 0, "fire-b", 2, &dropped);
    push(o, ID_C, 1, "res-c", 3, &dropped);  /* unknown incident: not held */
    vg_am_item more[8];
    /* res-a is held while its firing is in flight; the others pass it */
    assert_int_equal(vg_am_outbox_take(o, 1000, more, 8), 2);
    assert_string_equal(more[0].json, "fire-b");
    assert_string_equal(more[1].json, "res-c");
    assert_int_equal(vg_am_outbox_queued(o), 1);
    assert_int_equal(vg_am_outbox_next_due(o, 1000), INT64_MAX);
    vg_am_outbox_done(o, more, 2, 1000);
    vg_am_outbox_done(o, items, 1, 1000);  /* fire-a delivered at 1000 */
    assert_int_equal(vg_am_outbox_next_due(o, 1000), 1000 + HOLD);
    assert_int_equal(vg_am_outbox_take(o, 1000 + HOLD, items, 8), 1);
    assert_string_equal(items[0].json, "res-a");
    vg_am_outbox_done(o, items, 1, 1200);
    vg_am_outbox_free(o);
}

static void batch_limit_and_order(void **state)
{
    (void)state;
    vg_am_outbox *o = outbox(16);
    vg_am_item items[2];
    uint64_t dropped = 0;
    push(o, ID_A, 0, "1", 0, &dropped);
    push(o, ID_B, 0, "2", 0, &dropped);
    push(o, ID_C, 0, "3", 0, &dropped);
    assert_int_equal(vg_am_outbox_take(o, 0, items, 2), 2);
    assert_string_equal(items[0].json, "1");
    assert_string_equal(items[1].json, "2");
    vg_am_outbox_done(o, items, 2, 0);
    assert_int_equal(vg_am_outbox_take(o, 0, items, 2), 1);
    assert_string_equal(items[0].json, "3");
    vg_am_outbox_done(o, items, 1, 0);
    vg_am_outbox_free(o);
}

static void full_queue_drops_oldest(void **state)
{
    (void)state;
    vg_am_outbox *o = outbox(2);
    vg_am_item items[8];
    uint64_t dropped = 0;
    push(o, ID_A, 0, "fire-a", 0, &dropped);
    push(o, ID_B, 0, "fire-b", 0, &dropped);
    push(o, ID_C, 0, "fire-c", 5, &dropped);
    assert_int_equal(dropped, 1);
    assert_int_equal(vg_am_outbox_queued(o), 2);
    assert_int_equal(vg_am_outbox_take(o, 5, items, 8), 2);
    assert_string_equal(items[0].json, "fire-b");
    assert_string_equal(items[1].json, "fire-c");
    vg_am_outbox_done(o, items, 2, 5);
    /* incidents are capped at 2 too: A, the oldest, is forgotten */
    assert_int_equal(vg_am_outbox_severity(o, ID_A, VG_SEVERITY_CRITICAL), VG_SEVERITY_CRITICAL);
    assert_int_equal(vg_am_outbox_severity(o, ID_B, VG_SEVERITY_CRITICAL), VG_SEVERITY_WARNING);
    vg_am_outbox_free(o);

    /* a dropped firing is re-posted one interval on, like any firing */
    o = outbox(2);
    dropped = 0;
    push(o, ID_A, 0, "fire-a", 0, &dropped);
    push(o, ID_C, 1, "res-c", 0, &dropped);
    push(o, ID_B, 0, "fire-b", 5, &dropped);  /* drops fire-a at 5 */
    assert_int_equal(dropped, 1);
    assert_int_equal(vg_am_outbox_take(o, 5, items, 8), 2);
    assert_string_equal(items[0].json, "res-c");
    assert_string_equal(items[1].json, "fire-b");
    vg_am_outbox_done(o, items, 2, 5);
    assert_int_equal(vg_am_outbox_take(o, 5 + RESEND - 1, items, 8), 0);
    assert_int_equal(vg_am_outbox_take(o, 5 + RESEND, items, 8), 2);
    assert_string_equal(items[0].json, "fire-a");
    assert_string_equal(items[1].json, "fire-b");
    vg_am_outbox_done(o, items, 2, 5 + RESEND);
    vg_am_outbox_free(o);

    /* a dropped firing's resolved is not held forever */
    o = outbox(2);
    dropped = 0;
    push(o, ID_A, 0, "fire-a", 0, &dropped);
    push(o, ID_B, 0, "fire-b", 0, &dropped);
    push(o, ID_A, 1, "res-a", 10, &dropped);  /* drops fire-a at 10 */
    assert_int_equal(dropped, 1);
    assert_int_equal(vg_am_outbox_next_due(o, 10), INT64_MIN);  /* fire-b */
    assert_int_equal(vg_am_outbox_take(o, 10, items, 8), 1);
    assert_string_equal(items[0].json, "fire-b");
    assert_int_equal(vg_am_outbox_take(o, 10 + HOLD, items + 1, 7), 1);
    assert_string_equal(items[1].json, "res-a");
    vg_am_outbox_done(o, items, 2, 10 + HOLD);
    vg_am_outbox_free(o);

    /* a dropped resolved ends its incident's re-posts */
    o = outbox(2);
    dropped = 0;
    push(o, ID_A, 0, "fire-a", 0, &dropped);
    assert_int_equal(vg_am_outbox_take(o, 0, items, 8), 1);
    vg_am_outbox_done(o, items, 1, 0);
    push(o, ID_A, 1, "res-a", 1, &dropped);
    push(o, ID_B, 0, "fire-b", 2, &dropped);
    push(o, ID_C, 0, "fire-c", 3, &dropped);  /* drops res-a */
    assert_int_equal(dropped, 1);
    assert_int_equal(vg_am_outbox_take(o, 3, items, 8), 2);
    assert_string_equal(items[0].json, "fire-b");
    assert_string_equal(items[1].json, "fire-c");
    vg_am_outbox_done(o, items, 2, 3);
    assert_int_equal(vg_am_outbox_take(o, 10 * RESEND, items, 8), 2);  /* no fire-a */
    assert_string_equal(items[0].json, "fire-b");
    assert_string_equal(items[1].json, "fire-c");
    vg_am_outbox_done(o, items, 2, 10 * RESEND);
    vg_am_outbox_free(o);
}

/* Many incidents through the id table: inserts, lookups, and deletions in
 * a scattered order keep every other incident findable. */
/* When full, a warning goes before any critical, however old the critical. */
static void full_queue_drops_low_severity_first(void **state)
{
    (void)state;
    vg_am_outbox *o = outbox(2);
    vg_am_item items[8];
    uint64_t dropped = 0;
    assert_int_equal(vg_am_outbox_push(o, ID_A, 0, VG_SEVERITY_CRITICAL, strdup("fire-a"), 0,
                                       &dropped), VG_OK);
    push(o, ID_B, 0, "fire-b", 1, &dropped);  /* a warning */
    assert_int_equal(vg_am_outbox_push(o, ID_C, 0, VG_SEVERITY_CRITICAL, strdup("fire-c"), 2,
                                       &dropped), VG_OK);
    assert_int_equal(dropped, 1);
    assert_int_equal(vg_am_outbox_take(o, 2, items, 8), 2);
    assert_string_equal(items[0].json, "fire-a");
    assert_string_equal(items[1].json, "fire-c");
    vg_am_outbox_done(o, items, 2, 2);
    vg_am_outbox_free(o);
}

static void many_incidents(void **state)
{
    (void)state;
    enum { N = 600 };
    vg_am_outbox *o = outbox(N);
    static vg_am_item items[N];
    static char ids[N][33];
    uint64_t dropped = 0, seed = 42;
    for (int i = 0; i < N; i++) {
        snprintf(ids[i], sizeof(ids[i]), "%016llx%016llx",
                 (unsigned long long)vg_test_rand(&seed), (unsigned long long)i);
        vg_severity sev = i % 2 ? VG_SEVERITY_CRITICAL : VG_SEVERITY_WARNING;
        assert_int_equal(vg_am_outbox_push(o, ids[i], 0, sev, strdup("f"), 0, &dropped), VG_OK);
    }
    assert_int_equal(vg_am_outbox_take(o, 0, items, N), N);
    vg_am_outbox_done(o, items, N, 0);
    /* resolve every incident whose index is 0 mod 3, in a scattered order */
    for (int k = 0; k < N; k++) {
        int i = (k * 7) % N;
        if (i % 3 == 0)
            push(o, ids[i], 1, "r", 1, &dropped);
    }
    size_t n = vg_am_outbox_take(o, HOLD, items, N);
    assert_int_equal(n, N / 3);
    vg_am_outbox_done(o, items, n, HOLD);
    for (int i = 0; i < N; i++) {
        vg_severity want = i % 3 == 0 ? VG_SEVERITY_CRITICAL + 1  /* forgotten: fallback */
                           : i % 2    ? VG_SEVERITY_CRITICAL
                                      : VG_SEVERITY_WARNING;
        assert_int_equal(vg_am_outbox_severity(o, ids[i], VG_SEVERITY_CRITICAL + 1), want);
    }
    /* the others are re-posted, each once per interval */
    assert_int_equal(vg_am_outbox_take(o, RESEND, items, N), N - N / 3);
    vg_am_outbox_done(o, items, N - N / 3, RESEND);
    assert_int_equal(dropped, 0);
    vg_am_outbox_free(o);
}

/* At close a held resolved goes out once its firing is posted, carrying
 * how long its hold had left; one whose hold ends before the horizon
 * keeps waiting for it (its endsAt stays true). */
static void release_lets_held_resolved_go(void **state)
{
    (void)state;
    vg_am_outbox *o = outbox(16);
    vg_am_item items[8];
    uint64_t dropped = 0;
    push(o, ID_A, 0, "fire-a", 0, &dropped);
    assert_int_equal(vg_am_outbox_take(o, 0, items, 8), 1);
    vg_am_outbox_done(o, items, 1, 10);  /* A's hold ends at 10 + HOLD */
    push(o, ID_A, 1, "res-a", 20, &dropped);
    push(o, ID_B, 0, "fire-b", 20, &dropped);
    push(o, ID_B, 1, "res-b", 20, &dropped);
    assert_int_equal(vg_am_outbox_release(o, 20, 10 + HOLD), 1);  /* B only: A ends by then */
    assert_int_equal(vg_am_outbox_release(o, 20, 10 + HOLD), 0);  /* once */
    /* B's resolved still comes after B's firing, not before */
    assert_int_equal(vg_am_outbox_take(o, 30, items, 8), 1);
    assert_string_equal(items[0].json, "fire-b");
    vg_am_outbox_done(o, items, 1, 40);  /* B's hold would end at 40 + HOLD */
    assert_int_equal(vg_am_outbox_take(o, 50, items, 8), 1);
    assert_string_equal(items[0].json, "fire-b");  /* the firing's words, endsAt to come */
    assert_int_equal(items[0].resolved, 1);
    assert_int_equal(items[0].ends_in_ms, 40 + HOLD - 50);
    vg_am_outbox_done(o, items, 1, 50);
    assert_int_equal(vg_am_outbox_take(o, 10 + HOLD, items, 8), 1);
    assert_string_equal(items[0].json, "res-a");
    assert_int_equal(items[0].ends_in_ms, 0);
    vg_am_outbox_done(o, items, 1, 10 + HOLD);
    assert_int_equal(vg_am_outbox_queued(o), 0);
    vg_am_outbox_free(o);
}

static void clear_counts_and_frees(void **state)
{
    (void)state;
    vg_am_outbox *o = outbox(8);
    uint64_t dropped = 0;
    push(o, ID_A, 0, "fire-a", 0, &dropped);
    push(o, ID_A, 1, "res-a", 0, &dropped);
    push(o, ID_B, 0, "fire-b", 0, &dropped);
    assert_int_equal(vg_am_outbox_clear(o), 3);
    assert_int_equal(vg_am_outbox_queued(o), 0);
    assert_int_equal(vg_am_outbox_next_due(o, 0), INT64_MAX);
    vg_am_outbox_free(o);
    vg_am_outbox_free(NULL);
}

/* A page update (alertmanager_sink.c, am_page) starts from the firing's
 * text as last queued; none once its resolved is queued, nor for an
 * incident never queued. */
static void firing_text_for_page_updates(void **state)
{
    (void)state;
    vg_am_outbox *o = outbox(16);
    uint64_t dropped = 0;
    assert_null(vg_am_outbox_firing(o, ID_A));
    push(o, ID_A, 0, "fire-a", 0, &dropped);
    push(o, ID_A, 0, "fire-a with members", 1, &dropped);
    char *text = vg_am_outbox_firing(o, ID_A);
    assert_string_equal(text, "fire-a with members");
    free(text);
    push(o, ID_A, 1, "res-a", 2, &dropped);
    assert_null(vg_am_outbox_firing(o, ID_A));
    vg_am_outbox_free(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(firing_reposted_until_resolved),
        cmocka_unit_test(disowned_incident_not_reposted),
        cmocka_unit_test(resolved_waits_for_its_firing_only),
        cmocka_unit_test(batch_limit_and_order),
        cmocka_unit_test(full_queue_drops_oldest),
        cmocka_unit_test(full_queue_drops_low_severity_first),
        cmocka_unit_test(many_incidents),
        cmocka_unit_test(release_lets_held_resolved_go),
        cmocka_unit_test(clear_counts_and_frees),
        cmocka_unit_test(firing_text_for_page_updates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
