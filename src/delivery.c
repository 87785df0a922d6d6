/*
 * delivery.c - one delivery: its schedule, ticks, reports and lifetime
 * (the scheduler that keeps them all is sched.c; see routesim/sched.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "routesim/kafka.h"
#include "routesim/log.h"
#include "routesim/metrics.h"
#include "routesim/position.h"
#include "sched-int.h"

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

void
rs__delivery_end(struct rs_delivery *d)
{
	rs__list_del(d);
	rs_metrics.deliveries_active--;
	uv_close((uv_handle_t *)&d->timer, on_closed);
}

static void on_tick(uv_timer_t *t);

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
		rs__delivery_end(d);
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
		rs__delivery_end(d);
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
		rs__list_del(d);
		rs__list_add(&s->paused, d);
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
		rs__delivery_end(d);
		return;
	}
	d->inflight++;
	d->next++;
	rs_metrics.positions_produced++;
	rs_metrics_lateness(now > due ? now - due : 0);
	if (last)
		rs__delivery_end(d);
	else
		schedule(d);
}

static void
on_tick(uv_timer_t *t)
{
	tick(t->data, rs__now_ms());
}

/* Grows the scheduler's scratch buffer to need bytes.  0 or -ENOMEM. */
static int
reserve(struct rs_sched *s, size_t need)
{
	char *b;

	if (need <= s->bufcap)
		return 0;
	if ((b = realloc(s->buf, need)) == NULL)
		return -ENOMEM;
	s->buf = b;
	s->bufcap = need;
	return 0;
}

struct rs_delivery *
rs__delivery_new(struct rs_sched *s, struct rs_route *route,
    const char *client_id, int32_t partition, int64_t offset,
    uint32_t first)
{
	size_t key_len = strlen(client_id), max_prefix;
	struct rs_delivery *d;
	char *text;
	int rc;

	/* One allocation per delivery: a tick reads the struct, its key
	 * and its prefix together. */
	max_prefix = rs_position_prefix_size(route->id, client_id);
	if (reserve(s, max_prefix + RS_PAIR_MAX + RS_SUFFIX_MAX) != 0 ||
	    (d = calloc(1, sizeof(*d) + key_len + 1 + max_prefix)) == NULL)
		return NULL;
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
		return NULL;
	}
	d->timer.data = d;
	s->live++;
	rs_metrics.deliveries_started++;
	rs_metrics.deliveries_active++;
	rs__list_add(&s->active, d);
	return d;
}

void
rs__delivery_send_first(struct rs_delivery *d)
{
	uint64_t now;

	if (d->next >= d->route->npoints) {	/* resumed after its last */
		rs__delivery_end(d);
		return;
	}
	/* No timer and no loop turn between a request and its first
	 * position. */
	now = rs__now_ms();
	anchor(d, now);
	tick(d, now);
}

/* A position was not delivered (status < 0, why says how). */
static void
not_delivered(struct rs_delivery *d, int status, const char *why)
{
	rs_metrics.positions_failed++;
	if (status == -EPERM) {
		refused(d, why);
		return;
	}
	if (!d->failed) {
		char client[RS_LOG_VALUE_MAX];

		log_warnx("position not delivered: %s route=%s client=%s",
		    why, d->route->id,
		    rs_log_value(client, sizeof(client), d->key));
	}
	d->failed = true;
}

void
rs__delivery_report(struct rs_delivery *d, int status, const char *why)
{
	struct rs_sched *s = d->sched;
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
	} else if (status != 0) {
		not_delivered(d, status, why);
	}
	maybe_free(d);
}

void
rs__delivery_resume(struct rs_delivery *d, uint64_t now)
{
	/* Shift the schedule by the pause: the next position is due now
	 * and the cadence is kept, not caught up in a burst. */
	anchor(d, now);
	schedule(d);
}
