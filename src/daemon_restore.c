/*
 * daemon_restore.c - restore and resume: a newly assigned partition is
 * read back from its progress partition, its unfinished deliveries are
 * resumed a slice per loop turn, then its requests are read on (daemon.h,
 * daemon-int.h).
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "daemon-int.h"
#include "routesim/log.h"
#include "routesim/metrics.h"
#include "routesim/progress.h"
#include "routesim/request.h"

/* Restored deliveries resumed per loop turn (each sends its next position
 * at once: about 0.1 ms). */
#define RESUME_SLICE 32

static void on_resume(uv_idle_t *h);

void
rs__on_assign(void *ud, int32_t partition)
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

void
rs__on_restore_record(void *ud, int32_t partition, const rd_kafka_message_t *m)
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
		rs__handle_request(d, p, q->offset, q->timestamp, q->payload,
		    q->len);
		free(q);
	}
	rs__sync_pause(d, p);
	rs__work_done(d, p);	/* the restore itself */
}

/* The progress topic lacks partition (-1: which is not known): its
 * requests cannot be served safely, none is read on (the queued ones are
 * not stored), and routesim stops. */
static void
restore_failed(struct rs_daemon *d, struct rs_part *p, int32_t partition)
{
	if (partition >= 0)
		rs_log(RS_LOG_ERROR, "progress topic %s has no partition %d: "
		    "it must have as many partitions as %s",
		    d->cfg->progress_topic, partition, d->cfg->read_topic);
	else
		rs_log(RS_LOG_ERROR, "progress topic %s is not available: it "
		    "must exist, with as many partitions as %s",
		    d->cfg->progress_topic, d->cfg->read_topic);
	rs_daemon_stop(d, 1);
	if (p != NULL && p->state != RS_PART_ACTIVE)
		rs__work_done(d, p);	/* the restore itself */
}

/* Takes one restored record: a finished request goes to the done list,
 * an unfinished one to the resume queue.  Returns 0 or -ENOMEM (and
 * routesim stops). */
static int
take_known(struct rs_daemon *d, struct rs_part *p, const struct rs_known *k,
    size_t *resumed, size_t *done)
{
	struct rs__pending *pr;

	if (k->rec.done) {
		++*done;
		if (rs_part_done_add(p, k->offset) == 0)
			return 0;
		rs__cannot_take(d, p, k->offset, "done list", -ENOMEM);
		return -ENOMEM;
	}
	if ((pr = rs__pending_new(d, p, k->offset)) == NULL ||
	    rs_request_copy(&pr->req, k->rec.route_id,
	    k->rec.client_id) != 0) {
		free(pr);
		rs__cannot_take(d, p, k->offset, "delivery not resumed",
		    -ENOMEM);
		return -ENOMEM;
	}
	pr->first = k->rec.next;
	pr->resumed = true;
	*d->resume_tail = pr;
	d->resume_tail = &pr->next;
	++*resumed;
	return 0;
}

/*
 * Restored deliveries are queued and resumed RESUME_SLICE a loop turn
 * (on_resume): after a crash a partition may hold tens of thousands, and
 * the ticks of the other partitions must not wait for all of them.
 */
void
rs__on_restore_end(void *ud, int32_t partition, int err)
{
	struct rs_daemon *d = ud;
	struct rs_part *p = rs_parts_get(&d->parts, partition);
	size_t resumed = 0, done = 0;
	int rc;

	if (err != 0) {
		restore_failed(d, p, partition);
		return;
	}
	if (p == NULL)
		return;
	if (p->state == RS_PART_REVOKING) {	/* revoked while restoring */
		rs__work_done(d, p);
		return;
	}
	p->state = RS_PART_ACTIVE;
	for (const struct rs_known *k = rs_part_known_next(p, NULL);
	    k != NULL && !d->stopping; k = rs_part_known_next(p, k))
		if (take_known(d, p, k, &resumed, &done) != 0)
			break;
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
	struct rs__pending *pr;

	for (int n = 0; n < RESUME_SLICE && (pr = d->resume_head); n++) {
		/* Queued for active partitions only; a revocation takes its
		 * own out (rs__drop_resumes()). */
		struct rs_part *p = rs_parts_get(&d->parts, pr->partition);

		if ((d->resume_head = pr->next) == NULL)
			d->resume_tail = &d->resume_head;
		if (p == NULL || p->state != RS_PART_ACTIVE || d->stopping) {
			rs__pending_free(pr);
			if (p != NULL && --p->resuming == 0)
				rs__work_done(d, p);	/* the restore itself */
			continue;
		}
		rs_metrics.deliveries_resumed++;
		rs__route_and_start(d, p, pr);
		if (--p->resuming == 0)
			restore_done(d, p);
	}
	if (d->resume_head == NULL)
		uv_idle_stop(h);
}

/* Forgets the queued resumes of partition id (all when id < 0): the next
 * owner restores them from their records. */
void
rs__drop_resumes(struct rs_daemon *d, int32_t id)
{
	struct rs__pending **pp = &d->resume_head, *pr;

	while ((pr = *pp) != NULL) {
		if (id >= 0 && pr->partition != id) {
			pp = &pr->next;
			continue;
		}
		*pp = pr->next;
		rs__pending_free(pr);
	}
	d->resume_tail = pp;
}
