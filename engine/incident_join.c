/* One page per host event; see incident_join.h.
 *
 * Group incidents are an array searched linearly, touched only on a firing
 * or resolved event, never per point: one per group that has fired (its
 * latest leader, `current`), plus the older ones while their page is open
 * (the leader or a member that joined them still fires: a member's
 * resolved event must name them). A group incident's members are the
 * series that joined it, each once (a series joining again, after its
 * own resolve, reuses its entry), firing or resolved: the page lists
 * them. An incident that is done is dropped at the next call, so a page
 * handed out (vg_joins_resolve) stays valid until then. */
#include "engine/incident_join.h"

#include <stdlib.h>
#include <string.h>

#include "core/grow.h"

typedef struct member {
    char    *series;
    size_t   len;
    double   peak;
    int64_t  start_ms;
    uint8_t  firing;
    uint8_t  escalated;  /* it paged itself: its resolved is notified too */
} member;

typedef struct incident {
    uint64_t    group;
    int         current;        /* bool: the group's latest leader (joinable) */
    int         leader_firing;  /* bool */
    vg_severity severity;       /* the page's: the leader's, raised by escalations */
    char        id[33];         /* the leader's incident id */
    char       *leader;         /* the leader's series key */
    size_t      leader_len;
    int64_t     fired_ms;       /* when the leader fired */
    int64_t     start_ms;       /* the leader's incident start */
    int64_t     leader_end_ms;
    int64_t     forget_ms;      /* forgotten once the event time passes this */
    member     *members;
    size_t      n, cap, n_firing;
} incident;

struct vg_joins {
    incident       *v;
    size_t          n, cap;
    size_t          entries;    /* leaders and members remembered */
    int64_t         now_ms;     /* the latest event time seen */
    uint64_t        forgotten;
    vg_join_page_fn page_fn;
    void           *ctx;
    vg_event_page   page;       /* the one being told or handed out */
    vg_event_member listed[VG_PAGE_LISTED];
};

vg_joins *vg_joins_new(vg_join_page_fn page_fn, void *ctx)
{
    vg_joins *j = calloc(1, sizeof(vg_joins));
    if (j == NULL)
        return NULL;
    j->page_fn = page_fn;
    j->ctx = ctx;
    j->now_ms = INT64_MIN;
    return j;
}

static void incident_release(incident *in)
{
    for (size_t i = 0; i < in->n; i++)
        free(in->members[i].series);
    free(in->members);
    free(in->leader);
}

void vg_joins_free(vg_joins *j)
{
    if (j == NULL)
        return;
    for (size_t i = 0; i < j->n; i++)
        incident_release(&j->v[i]);
    free(j->v);
    free(j);
}

size_t vg_joins_count(const vg_joins *j)
{
    return j->n;
}

uint64_t vg_joins_forgotten(const vg_joins *j)
{
    return j->forgotten;
}

static int same(const char *a, size_t a_len, const char *b, size_t b_len)
{
    return a_len == b_len && memcmp(a, b, a_len) == 0;
}

static char *copy_key(const vg_event *ev)
{
    char *key = malloc(ev->series_len + 1);
    if (key != NULL) {
        memcpy(key, ev->series, ev->series_len);
        key[ev->series_len] = '\0';
    }
    return key;
}

/* Incident in's page, as of ts_ms, into j->page. */
static const vg_event_page *page_of(vg_joins *j, const incident *in, int64_t ts_ms)
{
    size_t listed = in->n < VG_PAGE_LISTED ? in->n : VG_PAGE_LISTED;
    for (size_t i = 0; i < listed; i++) {
        const member *m = &in->members[i];
        j->listed[i] = (vg_event_member){m->series, m->len, m->firing, m->peak, m->start_ms};
    }
    j->page = (vg_event_page){.id = in->id, .ts_ms = ts_ms, .start_ms = in->start_ms,
                              .leader_firing = in->leader_firing,
                              .leader_end_ms = in->leader_end_ms, .n_joined = in->n,
                              .n_firing = in->n_firing, .n_listed = listed,
                              .listed = j->listed};
    return &j->page;
}

static void tell(vg_joins *j, const incident *in, int64_t ts_ms)
{
    if (j->page_fn != NULL && in->n > 0)
        j->page_fn(j->ctx, page_of(j, in, ts_ms));
}

/* Removes incident k; `counted`: the series of it still firing count as
 * forgotten, and a page they held open ends. */
static void remove_at(vg_joins *j, size_t k, int counted)
{
    incident *in = &j->v[k];
    if (counted) {
        j->forgotten += in->n_firing + (in->leader_firing ? 1u : 0u);
        if (!in->leader_firing && in->n_firing > 0) {
            for (size_t i = 0; i < in->n; i++)
                in->members[i].firing = 0;
            in->n_firing = 0;
            tell(j, in, j->now_ms);
        }
    }
    j->entries -= 1 + in->n;
    incident_release(in);
    j->v[k] = j->v[--j->n];
}

/* Removes incident k when done: neither joinable nor with a page open.
 * Returns 1 when it did. */
static int drop_if_done(vg_joins *j, size_t k)
{
    const incident *in = &j->v[k];
    if (in->current || in->n_firing > 0 || (in->leader_firing && in->n > 0))
        return 0;
    remove_at(j, k, 0);
    return 1;
}

/* At every call: forgets the incidents past their time and drops those
 * done (one whose page was handed out at the last call among them). */
static void sweep(vg_joins *j, int64_t ts_ms)
{
    if (ts_ms > j->now_ms)
        j->now_ms = ts_ms;
    for (size_t k = j->n; k-- > 0;)
        if (j->now_ms > j->v[k].forget_ms)
            remove_at(j, k, 1);
        else
            drop_if_done(j, k);
}

/* Room for one more entry: the oldest incident goes, other than the one
 * at *keep (NULL: none), which may move (remove_at fills the gap with the
 * last). Returns 0 when there is none to take. */
static int make_room(vg_joins *j, size_t *keep)
{
    while (j->entries >= VG_JOIN_MAX_ENTRIES) {
        size_t oldest = SIZE_MAX;
        for (size_t k = 0; k < j->n; k++)
            if ((keep == NULL || k != *keep) &&
                (oldest == SIZE_MAX || j->v[k].fired_ms < j->v[oldest].fired_ms))
                oldest = k;
        if (oldest == SIZE_MAX)
            return 0;
        remove_at(j, oldest, 1);
        if (keep != NULL && *keep == j->n)
            *keep = oldest;
    }
    return 1;
}

static member *find_member(incident *in, const char *key, size_t len)
{
    for (size_t i = 0; i < in->n; i++)
        if (same(in->members[i].series, in->members[i].len, key, len))
            return &in->members[i];
    return NULL;
}

/* ev joins incident k: remembered as a member, for its resolved event and
 * the page. The page's severity rises with an escalation. */
static vg_join_role join(vg_joins *j, size_t k, const vg_event *ev, char id[33])
{
    incident *in = &j->v[k];
    member *m = find_member(in, ev->series, ev->series_len);
    if (m == NULL) {
        if (!make_room(j, &k))
            return VG_JOIN_NONE;
        in = &j->v[k];
        member *v = vg_grow(in->members, &in->cap, in->n, sizeof(*v), 4);
        if (v == NULL)
            return VG_JOIN_NONE;
        in->members = v;
        char *series = copy_key(ev);
        if (series == NULL)
            return VG_JOIN_NONE;
        m = &in->members[in->n++];
        *m = (member){.series = series, .len = ev->series_len};
        j->entries++;
    }
    m->escalated = ev->severity > in->severity;
    if (m->escalated)
        in->severity = ev->severity;
    in->n_firing += !m->firing;  /* (a resolve missed: it was firing already) */
    m->firing = 1;
    m->peak = ev->peak;
    m->start_ms = ev->start_ms;
    memcpy(id, in->id, 33);
    tell(j, in, ev->ts_ms);
    return m->escalated ? VG_JOIN_ESCALATED : VG_JOIN_MEMBER;
}

/* ev leads the group's next incident. */
static void lead(vg_joins *j, uint64_t group, const vg_event *ev, int64_t window_ms)
{
    if (!make_room(j, NULL))
        return;
    incident *v = vg_grow(j->v, &j->cap, j->n, sizeof(*v), 8);
    if (v == NULL)
        return;
    j->v = v;
    char *leader = copy_key(ev);
    if (leader == NULL)
        return;
    int64_t keep = window_ms > VG_JOIN_FORGET_MS ? window_ms : VG_JOIN_FORGET_MS;
    incident *in = &j->v[j->n++];
    *in = (incident){.group = group, .current = 1, .leader_firing = 1,
                     .severity = ev->severity, .leader = leader,
                     .leader_len = ev->series_len, .fired_ms = ev->ts_ms,
                     .start_ms = ev->start_ms, .forget_ms = ev->ts_ms + keep};
    memcpy(in->id, ev->id, sizeof(in->id));
    j->entries++;
}

vg_join_role vg_joins_fire(vg_joins *j, uint64_t group, const vg_event *ev, int64_t window_ms,
                           int may_lead, char id[33])
{
    sweep(j, ev->ts_ms);
    size_t k = 0;
    while (k < j->n && !(j->v[k].current && j->v[k].group == group))
        k++;
    if (k < j->n) {
        incident *in = &j->v[k];
        /* Either side of the leader's firing: a host's series come from
         * several partitions, one may lag behind another. The leader itself
         * firing again is a new incident of its own, and so is a firing
         * after the page ended (leader and members resolved): joining it
         * would notify no one (live collectd, branch q-live8: a loopback
         * flood joined an unrelated incident over for 90 s). */
        int open = in->leader_firing || in->n_firing > 0;
        if (open && llabs(ev->ts_ms - in->fired_ms) <= window_ms &&
            !same(in->leader, in->leader_len, ev->series, ev->series_len)) {
            return join(j, k, ev, id);
        }
        if (!may_lead)
            return VG_JOIN_NONE;
        in->current = 0;  /* dropped at a later sweep once its page is over */
    }
    if (may_lead)
        lead(j, group, ev, window_ms);
    return VG_JOIN_NONE;
}

vg_join_role vg_joins_resolve(vg_joins *j, const vg_event *ev, char id[33],
                              const vg_event_page **page)
{
    sweep(j, ev->ts_ms);
    *page = NULL;
    for (size_t k = 0; k < j->n; k++) {
        incident *in = &j->v[k];
        if (in->leader_firing && strcmp(in->id, ev->id) == 0) {
            in->leader_firing = 0;
            in->leader_end_ms = ev->ts_ms;
            if (in->n > 0)
                *page = page_of(j, in, ev->ts_ms);
            return VG_JOIN_NONE;
        }
        member *m = find_member(in, ev->series, ev->series_len);
        if (m != NULL && m->firing) {
            m->firing = 0;
            in->n_firing--;
            memcpy(id, in->id, 33);
            tell(j, in, ev->ts_ms);
            vg_join_role role = m->escalated ? VG_JOIN_ESCALATED : VG_JOIN_MEMBER;
            drop_if_done(j, k);
            return role;
        }
    }
    return VG_JOIN_NONE;
}

void vg_joins_drop(vg_joins *j, const char *key, size_t len)
{
    for (size_t k = j->n; k-- > 0;) {
        incident *in = &j->v[k];
        if (same(in->leader, in->leader_len, key, len))
            in->leader_firing = 0;  /* its page is the new owner's now */
        member *m = find_member(in, key, len);
        if (m != NULL && m->firing) {
            m->firing = 0;
            in->n_firing--;
            tell(j, in, j->now_ms);
        }
        drop_if_done(j, k);
    }
}
