/*
 * tracker_main.c - routesim-tracker's entry point: configuration, modes,
 * signals.  The live map itself is tracker.c.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "routesim/catalogue.h"
#include "routesim/config.h"
#include "routesim/http.h"
#include "routesim/kafka_conf.h"
#include "routesim/log.h"
#include "routesim/signals.h"
#include "routesim/tracker.h"
#include "routesim/version.h"

#define PROG "routesim-tracker"

extern char **environ;

struct app {
	uv_loop_t loop;
	struct rs_tracker tracker;
	struct rs_signals signals;
	int status;
};

static void
on_stopped(struct rs_tracker *t)
{
	struct app *app = t->data;

	if (t->failed)
		app->status = 1;
	rs_signals_close(&app->signals);
}

static void
on_signal(void *data, int signum)
{
	struct app *app = data;

	(void)signum;
	rs_tracker_stop(&app->tracker);
}

static int
run(const struct rs_config *cfg)
{
	struct app app;
	char err[512];
	int rc;

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
	if (rs_tracker_start(&app.tracker, &app.loop, cfg, on_stopped, &app,
	    err, sizeof(err)) != 0) {
		log_warnx("%s", err);
		app.status = 1;
		rs_tracker_stop(&app.tracker);
	}
	uv_run(&app.loop, UV_RUN_DEFAULT);
	rs_tracker_free(&app.tracker);
	if ((rc = uv_loop_close(&app.loop)) != 0) {
		log_warnx("loop closed with handles open: %s", uv_strerror(rc));
		app.status = 1;
	}
	return app.status;
}

/* --check: the configuration and the route catalogue. */
static int
check(const struct rs_config *cfg)
{
	struct rs_catalogue *cat;
	char err[512];

	if (rs_catalogue_load(cfg->destinations, &cat, err, sizeof(err)) !=
	    0) {
		fprintf(stderr, PROG ": %s\n", err);
		return 1;
	}
	for (size_t i = 0; i < cat->count; i++)
		printf("route %s: %zu points%s%s\n", cat->entries[i].route->id,
		    cat->entries[i].route->npoints,
		    cat->entries[i].title[0] != '\0' ? ", " : "",
		    cat->entries[i].title);
	printf("configuration ok, %zu routes ok, %zu skipped\n", cat->count,
	    cat->skipped);
	rs_catalogue_free(cat);
	return 0;
}

int
main(int argc, char *argv[])
{
	struct rs_config cfg;
	char err[512];
	int status = 0;

	signal(SIGPIPE, SIG_IGN);
	if (rs_config_load(&cfg, RS_PROG_TRACKER, argc, argv, environ, err,
	    sizeof(err)) != 0) {
		fprintf(stderr, PROG ": %s\n(see " PROG " --help)\n", err);
		rs_config_free(&cfg);
		return RS_EXIT_USAGE;
	}
	rs_log_init(cfg.log_level, cfg.log_format);
	if (cfg.http_listen == NULL &&
	    (cfg.http_listen = strdup(RS_TRACKER_LISTEN)) == NULL) {
		rs_config_free(&cfg);
		return 1;
	}
	if (cfg.mode != RS_MODE_HELP && cfg.mode != RS_MODE_VERSION &&
	    (rs_kafka_check_config(&cfg, err, sizeof(err)) != 0 ||
	    rs_http_parse_listen(cfg.http_listen,
	    &(struct sockaddr_storage){0}, err, sizeof(err)) != 0)) {
		fprintf(stderr, PROG ": %s\n", err);
		rs_config_free(&cfg);
		return RS_EXIT_USAGE;
	}
	switch (cfg.mode) {
	case RS_MODE_HELP:
		rs_config_usage(stdout, RS_PROG_TRACKER);
		break;
	case RS_MODE_VERSION:
		printf(PROG " %s\n", RS_VERSION);
		break;
	case RS_MODE_PRINT_CONFIG:
		rs_config_print(&cfg, stdout);
		break;
	case RS_MODE_CHECK:
		status = check(&cfg);
		break;
	case RS_MODE_HEALTHCHECK:
		status = rs_http_healthcheck(PROG, cfg.http_listen);
		break;
	case RS_MODE_DEMO:		/* refused by rs_config_load() */
	case RS_MODE_RUN:
		status = run(&cfg);
		break;
	}
	rs_config_free(&cfg);
	return status;
}
