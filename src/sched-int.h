/*
 * sched-int.h - what the scheduler (sched.c) and its deliveries
 * (delivery.c) share; not for callers, who use routesim/sched.h.  Names
 * are rs__, as libuv names its internals uv__.
 */
#ifndef ROUTESIM_SCHED_INT_H
#define ROUTESIM_SCHED_INT_H

#include "routesim/sched.h"

struct rs_delivery {
	uv_timer_t timer;		/* timer.data = this */
	struct rs_sched *sched;
	struct rs_route *route;
	const char *prefix;		/* {"routeId":..,"position": */
	size_t prefix_len;
	const char *key;		/* clientId */
	size_t key_len;
	int32_t partition;		/* of the request */
	int64_t offset;
	uint64_t t0;			/* loop time position 0 was due, ms */
	int64_t wall0;			/* the same, ms since the epoch */
	uint32_t next;			/* index of the next position */
	uint32_t acked;			/* positions 0..acked-1 acknowledged */
	uint32_t inflight;		/* produced, not yet reported */
	bool closed, failed;
	bool refused;			/* the topic refused a position */
	struct rs_delivery_list *list;	/* active, paused or NULL */
	struct rs_delivery *list_prev, *list_next;	/* in list */
	char text[];			/* key, NUL, then prefix */
};

static inline void
rs__list_add(struct rs_delivery_list *l, struct rs_delivery *d)
{
	d->list = l;
	d->list_prev = NULL;
	d->list_next = l->head;
	if (l->head != NULL)
		l->head->list_prev = d;
	l->head = d;
}

static inline void
rs__list_del(struct rs_delivery *d)
{
	if (d->list == NULL)
		return;
	if (d->list_prev != NULL)
		d->list_prev->list_next = d->list_next;
	else
		d->list->head = d->list_next;
	if (d->list_next != NULL)
		d->list_next->list_prev = d->list_prev;
	d->list = NULL;
	d->list_prev = d->list_next = NULL;
}

/*
 * The loop's clock read now.  uv_now() is the time the current loop
 * iteration started; after a busy stretch of that iteration it is
 * behind, and a schedule anchored on it would put every later position
 * early by as much.  Same clock as uv_now(), so timer arithmetic holds.
 */
static inline uint64_t
rs__now_ms(void)
{
	return uv_hrtime() / 1000000;
}

/* delivery.c */

/*
 * A new delivery of the request at (partition, offset), in s's active
 * list, with its timer initialised: route (taken over on success) for
 * client_id, from point first.  Grows s's scratch buffer to fit its
 * messages.  NULL when out of memory (logged when the timer failed).
 */
struct rs_delivery *rs__delivery_new(struct rs_sched *s,
    struct rs_route *route, const char *client_id, int32_t partition,
    int64_t offset, uint32_t first);
/* Sends the delivery's first position now, and the schedule counts from
 * it; a delivery resumed after its last point just ends. */
void rs__delivery_send_first(struct rs_delivery *d);
/* The delivery report of one of d's positions (rs_sched_report()). */
void rs__delivery_report(struct rs_delivery *d, int status,
    const char *why);
/* A paused delivery carries on: its next position is due at now. */
void rs__delivery_resume(struct rs_delivery *d, uint64_t now);
/* No more ticks; d is freed once its reports are in. */
void rs__delivery_end(struct rs_delivery *d);

#endif
