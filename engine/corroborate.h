/* Corroboration across a group's series (alert.corroborate): a fault moves
 * several metrics of one host at once, noise moves them one at a time. A
 * pending incident (one anomalous point, not yet confirmed by fire_after)
 * fires when another series of its group scored at or above
 * alert.corroborate within alert.corroborate_s of it.
 *
 * A series' group is the values of its rule's group.by labels (else of
 * `host` and `instance`) when its key has any of them; else, for a point
 * of a wide CSV row, the file (the columns of a wide CSV are one machine's
 * metrics; a long CSV's series are not grouped: they may be anything);
 * else it has none and is never corroborated.
 *
 * Determinism: the scoring workers (engine/shard.h) take the series of one
 * group together, so each group's notes are made and read by one thread in
 * input order, whatever the number of workers (the cost: one host's series
 * no longer spread over the workers). A batch the caller's thread scores
 * alone because the workers' job lists could not grow (out of memory) uses
 * its own table: corroboration may miss there. A table holds, per group,
 * the last two series that scored high and when, and how often the group's
 * series score high: in a group so large that a high score is always near,
 * corroboration is off. */
#ifndef VG_ENGINE_CORROBORATE_H
#define VG_ENGINE_CORROBORATE_H

#include <stddef.h>
#include <stdint.h>

#include "core/point.h"

/* A series' group: VG_GROUP_NONE when it has none; never 0 (the series
 * head's "not known yet"). */
#define VG_GROUP_NONE 1u

typedef struct vg_corroboration vg_corroboration;

/* Returns an empty table, or NULL when out of memory. */
vg_corroboration *vg_corroboration_new(void);
void vg_corroboration_free(vg_corroboration *c);

/* The group of series `key` (canonical) first seen in a point from
 * `origin`: labels by[n_by] (n_by 0: host and instance), else a wide
 * CSV's file. */
uint64_t vg_corroboration_group(const char *key, size_t key_len, const char *const *by,
                                size_t n_by, const vg_origin *origin);

/* Notes that `series` (any stable identity) of `group` scored high at
 * ts_ms. Out of memory: the note is lost (the table still answers). */
void vg_corroboration_note(vg_corroboration *c, uint64_t group, const void *series,
                           int64_t ts_ms);

/* 1 when another series of `group` was noted within window_ms of ts_ms,
 * and notes in the group are rare enough for that to mean something: at
 * the group's rate of notes so far, one falls within the window (and the
 * asking series' step_ms) by chance less than once in ten. */
int vg_corroboration_seen(const vg_corroboration *c, uint64_t group, const void *series,
                          int64_t ts_ms, int64_t window_ms, int64_t step_ms);

#endif
