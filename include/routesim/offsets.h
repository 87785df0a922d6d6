/*
 * offsets.h - which request offset of a partition may be committed.
 *
 * Requests of one partition finish out of order (a short route started
 * after a long one is done first), but a consumer group commits one
 * offset per partition: everything below it counts as done.  This tracker
 * keeps the offsets handed to it in order and answers the lowest one not
 * yet marked safe - the highest offset that can be committed without ever
 * skipping an unsafe request.
 *
 * Offsets must be added in increasing order (the order they are read in).
 * Marking is O(log n) (binary search in a ring buffer); advancing is
 * amortised O(1).
 *
 * Ownership: struct rs_offsets is embedded by its owner and freed with
 * rs_offsets_free().  Loop thread only.
 */
#ifndef ROUTESIM_OFFSETS_H
#define ROUTESIM_OFFSETS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rs_offset_slot {
	int64_t offset;
	bool safe;
};

struct rs_offsets {
	struct rs_offset_slot *ring;
	size_t head, count, cap;
	int64_t next;		/* offset to commit: all below are safe */
};

void rs_offsets_init(struct rs_offsets *o);
void rs_offsets_free(struct rs_offsets *o);

/* Tracks offset (greater than any before) as not yet safe. 0 or -ENOMEM;
 * -EINVAL when not increasing. */
int rs_offsets_add(struct rs_offsets *o, int64_t offset);

/* Marks a tracked offset safe; returns false when it is not tracked. */
bool rs_offsets_safe(struct rs_offsets *o, int64_t offset);

/* The offset to commit (everything below it is safe); -1 before any. */
static inline int64_t
rs_offsets_committable(const struct rs_offsets *o)
{
	return o->next;
}

/* Offsets still waiting to be safe. */
static inline size_t
rs_offsets_pending(const struct rs_offsets *o)
{
	return o->count;
}

#endif
