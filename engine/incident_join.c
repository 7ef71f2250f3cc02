/* One page per host event; see incident_join.h.
 *
 * Group incidents are an array searched linearly, touched only on a firing
 * or resolved event, never per point: one per group that has fired (its
 * latest leader, `current`), plus the older ones while a member that joined
 * them still fires (its resolved event must name them). A group incident's
 * members are the series that joined it and still fire. */
#include "engine/incident_join.h"

#include <stdlib.h>
#include <string.h>

#include "core/grow.h"

typedef struct member {
    char  *series;
    size_t len;
} member;

typedef struct incident {
    uint64_t group;
    int      current;    /* bool: the group's latest leader (others wait for members) */
    char     id[33];     /* the leader's incident id */
    char    *leader;     /* the leader's series key */
    size_t   leader_len;
    int64_t  fired_ms;   /* when the leader fired */
    member  *members;
    size_t   n, cap;
} incident;

struct vg_joins {
    incident *v;
    size_t    n, cap;
};

vg_joins *vg_joins_new(void)
{
    return calloc(1, sizeof(vg_joins));
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

static int same(const char *a, size_t a_len, const vg_event *ev)
{
    return a_len == ev->series_len && memcmp(a, ev->series, a_len) == 0;
}

/* Removes incident k once it neither leads nor has members firing. */
static void drop_if_done(vg_joins *j, size_t k)
{
    if (j->v[k].current || j->v[k].n > 0)
        return;
    incident_release(&j->v[k]);
    j->v[k] = j->v[--j->n];
}

/* ev joins incident in: remembered as a member, for its resolved event. */
static int join(incident *in, const vg_event *ev, char id[33])
{
    member *v = vg_grow(in->members, &in->cap, in->n, sizeof(*v), 4);
    if (v == NULL)
        return 0;
    in->members = v;
    char *series = malloc(ev->series_len + 1);
    if (series == NULL)
        return 0;
    memcpy(series, ev->series, ev->series_len);
    series[ev->series_len] = '\0';
    in->members[in->n++] = (member){series, ev->series_len};
    memcpy(id, in->id, 33);
    return 1;
}

/* ev leads the group's next incident. */
static void lead(vg_joins *j, uint64_t group, const vg_event *ev)
{
    incident *v = vg_grow(j->v, &j->cap, j->n, sizeof(*v), 8);
    if (v == NULL)
        return;
    j->v = v;
    char *leader = malloc(ev->series_len + 1);
    if (leader == NULL)
        return;
    memcpy(leader, ev->series, ev->series_len);
    leader[ev->series_len] = '\0';
    incident *in = &j->v[j->n++];
    *in = (incident){.group = group, .current = 1, .leader = leader,
                     .leader_len = ev->series_len, .fired_ms = ev->ts_ms};
    memcpy(in->id, ev->id, sizeof(in->id));
}

int vg_joins_fire(vg_joins *j, uint64_t group, const vg_event *ev, int64_t window_ms,
                  int may_lead, char id[33])
{
    size_t k = 0;
    while (k < j->n && !(j->v[k].current && j->v[k].group == group))
        k++;
    if (k < j->n) {
        incident *in = &j->v[k];
        /* Either side of the leader's firing: a host's series come from
         * several partitions, one may lag behind another. The leader itself
         * firing again is a new incident of its own. */
        if (llabs(ev->ts_ms - in->fired_ms) <= window_ms &&
            !same(in->leader, in->leader_len, ev))
            return join(in, ev, id);
        if (!may_lead)
            return 0;
        in->current = 0;
        drop_if_done(j, k);
    }
    if (may_lead)
        lead(j, group, ev);
    return 0;
}

int vg_joins_resolve(vg_joins *j, const vg_event *ev, char id[33])
{
    for (size_t k = 0; k < j->n; k++) {
        incident *in = &j->v[k];
        for (size_t i = 0; i < in->n; i++)
            if (same(in->members[i].series, in->members[i].len, ev)) {
                memcpy(id, in->id, 33);
                free(in->members[i].series);
                in->members[i] = in->members[--in->n];
                drop_if_done(j, k);
                return 1;
            }
    }
    return 0;
}
