/*
 * config.h - the daemon's settings and where they come from.
 *
 * One table (config.c) lists every setting once: its flag, its environment
 * name, its default, its parser and its help text.  That table drives
 * command-line parsing, environment and .env lookup, --help and
 * --print-config, so they cannot disagree.
 *
 * Precedence, highest first: command-line flags, the environment, the .env
 * file (godotenv format, in the working directory unless --env-file says
 * otherwise), built-in defaults.  An empty value in the environment or the
 * .env file counts as unset, as the original's .env leaves unused keys
 * empty.  librdkafka properties come from -X key=value (as kcat) and from
 * the original's names security.protocol, sasl.mechanisms, sasl.username
 * and sasl.password, and ssl.key.password and ssl.keystore.password, so
 * that no secret has to be on the command line.  The .env file is named
 * by --env-file or the environment only (ROUTESIM_ENV_FILE inside it is
 * ignored with a warning) and is opened without blocking.  No message
 * built here shows the value of a secret property.
 *
 * Ownership: rs_config_load() fills a caller-provided struct rs_config with
 * heap copies of every string; rs_config_free() releases them.  Demo route
 * names point into argv and are not owned.
 */
#ifndef ROUTESIM_CONFIG_H
#define ROUTESIM_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "routesim/log.h"
#include "routesim/order.h"

/* Where a value came from; a higher source overrides a lower one. */
enum rs_source {
	RS_SRC_DEFAULT = 0,
	RS_SRC_DOTENV,
	RS_SRC_ENV,
	RS_SRC_FLAG,
};

/* A librdkafka property to pass through unchanged. */
struct rs_kafka_prop {
	char *name;
	char *value;
	enum rs_source source;
};

enum rs_mode {
	RS_MODE_RUN = 0,
	RS_MODE_HELP,
	RS_MODE_VERSION,
	RS_MODE_PRINT_CONFIG,
	RS_MODE_CHECK,
	RS_MODE_DEMO,
	RS_MODE_HEALTHCHECK,
};

#define RS_NSETTINGS_MAX 32

/* The program being configured: each takes the settings it uses. */
enum rs_program {
	RS_PROG_SIMULATOR = 1,		/* routesim (its --demo: both) */
	RS_PROG_TRACKER,		/* routesim-tracker */
};

struct rs_config {
	char *bootstrap_servers;
	char *read_topic;
	char *produce_topic;
	char *group_id;
	char *destinations;
	char *env_file;
	char *http_listen;		/* NULL: no HTTP listener */
#define RS_TRACKER_LISTEN "127.0.0.1:8080"	/* the tracker's default */
	char *progress_topic;
	unsigned progress_every;	/* positions between progress records */
	unsigned max_deliveries;	/* at this many, requests wait */
	unsigned max_request_age_ms;	/* 0: no limit */
	bool position_metadata;		/* add "seq" and "timestamp" */
	unsigned interval_ms;
	unsigned shutdown_timeout_ms;
	enum rs_position_order position_order;
	enum rs_log_level log_level;
	enum rs_log_format log_format;
	/* The tracker's. */
	char *tiles;			/* NULL: no basemap */
	char *tiles_attribution;
	unsigned history;		/* messages per partition at start */
	unsigned max_vehicles;
	unsigned vehicle_timeout_ms;	/* 0: never */
	unsigned max_browsers;

	struct rs_kafka_prop *kafka_props;
	size_t nkafka_props;

	enum rs_program program;
	enum rs_mode mode;
	bool once;			/* with --demo: print, then exit */
	const char *const *demo_routes;	/* points into argv */
	size_t ndemo_routes;

	/* Source of each table setting, indexed like the table. */
	enum rs_source sources[RS_NSETTINGS_MAX];
};

/* Exit status for a usage or configuration error. */
#define RS_EXIT_USAGE 2

/*
 * Fills cfg from argv, envp (NULL-terminated "NAME=value" strings) and the
 * .env file.  Returns 0, or -EINVAL with a message naming the setting in
 * err.  On error cfg holds what was loaded so far and must still be freed.
 */
int rs_config_load(struct rs_config *cfg, enum rs_program program, int argc,
    char *const argv[], char *const envp[], char *err, size_t errlen);
void rs_config_free(struct rs_config *cfg);

/* Sets librdkafka property name to value unless the environment, the
 * .env file or -X gave it.  0 or -ENOMEM. */
int rs_config_kafka_default(struct rs_config *cfg, const char *name,
    const char *value);

void rs_config_usage(FILE *out, enum rs_program program);
/* Prints the effective configuration, secrets masked. */
void rs_config_print(const struct rs_config *cfg, FILE *out);

const char *rs_position_order_name(enum rs_position_order order);

#endif
