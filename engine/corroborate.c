/* Corroboration across a group's series; see corroborate.h.
 *
 * The table is open addressing on the group's hash, doubled at half full;
 * groups are few (hosts, files) and never removed. */
#include "engine/corroborate.h"

#include <stdlib.h>
#include <string.h>

#include "core/series_key.h"

/* A corroboration that chance would bring more often than this confirms
 * nothing: a host of hundreds of series has a high score somewhere every
 * few minutes (smd-dev's 38-series machines: about 0.02 at 0.9999). */
#define MAX_CHANCE 0.1
/* The note rate's prior: a day without notes, so a group's first fault
 * (many notes at once) does not look like its usual rate. */
#define PRIOR_MS 86400000.0

/* One group: the last two distinct series that scored high, newest first
 * (two, so that one of them is another series than the one asking), and
 * how many notes since its first, for their rate. */
typedef struct entry {
    uint64_t    group;   /* 0: empty */
    const void *series[2];
    int64_t     ts_ms[2];
    uint64_t    notes;
    int64_t     first_ms;
} entry;

struct vg_corroboration {
    entry *slots;
    size_t cap, n;   /* cap a power of two */
};

static const char *const default_by[] = {"host", "instance"};

vg_corroboration *vg_corroboration_new(void)
{
    vg_corroboration *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return NULL;
    c->cap = 64;
    c->slots = calloc(c->cap, sizeof(*c->slots));
    if (c->slots == NULL) {
        free(c);
        return NULL;
    }
    return c;
}

void vg_corroboration_free(vg_corroboration *c)
{
    if (c == NULL)
        return;
    free(c->slots);
    free(c);
}

static uint64_t usable(uint64_t h)
{
    return h > VG_GROUP_NONE ? h : h + 2;
}

uint64_t vg_corroboration_group(const char *key, size_t key_len, const char *const *by,
                                size_t n_by, const vg_origin *origin)
{
    if (n_by == 0) {
        by = default_by;
        n_by = sizeof(default_by) / sizeof(default_by[0]);
    }
    vg_label labels[VG_MAX_LABELS];
    char scratch[1024];
    size_t name_len;
    int n = vg_series_key_split(key, key_len, &name_len, labels, VG_MAX_LABELS, scratch,
                                sizeof(scratch));
    uint64_t h = 0;
    int found = 0;
    for (size_t k = 0; k < n_by; k++)
        for (int i = 0; i < n; i++)
            if (labels[i].name_len == strlen(by[k]) &&
                memcmp(labels[i].name, by[k], labels[i].name_len) == 0) {
                h = vg_hash64(labels[i].name, labels[i].name_len, h);
                h = vg_hash64(labels[i].value, labels[i].value_len, h);
                found = 1;
            }
    if (found)
        return usable(h);
    /* A wide CSV file's columns: one machine's metrics. */
    if (origin != NULL && origin->partition == VG_ORIGIN_WIDE_ROW && origin->source != NULL)
        return usable(vg_hash64(origin->source, strlen(origin->source), 0x66696c65));
    return VG_GROUP_NONE;
}

static entry *find(entry *slots, size_t cap, uint64_t group)
{
    size_t i = (size_t)group & (cap - 1);
    while (slots[i].group != 0 && slots[i].group != group)
        i = (i + 1) & (cap - 1);
    return &slots[i];
}

static int grow(vg_corroboration *c)
{
    size_t cap = c->cap * 2;
    entry *slots = calloc(cap, sizeof(*slots));
    if (slots == NULL)
        return -1;
    for (size_t i = 0; i < c->cap; i++)
        if (c->slots[i].group != 0)
            *find(slots, cap, c->slots[i].group) = c->slots[i];
    free(c->slots);
    c->slots = slots;
    c->cap = cap;
    return 0;
}

void vg_corroboration_note(vg_corroboration *c, uint64_t group, const void *series,
                           int64_t ts_ms)
{
    entry *e = find(c->slots, c->cap, group);
    if (e->group == 0) {
        if (2 * (c->n + 1) > c->cap) {
            if (grow(c) != 0)
                return;
            e = find(c->slots, c->cap, group);
        }
        e->group = group;
        e->first_ms = ts_ms;
        c->n++;
    }
    e->notes++;
    if (e->series[0] != series) {
        e->series[1] = e->series[0];
        e->ts_ms[1] = e->ts_ms[0];
        e->series[0] = series;
    }
    e->ts_ms[0] = ts_ms;
}

int vg_corroboration_seen(const vg_corroboration *c, uint64_t group, const void *series,
                          int64_t ts_ms, int64_t window_ms, int64_t step_ms)
{
    const entry *e = find(c->slots, c->cap, group);
    if (e->group == 0)
        return 0;
    /* The chance that some note falls within the window by itself: the
     * group's note rate over the window's span (both sides and the step). */
    double rate = (double)e->notes / ((double)(ts_ms - e->first_ms) + PRIOR_MS);
    if (rate * (double)(2 * window_ms + step_ms) > MAX_CHANCE)
        return 0;
    for (int k = 0; k < 2; k++)
        if (e->series[k] != NULL && e->series[k] != series &&
            llabs(ts_ms - e->ts_ms[k]) <= window_ms)
            return 1;
    return 0;
}
