/*
 * daemon_requests.c - request intake: a request read is checked, parsed,
 * and started once its route is loaded; reading pauses at
 * --max-deliveries (daemon.h, daemon-int.h).
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "daemon-int.h"
#include "routesim/log.h"
#include "routesim/metrics.h"
#include "routesim/request.h"

/* Requests kept while a partition restores before it is paused. */
#define RESTORE_QUEUE_MAX 1000
#define RESTORE_QUEUE_BYTES (4 * 1024 * 1024)

struct rs__pending *
rs__pending_new(struct rs_daemon *d, struct rs_part *p, int64_t offset)
{
	struct rs__pending *pr = calloc(1, sizeof(*pr));

	if (pr == NULL)
		return NULL;
	pr->d = d;
	pr->partition = p->id;
	pr->offset = offset;
	return pr;
}

void
rs__pending_free(struct rs__pending *pr)
{
	rs_request_free(&pr->req);
	free(pr);
}

/*
 * A partition is paused while it restores with a backlog waiting in
 * memory, and while routesim is at --max-deliveries: requests then wait
 * in Kafka, and a pause loses none (librdkafka fetches again from the
 * first request not yet handed over).  Never right after an assignment,
 * which can leave a partition unread (librdkafka issue #2190): only once
 * a request of it has come.  A revoked partition is resumed: a pause may
 * outlive the assignment.
 */
void
rs__sync_pause(struct rs_daemon *d, struct rs_part *p)
{
	bool want = p->reading && p->state != RS_PART_REVOKING &&
	    (d->capped || (p->state == RS_PART_RESTORING &&
	    (p->nqueued >= RESTORE_QUEUE_MAX ||
	    p->queued_bytes >= RESTORE_QUEUE_BYTES)));

	if (want == p->paused)
		return;
	if (want)
		rs_kafka_pause(&d->kafka, p->id);
	else
		rs_kafka_resume(&d->kafka, p->id);
	p->paused = want;
}

/*
 * Deliveries streaming plus requests waiting for their route: at
 * --max-deliveries every partition stops being read, and reading resumes
 * once 5 % of that have ended (so a busy routesim does not pause and
 * resume at every delivery's end).
 */
void
rs__check_cap(struct rs_daemon *d)
{
	uint64_t n = rs_metrics.deliveries_active + d->route_waits;
	unsigned max = d->cfg->max_deliveries;
	uint64_t now;

	if (d->capped == (d->capped ? n > max - (max / 20 ? max / 20 : 1) :
	    n >= max))
		return;
	d->capped = !d->capped;
	now = uv_hrtime();
	if (d->capped) {
		rs_metrics.capped_since_ns = now;
		log_info("at --max-deliveries=%u: requests wait in Kafka", max);
	} else {
		rs_metrics.capped_seconds +=
		    (double)(now - rs_metrics.capped_since_ns) / 1e9;
		rs_metrics.capped_since_ns = 0;
		log_info("below --max-deliveries=%u: reading requests again",
		    max);
	}
	for (size_t i = 0; i < d->parts.n; i++)
		if (d->parts.v[i] != NULL)
			rs__sync_pause(d, d->parts.v[i]);
}

static void
reject(struct rs_daemon *d, struct rs_part *p, int64_t offset,
    enum rs_reject why, const char *what)
{
	rs_metrics.requests_rejected[why]++;
	log_warnx("request rejected reason=%s partition=%d offset=%lld: %s",
	    rs_reject_name(why), p->id, (long long)offset, what);
	rs__mark_safe(d, p, offset);
}

/*
 * A new delivery writes no record when it starts: its request stays
 * uncommitted until the first record (after progress_every positions, or
 * at its end) is durable, and a crash before that reads it again and
 * starts over - as many positions again as a record at point 0 would have
 * cost, without a record per request on the way to its first position.
 */
static void
start_delivery(struct rs_daemon *d, struct rs_part *p,
    struct rs_route *route, const struct rs__pending *pr)
{
	char client[RS_LOG_VALUE_MAX];

	if (rs_sched_start(&d->sched, route, pr->req.client_id, p->id,
	    pr->offset, pr->first) != 0) {
		rs__cannot_take(d, p, pr->offset, "delivery not started",
		    -ENOMEM);
		return;
	}
	p->busy++;
	rs__check_cap(d);
	if (pr->resumed)
		log_info("delivery resumed route=%s client=%s partition=%d "
		    "offset=%lld at=%u", pr->req.route_id,
		    rs_log_value(client, sizeof(client), pr->req.client_id),
		    p->id, (long long)pr->offset, pr->first);
}

static void
on_route(struct rs_route_wait *w, struct rs_route *route, int rc,
    const char *err)
{
	struct rs__pending *pr = (struct rs__pending *)(void *)((char *)w -
	    offsetof(struct rs__pending, wait));
	struct rs_daemon *d = pr->d;
	struct rs_part *p = rs_parts_get(&d->parts, pr->partition);

	d->route_waits--;
	if (p == NULL || p->state != RS_PART_ACTIVE || d->stopping) {
		/* Handed off meanwhile: the next owner reads it again. */
		rs_route_unref(route);
	} else if (route != NULL) {
		start_delivery(d, p, route, pr);
	} else if (pr->resumed) {
		/* Its route is gone: it cannot go on; record it as done. */
		struct rs_progress done = {.done = true};

		log_warnx("delivery not resumed partition=%d offset=%lld: %s",
		    p->id, (long long)pr->offset, err);
		rs_metrics.deliveries_failed++;
		rs__write_record(d, p, REC_DONE, pr->offset, &done);
	} else if (rc == -ENOENT) {
		reject(d, p, pr->offset, RS_REJECT_UNKNOWN_ROUTE, err);
	} else if (rc != -ECANCELED) {
		reject(d, p, pr->offset, RS_REJECT_BAD_ROUTE, err);
	}
	if (p != NULL)
		rs__work_done(d, p);
	rs__pending_free(pr);
	rs__check_cap(d);
}

/* Finds the route of pr and starts it, now or when the route is loaded;
 * takes pr over. */
void
rs__route_and_start(struct rs_daemon *d, struct rs_part *p,
    struct rs__pending *pr)
{
	struct rs_route *route;
	int rc;

	rc = rs_routes_get(&d->routes, pr->req.route_id, &route, &pr->wait,
	    on_route);
	if (rc == -EINPROGRESS) {
		p->busy++;
		d->route_waits++;
		rs__check_cap(d);
		return;	/* on_route() takes over */
	}
	if (rc == 0)
		start_delivery(d, p, route, pr);
	else if (rc != -ECANCELED)	/* not stopping */
		rs__cannot_take(d, p, pr->offset, "route not loaded", rc);
	rs__pending_free(pr);
}

/*
 * Whether the request at offset is to be parsed: not one read twice, nor
 * one started in an earlier life, nor one too old (rejected).
 */
static bool
is_new(struct rs_daemon *d, struct rs_part *p, int64_t offset,
    int64_t timestamp)
{
	uint32_t max_age = d->cfg->max_request_age_ms;
	char err[128];
	int rc;

	if ((rc = rs_offsets_add(&p->offsets, offset)) == -EINVAL) {
		log_debug("request partition=%d offset=%lld read twice", p->id,
		    (long long)offset);
		return false;
	} else if (rc != 0) {
		rs__cannot_take(d, p, offset, "offset not tracked", rc);
		return false;
	}
	if (rs_part_known(p, offset) != NULL) {
		/* Started in an earlier life; resumed or finished. */
		rs__mark_safe(d, p, offset);
		return false;
	}
	if (max_age > 0 && timestamp > 0 &&
	    rs_now_ms() - timestamp > max_age) {
		snprintf(err, sizeof(err), "written %lld s ago, more than "
		    "--max-request-age", (long long)(rs_now_ms() - timestamp) /
		    1000);
		reject(d, p, offset, RS_REJECT_EXPIRED, err);
		return false;
	}
	return true;
}

void
rs__handle_request(struct rs_daemon *d, struct rs_part *p, int64_t offset,
    int64_t timestamp, const void *payload, size_t len)
{
	struct rs__pending *pr;
	enum rs_reject why;
	char err[256];
	int rc;

	rs_metrics.requests_received++;
	if (!is_new(d, p, offset, timestamp))
		return;
	if ((pr = rs__pending_new(d, p, offset)) == NULL) {
		rs__cannot_take(d, p, offset, "request not handled", -ENOMEM);
		return;
	}
	rc = rs_request_parse(payload, len, &pr->req, &why, err, sizeof(err));
	if (rc != 0) {
		if (rc == -EINVAL)
			reject(d, p, offset, why, err);
		else
			rs__cannot_take(d, p, offset, "request not parsed",
			    -ENOMEM);
		free(pr);
		return;
	}
	if (pr->req.client_id_defaulted) {
		rs_metrics.requests_defaulted_client_id++;
		log_debug("request without a string clientId partition=%d "
		    "offset=%lld: served with clientId \"\"", p->id,
		    (long long)offset);
	}
	rs__route_and_start(d, p, pr);
}

void
rs__on_request(void *ud, const rd_kafka_message_t *m)
{
	struct rs_daemon *d = ud;
	struct rs_part *p = rs_parts_get(&d->parts, m->partition);
	int64_t ts = rd_kafka_message_timestamp(m, NULL);

	if (p == NULL || p->state == RS_PART_REVOKING || d->stopping)
		return;	/* not ours (any more): not stored, read again */
	p->reading = true;
	if (p->state == RS_PART_RESTORING) {
		bool was_paused = p->paused;

		if (rs_part_enqueue(p, m->offset, ts, m->payload, m->len) !=
		    0) {
			rs__cannot_take(d, p, m->offset,
			    "request not queued", -ENOMEM);
			return;
		}
		/* A backlog waits in Kafka, not here. */
		rs__sync_pause(d, p);
		if (!was_paused && p->paused && !d->capped)
			log_info("partition=%d paused while restoring: %zu "
			    "requests waiting", p->id, p->nqueued);
		return;
	}
	rs__handle_request(d, p, m->offset, ts, m->payload, m->len);
	rs__sync_pause(d, p);
}
