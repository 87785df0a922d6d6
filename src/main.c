/*
 * main.c - routesim's entry point: configuration, modes, signals.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "routesim/config.h"
#include "routesim/daemon.h"
#include "routesim/demo.h"
#include "routesim/http.h"
#include "routesim/kafka.h"
#include "routesim/log.h"
#include "routesim/request.h"
#include "routesim/route.h"
#include "routesim/signals.h"
#include "routesim/version.h"

extern char **environ;

struct app {
	uv_loop_t loop;
	struct rs_daemon daemon;
	struct rs_signals signals;
};

static void
on_signal(void *data, int signum)
{
	struct app *app = data;

	(void)signum;
	rs_daemon_stop(&app->daemon, 0);
}

static void
on_stopped(struct rs_daemon *d)
{
	struct app *app = d->data;

	rs_signals_close(&app->signals);
}

static int
run(const struct rs_config *cfg)
{
	struct app app;
	char err[512];
	int rc, status;

	memset(&app, 0, sizeof(app));
	if ((rc = uv_loop_init(&app.loop)) != 0) {
		log_warnx("uv_loop_init: %s", uv_strerror(rc));
		return 1;
	}
	if (rs_signals_start(&app.signals, &app.loop, on_signal, &app) != 0) {
		rs_signals_close(&app.signals);
		uv_run(&app.loop, UV_RUN_DEFAULT);
		(void)uv_loop_close(&app.loop);
		return 1;
	}
	if (rs_daemon_start(&app.daemon, &app.loop, cfg, on_stopped, &app,
	    err, sizeof(err)) != 0) {
		log_warnx("%s", err);
		app.daemon.exit_code = 1;
		on_stopped(&app.daemon);
	}
	uv_run(&app.loop, UV_RUN_DEFAULT);
	rs_http_free(&app.daemon.http);	/* lws frees only now (web.h) */
	status = app.daemon.exit_code;
	if ((rc = uv_loop_close(&app.loop)) != 0) {
		log_warnx("loop closed with handles open: %s", uv_strerror(rc));
		status = 1;
	}
	return status;
}

/* --check: configuration, then every route file in the folder. */
static int
check(const struct rs_config *cfg)
{
	uv_fs_t req;
	uv_dirent_t ent;
	int rc, bad = 0, good = 0;

	if ((rc = uv_fs_scandir(NULL, &req, cfg->destinations, 0, NULL)) <
	    0) {
		fprintf(stderr, "routesim: %s: %s\n", cfg->destinations,
		    uv_strerror(rc));
		return 1;
	}
	while (uv_fs_scandir_next(&req, &ent) != UV_EOF) {
		size_t len = strlen(ent.name);
		char id[RS_ROUTE_ID_MAX + 1], err[512];
		struct rs_route *r;

		if (len < 5 || strcmp(ent.name + len - 4, ".txt") != 0 ||
		    len - 4 >= sizeof(id))
			continue;
		memcpy(id, ent.name, len - 4);
		id[len - 4] = '\0';
		if (!rs_route_id_valid(id)) {
			char name[RS_LOG_VALUE_MAX];

			/* Any bytes but '/' can be in a file's name. */
			fprintf(stderr, "routesim: %s/%s: name is not a valid "
			    "routeId\n", cfg->destinations,
			    rs_log_value(name, sizeof(name), ent.name));
			bad++;
			continue;
		}
		if (rs_route_load(cfg->destinations, id, cfg->position_order,
		    &r, err, sizeof(err)) != 0) {
			fprintf(stderr, "routesim: %s\n", err);
			bad++;
			continue;
		}
		printf("route %s: %zu points\n", id, r->npoints);
		rs_route_unref(r);
		good++;
	}
	uv_fs_req_cleanup(&req);
	printf("configuration ok, %d routes ok, %d bad\n", good, bad);
	return bad > 0 ? 1 : 0;
}

int
main(int argc, char *argv[])
{
	struct rs_config cfg;
	char err[512];
	int status = 0;

	signal(SIGPIPE, SIG_IGN);
	if (rs_config_load(&cfg, RS_PROG_SIMULATOR, argc, argv, environ, err,
	    sizeof(err)) != 0) {
		fprintf(stderr, "routesim: %s\n(see routesim --help)\n", err);
		rs_config_free(&cfg);
		return RS_EXIT_USAGE;
	}
	rs_log_init(cfg.log_level, cfg.log_format);
	if (cfg.mode != RS_MODE_HELP && cfg.mode != RS_MODE_VERSION &&
	    rs_kafka_check_config(&cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "routesim: %s\n", err);
		rs_config_free(&cfg);
		return RS_EXIT_USAGE;
	}
	if (cfg.http_listen != NULL &&
	    rs_http_parse_listen(cfg.http_listen, &(struct sockaddr_storage){0},
	    err, sizeof(err)) != 0) {
		fprintf(stderr, "routesim: %s\n", err);
		rs_config_free(&cfg);
		return RS_EXIT_USAGE;
	}
	switch (cfg.mode) {
	case RS_MODE_HELP:
		rs_config_usage(stdout, RS_PROG_SIMULATOR);
		break;
	case RS_MODE_VERSION:
		printf("routesim %s (librdkafka %s, libuv %s)\n", RS_VERSION,
		    rd_kafka_version_str(), uv_version_string());
		break;
	case RS_MODE_PRINT_CONFIG:
		rs_config_print(&cfg, stdout);
		break;
	case RS_MODE_CHECK:
		status = check(&cfg);
		break;
	case RS_MODE_DEMO:
		status = rs_demo_run(&cfg);
		break;
	case RS_MODE_HEALTHCHECK:
		status = rs_http_healthcheck("routesim", cfg.http_listen);
		break;
	case RS_MODE_RUN:
		status = run(&cfg);
		break;
	}
	rs_config_free(&cfg);
	return status;
}
