/* The remote-write 1.0 messages below WriteRequest, read with protowire.h:
 * shared by the parser (parse_prom_rw.c) and the receiver's splitter
 * (prom_rw_split.c), so both read a label and a sample the same way.
 *
 *   Label  { string name = 1; string value = 2; }
 *   Sample { double value = 1; int64 timestamp = 2; }   (ms) */
#ifndef VG_STREAMS_PROM_RW_WIRE_H
#define VG_STREAMS_PROM_RW_WIRE_H

#include "core/series_key.h"
#include "streams/protowire.h"

/* Reads a Label into *out (views into the message). 0, or -1 malformed. */
static inline int vg__prom_rw_label(vg_pb l, vg_label *out)
{
    vg_pb kv[3] = {{0}, {0}, {0}};
    uint32_t f;
    int w, rc;
    uint64_t x;
    while ((rc = vg_pb_next(&l, &f, &w)) == 1)
        if ((f == 1 || f == 2 ? vg_pb_take(&l, w, VG_PB_LEN, &x, &kv[f]) : vg_pb_skip(&l, w)) < 0)
            return -1;
    if (rc < 0)
        return -1;
    *out = (vg_label){(const char *)kv[1].p, (size_t)(kv[1].end - kv[1].p),
                      (const char *)kv[2].p, (size_t)(kv[2].end - kv[2].p)};
    return 0;
}

static inline int vg__prom_rw_is_name(const vg_label *l)
{
    return l->name_len == 8 && memcmp(l->name, "__name__", 8) == 0;
}

/* A TimeSeries' labels: `__name__` apart, the others in arrival order. */
typedef struct vg__prom_rw_series {
    const char *name;
    size_t      name_len;
    vg_label    labels[VG_MAX_LABELS];
    size_t      n;
} vg__prom_rw_series;

enum { VG__RW_MALFORMED = 1, VG__RW_TOO_MANY_LABELS = 2 };

static inline int vg__prom_rw_add_label(void *arg, vg_pb l)
{
    vg__prom_rw_series *s = arg;
    vg_label lb;
    if (vg__prom_rw_label(l, &lb) != 0)
        return VG__RW_MALFORMED;
    if (vg__prom_rw_is_name(&lb)) {
        s->name = lb.value;
        s->name_len = lb.value_len;
    } else if (s->n == VG_MAX_LABELS) {
        return VG__RW_TOO_MANY_LABELS;
    } else {
        s->labels[s->n++] = lb;
    }
    return 0;
}

/* Reads the labels of TimeSeries t (field 1) into *s. Returns 0,
 * VG__RW_MALFORMED or VG__RW_TOO_MANY_LABELS. */
static inline int vg__prom_rw_series_labels(vg_pb t, vg__prom_rw_series *s)
{
    *s = (vg__prom_rw_series){.name = "", .name_len = 0, .n = 0};
    int rc = vg_pb_each(t, 1, vg__prom_rw_add_label, s);
    return rc < 0 ? VG__RW_MALFORMED : rc;
}

/* Reads a Sample into *value and *ts. 0, or -1 malformed. */
static inline int vg__prom_rw_sample(vg_pb smp, double *value, int64_t *ts)
{
    uint64_t v = 0, t = 0;
    uint32_t f;
    int w, rc;
    while ((rc = vg_pb_next(&smp, &f, &w)) == 1)
        if ((f == 1   ? vg_pb_take(&smp, w, VG_PB_I64, &v, NULL)
             : f == 2 ? vg_pb_take(&smp, w, VG_PB_VARINT, &t, NULL)
                      : vg_pb_skip(&smp, w)) < 0)
            return -1;
    if (rc < 0)
        return -1;
    memcpy(value, &v, sizeof(*value));
    *ts = (int64_t)t;
    return 0;
}

#endif
