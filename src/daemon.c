/*
 * daemon.c - the daemon's start and stop, the startup topic check, and
 * the kafka callbacks that go straight to the scheduler (daemon.h).  The
 * other callbacks are in daemon_requests.c, daemon_records.c,
 * daemon_restore.c, daemon_handoff.c and daemon_http.c, which share
 * daemon-int.h.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "daemon-int.h"
#include "routesim/log.h"
#include "routesim/metrics.h"

/*
 * A request that cannot be taken (out of memory, mostly): carrying on
 * would skip it (a later commit passes an offset never tracked) or stall
 * its partition's commits (an offset never marked safe).  routesim stops
 * in order with status 1 instead: the deliveries hand off with exact
 * records, and the request, never committed, is read again by the next
 * owner.
 */
void
rs__cannot_take(struct rs_daemon *d, struct rs_part *p, int64_t offset,
    const char *what, int rc)
{
	if (d->exit_code == 0)	/* the first says it */
		rs_log(RS_LOG_ERROR, "%s partition=%d offset=%lld: %s; "
		    "stopping, the request is read again", what, p->id,
		    (long long)offset, uv_strerror(rc));
	rs_daemon_stop(d, 1);
}

/*
 * A topic refuses every write (rs_kafka_refused(): it does not exist, or
 * routesim may not write to it).  Carrying on would take every request
 * and serve none, so routesim stops: the deliveries hand off as usual and
 * the requests not started stay unread until the topic is fixed.
 */
void
rs__refused(struct rs_daemon *d, const char *topic, const char *why)
{
	if (d->exit_code == 0)	/* the first says it */
		rs_log(RS_LOG_ERROR, "topic %s refuses writes: %s; stopping",
		    topic, why);
	rs_daemon_stop(d, 1);
}

static void
on_delivery(void *ud, void *opaque, rd_kafka_resp_err_t err)
{
	struct rs_daemon *d = ud;

	if (err == RD_KAFKA_RESP_ERR_NO_ERROR)
		rs_sched_report(&d->sched, opaque, 0, NULL);
	else
		rs_sched_report(&d->sched, opaque, rs_kafka_refused(err) ?
		    -EPERM : -EIO, rd_kafka_err2str(err));
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

	if ((rc = rs_kafka_conf(cfg, RS_KAFKA_PRODUCER, &conf, err,
	    sizeof(err))) == 0 &&
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

/*
 * Closes what outlives the kafka clients: the route cache, the daemon's
 * own handles and, when http is open, the HTTP listener.  With notify,
 * each close ends in closed_one() (on a stop); without, the caller runs
 * the loop once more (a failed start).
 */
static void
close_own(struct rs_daemon *d, bool http, bool notify)
{
	uv_close_cb cb = notify ? on_handle_closed : NULL;

	rs_routes_close(&d->routes, notify ? on_routes_closed : NULL);
	uv_close((uv_handle_t *)&d->lag_timer, cb);
	uv_close((uv_handle_t *)&d->revoke_timer, cb);
	/* Tombstones still due are written by the next owner, after it
	 * restores their done records. */
	uv_close((uv_handle_t *)&d->tombs, cb);
	rs__drop_resumes(d, -1);	/* none left after the revocations */
	uv_close((uv_handle_t *)&d->resumer, cb);
	if (http)
		rs_http_close(&d->http, notify ? on_http_closed : NULL);
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
	d->closing = 5 + (d->cfg->http_listen != NULL) + d->checking;
	d->check_in_close = d->checking;
	close_own(d, d->cfg->http_listen != NULL, true);
}

int
rs_daemon_start(struct rs_daemon *d, uv_loop_t *loop,
    const struct rs_config *cfg, void (*on_stopped)(struct rs_daemon *),
    void *data, char *err, size_t errlen)
{
	static const struct rs_kafka_cbs cbs = {
		.on_request = rs__on_request,
		.on_delivery = on_delivery,
		.on_progress_delivery = rs__on_record_delivered,
		.on_assign = rs__on_assign,
		.on_revoke = rs__on_revoke,
		.on_restore_record = rs__on_restore_record,
		.on_restore_end = rs__on_restore_end,
		.on_committed = rs__on_committed,
		.on_room = on_room,
		.on_fatal = on_fatal,
		.on_stopped = on_kafka_stopped,
	};
	struct rs_sched_hooks hooks = {rs__on_progress, rs__on_ended,
	    rs__on_refused, d};
	bool http = false;
	int rc;

	memset(d, 0, sizeof(*d));
	d->loop = loop;
	d->cfg = cfg;
	rs_metrics.deliveries_max = cfg->max_deliveries;
	d->data = data;
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
	if ((rc = rs__probes_start(d, err, errlen)) != 0)
		goto fail;
	http = cfg->http_listen != NULL;
	rs_sched_init(&d->sched, loop, &d->kafka, cfg->interval_ms,
	    cfg->progress_every, cfg->position_metadata, &hooks);
	if ((rc = rs_kafka_start(&d->kafka, loop, cfg, &cbs, d, err,
	    errlen)) != 0)
		goto fail;
	d->on_stopped = on_stopped;
	log_info("routesim started destinations=%s interval_ms=%u "
	    "position_order=%s progress_topic=%s", cfg->destinations,
	    cfg->interval_ms, rs_position_order_name(cfg->position_order),
	    cfg->progress_topic);
	check_topics(d);
	return 0;
fail:
	close_own(d, http, false);
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
	d->stop_deadline = uv_now(d->loop) + d->cfg->shutdown_timeout_ms;
	if (d->checking)
		rs_topics_cancel(&d->topics);
	log_info("stopping active=%llu queued=%zu",
	    (unsigned long long)rs_metrics.deliveries_active,
	    rs_kafka_outq_len(&d->kafka));
	/*
	 * Closing the consumer revokes every partition: the hand-off
	 * (daemon_handoff.c) records the deliveries' progress before the
	 * group lets go, bounded by stop_deadline.  The kafka module's
	 * deadline ends at the same time, but it waits for the hand-off to
	 * be over before it gives up queued positions: whichever timer
	 * runs first, the hand-off is let go by the daemon (one line says
	 * so), and the two together take shutdown_timeout_ms, not twice
	 * that.
	 */
	rs_kafka_stop(&d->kafka, d->cfg->shutdown_timeout_ms);
}
