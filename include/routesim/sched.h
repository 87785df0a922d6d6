/*
 * sched.h - the scheduler: every active delivery, one timer each.
 *
 * A delivery streams the points of one route for one client: position k
 * is due at t0 + k * interval, where t0 is when position 0 was (or would
 * have been) due, so a late tick never delays the ones after it (no
 * drift).  Each delivery embeds its uv_timer_t; libuv keeps timers in a
 * binary heap, so 100,000 deliveries cost O(log n) per tick.
 *
 * A tick copies three pre-rendered pieces (the delivery's prefix, the
 * route point's pair, a constant suffix) into one scratch buffer and
 * hands it to the producer: no formatting and no allocation per tick.
 * Message key = clientId, so a delivery's positions stay on one partition
 * and in order - and so do their delivery reports, which is what lets
 * "acknowledged" be a simple count.
 *
 * A delivery belongs to the request at (partition, offset) and may start
 * at any point (a resumed delivery starts where its progress record
 * says).  The owner learns, through hooks, every progress_every
 * acknowledged positions (to record progress) and when a delivery ends.
 *
 * Back-pressure: when the producer's queue is full, the delivery pauses
 * (nothing is dropped) and resumes from the same point when the producer
 * reports room, with its schedule moved on by the pause.
 *
 * Lifetime: a delivery is freed only when its timer handle has been closed
 * AND every position it produced has had its delivery report - so a
 * report never finds freed memory.  It then ends as finished (all
 * acknowledged), failed (a position failed for good) or stopped (by a
 * hand-off or shutdown, or because the topic refused its positions).
 *
 * The scheduler (sched.c) keeps the set: the deliveries whose timer runs
 * and those paused for producer room, the scratch buffer and the hooks;
 * each delivery's own schedule, ticks and end are in delivery.c.
 *
 * Ownership: struct rs_sched is embedded by its owner; it owns its
 * deliveries and the route reference each holds.  Loop thread only.
 */
#ifndef ROUTESIM_SCHED_H
#define ROUTESIM_SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "routesim/route.h"

struct rs_delivery;
struct rs_kafka;

struct rs_delivery_list {
	struct rs_delivery *head;
};

/* What the hooks are told about a delivery. */
struct rs_delivery_state {
	int32_t partition;	/* of its request */
	int64_t offset;
	const char *route_id;
	const char *client_id;
	uint32_t acked;		/* positions 0..acked-1 are acknowledged */
	uint32_t npoints;
};

enum rs_delivery_end {
	RS_END_FINISHED = 0,
	RS_END_FAILED,
	RS_END_STOPPED,
};

struct rs_sched_hooks {
	/* Every progress_every acknowledged positions (not at the end). */
	void (*progress)(void *ud, const struct rs_delivery_state *st);
	/* The delivery is over and every report is in. */
	void (*ended)(void *ud, const struct rs_delivery_state *st,
	    enum rs_delivery_end how);
	/* The position topic refused a position (rs_kafka_refused(); why
	 * says how): the delivery stops where it is, as at a hand-off, not
	 * as failed - the topic is at fault, not the delivery. */
	void (*refused)(void *ud, const char *why);
	void *ud;
};

struct rs_sched {
	uv_loop_t *loop;
	struct rs_kafka *kafka;
	uint64_t interval_ms;
	uint32_t progress_every;
	bool metadata;			/* --position-metadata */
	struct rs_sched_hooks hooks;
	struct rs_delivery_list active;	/* timer running */
	struct rs_delivery_list paused;	/* waiting for producer room */
	size_t live;			/* allocated deliveries */
	char *buf;			/* scratch for one message */
	size_t bufcap;
};

void rs_sched_init(struct rs_sched *s, uv_loop_t *loop, struct rs_kafka *k,
    unsigned interval_ms, unsigned progress_every, bool metadata,
    const struct rs_sched_hooks *hooks);

/*
 * Starts (or resumes) the delivery of the request at (partition, offset):
 * route (the caller's reference is taken over) for client_id, from point
 * first; that position is produced before this returns (or the delivery
 * pauses, see above).  Returns 0 or -ENOMEM (the route reference is then
 * dropped).
 */
int rs_sched_start(struct rs_sched *s, struct rs_route *route,
    const char *client_id, int32_t partition, int64_t offset,
    uint32_t first);

/*
 * Delivery report for a message produced with a delivery as opaque:
 * status 0 (delivered), -EPERM (the topic refuses writes) or another
 * negative code (failed), with why saying how when it is not 0.
 */
void rs_sched_report(struct rs_sched *s, void *opaque, int status,
    const char *why);

/* The producer has room again: paused deliveries carry on. */
void rs_sched_resume(struct rs_sched *s);

/* Stops the deliveries of one request partition (-1: all); each ends as
 * stopped once its reports are in.  Returns how many were stopped. */
size_t rs_sched_stop(struct rs_sched *s, int32_t partition);

void rs_sched_free(struct rs_sched *s);

#endif
