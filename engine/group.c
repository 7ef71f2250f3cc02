/* Grouped incidents; see group.h.
 *
 * Open groups are few (one per group with a member firing) and a group's
 * members are its series that fired while it was open, so both are plain
 * arrays searched linearly: a change costs O(open groups + members), paid
 * only on a firing or resolved event, never per point. */
#include "engine/group.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/grow.h"
#include "core/series_key.h"

typedef struct member {
    char    *series;
    size_t   len;
    int      firing;
    double   peak;
    int64_t  start_ms;
} member;

typedef struct group {
    char         id[33];    /* its incident's: the key and start, as any incident's */
    char        *key;
    size_t       key_len;
    int64_t      start_ms;
    vg_severity  severity;
    int          muted;
    char        *first_words;  /* the first member's summary when it fired */
    member      *members;
    size_t       n, cap, n_firing;
} group;

struct vg_groups {
    group  **open;
    size_t   n, cap;
    /* The last groups closed, oldest overwritten: feedback on a group
     * usually comes after it closed. The latest one's event points into
     * it until the next call. */
    group   *recent[VG_GROUP_RECENT];
    size_t   next_recent;
};

vg_groups *vg_groups_new(void)
{
    return calloc(1, sizeof(vg_groups));
}

static void group_free(group *gr)
{
    if (gr == NULL)
        return;
    for (size_t i = 0; i < gr->n; i++)
        free(gr->members[i].series);
    free(gr->members);
    free(gr->first_words);
    free(gr->key);
    free(gr);
}

void vg_groups_free(vg_groups *g)
{
    if (g == NULL)
        return;
    for (size_t i = 0; i < g->n; i++)
        group_free(g->open[i]);
    for (size_t i = 0; i < VG_GROUP_RECENT; i++)
        group_free(g->recent[i]);
    free(g->open);
    free(g);
}

size_t vg_groups_open(const vg_groups *g)
{
    return g->n;
}

/* The group key of a member series: `<rule name>{<its group.by labels>}`
 * into out[cap]. Returns its length, 0 when the series has none of those
 * labels (it is not grouped), or a negative error. */
static int group_key(const vg_rule *rule, const vg_event *ev, char *out, size_t cap)
{
    vg_label labels[VG_MAX_LABELS], picked[VG_GROUP_BY_MAX];
    char scratch[1024];
    size_t name_len, n = 0;
    int n_labels = vg_series_key_split(ev->series, ev->series_len, &name_len, labels,
                                       VG_MAX_LABELS, scratch, sizeof(scratch));
    for (size_t k = 0; k < rule->n_group_by; k++)
        for (int i = 0; i < n_labels; i++)
            if (labels[i].name_len == strlen(rule->group_by[k]) &&
                memcmp(labels[i].name, rule->group_by[k], labels[i].name_len) == 0)
                picked[n++] = labels[i];
    if (n == 0)
        return 0;
    return vg_series_key_build(out, cap, rule->name, strlen(rule->name), picked, n);
}

static group *find_group(const vg_groups *g, const char *key, size_t len, size_t *at)
{
    for (size_t i = 0; i < g->n; i++)
        if (g->open[i]->key_len == len && memcmp(g->open[i]->key, key, len) == 0) {
            *at = i;
            return g->open[i];
        }
    return NULL;
}

static member *find_member(const group *gr, const vg_event *ev)
{
    for (size_t i = 0; i < gr->n; i++)
        if (gr->members[i].len == ev->series_len &&
            memcmp(gr->members[i].series, ev->series, ev->series_len) == 0)
            return &gr->members[i];
    return NULL;
}

static member *add_member(group *gr, const vg_event *ev)
{
    member *v = vg_grow(gr->members, &gr->cap, gr->n, sizeof(*v), 8);
    if (v == NULL)
        return NULL;
    gr->members = v;
    member *m = &gr->members[gr->n];
    m->series = malloc(ev->series_len + 1);
    if (m->series == NULL)
        return NULL;
    memcpy(m->series, ev->series, ev->series_len);
    m->series[ev->series_len] = '\0';
    m->len = ev->series_len;
    m->firing = 0;
    gr->n++;
    return m;
}

/* A new group opened by `first` (its key in key[len]). */
static group *open_group(vg_groups *g, const char *key, size_t len, const vg_event *first)
{
    group **v = vg_grow(g->open, &g->cap, g->n, sizeof(*v), 8);
    if (v == NULL)
        return NULL;
    g->open = v;
    group *gr = calloc(1, sizeof(*gr));
    if (gr == NULL)
        return NULL;
    gr->key = strndup(key, len);
    gr->first_words = strdup(first->summary != NULL ? first->summary : "");
    if (gr->key == NULL || gr->first_words == NULL) {
        group_free(gr);
        return NULL;
    }
    gr->key_len = len;
    gr->start_ms = first->start_ms;
    vg_event id = {.series = gr->key, .series_len = len, .start_ms = gr->start_ms};
    vg_event_make_id(&id);
    memcpy(gr->id, id.id, sizeof(gr->id));
    gr->severity = first->severity;
    gr->muted = first->muted;
    g->open[g->n++] = gr;
    return gr;
}

/* The group's event for `change` made by member ev: the member's point,
 * scores and rule, under the group's key, incident and words. */
static void fill(vg_group_event *out, const group *gr, const vg_event *ev, const char *change)
{
    int closed = gr->n_firing == 0;
    vg_event *g = &out->ev;
    *g = *ev;
    g->series = out->key;
    g->series_len = gr->key_len;
    g->state = closed ? VG_ALERT_RESOLVED : VG_ALERT_FIRING;
    g->severity = gr->severity;
    g->muted = gr->muted;
    g->start_ms = gr->start_ms;
    g->duration_s = (double)(g->ts_ms - gr->start_ms) / 1000.0;
    g->reason = closed ? ev->reason : NULL;
    g->group_id = NULL;
    g->peak = 0;
    size_t listed = gr->n < VG_GROUP_LISTED ? gr->n : VG_GROUP_LISTED;
    for (size_t i = 0; i < gr->n; i++) {
        if (gr->members[i].peak > g->peak)
            g->peak = gr->members[i].peak;
        if (i < listed)
            out->members[i] = (vg_event_member){gr->members[i].series, gr->members[i].len,
                                                gr->members[i].firing, gr->members[i].peak,
                                                gr->members[i].start_ms};
    }
    out->group = (vg_event_group){change, ev->series, ev->series_len, gr->members[0].series,
                                  gr->members[0].len, gr->n_firing, listed, out->members};
    g->group = &out->group;
    vg_event_make_id(g);
    /* Two members may change the group at one timestamp: the event id also
     * names the member and the change. */
    char buf[640];
    int n = snprintf(buf, sizeof(buf), "%s/%s/%.*s", g->event_id, change,
                     (int)(ev->series_len < 512 ? ev->series_len : 512), ev->series);
    snprintf(g->event_id, sizeof(g->event_id), "%016" PRIx64 "%016" PRIx64,
             vg_hash64(buf, (size_t)n, 1), vg_hash64(buf, (size_t)n, 2));
    if (closed)
        snprintf(out->summary, sizeof(out->summary),
                 "%s is back to normal: %zu series were anomalous, for %.0f s", out->key,
                 gr->n, g->duration_s);
    else
        snprintf(out->summary, sizeof(out->summary),
                 "%s: %zu of %zu series anomalous; first: %s", out->key, gr->n_firing, gr->n,
                 gr->first_words);
    snprintf(out->description, sizeof(out->description), "%.*s %s: %s", (int)ev->series_len,
             ev->series, change, ev->summary != NULL ? ev->summary : "");
    g->summary = out->summary;
    g->description = out->description;
}

int vg_groups_update(vg_groups *g, const vg_rule *rule, vg_event *ev, vg_group_event *out)
{
    int len = group_key(rule, ev, out->key, sizeof(out->key));
    if (len <= 0)
        return 0;
    size_t at = 0;
    group *gr = find_group(g, out->key, (size_t)len, &at);
    member *m = gr != NULL ? find_member(gr, ev) : NULL;
    const char *change;
    if (ev->state == VG_ALERT_FIRING) {
        /* Past the window the group is one incident already: a series
         * firing this late is an incident of its own, paged alone. */
        if (gr != NULL && m == NULL && rule->group_window_ms > 0 &&
            ev->ts_ms - gr->start_ms > rule->group_window_ms)
            return 0;
        change = gr == NULL ? "opened" : "joined";
        if (gr == NULL && (gr = open_group(g, out->key, (size_t)len, ev)) == NULL)
            return VG_ENOMEM;
        if (m == NULL && (m = add_member(gr, ev)) == NULL)
            return VG_ENOMEM;
        if (!m->firing)
            gr->n_firing++;
        m->firing = 1;
        m->start_ms = ev->start_ms;
    } else {
        if (m == NULL || !m->firing)
            return 0;
        m->firing = 0;
        change = --gr->n_firing > 0 ? "left" : "closed";
    }
    m->peak = ev->peak;
    fill(out, gr, ev, change);
    ev->group_id = out->ev.id;
    if (gr->n_firing == 0) {  /* closed: kept among the recent ones */
        g->open[at] = g->open[--g->n];
        group_free(g->recent[g->next_recent]);
        g->recent[g->next_recent] = gr;
        g->next_recent = (g->next_recent + 1) % VG_GROUP_RECENT;
    }
    return 1;
}

static int is_group(const group *gr, const char *key, size_t len, const char *id)
{
    return gr != NULL && gr->key_len == len && memcmp(gr->key, key, len) == 0 &&
           strcmp(gr->id, id) == 0;
}

size_t vg_groups_members(const vg_groups *g, const char *key, size_t len, const char *id,
                         vg_group_member_fn fn, void *ctx)
{
    const group *gr = NULL;
    for (size_t i = 0; i < g->n && gr == NULL; i++)
        if (is_group(g->open[i], key, len, id))
            gr = g->open[i];
    for (size_t i = 0; i < VG_GROUP_RECENT && gr == NULL; i++)
        if (is_group(g->recent[i], key, len, id))
            gr = g->recent[i];
    for (size_t i = 0; gr != NULL && i < gr->n; i++)
        fn(ctx, gr->members[i].series, gr->members[i].len, gr->members[i].start_ms);
    return gr != NULL ? gr->n : 0;
}
