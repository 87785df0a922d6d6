/*
 * delivery.h - delivery scheduling: one timer per active delivery.
 *
 * A delivery streams the points of one route for one client: position k
 * is due at t0 + k * interval, where t0 is when the delivery started, so
 * a late tick never delays the ones after it (no drift).  Each delivery
 * embeds its uv_timer_t; libuv keeps timers in a binary heap, so 100,000
 * deliveries cost O(log n) per tick.
 *
 * A tick copies three pre-rendered pieces (the delivery's prefix, the
 * route point's pair, a constant suffix) into one scratch buffer and
 * hands it to the producer: no formatting and no allocation per tick.
 * Message key = clientId, so a delivery's positions stay on one partition
 * and in order.
 *
 * Back-pressure: when the producer's queue is full, the delivery pauses
 * (nothing is dropped) and resumes from the same point when the producer
 * reports room, with its schedule moved on by the pause.
 *
 * Lifetime: a delivery is freed only when its timer handle has been closed
 * AND every position it produced has had its delivery report - so a
 * report never finds freed memory.  It then counts as finished (all
 * acknowledged), failed (a position failed for good) or stopped (cut
 * short by shutdown).
 *
 * Ownership: struct rs_sched is embedded by its owner; it owns its
 * deliveries and the route reference each holds.  Loop thread only.
 */
#ifndef ROUTESIM_DELIVERY_H
#define ROUTESIM_DELIVERY_H

#include <librdkafka/rdkafka.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "routesim/kafka.h"
#include "routesim/route.h"

struct rs_delivery;

struct rs_delivery_list {
	struct rs_delivery *head;
};

struct rs_sched {
	uv_loop_t *loop;
	struct rs_kafka *kafka;
	uint64_t interval_ms;
	struct rs_delivery_list active;	/* timer running */
	struct rs_delivery_list paused;	/* waiting for producer room */
	size_t live;			/* allocated deliveries */
	char *buf;			/* scratch for one message */
	size_t bufcap;
	bool stopping;
	void (*on_empty)(struct rs_sched *);	/* live dropped to 0 */
};

void rs_sched_init(struct rs_sched *s, uv_loop_t *loop, struct rs_kafka *k,
    unsigned interval_ms);

/*
 * Starts a delivery of route (the caller's reference is taken over) for
 * client_id; its first position goes out on the next loop iteration.
 * Returns 0 or -ENOMEM (the route reference is then dropped).
 */
int rs_sched_start(struct rs_sched *s, struct rs_route *route,
    const char *client_id);

/* Delivery report for a message produced with a delivery as opaque. */
void rs_sched_report(struct rs_sched *s, void *opaque,
    rd_kafka_resp_err_t err);

/* The producer has room again: paused deliveries carry on. */
void rs_sched_resume(struct rs_sched *s);

/* Stops every delivery; on_empty runs once the last one is freed (at
 * once if there are none). */
void rs_sched_stop(struct rs_sched *s, void (*on_empty)(struct rs_sched *));

void rs_sched_free(struct rs_sched *s);

#endif
