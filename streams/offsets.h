/* The offset tracker: per (topic, partition), the next offset to process.
 *
 * The one place that turns "offset O of topic/partition was processed"
 * into positions: the Kafka source records what its polls returned, the
 * partition lifecycle (src/lifecycle.c) saves those positions with the
 * state and commits them. Offsets only grow: a note below the recorded
 * position is ignored (vg_offsets_set moves it either way).
 *
 * A few entries per partition: a linear array searched from the newest
 * entry, which is the one a run of messages of one partition hits. */
#ifndef VG_STREAMS_OFFSETS_H
#define VG_STREAMS_OFFSETS_H

#include <stddef.h>
#include <stdint.h>

typedef struct vg_offset {
    const char *topic;  /* borrowed: the source's configured topic name */
    int32_t     partition;
    int64_t     next;   /* every offset before it is processed */
} vg_offset;

typedef struct vg_offsets {
    vg_offset *v;
    size_t     n, cap;
} vg_offsets;

void vg_offsets_init(vg_offsets *o);
void vg_offsets_release(vg_offsets *o);
void vg_offsets_clear(vg_offsets *o);

/* Offset `offset` of topic/partition is processed: next = max(next, offset + 1). */
void vg_offsets_note(vg_offsets *o, const char *topic, int32_t partition, int64_t offset);

/* The position of topic/partition becomes exactly `next` (a resume point). */
void vg_offsets_set(vg_offsets *o, const char *topic, int32_t partition, int64_t next);

/* The next offset of topic/partition, or -1 when it has none. */
int64_t vg_offsets_next(const vg_offsets *o, const char *topic, int32_t partition);

/* Merges every entry of from into o (positions only grow). */
void vg_offsets_merge(vg_offsets *o, const vg_offsets *from);

/* Drops every entry of partition number `partition` (all topics). */
void vg_offsets_forget(vg_offsets *o, int32_t partition);

#endif
