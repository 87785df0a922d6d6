/*
 * sched.c - the scheduler: the set of deliveries, active and paused for
 * producer room (routesim/sched.h); each delivery's schedule and ticks
 * are in delivery.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "routesim/route.h"
#include "sched-int.h"

void
rs_sched_init(struct rs_sched *s, uv_loop_t *loop, struct rs_kafka *k,
    unsigned interval_ms, unsigned progress_every, bool metadata,
    const struct rs_sched_hooks *hooks)
{
	memset(s, 0, sizeof(*s));
	s->loop = loop;
	s->kafka = k;
	s->interval_ms = interval_ms;
	s->progress_every = progress_every ? progress_every : 1;
	s->metadata = metadata;
	s->hooks = *hooks;
}

int
rs_sched_start(struct rs_sched *s, struct rs_route *route,
    const char *client_id, int32_t partition, int64_t offset,
    uint32_t first)
{
	struct rs_delivery *d;

	d = rs__delivery_new(s, route, client_id, partition, offset, first);
	if (d == NULL) {
		rs_route_unref(route);
		return -ENOMEM;
	}
	rs__delivery_send_first(d);
	return 0;
}

void
rs_sched_report(struct rs_sched *s, void *opaque, int status,
    const char *why)
{
	(void)s;
	rs__delivery_report(opaque, status, why);
}

void
rs_sched_resume(struct rs_sched *s)
{
	struct rs_delivery *d = s->paused.head, *next;
	uint64_t now = rs__now_ms();

	s->paused.head = NULL;
	for (; d != NULL; d = next) {
		next = d->list_next;
		d->list = NULL;
		rs__list_add(&s->active, d);
		rs__delivery_resume(d, now);
	}
}

size_t
rs_sched_stop(struct rs_sched *s, int32_t partition)
{
	struct rs_delivery_list *lists[] = {&s->active, &s->paused};
	size_t n = 0;

	for (size_t i = 0; i < 2; i++) {
		struct rs_delivery *d = lists[i]->head, *next;

		for (; d != NULL; d = next) {
			next = d->list_next;
			if (partition >= 0 && d->partition != partition)
				continue;
			rs__delivery_end(d);
			n++;
		}
	}
	return n;
}

void
rs_sched_free(struct rs_sched *s)
{
	free(s->buf);
	s->buf = NULL;
}
