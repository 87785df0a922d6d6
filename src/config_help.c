/*
 * config_help.c - --help and --print-config, from the settings table
 * (config.h, config-int.h).
 */
#include <stdio.h>
#include <string.h>

#include "config-int.h"

/* True for librdkafka property names that hold credentials. */
static bool
is_secret(const char *name)
{
	return strstr(name, "password") != NULL ||
	    strstr(name, "secret") != NULL ||
	    strncmp(name, "ssl.key", 7) == 0 ||
	    strcmp(name, "sasl.oauthbearer.config") == 0;
}

/* Prints the flags of the settings whose 'only' is only. */
static void
usage_settings(FILE *out, unsigned only)
{
	char left[80];

	for (size_t i = 0; i < rs__nsettings; i++) {
		const struct rs__setting *s = &rs__settings[i];

		if (s->flag == NULL || s->only != only)
			continue;
		if (s->shortopt != 0)
			snprintf(left, sizeof(left), "-%c, --%s %s",
			    s->shortopt, s->flag, s->arg);
		else
			snprintf(left, sizeof(left), "    --%s %s", s->flag,
			    s->arg);
		fprintf(out, "  %-40s %s\n  %-40s   env %s, default %s\n",
		    left, s->help, "", s->env, s->def ? s->def : "(none)");
	}
}

static void
usage_modes(FILE *out, enum rs_program program)
{
	fprintf(out, "\nModes:\n");
	if (program == RS_PROG_SIMULATOR)
		fprintf(out, "  %-40s %s\n  %-40s %s\n",
		    "    --demo [ROUTE...]", "run with an in-process mock "
		    "Kafka and the live map (routes 1 2 3 by default)",
		    "    --once", "with --demo: print the positions, exit when "
		    "the routes end");
	fprintf(out,
	    "  %-40s %s\n  %-40s %s\n  %-40s %s\n"
	    "  %-40s %s\n  %-40s %s\n  %-40s %s\n",
	    "-n, --check", "check the configuration and routes, then exit",
	    "    --healthcheck", "exit 0 if the daemon at --http-listen is "
	    "alive (for HEALTHCHECK)",
	    "    --print-config", "print the effective configuration "
	    "(secrets masked)",
	    "-h, --help", "this text",
	    "-V, --version", "print the version",
	    "", "exit status: 0 ok, 1 runtime error, 2 usage error");
}

void
rs_config_usage(FILE *out, enum rs_program program)
{
	if (program == RS_PROG_TRACKER)
		fprintf(out,
		    "usage: routesim-tracker [options]\n\n"
		    "Follows the request and position topics and serves a live "
		    "map of the\ndeliveries, over HTTP and WebSocket, on "
		    "--http-listen (default %s).\n\n"
		    "Settings (flag, then environment / .env name):\n",
		    RS_TRACKER_LISTEN);
	else
		fprintf(out,
		    "usage: routesim [options]\n"
		    "       routesim --demo [--once] [ROUTE...]\n\n"
		    "Consumes delivery requests {\"clientId\":\"...\","
		    "\"routeId\":\"...\"} from Kafka and\nstreams one position "
		    "per route point.\n\n"
		    "Settings (flag, then environment / .env name):\n");
	usage_settings(out, 0);
	usage_settings(out, program);
	fprintf(out, "  %-40s %s\n", "-X, PROPERTY=VALUE",
	    "librdkafka property, for the client that knows it (repeatable)");
	if (program == RS_PROG_SIMULATOR) {
		fprintf(out, "\nThe live map's (routesim-tracker, and "
		    "--demo):\n");
		usage_settings(out, RS_PROG_TRACKER);
	}
	fprintf(out, "\nlibrdkafka properties also read from the environment"
	    " / .env:\n");
	for (size_t i = 0; i < rs__nsettings; i++)
		if (rs__settings[i].type == T_KAFKA)
			fprintf(out, "  %-40s %s\n", rs__settings[i].env,
			    rs__settings[i].help);
	usage_modes(out, program);
}

void
rs_config_print(const struct rs_config *cfg, FILE *out)
{
	const char *base = (const char *)cfg;
	char value[32];
	const char *v;

	for (size_t i = 0; i < rs__nsettings; i++) {
		const struct rs__setting *s = &rs__settings[i];

		if (!rs__config_takes(cfg, i))
			continue;
		switch (s->type) {
		case T_STR:
			v = *(char *const *)(const void *)(base + s->off);
			if (v == NULL)
				v = "(off)";
			break;
		case T_MS:
		case T_UINT:
			snprintf(value, sizeof(value), "%u",
			    *(const unsigned *)(const void *)(base + s->off));
			v = value;
			break;
		case T_BOOL:
			v = *(const bool *)(const void *)(base + s->off) ?
			    "true" : "false";
			break;
		case T_ORDER:
			v = rs_position_order_name(cfg->position_order);
			break;
		case T_LOGLEVEL:
			v = rs_log_level_name(cfg->log_level);
			break;
		case T_LOGFORMAT:
			v = cfg->log_format == RS_LOG_JSON ? "json" : "text";
			break;
		default:
			continue;	/* printed with the properties below */
		}
		fprintf(out, "%-28s = %-24s # %s, %s\n", s->env, v,
		    s->flag ? s->flag : "-", rs__source_names[cfg->sources[i]]);
	}
	for (size_t i = 0; i < cfg->nkafka_props; i++) {
		const struct rs_kafka_prop *p = &cfg->kafka_props[i];

		fprintf(out, "%-28s = %-24s # librdkafka, %s\n", p->name,
		    is_secret(p->name) ? "********" : p->value,
		    rs__source_names[p->source]);
	}
}
