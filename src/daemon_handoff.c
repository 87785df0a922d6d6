/*
 * daemon_handoff.c - hand-off: a revoked partition's deliveries stop,
 * wait for their reports and write exact records, and only then is the
 * partition let go (daemon.h, daemon-int.h).
 *
 * The bound is shutdown_timeout_ms, and this module alone enforces it:
 * the kafka module waits for rs_kafka_revoke_done(), however long.  A
 * hand-off while running has the whole bound; one during a stop (the
 * consumer's close revokes everything) has what is left of the stop's
 * deadline (rs_daemon_stop()), so it is let go before the kafka module
 * gives up the queued positions at that same deadline: the two together
 * keep to shutdown_timeout_ms.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "daemon-int.h"
#include "routesim/log.h"
#include "routesim/metrics.h"

/* Completes the revocation once every revoking partition has settled. */
void
rs__check_revoked(struct rs_daemon *d)
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

	log_warnx("hand-off not settled within --shutdown-timeout (%u ms): "
	    "letting go anyway; the next owner resumes from older progress "
	    "records", d->cfg->shutdown_timeout_ms);
	for (size_t i = 0; i < d->parts.n; i++)
		if (d->parts.v[i] != NULL &&
		    d->parts.v[i]->state == RS_PART_REVOKING)
			d->parts.v[i]->busy = 0;
	rs__check_revoked(d);
}

/* How long a hand-off starting now may take (see the top). */
static uint64_t
handoff_bound(const struct rs_daemon *d)
{
	uint64_t now = uv_now(d->loop);

	if (!d->stopping)
		return d->cfg->shutdown_timeout_ms;
	return d->stop_deadline > now ? d->stop_deadline - now : 0;
}

void
rs__on_revoke(void *ud, const rd_kafka_topic_partition_list_t *parts)
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
		rs__sync_pause(d, p);	/* resumes it */
		if (p->resuming > 0) {	/* the restore was not done */
			rs__drop_resumes(d, p->id);
			p->resuming = 0;
			rs__work_done(d, p);
		}
		stopped += rs_sched_stop(&d->sched, p->id);
	}
	log_info("handing off partitions=%d deliveries=%zu", parts->cnt,
	    stopped);
	d->revoking = true;
	if ((rc = uv_timer_start(&d->revoke_timer, on_revoke_timeout,
	    handoff_bound(d), 0)) != 0)
		log_warnx("revoke timer: %s", uv_strerror(rc));
	rs__check_revoked(d);
}
