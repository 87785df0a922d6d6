/*
 * daemon.c - request handling and the order of shutdown.
 */
#include "routesim/daemon.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "routesim/buf.h"
#include "routesim/log.h"
#include "routesim/metrics.h"
#include "routesim/request.h"

/* A request whose route is being loaded. */
struct pending {
	struct rs_route_wait wait;
	struct rs_daemon *d;
	struct rs_request req;
	int32_t partition;
	int64_t offset;
};

static void
reject(enum rs_reject why, int32_t partition, int64_t offset,
    const char *what)
{
	rs_metrics.requests_rejected[why]++;
	log_warnx("request rejected reason=%s partition=%d offset=%lld: %s",
	    rs_reject_name(why), partition, (long long)offset, what);
}

static void
start_delivery(struct rs_daemon *d, struct rs_route *route,
    const struct rs_request *req)
{
	if (rs_sched_start(&d->sched, route, req->client_id) != 0)
		log_warnx("delivery not started: out of memory route=%s",
		    req->route_id);
}

static void
on_route(struct rs_route_wait *w, struct rs_route *route, int rc,
    const char *err)
{
	struct pending *p = (struct pending *)(void *)((char *)w -
	    offsetof(struct pending, wait));
	struct rs_daemon *d = p->d;

	d->pending--;
	if (route != NULL && !d->stopping)
		start_delivery(d, route, &p->req);
	else if (route != NULL)
		rs_route_unref(route);
	else if (rc == -ENOENT)
		reject(RS_REJECT_UNKNOWN_ROUTE, p->partition, p->offset, err);
	else if (rc != -ECANCELED)
		reject(RS_REJECT_BAD_ROUTE, p->partition, p->offset, err);
	rs_request_free(&p->req);
	free(p);
}

static void
on_request(void *ud, const rd_kafka_message_t *m)
{
	struct rs_daemon *d = ud;
	struct rs_route *route;
	struct pending *p;
	enum rs_reject why;
	char err[256];
	int rc;

	rs_metrics.requests_received++;
	/* Issue #2 policy: a request is done with once it has been read. */
	rs_kafka_store_offset(&d->kafka, m->partition, m->offset);
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		log_warnx("request dropped: out of memory partition=%d "
		    "offset=%lld", m->partition, (long long)m->offset);
		return;
	}
	p->d = d;
	p->partition = m->partition;
	p->offset = m->offset;
	rc = rs_request_parse(m->payload, m->len, &p->req, &why, err,
	    sizeof(err));
	if (rc == -EINVAL) {
		reject(why, m->partition, m->offset, err);
		goto done;
	}
	if (rc != 0) {
		log_warnx("request dropped: out of memory partition=%d "
		    "offset=%lld", m->partition, (long long)m->offset);
		goto done;
	}
	rc = rs_routes_get(&d->routes, p->req.route_id, &route, &p->wait,
	    on_route);
	if (rc == -EINPROGRESS) {
		d->pending++;
		return;	/* on_route() takes over p */
	}
	if (rc == 0)
		start_delivery(d, route, &p->req);
	else
		log_warnx("route %s: %s", p->req.route_id, uv_strerror(rc));
done:
	rs_request_free(&p->req);
	free(p);
}

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

#define LAG_PROBE_MS 500

/* ---- HTTP: metrics and health ----------------------------------------- */

static int
on_http(void *ud, const char *path, struct rs_buf *body,
    const char **content_type)
{
	struct rs_daemon *d = ud;
	const char *why = NULL;
	bool ready;

	ready = !d->stopping && rs_kafka_ready(&d->kafka, &why);
	if (strcmp(path, "/metrics") == 0) {
		struct rs_metrics_state st = {
			.producer_queue = rs_kafka_outq_len(&d->kafka),
			.ready = ready,
			.read_topic = d->cfg->read_topic,
			.lags = d->kafka.lags,
			.nlags = d->kafka.nlags,
		};

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
		if (ready) {
			rs_buf_printf(body, "ready\n");
			return 200;
		}
		rs_buf_printf(body, "not ready: %s\n", d->stopping ?
		    "shutting down" : why);
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
	log_info("stopped started=%llu finished=%llu failed=%llu "
	    "stopped=%llu positions=%llu delivered=%llu",
	    (unsigned long long)rs_metrics.deliveries_started,
	    (unsigned long long)rs_metrics.deliveries_finished,
	    (unsigned long long)rs_metrics.deliveries_failed,
	    (unsigned long long)rs_metrics.deliveries_stopped,
	    (unsigned long long)rs_metrics.positions_produced,
	    (unsigned long long)rs_metrics.positions_delivered);
	rs_sched_free(&d->sched);
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
on_lag_timer_closed(uv_handle_t *h)
{
	closed_one(h->data);
}

/* Closes what outlives the kafka clients; on_stopped follows. */
static void
close_rest(struct rs_daemon *d)
{
	d->closing = 2 + (d->cfg->http_listen != NULL);
	rs_routes_close(&d->routes, on_routes_closed);
	uv_close((uv_handle_t *)&d->lag_timer, on_lag_timer_closed);
	if (d->cfg->http_listen != NULL)
		rs_http_close(&d->http, on_http_closed);
}

static void
on_kafka_stopped(void *ud, size_t undelivered)
{
	struct rs_daemon *d = ud;

	if (undelivered > 0 && d->exit_code == 0)
		d->exit_code = 1;
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
		.on_room = on_room,
		.on_fatal = on_fatal,
		.on_stopped = on_kafka_stopped,
	};
	int rc;

	memset(d, 0, sizeof(*d));
	d->loop = loop;
	d->cfg = cfg;
	d->data = data;
	if ((rc = rs_routes_init(&d->routes, loop, cfg->destinations,
	    cfg->position_order)) != 0)
		return rs_errf(err, errlen, rc, "route cache: %s",
		    uv_strerror(rc));
	uv_timer_init(loop, &d->lag_timer);	/* cannot fail */
	d->lag_timer.data = d;
	if ((rc = uv_timer_start(&d->lag_timer, on_lag_probe, LAG_PROBE_MS,
	    LAG_PROBE_MS)) != 0) {
		rs_errf(err, errlen, rc, "lag timer: %s", uv_strerror(rc));
		goto fail;
	}
	if (cfg->http_listen != NULL && (rc = rs_http_start(&d->http, loop,
	    cfg->http_listen, on_http, d, err, errlen)) != 0) {
		/* rs_http_start() has closed what it opened. */
		rs_routes_close(&d->routes, NULL);
		uv_close((uv_handle_t *)&d->lag_timer, NULL);
		return rc;
	}
	rs_sched_init(&d->sched, loop, &d->kafka, cfg->interval_ms);
	if ((rc = rs_kafka_start(&d->kafka, loop, cfg, &cbs, d, err,
	    errlen)) != 0) {
		if (cfg->http_listen != NULL)
			rs_http_close(&d->http, NULL);
		goto fail;
	}
	d->on_stopped = on_stopped;
	log_info("routesim started destinations=%s interval_ms=%u "
	    "position_order=%s", cfg->destinations, cfg->interval_ms,
	    rs_position_order_name(cfg->position_order));
	return 0;
fail:
	rs_routes_close(&d->routes, NULL);
	uv_close((uv_handle_t *)&d->lag_timer, NULL);
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
	log_info("stopping active=%llu pending=%zu queued=%zu",
	    (unsigned long long)rs_metrics.deliveries_active, d->pending,
	    rs_kafka_outq_len(&d->kafka));
	rs_sched_stop(&d->sched, NULL);
	rs_kafka_stop(&d->kafka, d->cfg->shutdown_timeout_ms);
}
