/* The "group" object of a grouped incident's event; see core/event.h. */
#include <math.h>

#include "core/event.h"

static json_t *member_json(const vg_event_member *m)
{
    json_t *obj = json_object();
    if (obj == NULL)
        return NULL;
    json_t *peak = isnan(m->peak) ? json_null() : json_real(m->peak);
    if (json_object_set_new(obj, "series", json_stringn(m->series, m->series_len)) != 0 ||
        json_object_set_new(obj, "state", json_string(m->firing ? "firing" : "resolved")) != 0 ||
        json_object_set_new(obj, "peak", peak) != 0 ||
        json_object_set_new(obj, "start_ms", json_integer(m->start_ms)) != 0) {
        json_decref(obj);
        return NULL;
    }
    return obj;
}

json_t *vg_event_group_json(const vg_event_group *g)
{
    json_t *obj = json_object();
    json_t *members = json_array();
    int failed = obj == NULL || members == NULL;
    for (size_t i = 0; i < g->n_members && !failed; i++)
        failed = json_array_append_new(members, member_json(&g->members[i])) != 0;
    if (!failed)
        failed = json_object_set_new(obj, "change", json_string(g->change)) != 0 ||
                 json_object_set_new(obj, "member", json_stringn(g->member, g->member_len)) != 0 ||
                 json_object_set_new(obj, "first", json_stringn(g->first, g->first_len)) != 0 ||
                 json_object_set_new(obj, "firing", json_integer((json_int_t)g->n_firing)) != 0;
    if (failed || json_object_set(obj, "members", members) != 0) {
        json_decref(members);
        json_decref(obj);
        return NULL;
    }
    json_decref(members);
    return obj;
}
