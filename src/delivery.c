/*
 * delivery.c - delivery timers, ticks and lifetime.
 */
#include "routesim/delivery.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "routesim/log.h"
#include "routesim/metrics.h"
#include "routesim/position.h"

struct rs_delivery {
	uv_timer_t timer;		/* timer.data = this */
	struct rs_sched *sched;
	struct rs_route *route;
	char *prefix;			/* {"routeId":..,"position": */
	size_t prefix_len;
	char *key;			/* clientId */
	size_t key_len;
	uint64_t t0;			/* loop time of position 0, ms */
	uint32_t next;			/* index of the next position */
	uint32_t inflight;		/* produced, not yet reported */
	bool closed, failed, stopped;
	struct rs_delivery_list *list;	/* active, paused or NULL */
	struct rs_delivery *prev, *nextd;
};

static void
list_add(struct rs_delivery_list *l, struct rs_delivery *d)
{
	d->list = l;
	d->prev = NULL;
	d->nextd = l->head;
	if (l->head != NULL)
		l->head->prev = d;
	l->head = d;
}

static void
list_del(struct rs_delivery *d)
{
	if (d->list == NULL)
		return;
	if (d->prev != NULL)
		d->prev->nextd = d->nextd;
	else
		d->list->head = d->nextd;
	if (d->nextd != NULL)
		d->nextd->prev = d->prev;
	d->list = NULL;
	d->prev = d->nextd = NULL;
}

void
rs_sched_init(struct rs_sched *s, uv_loop_t *loop, struct rs_kafka *k,
    unsigned interval_ms)
{
	memset(s, 0, sizeof(*s));
	s->loop = loop;
	s->kafka = k;
	s->interval_ms = interval_ms;
}

static void
maybe_free(struct rs_delivery *d)
{
	struct rs_sched *s = d->sched;

	if (!d->closed || d->inflight > 0)
		return;
	if (d->failed)
		rs_metrics.deliveries_failed++;
	else if (d->stopped)
		rs_metrics.deliveries_stopped++;
	else
		rs_metrics.deliveries_finished++;
	log_debug("delivery %s route=%s client=%s positions=%u",
	    d->failed ? "failed" : d->stopped ? "stopped" : "finished",
	    d->route->id, d->key, d->next);
	rs_route_unref(d->route);
	free(d->prefix);
	free(d->key);
	free(d);
	if (--s->live == 0 && s->on_empty != NULL)
		s->on_empty(s);
}

static void
on_closed(uv_handle_t *h)
{
	struct rs_delivery *d = h->data;

	d->closed = true;
	maybe_free(d);
}

/* Ends a delivery: no more ticks; freed once its reports are in. */
static void
end(struct rs_delivery *d)
{
	list_del(d);
	rs_metrics.deliveries_active--;
	uv_close((uv_handle_t *)&d->timer, on_closed);
}

static void on_tick(uv_timer_t *t);

static void
schedule(struct rs_delivery *d)
{
	struct rs_sched *s = d->sched;
	uint64_t due = d->t0 + d->next * s->interval_ms, now = uv_now(s->loop);
	int rc;

	rc = uv_timer_start(&d->timer, on_tick, due > now ? due - now : 0, 0);
	if (rc != 0) {	/* only on a closing handle: a bug */
		log_warnx("delivery timer: %s", uv_strerror(rc));
		d->failed = true;
		end(d);
	}
}

static void
on_tick(uv_timer_t *t)
{
	struct rs_delivery *d = t->data;
	struct rs_sched *s = d->sched;
	bool last = d->next + 1 == d->route->npoints;
	uint64_t due = d->t0 + d->next * s->interval_ms, now = uv_now(s->loop);
	const char *pair;
	size_t plen, n;
	int rc;

	pair = rs_route_pair(d->route, d->next, &plen);
	n = rs_position_encode(s->buf, s->bufcap, d->prefix, d->prefix_len,
	    pair, plen, last);
	rc = rs_kafka_produce(s->kafka, d->key, d->key_len, s->buf, n, d);
	if (rc == -ENOBUFS) {
		rs_metrics.producer_queue_full++;
		list_del(d);
		list_add(&s->paused, d);
		return;
	}
	if (rc != 0) {
		d->failed = true;
		rs_metrics.positions_failed++;
		end(d);
		return;
	}
	d->inflight++;
	d->next++;
	rs_metrics.positions_produced++;
	rs_metrics_lateness(now > due ? now - due : 0);
	if (last)
		end(d);
	else
		schedule(d);
}

int
rs_sched_start(struct rs_sched *s, struct rs_route *route,
    const char *client_id)
{
	struct rs_delivery *d;
	size_t need;
	int rc;

	if ((d = calloc(1, sizeof(*d))) == NULL)
		goto nomem;
	d->sched = s;
	d->route = route;
	d->key_len = strlen(client_id);
	if ((d->key = strdup(client_id)) == NULL ||
	    (d->prefix = rs_position_prefix(route->id, client_id,
	    &d->prefix_len)) == NULL)
		goto nomem;
	need = d->prefix_len + RS_PAIR_MAX + RS_SUFFIX_MAX;
	if (need > s->bufcap) {
		char *b = realloc(s->buf, need);

		if (b == NULL)
			goto nomem;
		s->buf = b;
		s->bufcap = need;
	}
	if ((rc = uv_timer_init(s->loop, &d->timer)) != 0) {
		log_warnx("delivery timer: %s", uv_strerror(rc));
		goto nomem;
	}
	d->timer.data = d;
	s->live++;
	rs_metrics.deliveries_started++;
	rs_metrics.deliveries_active++;
	list_add(&s->active, d);
	d->t0 = uv_now(s->loop);
	schedule(d);
	return 0;
nomem:
	if (d != NULL) {
		free(d->prefix);
		free(d->key);
		free(d);
	}
	rs_route_unref(route);
	return -ENOMEM;
}

void
rs_sched_report(struct rs_sched *s, void *opaque, rd_kafka_resp_err_t err)
{
	struct rs_delivery *d = opaque;

	(void)s;
	d->inflight--;
	if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
		rs_metrics.positions_delivered++;
	} else {
		rs_metrics.positions_failed++;
		if (!d->failed)
			log_warnx("position not delivered: %s route=%s "
			    "client=%s", rd_kafka_err2str(err), d->route->id,
			    d->key);
		d->failed = true;
	}
	maybe_free(d);
}

void
rs_sched_resume(struct rs_sched *s)
{
	struct rs_delivery *d = s->paused.head, *next;
	uint64_t now = uv_now(s->loop);

	s->paused.head = NULL;
	for (; d != NULL; d = next) {
		next = d->nextd;
		d->list = NULL;
		list_add(&s->active, d);
		/* Shift the schedule by the pause: the next position is due
		 * now and the cadence is kept, not caught up in a burst. */
		d->t0 = now - d->next * s->interval_ms;
		schedule(d);
	}
}

void
rs_sched_stop(struct rs_sched *s, void (*on_empty)(struct rs_sched *))
{
	struct rs_delivery_list *lists[] = {&s->active, &s->paused};

	s->stopping = true;
	s->on_empty = on_empty;
	for (size_t i = 0; i < 2; i++)
		while (lists[i]->head != NULL) {
			lists[i]->head->stopped = true;
			end(lists[i]->head);
		}
	if (s->live == 0 && on_empty != NULL)
		on_empty(s);
}

void
rs_sched_free(struct rs_sched *s)
{
	free(s->buf);
	s->buf = NULL;
}
