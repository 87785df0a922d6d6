/*
 * delivery.c - delivery timers, ticks and lifetime.
 */
#include "routesim/delivery.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "routesim/kafka.h"
#include "routesim/log.h"
#include "routesim/metrics.h"
#include "routesim/position.h"

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

static void
list_add(struct rs_delivery_list *l, struct rs_delivery *d)
{
	d->list = l;
	d->list_prev = NULL;
	d->list_next = l->head;
	if (l->head != NULL)
		l->head->list_prev = d;
	l->head = d;
}

static void
list_del(struct rs_delivery *d)
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

static struct rs_delivery_state
state_of(const struct rs_delivery *d)
{
	return (struct rs_delivery_state){d->partition, d->offset,
	    d->route->id, d->key, d->acked, (uint32_t)d->route->npoints};
}

static void
maybe_free(struct rs_delivery *d)
{
	struct rs_sched *s = d->sched;
	struct rs_delivery_state st;
	enum rs_delivery_end how;
	char client[RS_LOG_VALUE_MAX];

	if (!d->closed || d->inflight > 0)
		return;
	if (d->failed) {
		how = RS_END_FAILED;
		rs_metrics.deliveries_failed++;
	} else if (d->acked == d->route->npoints) {
		how = RS_END_FINISHED;
		rs_metrics.deliveries_finished++;
	} else {
		how = RS_END_STOPPED;
		rs_metrics.deliveries_stopped++;
	}
	if (rs_log_level() >= RS_LOG_DEBUG)
		log_debug("delivery %s route=%s client=%s positions=%u "
		    "partition=%d offset=%lld",
		    how == RS_END_FAILED ? "failed" :
		    how == RS_END_FINISHED ? "finished" : "stopped",
		    d->route->id, rs_log_value(client, sizeof(client), d->key),
		    d->acked, d->partition, (long long)d->offset);
	st = state_of(d);
	s->hooks.ended(s->hooks.ud, &st, how);
	rs_route_unref(d->route);
	free(d);
	s->live--;
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

/*
 * The loop's clock read now.  uv_now() is the time the current loop
 * iteration started; after a busy stretch of that iteration it is
 * behind, and a schedule anchored on it would put every later position
 * early by as much.  Same clock as uv_now(), so timer arithmetic holds.
 */
static uint64_t
now_ms(void)
{
	return uv_hrtime() / 1000000;
}

/* Makes position d->next due at loop time now. */
static void
anchor(struct rs_delivery *d, uint64_t now)
{
	uint64_t back = (uint64_t)d->next * d->sched->interval_ms;

	d->t0 = now - back;
	d->wall0 = rs_now_ms() - (int64_t)back;
}

static void
schedule(struct rs_delivery *d)
{
	struct rs_sched *s = d->sched;
	/* uv_timer_start() counts from uv_now(), so the timeout does too. */
	uint64_t due = d->t0 + d->next * s->interval_ms, now = uv_now(s->loop);
	int rc;

	rc = uv_timer_start(&d->timer, on_tick, due > now ? due - now : 0, 0);
	if (rc != 0) {	/* only on a closing handle: a bug */
		log_warnx("delivery timer: %s", uv_strerror(rc));
		d->failed = true;
		end(d);
	}
}

/*
 * The topic refused a position as a whole: the configuration is wrong,
 * not this delivery.  It stops where it is - nothing after the refused
 * position counts as acknowledged, so the resume point stays exact - and
 * the owner is told.
 */
static void
refused(struct rs_delivery *d, const char *why)
{
	struct rs_sched *s = d->sched;

	d->refused = true;
	if (d->list != NULL)	/* not ended yet */
		end(d);
	s->hooks.refused(s->hooks.ud, why);
}

/* Sends position d->next and arms the timer for the one after. */
static void
tick(struct rs_delivery *d, uint64_t now)
{
	struct rs_sched *s = d->sched;
	bool last = d->next + 1 == d->route->npoints;
	struct rs_position_meta meta;
	const char *pair;
	uint64_t due;
	size_t plen, n;
	const char *refusal;
	int rc;

	due = d->t0 + d->next * s->interval_ms;
	pair = rs_route_pair(d->route, d->next, &plen);
	if (s->metadata)
		meta = (struct rs_position_meta){d->next,
		    d->wall0 + (int64_t)(d->next * s->interval_ms)};
	n = rs_position_encode(s->buf, s->bufcap, d->prefix, d->prefix_len,
	    pair, plen, last, s->metadata ? &meta : NULL);
	rc = rs_kafka_produce(s->kafka, d->key, d->key_len, s->buf, n, d,
	    &refusal);
	if (rc == -ENOBUFS) {
		rs_metrics.producer_queue_full++;
		list_del(d);
		list_add(&s->paused, d);
		return;
	}
	if (rc == -EPERM) {
		rs_metrics.positions_failed++;
		refused(d, refusal);
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

static void
on_tick(uv_timer_t *t)
{
	tick(t->data, now_ms());
}

int
rs_sched_start(struct rs_sched *s, struct rs_route *route,
    const char *client_id, int32_t partition, int64_t offset,
    uint32_t first)
{
	size_t key_len = strlen(client_id), max_prefix, need;
	struct rs_delivery *d;
	uint64_t now;
	char *text;
	int rc;

	/* One allocation per delivery: a tick reads the struct, its key
	 * and its prefix together. */
	max_prefix = rs_position_prefix_size(route->id, client_id);
	need = max_prefix + RS_PAIR_MAX + RS_SUFFIX_MAX;
	if (need > s->bufcap) {
		char *b = realloc(s->buf, need);

		if (b == NULL)
			goto nomem;
		s->buf = b;
		s->bufcap = need;
	}
	if ((d = calloc(1, sizeof(*d) + key_len + 1 + max_prefix)) == NULL)
		goto nomem;
	text = d->text;
	memcpy(text, client_id, key_len + 1);
	d->key = text;
	d->key_len = key_len;
	d->prefix = text + key_len + 1;
	d->prefix_len = rs_position_prefix(text + key_len + 1, route->id,
	    client_id);
	d->sched = s;
	d->route = route;
	d->partition = partition;
	d->offset = offset;
	d->next = d->acked = first;
	if ((rc = uv_timer_init(s->loop, &d->timer)) != 0) {
		log_warnx("delivery timer: %s", uv_strerror(rc));
		free(d);
		goto nomem;
	}
	d->timer.data = d;
	s->live++;
	rs_metrics.deliveries_started++;
	rs_metrics.deliveries_active++;
	list_add(&s->active, d);
	if (first >= route->npoints) {	/* resumed after its last point */
		end(d);
		return 0;
	}
	/* Position `first` goes out now, and the schedule counts from it:
	 * no timer and no loop turn between a request and its first
	 * position. */
	now = now_ms();
	anchor(d, now);
	tick(d, now);
	return 0;
nomem:
	rs_route_unref(route);
	return -ENOMEM;
}

void
rs_sched_report(struct rs_sched *s, void *opaque, int status,
    const char *why)
{
	struct rs_delivery *d = opaque;
	struct rs_delivery_state st;

	d->inflight--;
	if (status == 0 && !d->failed && !d->refused) {
		rs_metrics.positions_delivered++;
		d->acked++;
		if (d->acked % s->progress_every == 0 &&
		    d->acked < d->route->npoints) {
			st = state_of(d);
			s->hooks.progress(s->hooks.ud, &st);
		}
	} else if (status == -EPERM) {
		rs_metrics.positions_failed++;
		refused(d, why);
	} else if (status != 0) {
		rs_metrics.positions_failed++;
		if (!d->failed) {
			char client[RS_LOG_VALUE_MAX];

			log_warnx("position not delivered: %s route=%s "
			    "client=%s", why, d->route->id,
			    rs_log_value(client, sizeof(client), d->key));
		}
		d->failed = true;
	}
	maybe_free(d);
}

void
rs_sched_resume(struct rs_sched *s)
{
	struct rs_delivery *d = s->paused.head, *next;
	uint64_t now = now_ms();

	s->paused.head = NULL;
	for (; d != NULL; d = next) {
		next = d->list_next;
		d->list = NULL;
		list_add(&s->active, d);
		/* Shift the schedule by the pause: the next position is due
		 * now and the cadence is kept, not caught up in a burst. */
		anchor(d, now);
		schedule(d);
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
			end(d);
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
