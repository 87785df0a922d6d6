/*
 * daemon.c - requests, progress records, partition hand-offs, shutdown.
 */
#include "routesim/daemon.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "routesim/buf.h"
#include "routesim/log.h"
#include "routesim/metrics.h"
#include "routesim/progress.h"
#include "routesim/request.h"

#define LAG_PROBE_MS 500

/* A request whose route is being loaded (new or resumed delivery). */
struct pending {
	struct rs_route_wait wait;
	struct pending *next;	/* in the daemon's resume queue */
	struct rs_daemon *d;
	struct rs_request req;
	int32_t partition;
	int64_t offset;
	uint32_t first;		/* resume point; 0 for a new request */
	bool resumed;
};

static void
pending_free(struct pending *pr)
{
	rs_request_free(&pr->req);
	free(pr);
}

/*
 * What a progress record is for.  A record costs no allocation: its kind
 * rides to the delivery report as the message's opaque, and the report
 * brings back the partition and key (the request's offset) it was
 * written with.
 */
enum record_kind {
	REC_PROGRESS,		/* every progress_every positions */
	REC_FINAL,		/* exact resume point at a hand-off */
	REC_DONE,		/* finished */
	REC_TOMBSTONE,		/* forgotten after the commit */
};

/* Tombstones written per loop turn (about 0.15 ms). */
#define TOMB_SLICE 128
/* Requests kept while a partition restores before it is paused. */
#define RESTORE_QUEUE_MAX 1000
#define RESTORE_QUEUE_BYTES (4 * 1024 * 1024)
/* Restored deliveries resumed per loop turn (each sends its next position
 * at once: about 0.1 ms). */
#define RESUME_SLICE 32

static void check_revoked(struct rs_daemon *d);
static void on_tombs(uv_idle_t *h);
static void on_resume(uv_idle_t *h);

/* ---- Reading paused: restore backlog, --max-deliveries ---------------- */

/*
 * A partition is paused while it restores with a backlog waiting in
 * memory, and while routesim is at --max-deliveries: requests then wait
 * in Kafka, and a pause loses none (librdkafka fetches again from the
 * first request not yet handed over).  Never right after an assignment,
 * which can leave a partition unread (librdkafka issue #2190): only once
 * a request of it has come.  A revoked partition is resumed: a pause may
 * outlive the assignment.
 */
static void
sync_pause(struct rs_daemon *d, struct rs_part *p)
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
static void
check_cap(struct rs_daemon *d)
{
	uint64_t n = rs_metrics.deliveries_active + d->pending;
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
			sync_pause(d, d->parts.v[i]);
}

/* ---- Commits ---------------------------------------------------------- */

/* The request at (p, offset) can no longer be lost. */
static void
mark_safe(struct rs_daemon *d, struct rs_part *p, int64_t offset)
{
	if (rs_offsets_safe(&p->offsets, offset))
		rs_kafka_store_offset(&d->kafka, p->id,
		    rs_offsets_committable(&p->offsets));
}

static void
settle(struct rs_daemon *d, struct rs_part *p)
{
	/* busy is 0 already only after a forced hand-off (revoke timeout). */
	if (p->busy > 0 && --p->busy == 0 && p->state == RS_PART_REVOKING)
		check_revoked(d);
}

/*
 * A request that cannot be taken (out of memory, mostly): carrying on
 * would skip it (a later commit passes an offset never tracked) or stall
 * its partition's commits (an offset never marked safe).  routesim stops
 * in order with status 1 instead: the deliveries hand off with exact
 * records, and the request, never committed, is read again by the next
 * owner.
 */
static void
cannot_take(struct rs_daemon *d, struct rs_part *p, int64_t offset,
    const char *what, int rc)
{
	if (d->exit_code == 0)	/* the first says it */
		rs_log(RS_LOG_ERROR, "%s partition=%d offset=%lld: %s; "
		    "stopping, the request is read again", what, p->id,
		    (long long)offset, uv_strerror(rc));
	rs_daemon_stop(d, 1);
}

static void
reject(struct rs_daemon *d, struct rs_part *p, int64_t offset,
    enum rs_reject why, const char *what)
{
	rs_metrics.requests_rejected[why]++;
	log_warnx("request rejected reason=%s partition=%d offset=%lld: %s",
	    rs_reject_name(why), p->id, (long long)offset, what);
	mark_safe(d, p, offset);
}

/* ---- Progress records ------------------------------------------------- */

/*
 * A topic refuses every write (rs_kafka_refused(): it does not exist, or
 * routesim may not write to it).  Carrying on would take every request
 * and serve none, so routesim stops: the deliveries hand off as usual and
 * the requests not started stay unread until the topic is fixed.
 */
static void
refused(struct rs_daemon *d, const char *topic, rd_kafka_resp_err_t err)
{
	if (d->exit_code == 0)	/* the first says it */
		rs_log(RS_LOG_ERROR, "topic %s refuses writes: %s; stopping",
		    topic, rd_kafka_err2str(err));
	rs_daemon_stop(d, 1);
}

static void
write_record(struct rs_daemon *d, struct rs_part *p, enum record_kind kind,
    int64_t offset, const struct rs_progress *rec)
{
	char *value = NULL, key[RS_PROGRESS_KEY_MAX];
	size_t len = 0, klen;
	rd_kafka_resp_err_t refusal;
	int rc;

	if (rec != NULL) {
		rs_buf_reset(&d->record);
		if ((value = rs_buf_reserve(&d->record,
		    rs_progress_size(rec))) == NULL) {
			cannot_take(d, p, offset, "progress record", -ENOMEM);
			return;
		}
		len = rs_progress_encode(rec, value);
	}
	klen = rs_progress_key(offset, key);
	/* On failure the request is read again later. */
	rc = rs_kafka_produce_progress(&d->kafka, p->id, key, klen, value,
	    len, (void *)(uintptr_t)kind, &refusal);
	if (rc == 0)
		p->busy++;
	else if (rc == -EPERM)
		refused(d, d->cfg->progress_topic, refusal);
}

static void
write_state(struct rs_daemon *d, struct rs_part *p, enum record_kind kind,
    const struct rs_delivery_state *st)
{
	struct rs_progress rec = {.done = kind == REC_DONE, .next = st->acked,
	    .client_id = (char *)(uintptr_t)st->client_id};

	snprintf(rec.route_id, sizeof(rec.route_id), "%s", st->route_id);
	write_record(d, p, kind, st->offset, &rec);
}

static void
on_record_delivered(void *ud, int32_t partition, const void *key,
    size_t keylen, void *opaque, rd_kafka_resp_err_t err)
{
	int64_t offset = rs_progress_key_parse(key, keylen);
	enum record_kind kind = (enum record_kind)(uintptr_t)opaque;
	struct rs_daemon *d = ud;
	struct rs_part *p = rs_parts_get(&d->parts, partition);

	if (rs_kafka_refused(err))
		refused(d, d->cfg->progress_topic, err);
	else if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
		log_warnx("progress record failed: %s partition=%d offset=%lld",
		    rd_kafka_err2str(err), partition, (long long)offset);
	if (p == NULL)
		return;
	if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
		/* A durable record lets a restart resume the request, so its
		 * offset may be committed: the first record of a request does
		 * it, later ones find it safe already. */
		if (kind != REC_TOMBSTONE)
			mark_safe(d, p, offset);
		if (kind == REC_DONE && rs_part_done_add(p, offset) != 0)
			log_warnx("done list: out of memory");
	}
	settle(d, p);
}

/* The group committed up to `next`: finished requests below it can be
 * forgotten.  Their tombstones are written a slice per loop turn (on_tombs),
 * not all at once: a commit can make tens of thousands due. */
static void
on_committed(void *ud, int32_t partition, int64_t next)
{
	struct rs_daemon *d = ud;
	struct rs_part *p = rs_parts_get(&d->parts, partition);
	int rc;

	if (p == NULL || rs_part_done_commit(p, next) == 0)
		return;
	/* A no-op when on_tombs() is already due. */
	if ((rc = uv_idle_start(&d->tombs, on_tombs)) != 0)
		log_warnx("tombstones: %s", uv_strerror(rc));
}

static void
on_tombs(uv_idle_t *h)
{
	struct rs_daemon *d = h->data;
	int64_t done[TOMB_SLICE];
	size_t left = TOMB_SLICE;

	for (size_t i = 0; i < d->parts.n && left > 0; i++) {
		struct rs_part *p = d->parts.v[i];
		size_t n;

		if (p == NULL)
			continue;
		n = rs_part_done_take(p, done, left);
		for (size_t j = 0; j < n; j++) {
			rs_part_known_del(p, done[j]);
			write_record(d, p, REC_TOMBSTONE, done[j], NULL);
		}
		left -= n;
	}
	if (left > 0)	/* every partition gave less than asked: none left */
		uv_idle_stop(h);
}

/* ---- Deliveries ------------------------------------------------------- */

static void
on_progress(void *ud, const struct rs_delivery_state *st)
{
	struct rs_daemon *d = ud;
	struct rs_part *p = rs_parts_get(&d->parts, st->partition);

	if (p != NULL)
		write_state(d, p, REC_PROGRESS, st);
}

static void
on_refused(void *ud, rd_kafka_resp_err_t err)
{
	struct rs_daemon *d = ud;

	refused(d, d->cfg->produce_topic, err);
}

static void
on_ended(void *ud, const struct rs_delivery_state *st,
    enum rs_delivery_end how)
{
	struct rs_daemon *d = ud;
	struct rs_part *p = rs_parts_get(&d->parts, st->partition);

	if (p == NULL)
		return;
	/* A failed delivery is not retried: its position failed for good
	 * (logged and counted); it is marked done like a finished one. */
	write_state(d, p, how == RS_END_STOPPED ? REC_FINAL : REC_DONE, st);
	settle(d, p);
	check_cap(d);
}

/*
 * A new delivery writes no record when it starts: its request stays
 * uncommitted until the first record (after progress_every positions, or
 * at its end) is durable, and a crash before that reads it again and
 * starts over - as many positions again as a record at point 0 would have
 * cost, without a record per request on the way to its first position.
 */
static void
start_delivery(struct rs_daemon *d, struct rs_part *p, struct rs_route *route,
    const struct pending *req)
{
	char client[RS_LOG_VALUE_MAX];

	if (rs_sched_start(&d->sched, route, req->req.client_id, p->id,
	    req->offset, req->first) != 0) {
		cannot_take(d, p, req->offset, "delivery not started", -ENOMEM);
		return;
	}
	p->busy++;
	check_cap(d);
	if (req->resumed)
		log_info("delivery resumed route=%s client=%s partition=%d "
		    "offset=%lld at=%u", req->req.route_id,
		    rs_log_value(client, sizeof(client), req->req.client_id),
		    p->id, (long long)req->offset, req->first);
}

static void
on_route(struct rs_route_wait *w, struct rs_route *route, int rc,
    const char *err)
{
	struct pending *pr = (struct pending *)(void *)((char *)w -
	    offsetof(struct pending, wait));
	struct rs_daemon *d = pr->d;
	struct rs_part *p = rs_parts_get(&d->parts, pr->partition);

	d->pending--;
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
		write_record(d, p, REC_DONE, pr->offset, &done);
	} else if (rc == -ENOENT) {
		reject(d, p, pr->offset, RS_REJECT_UNKNOWN_ROUTE, err);
	} else if (rc != -ECANCELED) {
		reject(d, p, pr->offset, RS_REJECT_BAD_ROUTE, err);
	}
	if (p != NULL)
		settle(d, p);
	pending_free(pr);
	check_cap(d);
}

/* Finds the route of pr and starts it, now or when the route is loaded;
 * takes pr over. */
static void
begin(struct rs_daemon *d, struct rs_part *p, struct pending *pr)
{
	struct rs_route *route;
	int rc;

	rc = rs_routes_get(&d->routes, pr->req.route_id, &route, &pr->wait,
	    on_route);
	if (rc == -EINPROGRESS) {
		p->busy++;
		d->pending++;
		check_cap(d);
		return;	/* on_route() takes over */
	}
	if (rc == 0)
		start_delivery(d, p, route, pr);
	else if (rc != -ECANCELED)	/* not stopping */
		cannot_take(d, p, pr->offset, "route not loaded", rc);
	pending_free(pr);
}

/* ---- Requests --------------------------------------------------------- */

static void
handle_request(struct rs_daemon *d, struct rs_part *p, int64_t offset,
    int64_t timestamp, const void *payload, size_t len)
{
	uint32_t max_age = d->cfg->max_request_age_ms;
	struct pending *pr;
	enum rs_reject why;
	char err[256];
	int rc;

	rs_metrics.requests_received++;
	if ((rc = rs_offsets_add(&p->offsets, offset)) == -ENOMEM) {
		cannot_take(d, p, offset, "offset not tracked", -ENOMEM);
		return;
	} else if (rc != 0) {
		log_debug("request partition=%d offset=%lld read twice", p->id,
		    (long long)offset);
		return;
	}
	if (rs_part_known(p, offset) != NULL) {
		/* Started in an earlier life; resumed or finished. */
		mark_safe(d, p, offset);
		return;
	}
	if (max_age > 0 && timestamp > 0 && rs_now_ms() - timestamp > max_age) {
		snprintf(err, sizeof(err), "written %lld s ago, more than "
		    "--max-request-age", (long long)(rs_now_ms() - timestamp) /
		    1000);
		reject(d, p, offset, RS_REJECT_EXPIRED, err);
		return;
	}
	if ((pr = calloc(1, sizeof(*pr))) == NULL) {
		cannot_take(d, p, offset, "request not handled", -ENOMEM);
		return;
	}
	pr->d = d;
	pr->partition = p->id;
	pr->offset = offset;
	rc = rs_request_parse(payload, len, &pr->req, &why, err, sizeof(err));
	if (rc != 0) {
		if (rc == -EINVAL)
			reject(d, p, offset, why, err);
		else
			cannot_take(d, p, offset, "request not parsed", -ENOMEM);
		free(pr);
		return;
	}
	if (pr->req.client_id_defaulted) {
		rs_metrics.requests_defaulted_client_id++;
		log_debug("request without a string clientId partition=%d "
		    "offset=%lld: served with clientId \"\"", p->id,
		    (long long)offset);
	}
	begin(d, p, pr);
}

static void
on_request(void *ud, const rd_kafka_message_t *m)
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
			cannot_take(d, p, m->offset, "request not queued",
			    -ENOMEM);
			return;
		}
		/* A backlog waits in Kafka, not here. */
		sync_pause(d, p);
		if (!was_paused && p->paused && !d->capped)
			log_info("partition=%d paused while restoring: %zu "
			    "requests waiting", p->id, p->nqueued);
		return;
	}
	handle_request(d, p, m->offset, ts, m->payload, m->len);
	sync_pause(d, p);
}

/* ---- Assignment, restore, revocation ---------------------------------- */

static void
on_assign(void *ud, int32_t partition)
{
	struct rs_daemon *d = ud;
	struct rs_part *p = rs_parts_add(&d->parts, partition);

	if (p == NULL || rs_kafka_restore(&d->kafka, partition) != 0) {
		rs_log(RS_LOG_ERROR, "cannot restore partition=%d", partition);
		rs_daemon_stop(d, 1);
		return;
	}
	p->busy++;	/* the restore itself */
}

static void
on_restore_record(void *ud, int32_t partition, const rd_kafka_message_t *m)
{
	struct rs_daemon *d = ud;
	struct rs_part *p = rs_parts_get(&d->parts, partition);
	int64_t offset = rs_progress_key_parse(m->key, m->key_len);
	struct rs_progress rec;

	if (p == NULL || p->state != RS_PART_RESTORING)
		return;
	if (offset < 0) {
		log_warnx("progress record with a bad key skipped partition=%d "
		    "at=%lld", partition, (long long)m->offset);
		return;
	}
	if (m->payload == NULL) {	/* tombstone */
		rs_part_known_del(p, offset);
		return;
	}
	if (rs_progress_decode(m->payload, m->len, &rec) != 0) {
		log_warnx("bad progress record skipped partition=%d key=%lld",
		    partition, (long long)offset);
		return;
	}
	if (rs_part_known_set(p, offset, &rec) != 0)
		log_warnx("progress restore: out of memory");
}

/* The partition's restored deliveries have all been resumed: the requests
 * read meanwhile go next, then the partition is read on. */
static void
restore_done(struct rs_daemon *d, struct rs_part *p)
{
	struct rs_queued *q;

	while ((q = rs_part_dequeue(p)) != NULL) {
		handle_request(d, p, q->offset, q->timestamp, q->payload,
		    q->len);
		free(q);
	}
	sync_pause(d, p);
	settle(d, p);	/* the restore itself */
}

/*
 * Restored deliveries are queued and resumed RESUME_SLICE a loop turn
 * (on_resume): after a crash a partition may hold tens of thousands, and
 * the ticks of the other partitions must not wait for all of them.
 */
static void
on_restore_end(void *ud, int32_t partition, int err)
{
	struct rs_daemon *d = ud;
	struct rs_part *p = rs_parts_get(&d->parts, partition);
	size_t resumed = 0, done = 0;
	int rc;

	if (err != 0) {
		/* Its requests cannot be served safely: none is read on (the
		 * queued ones are not stored), and routesim stops. */
		if (partition >= 0)
			rs_log(RS_LOG_ERROR, "progress topic %s has no "
			    "partition %d: it must have as many partitions "
			    "as %s", d->cfg->progress_topic, partition,
			    d->cfg->read_topic);
		else
			rs_log(RS_LOG_ERROR, "progress topic %s is not "
			    "available: it must exist, with as many "
			    "partitions as %s", d->cfg->progress_topic,
			    d->cfg->read_topic);
		rs_daemon_stop(d, 1);
		if (p != NULL && p->state != RS_PART_ACTIVE)
			settle(d, p);	/* the restore itself */
		return;
	}
	if (p == NULL)
		return;
	if (p->state == RS_PART_REVOKING) {	/* revoked while restoring */
		settle(d, p);
		return;
	}
	p->state = RS_PART_ACTIVE;
	for (size_t i = 0; i < p->nbuckets && !d->stopping; i++)
		for (struct rs_known *k = p->known[i]; k; k = k->next) {
			struct pending *pr;

			if (k->rec.done) {
				done++;
				if (rs_part_done_add(p, k->offset) != 0) {
					cannot_take(d, p, k->offset,
					    "done list", -ENOMEM);
					break;
				}
				continue;
			}
			if ((pr = calloc(1, sizeof(*pr))) == NULL ||
			    rs_request_copy(&pr->req, k->rec.route_id,
			    k->rec.client_id) != 0) {
				free(pr);
				cannot_take(d, p, k->offset,
				    "delivery not resumed", -ENOMEM);
				break;
			}
			pr->d = d;
			pr->partition = p->id;
			pr->offset = k->offset;
			pr->first = k->rec.next;
			pr->resumed = true;
			*d->resume_tail = pr;
			d->resume_tail = &pr->next;
			resumed++;
		}
	log_info("restored partition=%d resumed=%zu finished=%zu queued=%s",
	    partition, resumed, done, p->queue ? "yes" : "no");
	p->resuming = resumed;
	if (resumed == 0) {
		restore_done(d, p);
		return;
	}
	if ((rc = uv_idle_start(&d->resumer, on_resume)) != 0)
		log_warnx("resume: %s", uv_strerror(rc));
}

static void
on_resume(uv_idle_t *h)
{
	struct rs_daemon *d = h->data;
	struct pending *pr;

	for (int n = 0; n < RESUME_SLICE && (pr = d->resume_head); n++) {
		/* Queued for active partitions only; a revocation takes its
		 * own out (drop_resumes()). */
		struct rs_part *p = rs_parts_get(&d->parts, pr->partition);

		if ((d->resume_head = pr->next) == NULL)
			d->resume_tail = &d->resume_head;
		if (p == NULL || p->state != RS_PART_ACTIVE || d->stopping) {
			pending_free(pr);
			if (p != NULL && --p->resuming == 0)
				settle(d, p);	/* the restore itself */
			continue;
		}
		rs_metrics.deliveries_resumed++;
		begin(d, p, pr);
		if (--p->resuming == 0)
			restore_done(d, p);
	}
	if (d->resume_head == NULL)
		uv_idle_stop(h);
}

/* Forgets the queued resumes of partition id (all when id < 0): the next
 * owner restores them from their records. */
static void
drop_resumes(struct rs_daemon *d, int32_t id)
{
	struct pending **pp = &d->resume_head, *pr;

	while ((pr = *pp) != NULL) {
		if (id >= 0 && pr->partition != id) {
			pp = &pr->next;
			continue;
		}
		*pp = pr->next;
		pending_free(pr);
	}
	d->resume_tail = pp;
}

/* Completes the revocation once every revoking partition has settled. */
static void
check_revoked(struct rs_daemon *d)
{
	if (!d->revoking)
		return;
	for (size_t i = 0; i < d->parts.n; i++) {
		struct rs_part *p = d->parts.v[i];

		if (p != NULL && p->state == RS_PART_REVOKING && p->busy > 0)
			return;
	}
	for (size_t i = 0; i < d->parts.n; i++) {
		struct rs_part *p = d->parts.v[i];

		if (p != NULL && p->state == RS_PART_REVOKING)
			rs_parts_del(&d->parts, (int32_t)i);
	}
	d->revoking = false;
	if (uv_timer_stop(&d->revoke_timer) != 0)
		log_debug("revoke timer stop failed");
	rs_kafka_revoke_done(&d->kafka);
}

static void
on_revoke_timeout(uv_timer_t *t)
{
	struct rs_daemon *d = t->data;

	log_warnx("hand-off not settled after %u ms: letting go anyway; the "
	    "next owner resumes from older progress records",
	    d->cfg->shutdown_timeout_ms);
	for (size_t i = 0; i < d->parts.n; i++)
		if (d->parts.v[i] != NULL &&
		    d->parts.v[i]->state == RS_PART_REVOKING)
			d->parts.v[i]->busy = 0;
	check_revoked(d);
}

static void
on_revoke(void *ud, const rd_kafka_topic_partition_list_t *parts)
{
	struct rs_daemon *d = ud;
	size_t stopped = 0;
	int rc;

	for (int i = 0; i < parts->cnt; i++) {
		struct rs_part *p = rs_parts_get(&d->parts,
		    parts->elems[i].partition);
		struct rs_queued *q;

		if (p == NULL)
			continue;
		p->state = RS_PART_REVOKING;
		while ((q = rs_part_dequeue(p)) != NULL)
			free(q);	/* never stored: read again */
		sync_pause(d, p);	/* resumes it */
		if (p->resuming > 0) {	/* the restore was not done */
			drop_resumes(d, p->id);
			p->resuming = 0;
			settle(d, p);
		}
		stopped += rs_sched_stop(&d->sched, p->id);
	}
	log_info("handing off partitions=%d deliveries=%zu", parts->cnt,
	    stopped);
	d->revoking = true;
	if ((rc = uv_timer_start(&d->revoke_timer, on_revoke_timeout,
	    d->cfg->shutdown_timeout_ms, 0)) != 0)
		log_warnx("revoke timer: %s", uv_strerror(rc));
	check_revoked(d);
}

/* ---- Kafka callbacks -------------------------------------------------- */

static void
on_delivery(void *ud, void *opaque, rd_kafka_resp_err_t err)
{
	struct rs_daemon *d = ud;

	rs_sched_report(&d->sched, opaque, err);
}

static void
on_room(void *ud)
{
	struct rs_daemon *d = ud;

	rs_sched_resume(&d->sched);
}

static void
on_fatal(void *ud, const char *reason)
{
	struct rs_daemon *d = ud;

	(void)reason;	/* logged by the kafka module */
	rs_daemon_stop(d, 1);
}

/* ---- Startup: the topics are checked before the group is joined ------- */

static void closed_one(struct rs_daemon *d);

static void
on_topics(struct rs_topics *t, int result, const char *msg)
{
	struct rs_daemon *d = t->data;

	d->checking = false;
	if (d->check_in_close) {
		closed_one(d);
		return;
	}
	if (d->stopping || result == -ECANCELED)
		return;
	if (result != 0) {
		rs_log(RS_LOG_ERROR, "topic check failed: %s; stopping", msg);
		rs_daemon_stop(d, 1);
		return;
	}
	if (rs_kafka_subscribe(&d->kafka) != 0)
		rs_daemon_stop(d, 1);
}

/* Starts the topic check; if it cannot run, joins the group unchecked. */
static void
check_topics(struct rs_daemon *d)
{
	const struct rs_config *cfg = d->cfg;
	rd_kafka_conf_t *conf = NULL;
	char err[512];
	int rc;

	if ((rc = rs_kafka_conf(cfg, RS_KAFKA_PRODUCER, &conf, err, sizeof(err))) == 0 &&
	    (rc = rs_topics_check(&d->topics, d->loop, conf, cfg->read_topic,
	    cfg->produce_topic, cfg->progress_topic, on_topics, d)) == 0) {
		d->checking = true;
		return;
	}
	log_warnx("topic check not started (%s); joining the group unchecked",
	    rc == -EINVAL ? err : uv_strerror(rc));
	if (rs_kafka_subscribe(&d->kafka) != 0)
		rs_daemon_stop(d, 1);
}

/* ---- HTTP: metrics and health ----------------------------------------- */

/* Ready: brokers reachable, partitions assigned and restored. */
static bool
ready(struct rs_daemon *d, const char **why)
{
	if (d->stopping) {
		*why = "shutting down";
		return false;
	}
	if (!rs_kafka_ready(&d->kafka, why))
		return false;
	for (size_t i = 0; i < d->parts.n; i++)
		if (d->parts.v[i] != NULL &&
		    d->parts.v[i]->state == RS_PART_RESTORING) {
			*why = "restoring delivery progress";
			return false;
		}
	return true;
}

static int
on_http(void *ud, const char *path, struct rs_buf *body,
    const char **content_type)
{
	struct rs_daemon *d = ud;
	const char *why = NULL;
	bool is_ready = ready(d, &why);
	if (strcmp(path, "/metrics") == 0) {
		struct rs_metrics_state st = {
			.producer_queue = rs_kafka_outq_len(&d->kafka),
			.ready = is_ready,
			.read_topic = d->cfg->read_topic,
		};

		st.nlags = rs_kafka_lags(&d->kafka, &st.lags);
		*content_type = "text/plain; version=0.0.4; charset=utf-8";
		rs_metrics_render(body, &st);
		return 200;
	}
	if (strcmp(path, "/healthz") == 0) {
		/* Answering at all proves the loop turns. */
		rs_buf_printf(body, "ok\n");
		return 200;
	}
	if (strcmp(path, "/readyz") == 0) {
		if (is_ready) {
			rs_buf_printf(body, "ready\n");
			return 200;
		}
		rs_buf_printf(body, "not ready: %s\n", why);
		return 503;
	}
	rs_buf_printf(body, "not found; try /metrics, /healthz, /readyz\n");
	return 404;
}

static void
on_lag_probe(uv_timer_t *t)
{
	struct rs_daemon *d = t->data;
	uint64_t now = uv_hrtime(), expect = LAG_PROBE_MS * 1000000ull;

	if (d->lag_last_ns != 0)
		rs_metrics.loop_lag_seconds = now - d->lag_last_ns > expect ?
		    (double)(now - d->lag_last_ns - expect) / 1e9 : 0;
	d->lag_last_ns = now;
}

/* ---- Stopping --------------------------------------------------------- */

static void
closed_one(struct rs_daemon *d)
{
	if (--d->closing > 0)
		return;
	log_info("stopped started=%llu resumed=%llu finished=%llu failed=%llu "
	    "stopped=%llu positions=%llu delivered=%llu",
	    (unsigned long long)rs_metrics.deliveries_started,
	    (unsigned long long)rs_metrics.deliveries_resumed,
	    (unsigned long long)rs_metrics.deliveries_finished,
	    (unsigned long long)rs_metrics.deliveries_failed,
	    (unsigned long long)rs_metrics.deliveries_stopped,
	    (unsigned long long)rs_metrics.positions_produced,
	    (unsigned long long)rs_metrics.positions_delivered);
	rs_parts_free(&d->parts);
	rs_sched_free(&d->sched);
	rs_buf_free(&d->record);
	if (d->on_stopped != NULL)
		d->on_stopped(d);
}

static void
on_routes_closed(struct rs_routes *rt)
{
	closed_one((struct rs_daemon *)(void *)((char *)rt -
	    offsetof(struct rs_daemon, routes)));
}

static void
on_http_closed(struct rs_http *h)
{
	closed_one(h->ud);
}

static void
on_handle_closed(uv_handle_t *h)
{
	closed_one(h->data);
}

/* Closes what outlives the kafka clients; on_stopped follows. */
static void
close_rest(struct rs_daemon *d)
{
	d->closing = 5 + (d->cfg->http_listen != NULL) + d->checking;
	d->check_in_close = d->checking;
	rs_routes_close(&d->routes, on_routes_closed);
	uv_close((uv_handle_t *)&d->lag_timer, on_handle_closed);
	uv_close((uv_handle_t *)&d->revoke_timer, on_handle_closed);
	/* Tombstones still due are written by the next owner, after it
	 * restores their done records. */
	uv_close((uv_handle_t *)&d->tombs, on_handle_closed);
	drop_resumes(d, -1);	/* none left after the revocations */
	uv_close((uv_handle_t *)&d->resumer, on_handle_closed);
	if (d->cfg->http_listen != NULL)
		rs_http_close(&d->http, on_http_closed);
}

static void
on_kafka_stopped(void *ud, size_t undelivered)
{
	struct rs_daemon *d = ud;

	if (undelivered > 0 && d->exit_code == 0)
		d->exit_code = 1;
	/* Anything still running lost its partition without a hand-off
	 * (the bound expired); it cannot report any more. */
	rs_sched_stop(&d->sched, -1);
	close_rest(d);
}

int
rs_daemon_start(struct rs_daemon *d, uv_loop_t *loop,
    const struct rs_config *cfg, void (*on_stopped)(struct rs_daemon *),
    void *data, char *err, size_t errlen)
{
	static const struct rs_kafka_cbs cbs = {
		.on_request = on_request,
		.on_delivery = on_delivery,
		.on_progress_delivery = on_record_delivered,
		.on_assign = on_assign,
		.on_revoke = on_revoke,
		.on_restore_record = on_restore_record,
		.on_restore_end = on_restore_end,
		.on_committed = on_committed,
		.on_room = on_room,
		.on_fatal = on_fatal,
		.on_stopped = on_kafka_stopped,
	};
	struct rs_sched_hooks hooks = {on_progress, on_ended, on_refused, NULL};
	int rc;

	memset(d, 0, sizeof(*d));
	d->loop = loop;
	d->cfg = cfg;
	rs_metrics.deliveries_max = cfg->max_deliveries;
	d->data = data;
	hooks.ud = d;
	if ((rc = rs_routes_init(&d->routes, loop, cfg->destinations,
	    cfg->position_order)) != 0)
		return rs_errf(err, errlen, rc, "route cache: %s",
		    uv_strerror(rc));
	uv_timer_init(loop, &d->lag_timer);	/* cannot fail */
	uv_timer_init(loop, &d->revoke_timer);
	uv_idle_init(loop, &d->tombs);
	uv_idle_init(loop, &d->resumer);
	d->lag_timer.data = d->revoke_timer.data = d->tombs.data = d;
	d->resumer.data = d;
	d->resume_tail = &d->resume_head;
	if ((rc = uv_timer_start(&d->lag_timer, on_lag_probe, LAG_PROBE_MS,
	    LAG_PROBE_MS)) != 0) {
		rs_errf(err, errlen, rc, "lag timer: %s", uv_strerror(rc));
		goto fail;
	}
	if (cfg->http_listen != NULL && (rc = rs_http_start(&d->http, loop,
	    cfg->http_listen, on_http, d, err, errlen)) != 0)
		goto fail;	/* rs_http_start() closed what it opened */
	rs_sched_init(&d->sched, loop, &d->kafka, cfg->interval_ms,
	    cfg->progress_every, cfg->position_metadata, &hooks);
	if ((rc = rs_kafka_start(&d->kafka, loop, cfg, &cbs, d, err,
	    errlen)) != 0) {
		if (cfg->http_listen != NULL)
			rs_http_close(&d->http, NULL);
		goto fail;
	}
	d->on_stopped = on_stopped;
	log_info("routesim started destinations=%s interval_ms=%u "
	    "position_order=%s progress_topic=%s", cfg->destinations,
	    cfg->interval_ms, rs_position_order_name(cfg->position_order),
	    cfg->progress_topic);
	check_topics(d);
	return 0;
fail:
	rs_routes_close(&d->routes, NULL);
	uv_close((uv_handle_t *)&d->lag_timer, NULL);
	uv_close((uv_handle_t *)&d->revoke_timer, NULL);
	uv_close((uv_handle_t *)&d->tombs, NULL);
	uv_close((uv_handle_t *)&d->resumer, NULL);
	return rc;
}

void
rs_daemon_stop(struct rs_daemon *d, int exit_code)
{
	if (exit_code != 0 && d->exit_code == 0)
		d->exit_code = exit_code;
	if (d->stopping)
		return;
	d->stopping = true;
	if (d->checking)
		rs_topics_cancel(&d->topics);
	log_info("stopping active=%llu queued=%zu",
	    (unsigned long long)rs_metrics.deliveries_active,
	    rs_kafka_outq_len(&d->kafka));
	/* Closing the consumer revokes every partition: the hand-off above
	 * records the deliveries' progress before the group lets go. */
	rs_kafka_stop(&d->kafka, d->cfg->shutdown_timeout_ms);
}
