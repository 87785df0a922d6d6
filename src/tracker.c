/*
 * tracker.c - the live map's life cycle and its Kafka side (see
 * tracker.h): the follower feeds the fleet, the tick publishes it, the
 * producer writes the page's requests.  The web side is tracker_web.c.
 */
#include "routesim/tracker.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "routesim/frame.h"
#include "routesim/kafka_conf.h"
#include "routesim/log.h"
#include "routesim/position_decode.h"
#include "tracker-int.h"

/* At most one warning a second about bad messages; the rest counted. */
#define WARN_EVERY_MS 1000

static void
warn_rejected(struct rs_tracker *t, const char *topic, const char *why)
{
	int64_t now = rs_now_ms();

	if (now - t->warned_ms < WARN_EVERY_MS) {
		t->unwarned++;
		return;
	}
	log_warnx("skipped a message of topic %s: %s (%llu more skipped "
	    "since the last warning)", topic, why,
	    (unsigned long long)t->unwarned);
	t->warned_ms = now;
	t->unwarned = 0;
}

static void
on_position(struct rs_tracker *t, const rd_kafka_message_t *m)
{
	struct rs_position_msg msg;
	enum rs_reject why;
	char err[256];

	if (rs_position_decode(m->payload, m->len, t->cfg->position_order,
	    &msg, &why, err, sizeof(err)) != 0) {
		t->stats.positions_rejected[why]++;
		warn_rejected(t, t->cfg->produce_topic, err);
		return;
	}
	if (rs_fleet_position(t->fleet, msg.client_id, msg.route_id,
	    msg.lat, msg.lng, msg.finished, rs_now_ms()) != 0)
		log_warnx("tracker: out of memory: position of a vehicle "
		    "dropped");
	else
		t->stats.positions++;
	rs_position_msg_free(&msg);
}

static void
on_request(struct rs_tracker *t, const rd_kafka_message_t *m)
{
	struct rs_request req;
	enum rs_reject why;
	char err[256];

	if (rs_request_parse(m->payload, m->len, &req, &why, err,
	    sizeof(err)) != 0) {
		t->stats.requests_rejected++;
		warn_rejected(t, t->cfg->read_topic, err);
		return;
	}
	if (rs_fleet_request(t->fleet, req.client_id, req.route_id,
	    rs_now_ms()) != 0)
		log_warnx("tracker: out of memory: request dropped");
	else
		t->stats.requests++;
	rs_request_free(&req);
}

static void
on_message(void *ud, enum rs_follow_topic topic, const rd_kafka_message_t *m)
{
	struct rs_tracker *t = ud;

	if (topic == RS_FOLLOW_POSITIONS)
		on_position(t, m);
	else
		on_request(t, m);
}

static void
on_fatal(void *ud, const char *reason)
{
	struct rs_tracker *t = ud;

	(void)reason;			/* logged by the follower */
	t->failed = true;
	rs_tracker_stop(t);
}

/* The history is in: the browsers get their first frames, a snapshot
 * of what was moving (none before: a page opened while the tracker
 * starts would see an empty map fill up). */
static void
on_caught_up(void *ud)
{
	struct rs_tracker *t = ud;

	rs_fleet_commit(t->fleet);
	rs_web_publish(t->web, rs_fleet_seq(t->fleet));
}

/* Closes the fleet's generation and tells the browsers. */
static void
on_tick(uv_timer_t *h)
{
	struct rs_tracker *t = h->data;

	rs_fleet_expire(t->fleet, rs_now_ms());
	if (!t->follow.caught_up || !rs_fleet_dirty(t->fleet))
		return;
	rs_fleet_commit(t->fleet);
	rs_web_publish(t->web, rs_fleet_seq(t->fleet));
}

/* ---- The producer of the page's requests ------------------------------ */

static void
delivered(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	struct rs_tracker *t = opaque;

	(void)rk;
	t->inflight--;
	rs_tracker_web_delivered(t, m->_private, m->err);
}

static void
on_producer_events(struct rs_kafka_watch *w)
{
	struct rs_tracker *t = w->data;

	rs_kafka_watch_rearm(w);
	rd_kafka_poll(t->producer, 0);
}

static int
start_producer(struct rs_tracker *t, char *err, size_t errlen)
{
	rd_kafka_conf_t *conf;
	char why[512];
	int rc;

	if ((rc = rs_kafka_conf(t->cfg, RS_KAFKA_PRODUCER, &conf, err,
	    errlen)) != 0)
		return rc;
	rd_kafka_conf_set_opaque(conf, t);
	rd_kafka_conf_set_dr_msg_cb(conf, delivered);
	rd_kafka_conf_set_log_cb(conf, rs_kafka_log_cb);
	if (rd_kafka_conf_set(conf, "client.id", "routesim-tracker", why,
	    sizeof(why)) != RD_KAFKA_CONF_OK ||
	    (t->producer = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why,
	    sizeof(why))) == NULL) {
		rd_kafka_conf_destroy(conf);
		return rs_errf(err, errlen, -EINVAL, "cannot create kafka "
		    "producer: %s", why);
	}
	t->pq = rd_kafka_queue_get_main(t->producer);
	if ((rc = rs_kafka_watch_init(&t->pwatch, t->loop, t->pq,
	    on_producer_events, t)) != 0)
		return rs_errf(err, errlen, rc, "producer watch: %s",
		    uv_strerror(rc));
	t->producing = true;
	t->open++;
	return 0;
}

int
rs_tracker_produce(struct rs_tracker *t, const char *json, size_t len,
    void *opaque)
{
	rd_kafka_resp_err_t err;

	if (t->producer == NULL || t->stopping)
		return -ESHUTDOWN;
	err = rd_kafka_producev(t->producer,
	    RD_KAFKA_V_TOPIC(t->cfg->read_topic),
	    RD_KAFKA_V_VALUE((void *)json, len),
	    RD_KAFKA_V_OPAQUE(opaque),
	    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
	if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
		log_warnx("request to %s not written: %s", t->cfg->read_topic,
		    rd_kafka_err2str(err));
		return err == RD_KAFKA_RESP_ERR__QUEUE_FULL ? -ENOBUFS : -EIO;
	}
	t->inflight++;
	return 0;
}

/* ---- Start and stop --------------------------------------------------- */

/* The folder changed: later requests, /api/routes and POST bodies use the
 * routes read now; vehicles keep the route they drive. */
static void
on_routes(void *ud, struct rs_catalogue *cat)
{
	struct rs_tracker *t = ud;

	rs_fleet_set_catalogue(t->fleet, cat);
	rs_catalogue_free(t->catalogue);
	t->catalogue = cat;
}

int
rs_tracker_start(struct rs_tracker *t, uv_loop_t *loop,
    const struct rs_config *cfg, void (*stopped)(struct rs_tracker *),
    void *data, char *err, size_t errlen)
{
	static const struct rs_follow_cbs fcbs = {on_message, on_fatal,
	    on_caught_up};
	struct rs_fleet_limits limits = {
		.max_vehicles = cfg->max_vehicles,
		.linger_ms = RS_TRACKER_LINGER_MS,
		.stale_ms = cfg->vehicle_timeout_ms,
	};
	int rc;

	memset(t, 0, sizeof(*t));
	t->loop = loop;
	t->cfg = cfg;
	t->stopped = stopped;
	t->data = data;
	/* Cannot fail on an initialised loop. */
	(void)uv_timer_init(loop, &t->tick);
	(void)uv_timer_init(loop, &t->drain);
	t->tick.data = t->drain.data = t;
	t->open += 2;
	if ((rc = rs_catalogue_load(cfg->destinations, &t->catalogue, err,
	    errlen)) != 0)
		return rc;
	log_info("routes: %zu from %s (%zu skipped)", t->catalogue->count,
	    cfg->destinations, t->catalogue->skipped);
	if ((t->fleet = rs_fleet_new(t->catalogue, &limits)) == NULL)
		return rs_errf(err, errlen, -ENOMEM, "out of memory");
	t->open++;		/* the watch; stopped even if it failed */
	if ((rc = rs_catalogue_watch_start(&t->routes, loop,
	    cfg->destinations, on_routes, t)) != 0)
		return rs_errf(err, errlen, rc, "route folder watch: %s",
		    uv_strerror(rc));
	if ((rc = rs_tracker_web_start(t, err, errlen)) != 0 ||
	    (rc = start_producer(t, err, errlen)) != 0)
		return rc;
	/* Browsers get frames once the history is in (on_caught_up). */
	if ((rc = rs_follow_start(&t->follow, loop, cfg, cfg->history, &fcbs,
	    t, err, errlen)) != 0)
		return rc;
	t->following = true;
	t->open++;
	if ((rc = uv_timer_start(&t->tick, on_tick, RS_TRACKER_TICK_MS,
	    RS_TRACKER_TICK_MS)) != 0)
		return rs_errf(err, errlen, rc, "timer: %s", uv_strerror(rc));
	log_info("tracker: the map at http://%s/", cfg->http_listen);
	return 0;
}

int
rs_tracker_port(const struct rs_tracker *t)
{
	return t->web != NULL ? rs_web_port(t->web) : -1;
}

bool
rs_tracker_ready(const struct rs_tracker *t, const char **why)
{
	if (t->stopping) {
		*why = "stopping";
		return false;
	}
	return rs_follow_ready(&t->follow, why);
}

static void
part_done(struct rs_tracker *t)
{
	if (--t->open == 0 && t->stopped != NULL)
		t->stopped(t);
}

static void
on_closed(uv_handle_t *h)
{
	part_done(h->data);
}

static void
on_watch_closed(uv_handle_t *h)
{
	struct rs_kafka_watch *w = h->data;

	part_done(w->data);
}

static void
on_routes_stopped(struct rs_catalogue_watch *w)
{
	part_done(w->ud);
}

static void
on_followed(struct rs_follow *f)
{
	part_done((struct rs_tracker *)((char *)f -
	    offsetof(struct rs_tracker, follow)));
}

/* The page's last requests get up to the shutdown timeout to be
 * acknowledged (each POST is answered either way). */
static void
on_drain(uv_timer_t *h)
{
	struct rs_tracker *t = h->data;

	rd_kafka_poll(t->producer, 0);
	if (t->inflight > 0 && uv_now(t->loop) < t->drain_until)
		return;
	uv_close((uv_handle_t *)&t->drain, on_closed);
	rs_kafka_watch_close(&t->pwatch, on_watch_closed);
}

void
rs_tracker_stop(struct rs_tracker *t)
{
	int rc;

	if (t->stopping)
		return;
	t->stopping = true;
	t->open++;			/* held until the end of this call */
	if (t->web != NULL)
		rs_web_close(t->web);
	if (t->following)
		rs_follow_stop(&t->follow, on_followed);
	if (t->routes.loop != NULL)
		rs_catalogue_watch_stop(&t->routes, on_routes_stopped);
	if (t->tick.loop == NULL) {	/* never started */
		part_done(t);
		return;
	}
	uv_close((uv_handle_t *)&t->tick, on_closed);
	t->drain_until = uv_now(t->loop) + t->cfg->shutdown_timeout_ms;
	if (!t->producing) {
		uv_close((uv_handle_t *)&t->drain, on_closed);
	} else if ((rc = uv_timer_start(&t->drain, on_drain, 0, 50)) != 0) {
		log_warnx("tracker: drain timer: %s", uv_strerror(rc));
		uv_close((uv_handle_t *)&t->drain, on_closed);
		rs_kafka_watch_close(&t->pwatch, on_watch_closed);
	}
	part_done(t);
}

void
rs_tracker_free(struct rs_tracker *t)
{
	if (t->pq != NULL)
		rd_kafka_queue_destroy(t->pq);
	if (t->producer != NULL) {
		/* Whatever is left is answered now (503), so no held
		 * request outlives the producer. */
		if (t->inflight > 0) {
			log_warnx("tracker: %zu requests from the page not "
			    "acknowledged at exit", t->inflight);
			rd_kafka_purge(t->producer, RD_KAFKA_PURGE_F_QUEUE |
			    RD_KAFKA_PURGE_F_INFLIGHT);
			rd_kafka_poll(t->producer, 0);
		}
		rd_kafka_destroy(t->producer);
	}
	rs_tracker_web_free(t);
	rs_fleet_free(t->fleet);
	if (t->catalogue != NULL)
		rs_catalogue_free(t->catalogue);
	for (size_t i = 0; i < RS_TRACKER_FRAMES; i++)
		rs_web_frame_unref(t->frames[i].frame);
	memset(t, 0, sizeof(*t));
}
