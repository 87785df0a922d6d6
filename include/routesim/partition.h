/*
 * partition.h - what the daemon keeps for each request partition it owns.
 *
 * A partition is RESTORING from its assignment until its progress
 * partition has been read to the end (its requests wait in `queue`, and
 * the partition is paused once that holds many), then ACTIVE, then
 * REVOKING from the group's revocation until its deliveries have handed
 * off.
 *
 * `known` maps the offset of every request that progress records say was
 * handled in an earlier life (a live delivery now resumed, or a finished
 * one), so that reading the request again does not start it twice.
 * `done` lists finished requests whose record can become a tombstone once
 * the group has committed past them: its first `ncommitted` entries are
 * past the commit (due, in no order), the rest are not yet.  `busy`
 * counts what must settle before a revocation completes: deliveries,
 * route loads and progress records not yet acknowledged.
 *
 * Ownership: struct rs_parts owns its partitions and everything in them;
 * rs_parts_del() and rs_parts_free() release them.  Loop thread only.
 */
#ifndef ROUTESIM_PARTITION_H
#define ROUTESIM_PARTITION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "routesim/hash.h"
#include "routesim/offsets.h"
#include "routesim/progress.h"

enum rs_part_state {
	RS_PART_RESTORING = 0,
	RS_PART_ACTIVE,
	RS_PART_REVOKING,
};

struct rs_known {
	UT_hash_handle hh;		/* in rs_part.known, by offset */
	int64_t offset;
	struct rs_progress rec;		/* done, or where to carry on */
};

struct rs_queued {
	struct rs_queued *next;
	int64_t offset;
	int64_t timestamp;		/* message CreateTime, ms; -1 unknown */
	size_t len;
	char payload[];
};

struct rs_part {
	int32_t id;
	enum rs_part_state state;
	struct rs_offsets offsets;
	struct rs_known *known;		/* uthash head (hash.h) */
	struct rs_queued *queue, **queue_tail;
	size_t nqueued, queued_bytes;
	bool paused;			/* by the daemon (rs_kafka_pause()) */
	bool reading;			/* a request came since assignment */
	int64_t *done;
	size_t ndone, ncommitted, done_cap;
	size_t busy;
	size_t resuming;	/* restored deliveries not resumed yet */
};

struct rs_parts {
	struct rs_part **v;		/* indexed by partition id */
	size_t n;
};

struct rs_part *rs_parts_get(const struct rs_parts *ps, int32_t id);
/* A new partition in state RESTORING (replacing any old one); NULL on
 * allocation failure. */
struct rs_part *rs_parts_add(struct rs_parts *ps, int32_t id);
void rs_parts_del(struct rs_parts *ps, int32_t id);
void rs_parts_free(struct rs_parts *ps);

/* The record known for offset, or NULL. */
struct rs_known *rs_part_known(const struct rs_part *p, int64_t offset);
/* Sets offset's record, taking over rec (its client_id); 0 or -ENOMEM. */
int rs_part_known_set(struct rs_part *p, int64_t offset,
    struct rs_progress *rec);
void rs_part_known_del(struct rs_part *p, int64_t offset);
/* The known records in no particular order: the first (k NULL) or the
 * one after k; NULL after the last. */
struct rs_known *rs_part_known_next(const struct rs_part *p,
    const struct rs_known *k);

/* Keeps a copy of a request read while restoring; 0 or -ENOMEM. */
int rs_part_enqueue(struct rs_part *p, int64_t offset, int64_t timestamp,
    const void *payload, size_t len);
/* Takes the oldest queued request (the caller frees it), or NULL. */
struct rs_queued *rs_part_dequeue(struct rs_part *p);

int rs_part_done_add(struct rs_part *p, int64_t offset);
/* The group committed up to `below`: the done offsets below it become due.
 * One pass over those not due yet; returns how many are due. */
size_t rs_part_done_commit(struct rs_part *p, int64_t below);
/* Removes and returns in *out at most max due offsets; O(1) each. */
size_t rs_part_done_take(struct rs_part *p, int64_t *out, size_t max);

#endif
