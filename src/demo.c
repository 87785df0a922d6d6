/*
 * demo.c - the --demo mode.
 *
 * Everything runs on one loop: the daemon, the live map (tracker.c, not
 * with --once), a consumer of the position topic that prints them (a
 * plain assign of every partition, no group) and the producer that hosts
 * the mock cluster, which also writes the requests.
 */
#include "routesim/demo.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "routesim/array.h"
#include "routesim/daemon.h"
#include "routesim/http.h"
#include "routesim/kafka.h"
#include "routesim/log.h"
#include "routesim/mock.h"
#include "routesim/request.h"
#include "routesim/route.h"
#include "routesim/signals.h"
#include "routesim/tracker.h"

#define DEMO_PARTITIONS 3

/* One delivery seen on the position topic. */
struct seen {
	char route[RS_ROUTE_ID_MAX + 1];
	char client[96];
	size_t count, total;	/* total: 0 when not started by the demo */
	uint64_t first_ms;
	bool finished;
};

struct demo {
	uv_loop_t loop;
	struct rs_config *cfg;
	struct rs_mock mock;
	struct rs_daemon daemon;
	struct rs_config daemon_cfg;	/* cfg without the HTTP listener */
	struct rs_tracker tracker;	/* not with --once */
	unsigned running;		/* daemon and tracker not stopped */
	rd_kafka_t *watch;		/* consumer of positions */
	rd_kafka_queue_t *wq, *mq;
	struct rs_kafka_watch wwatch, mwatch;
	struct rs_signals signals;
	struct seen *seen;
	size_t nseen, remaining;
	int exit_code;
	bool stopping;
};

static const char *const default_routes[] = {"1", "2", "3"};

static struct seen *
find_seen(struct demo *dm, const char *route, const char *client)
{
	struct seen *grown;

	for (size_t i = 0; i < dm->nseen; i++)
		if (strcmp(dm->seen[i].route, route) == 0 &&
		    strcmp(dm->seen[i].client, client) == 0)
			return &dm->seen[i];
	if ((grown = realloc(dm->seen, (dm->nseen + 1) * sizeof(*grown))) ==
	    NULL)
		return NULL;
	dm->seen = grown;
	memset(&grown[dm->nseen], 0, sizeof(*grown));
	snprintf(grown[dm->nseen].route, sizeof(grown->route), "%s", route);
	snprintf(grown[dm->nseen].client, sizeof(grown->client), "%s",
	    client);
	return &grown[dm->nseen++];
}

static void demo_stop(struct demo *dm, int exit_code);

static void
print_position(struct demo *dm, const rd_kafka_message_t *m)
{
	cJSON *root = cJSON_ParseWithLength(m->payload, m->len);
	const cJSON *route, *client, *pos, *fin;
	struct seen *s;
	uint64_t now = uv_now(&dm->loop);
	char *text;

	route = cJSON_GetObjectItemCaseSensitive(root, "routeId");
	client = cJSON_GetObjectItemCaseSensitive(root, "clientId");
	pos = cJSON_GetObjectItemCaseSensitive(root, "position");
	fin = cJSON_GetObjectItemCaseSensitive(root, "finished");
	if (!cJSON_IsString(route) || !cJSON_IsString(client) ||
	    cJSON_GetArraySize(pos) != 2 || !cJSON_IsBool(fin) ||
	    (s = find_seen(dm, route->valuestring, client->valuestring)) ==
	    NULL) {
		printf("unexpected message: %.*s\n", (int)m->len,
		    (const char *)m->payload);
		goto out;
	}
	if (s->count++ == 0)
		s->first_ms = now;
	/* While the map shows them, only a delivery's end is printed. */
	if (!dm->cfg->once && !cJSON_IsTrue(fin))
		goto out;
	if (s->total > 0)
		printf("route %-4s client %-10s %4zu/%-4zu", s->route,
		    s->client, s->count, s->total);
	else
		printf("route %-4s client %-10s %4zu     ", s->route,
		    s->client, s->count);
	text = cJSON_PrintUnformatted(pos);
	printf("  position %s", text ? text : "?");
	cJSON_free(text);
	if (cJSON_IsTrue(fin)) {
		printf("  finished after %.1f s", (double)(now - s->first_ms) /
		    1000.0);
		if (s->total > 0 && !s->finished && dm->remaining > 0)
			dm->remaining--;
		s->finished = true;
	}
	printf("\n");
	fflush(stdout);
	if (dm->remaining == 0 && dm->cfg->once)
		demo_stop(dm, 0);
out:
	cJSON_Delete(root);
}

static void
on_positions(struct rs_kafka_watch *w)
{
	struct demo *dm = w->data;
	rd_kafka_message_t *m;

	rs_kafka_watch_rearm(w);
	while ((m = rd_kafka_consumer_poll(dm->watch, 0)) != NULL) {
		if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR)
			log_warnx("demo consumer: %s",
			    rd_kafka_message_errstr(m));
		else if (!dm->stopping)
			print_position(dm, m);
		rd_kafka_message_destroy(m);
	}
}

static void
on_mock_events(struct rs_kafka_watch *w)
{
	struct demo *dm = w->data;

	rs_kafka_watch_rearm(w);
	rd_kafka_poll(dm->mock.rk, 0);
}

static int
send_request(struct demo *dm, const char *route, const char *client)
{
	char json[256];
	rd_kafka_resp_err_t err;
	int n;

	n = snprintf(json, sizeof(json),
	    "{\"clientId\":\"%s\",\"routeId\":\"%s\"}", client, route);
	/* The backend keys requests with the topic name; routesim ignores
	 * the key. */
	err = rd_kafka_producev(dm->mock.rk,
	    RD_KAFKA_V_TOPIC(dm->cfg->read_topic),
	    RD_KAFKA_V_KEY(dm->cfg->read_topic, strlen(dm->cfg->read_topic)),
	    RD_KAFKA_V_VALUE(json, (size_t)n),
	    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
	if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
		log_warnx("demo request route=%s: %s", route,
		    rd_kafka_err2str(err));
		return -EIO;
	}
	return 0;
}

static int
start_watch(struct demo *dm, char *err, size_t errlen)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	rd_kafka_topic_partition_list_t *parts;
	rd_kafka_resp_err_t kerr;
	int rc;

	if (rd_kafka_conf_set(conf, "bootstrap.servers",
	    rs_mock_bootstraps(&dm->mock), err, errlen) != RD_KAFKA_CONF_OK ||
	    rd_kafka_conf_set(conf, "group.id", "routesim-demo", err, errlen) !=
	    RD_KAFKA_CONF_OK ||
	    rd_kafka_conf_set(conf, "enable.auto.commit", "false", err,
	    errlen) != RD_KAFKA_CONF_OK) {
		rd_kafka_conf_destroy(conf);
		return -EINVAL;
	}
	if ((dm->watch = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, errlen)) ==
	    NULL) {
		rd_kafka_conf_destroy(conf);
		return -EINVAL;
	}
	rd_kafka_poll_set_consumer(dm->watch);
	parts = rd_kafka_topic_partition_list_new(DEMO_PARTITIONS);
	for (int i = 0; i < DEMO_PARTITIONS; i++)
		rd_kafka_topic_partition_list_add(parts,
		    dm->cfg->produce_topic, i)->offset =
		    RD_KAFKA_OFFSET_BEGINNING;
	kerr = rd_kafka_assign(dm->watch, parts);
	rd_kafka_topic_partition_list_destroy(parts);
	if (kerr != RD_KAFKA_RESP_ERR_NO_ERROR) {
		snprintf(err, errlen, "assign: %s", rd_kafka_err2str(kerr));
		return -EIO;
	}
	dm->wq = rd_kafka_queue_get_consumer(dm->watch);
	if ((rc = rs_kafka_watch_init(&dm->wwatch, &dm->loop, dm->wq,
	    on_positions, dm)) != 0) {
		snprintf(err, errlen, "watch: %s", uv_strerror(rc));
		return rc;
	}
	dm->mq = rd_kafka_queue_get_main(dm->mock.rk);
	if ((rc = rs_kafka_watch_init(&dm->mwatch, &dm->loop, dm->mq,
	    on_mock_events, dm)) != 0) {
		snprintf(err, errlen, "watch: %s", uv_strerror(rc));
		rs_kafka_watch_close(&dm->wwatch, NULL);
		return rc;
	}
	return 0;
}

static void
on_signal(void *data, int signum)
{
	struct demo *dm = data;

	(void)signum;
	demo_stop(dm, dm->cfg->once ? 130 : 0);
}

/* The daemon and the tracker have both stopped: the rest goes. */
static void
part_stopped(struct demo *dm)
{
	if (--dm->running > 0)
		return;
	rs_kafka_watch_close(&dm->wwatch, NULL);
	rs_kafka_watch_close(&dm->mwatch, NULL);
	rs_signals_close(&dm->signals);
}

static void
on_daemon_stopped(struct rs_daemon *d)
{
	struct demo *dm = d->data;

	if (d->exit_code != 0 && dm->exit_code == 0)
		dm->exit_code = d->exit_code;
	part_stopped(dm);
}

static void
on_tracker_stopped(struct rs_tracker *t)
{
	struct demo *dm = t->data;

	if (t->failed && dm->exit_code == 0)
		dm->exit_code = 1;
	/* Without the map there is nothing to watch: stop the rest too. */
	demo_stop(dm, dm->exit_code);
	part_stopped(dm);
}

static void
demo_stop(struct demo *dm, int exit_code)
{
	if (dm->stopping)
		return;
	dm->stopping = true;
	dm->exit_code = exit_code;
	rs_daemon_stop(&dm->daemon, 0);
	if (!dm->cfg->once)
		rs_tracker_stop(&dm->tracker);
}

/* The live map, on --http-listen (127.0.0.1:8080 by default). */
static int
start_map(struct demo *dm)
{
	struct rs_config *cfg = dm->cfg;
	char err[512], host[256];
	const char *colon;

	if (cfg->http_listen == NULL &&
	    (cfg->http_listen = strdup(RS_TRACKER_LISTEN)) == NULL)
		return -ENOMEM;
	dm->running++;
	if (rs_tracker_start(&dm->tracker, &dm->loop, cfg, on_tracker_stopped,
	    dm, err, sizeof(err)) != 0) {
		fprintf(stderr, "routesim: --demo: the live map: %s\n", err);
		return -EIO;
	}
	/* A wildcard address is reached on loopback. */
	colon = strrchr(cfg->http_listen, ':');
	snprintf(host, sizeof(host), "%.*s", (int)(colon - cfg->http_listen),
	    cfg->http_listen);
	if (host[0] == '\0' || strcmp(host, "0.0.0.0") == 0 ||
	    strcmp(host, "[::]") == 0)
		snprintf(host, sizeof(host), "127.0.0.1");
	printf("open http://%s:%d to watch the deliveries; Ctrl-C stops\n",
	    host, rs_tracker_port(&dm->tracker));
	fflush(stdout);
	return 0;
}

/* Loads each route once up front, so a typo fails before anything runs. */
static int
plan_routes(struct demo *dm, const char *const *ids, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct rs_route *r;
		struct seen *s;
		char err[256], client[32];

		if (!rs_route_id_valid(ids[i])) {
			fprintf(stderr, "routesim: --demo: '%s' is not a route "
			    "name\n", ids[i]);
			return -EINVAL;
		}
		if (rs_route_load(dm->cfg->destinations, ids[i],
		    dm->cfg->position_order, &r, err, sizeof(err)) != 0) {
			fprintf(stderr, "routesim: --demo: %s\n", err);
			return -EINVAL;
		}
		snprintf(client, sizeof(client), "demo-%zu", i + 1);
		if ((s = find_seen(dm, ids[i], client)) == NULL) {
			rs_route_unref(r);
			return -ENOMEM;
		}
		s->total = r->npoints;
		rs_route_unref(r);
	}
	dm->remaining = n;
	return 0;
}

/*
 * The mock cluster and its topics, cfg's bootstrap servers pointed at
 * it, and where it is on stdout.  0, or -1 (said on stderr when there is
 * something to say); the caller stops the cluster either way.
 */
static int
start_broker(struct demo *dm)
{
	struct rs_config *cfg = dm->cfg;
	const char *topics[] = {cfg->read_topic, cfg->produce_topic,
	    cfg->progress_topic};
	char err[512] = "";
	char *bootstraps;
	int rc;

	rc = rs_mock_start(&dm->mock, 1, err, sizeof(err));
	for (size_t i = 0; rc == 0 && i < RS_NELEM(topics); i++)
		rc = rs_mock_topic(&dm->mock, topics[i], DEMO_PARTITIONS);
	if (rc != 0) {
		fprintf(stderr, "routesim: --demo: mock cluster: %s\n", err);
		return -1;
	}
	/* The mock broker answers a fetch only once fetch.wait.max.ms is
	 * over (500 ms by default), even when it has messages: the map
	 * would get positions in half-second batches. */
	if ((bootstraps = strdup(rs_mock_bootstraps(&dm->mock))) == NULL ||
	    rs_config_kafka_default(cfg, "fetch.wait.max.ms", "50") != 0) {
		free(bootstraps);
		return -1;
	}
	free(cfg->bootstrap_servers);
	cfg->bootstrap_servers = bootstraps;
	printf("mock Kafka broker at %s (in this process, memory only)\n",
	    bootstraps);
	if (!cfg->once)
		printf("start a route:   echo '{\"clientId\":\"me\","
		    "\"routeId\":\"1\"}' | kcat -P -b %s -t %s\n"
		    "watch positions: kcat -C -b %s -t %s\n", bootstraps,
		    cfg->read_topic, bootstraps, cfg->produce_topic);
	fflush(stdout);
	return 0;
}

/* On the loop: the watch of the position topic, the daemon, the map
 * (unless --once) and the demo's requests.  dm->exit_code says how it
 * went; the loop must run in any case, to close what was opened. */
static void
start_demo(struct demo *dm)
{
	struct rs_config *cfg = dm->cfg;
	char err[512];

	dm->exit_code = 1;
	if (start_watch(dm, err, sizeof(err)) != 0) {
		fprintf(stderr, "routesim: --demo: %s\n", err);
		return;
	}
	/* The map serves on --http-listen; the daemon's own /metrics would
	 * want the same port, so it has none. */
	dm->daemon_cfg = *cfg;
	if (!cfg->once)
		dm->daemon_cfg.http_listen = NULL;
	if (rs_daemon_start(&dm->daemon, &dm->loop, &dm->daemon_cfg,
	    on_daemon_stopped, dm, err, sizeof(err)) != 0) {
		fprintf(stderr, "routesim: %s\n", err);
		rs_kafka_watch_close(&dm->wwatch, NULL);
		rs_kafka_watch_close(&dm->mwatch, NULL);
		return;
	}
	dm->running = 1;
	(void)rs_signals_start(&dm->signals, &dm->loop, on_signal, dm);
	dm->exit_code = 0;
	if (!cfg->once && start_map(dm) != 0)
		demo_stop(dm, 1);
	for (size_t i = 0; i < dm->nseen && !dm->stopping; i++)
		if (send_request(dm, dm->seen[i].route,
		    dm->seen[i].client) != 0)
			demo_stop(dm, 1);
}

/* After the loop: what lives outside it. */
static void
free_demo(struct demo *dm)
{
	rs_http_free(&dm->daemon.http);	/* lws frees only now (web.h) */
	rs_tracker_free(&dm->tracker);
	if (dm->wq != NULL)
		rd_kafka_queue_destroy(dm->wq);
	if (dm->mq != NULL)
		rd_kafka_queue_destroy(dm->mq);
	if (dm->watch != NULL) {
		rd_kafka_consumer_close(dm->watch);
		rd_kafka_destroy(dm->watch);
	}
	rs_mock_stop(&dm->mock);
	if (uv_loop_close(&dm->loop) != 0)
		log_warnx("demo: loop closed with handles still open");
	free(dm->seen);
}

int
rs_demo_run(struct rs_config *cfg)
{
	const char *const *ids = cfg->ndemo_routes ? cfg->demo_routes :
	    default_routes;
	size_t nids = cfg->ndemo_routes ? cfg->ndemo_routes : 3;
	struct demo dm;
	int rc;

	memset(&dm, 0, sizeof(dm));
	dm.cfg = cfg;
	if (plan_routes(&dm, ids, nids) != 0) {
		free(dm.seen);
		return 1;
	}
	if (start_broker(&dm) != 0) {
		rs_mock_stop(&dm.mock);
		free(dm.seen);
		return 1;
	}
	if ((rc = uv_loop_init(&dm.loop)) != 0) {
		fprintf(stderr, "routesim: uv_loop_init: %s\n",
		    uv_strerror(rc));
		rs_mock_stop(&dm.mock);
		free(dm.seen);
		return 1;
	}
	start_demo(&dm);
	/* Returns once every handle is closed; uv_loop_close() in
	 * free_demo() says if one is not. */
	uv_run(&dm.loop, UV_RUN_DEFAULT);
	free_demo(&dm);
	return dm.exit_code;
}
