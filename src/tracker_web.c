/*
 * tracker_web.c - what the tracker serves (see tracker.h and the README's
 * "Live map" section): the page, /api/routes, /api/config,
 * POST /api/deliveries, /metrics, /healthz, /readyz, and the WebSocket
 * stream of fleet frames.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "routesim/frame.h"
#include "routesim/log.h"
#include "routesim/metrics.h"
#include "routesim/web_page.h"
#include "routesim/webapi.h"
#include "tracker-int.h"

#define JSON_TYPE "application/json"

/* A POST waiting for its delivery report. */
struct held {
	struct rs_web_req *req;
	char client_id[RS_WEB_CLIENT_ID_LEN + 1];
	char route_id[RS_ROUTE_ID_MAX + 1];
};

static int
respond_json(struct rs_web_req *req, int status, struct rs_buf *body)
{
	struct rs_web_response resp = {.status = status,
	    .content_type = JSON_TYPE, .body = *body};

	memset(body, 0, sizeof(*body));
	return rs_web_respond(req, &resp);
}

static void
reject(struct rs_tracker *t, struct rs_web_req *req, int status,
    const char *reason)
{
	struct rs_buf b = {0};

	t->stats.deliveries_rejected += status == 400;
	t->stats.deliveries_failed += status >= 500;
	rs_webapi_error(&b, reason);
	respond_json(req, status, &b);
}

static void
post_delivery(struct rs_tracker *t, struct rs_web_req *req)
{
	struct rs_buf json = {0};
	struct held *h;
	const char *body;
	char err[256];
	size_t len;
	int rc;

	body = rs_web_req_body(req, &len);
	if ((h = calloc(1, sizeof(*h))) == NULL) {
		reject(t, req, 503, "out of memory");
		return;
	}
	if (rs_webapi_delivery_parse(body, len, t->catalogue, h->route_id,
	    err, sizeof(err)) != 0) {
		free(h);
		reject(t, req, 400, err);
		return;
	}
	if (rs_webapi_client_id(h->client_id) != 0) {
		free(h);
		reject(t, req, 503, "no random bytes for a clientId");
		return;
	}
	rs_webapi_request(&json, h->client_id, h->route_id);
	rc = rs_buf_failed(&json) ? -ENOMEM :
	    rs_tracker_produce(t, json.data, json.len, h);
	rs_buf_free(&json);
	if (rc != 0) {
		free(h);
		reject(t, req, 503, rc == -ENOBUFS ? "too many requests at "
		    "once, try again" : "the request topic cannot be written");
		return;
	}
	h->req = req;			/* answered when Kafka has it */
}

void
rs_tracker_web_delivered(struct rs_tracker *t, void *opaque,
    rd_kafka_resp_err_t err)
{
	struct held *h = opaque;
	struct rs_buf b = {0};

	if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
		log_warnx("request from the page clientId=%s not written: %s",
		    h->client_id, rd_kafka_err2str(err));
		reject(t, h->req, 503, "the request topic cannot be written");
	} else {
		t->stats.deliveries_accepted++;
		rs_buf_printf(&b, "{\"clientId\":\"%s\",\"routeId\":",
		    h->client_id);
		rs_buf_json_string(&b, h->route_id);
		rs_buf_printf(&b, "}");
		respond_json(h->req, 202, &b);
	}
	free(h);
}

static void
render_metrics(struct rs_tracker *t, struct rs_buf *b)
{
	const struct rs_web_stats *ws = rs_web_stats(t->web);
	const struct rs_fleet_stats *fs = rs_fleet_stats(t->fleet);
	const struct rs_tracker_stats *s = &t->stats;
	const char *why;

	rs_metrics_build_info(b);
	rs_metrics_gauge(b, "routesim_ready", "1 when the topics are "
	    "followed and a broker answers.", rs_tracker_ready(t, &why));
	rs_metrics_counter(b, "routesim_tracker_positions_total",
	    "Positions read and shown.", s->positions);
	rs_metrics_header(b, "routesim_tracker_positions_rejected_total",
	    "counter", "Positions skipped, by reason.");
	for (int i = 0; i < RS_REJECT_COUNT; i++)
		rs_buf_printf(b, "routesim_tracker_positions_rejected_total"
		    "{reason=\"%s\"} %llu\n", rs_reject_name((enum rs_reject)i),
		    (unsigned long long)s->positions_rejected[i]);
	rs_metrics_counter(b, "routesim_tracker_requests_total",
	    "Delivery requests read (they tell a vehicle's route).",
	    s->requests);
	rs_metrics_counter(b, "routesim_tracker_requests_rejected_total",
	    "Delivery requests that could not be read.",
	    s->requests_rejected);
	rs_metrics_gauge(b, "routesim_tracker_vehicles",
	    "Vehicles on the map.", (double)rs_fleet_located(t->fleet));
	rs_metrics_counter(b, "routesim_tracker_vehicles_evicted_total",
	    "Vehicles forgotten to stay within --max-vehicles.", fs->evicted);
	rs_metrics_counter(b, "routesim_tracker_vehicles_timed_out_total",
	    "Vehicles forgotten after --vehicle-timeout without a position.",
	    fs->stale);
	rs_metrics_gauge(b, "routesim_tracker_browsers",
	    "Browsers connected to the WebSocket.", (double)ws->ws_open);
	rs_metrics_counter(b, "routesim_tracker_browsers_refused_total",
	    "WebSocket upgrades refused (--max-browsers, wrong path).",
	    ws->ws_refused);
	rs_metrics_counter(b, "routesim_tracker_frames_sent_total",
	    "WebSocket frames sent.", ws->frames_sent);
	rs_metrics_counter(b, "routesim_tracker_frames_dropped_total",
	    "Generations a slow browser skipped (it got the latest state "
	    "instead).", ws->frames_dropped);
	rs_metrics_header(b, "routesim_tracker_deliveries_requested_total",
	    "counter", "POST /api/deliveries, by result.");
	rs_buf_printf(b, "routesim_tracker_deliveries_requested_total"
	    "{result=\"accepted\"} %llu\n"
	    "routesim_tracker_deliveries_requested_total"
	    "{result=\"rejected\"} %llu\n"
	    "routesim_tracker_deliveries_requested_total"
	    "{result=\"failed\"} %llu\n",
	    (unsigned long long)s->deliveries_accepted,
	    (unsigned long long)s->deliveries_rejected,
	    (unsigned long long)s->deliveries_failed);
}

/* GET and HEAD. */
static int
get(struct rs_tracker *t, const char *path, struct rs_web_response *r)
{
	const char *why;

	if (strcmp(path, "/") == 0 || strcmp(path, "/index.html") == 0) {
		r->content_type = "text/html; charset=utf-8";
		rs_buf_append(&r->body, rs_web_page, rs_web_page_len);
	} else if (strcmp(path, "/api/routes") == 0) {
		r->content_type = JSON_TYPE;
		rs_buf_append(&r->body, t->catalogue->json.data,
		    t->catalogue->json.len);
	} else if (strcmp(path, "/api/config") == 0) {
		r->content_type = JSON_TYPE;
		rs_webapi_config(&r->body, t->cfg->tiles != NULL ?
		    t->cfg->tiles : "", t->cfg->tiles_attribution != NULL ?
		    t->cfg->tiles_attribution : "", t->cfg->interval_ms);
	} else if (strcmp(path, "/metrics") == 0) {
		r->content_type = "text/plain; version=0.0.4; charset=utf-8";
		render_metrics(t, &r->body);
	} else if (strcmp(path, "/healthz") == 0) {
		rs_buf_printf(&r->body, "ok\n");
	} else if (strcmp(path, "/readyz") == 0) {
		if (!rs_tracker_ready(t, &why)) {
			rs_buf_printf(&r->body, "not ready: %s\n", why);
			return 503;
		}
		rs_buf_printf(&r->body, "ready\n");
	} else {
		rs_buf_printf(&r->body, "not found; try /, /api/routes, "
		    "/api/config, /ws, /metrics, /healthz, /readyz\n");
		return 404;
	}
	return 200;
}

static void
on_http(void *ud, struct rs_web_req *req)
{
	struct rs_tracker *t = ud;
	struct rs_web_response resp = {0};
	const char *path = rs_web_req_path(req);

	if (rs_web_req_method(req) == RS_WEB_POST) {
		if (strcmp(path, "/api/deliveries") == 0)
			post_delivery(t, req);
		else
			rs_web_respond_text(req, strcmp(path, "/api/routes") ==
			    0 ? 405 : 404, "POST goes to /api/deliveries\n");
		return;
	}
	if (strcmp(path, "/api/deliveries") == 0) {
		rs_web_respond_text(req, 405, "POST {\"routeId\":\"1\"} to "
		    "start a delivery\n");
		return;
	}
	resp.status = get(t, path, &resp);
	rs_web_respond(req, &resp);
}

/* ---- WebSocket -------------------------------------------------------- */

static int
ws_text(void *ud, struct rs_web_ws *c, const char *msg, size_t len,
    const char **reason)
{
	cJSON *m = cJSON_ParseWithLength(msg, len);
	const cJSON *type = cJSON_GetObjectItemCaseSensitive(m, "type");
	bool ask = cJSON_IsString(type) &&
	    strcmp(type->valuestring, "snapshot") == 0;

	(void)ud;
	cJSON_Delete(m);
	/* The one message a browser may send. */
	if (ask) {
		rs_web_ws_snapshot(c);
		return 0;
	}
	*reason = "unknown message; only {\"type\":\"snapshot\"} is taken";
	return 1008;
}

/* The frame that brings a browser from have to now: the update since
 * have when the fleet still knows what changed after it, else the whole
 * state.  Each is made once for all the browsers that need it. */
static struct rs_web_frame *
ws_frame(void *ud, struct rs_web_ws *c, uint64_t have, uint64_t now)
{
	struct rs_tracker *t = ud;
	uint64_t since = have != 0 && rs_fleet_knows_since(t->fleet, have) ?
	    have : 0;
	struct rs_tracker_frame *fr = NULL;
	struct rs_buf *b;

	(void)c;
	for (size_t i = 0; i < RS_TRACKER_FRAMES; i++) {
		if (t->frames[i].seq == now && t->frames[i].since == since)
			return t->frames[i].frame;
		if (t->frames[i].seq != now && fr == NULL)
			fr = &t->frames[i];
	}
	if (fr == NULL)
		fr = &t->frames[t->next_frame++ % RS_TRACKER_FRAMES];
	fr->seq = 0;
	fr->since = since;
	if ((b = rs_web_frame_begin(&fr->frame)) == NULL ||
	    (since != 0 ? rs_frame_update(b, t->fleet, since) :
	    rs_frame_snapshot(b, t->fleet)) != 0) {
		log_warnx("tracker: out of memory for a frame");
		return fr->frame;	/* failed: the browser is closed */
	}
	fr->seq = now;
	return fr->frame;
}

int
rs_tracker_web_start(struct rs_tracker *t, char *err, size_t errlen)
{
	/* No state per browser: what it last got is the server's. */
	static const struct rs_web_ws_ops ops = {.on_text = ws_text,
	    .frame = ws_frame};
	struct rs_web_config wc = {
		.listen = t->cfg->http_listen,
		.handler = on_http,
		.ud = t,
		.max_body = RS_TRACKER_MAX_BODY,
		.ws_path = "/ws",
		.ws = &ops,
		.ws_max_conns = t->cfg->max_browsers,
		.ws_max_msg = RS_TRACKER_MAX_MSG,
	};

	return rs_web_start(&t->web, t->loop, &wc, err, errlen);
}

void
rs_tracker_web_free(struct rs_tracker *t)
{
	rs_web_free(t->web);
	t->web = NULL;
}
