/*
 * config-int.h - the settings table, shared by the parts of the config
 * module (config_table.c: the table; config.c: flags, environment and
 * .env; config_help.c: --help and --print-config); callers use
 * routesim/config.h.
 */
#ifndef ROUTESIM_CONFIG_INT_H
#define ROUTESIM_CONFIG_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "routesim/config.h"

enum rs__setting_type {
	T_STR,		/* non-empty string */
	T_MS,		/* milliseconds, unsigned, within [min, max] */
	T_UINT,		/* a count within [min, max] */
	T_BOOL,		/* true | false */
	T_ORDER,	/* latlng | lnglat */
	T_LOGLEVEL,
	T_LOGFORMAT,
	T_KAFKA,	/* librdkafka property named by env, passed through */
};

struct rs__setting {
	const char *flag;	/* long option, NULL for none */
	int shortopt;		/* 0 for none */
	const char *env;	/* environment and .env name */
	const char *arg;	/* metavariable in --help */
	enum rs__setting_type type;
	size_t off;		/* field in struct rs_config */
	const char *def;	/* default, as text; NULL for none */
	unsigned min, max;
	const char *help;
	unsigned only;		/* 0: both programs, else one RS_PROG_* */
};

extern const struct rs__setting rs__settings[];
extern const size_t rs__nsettings;
/* True when setting i means something to the program being configured.
 * routesim takes the tracker's settings too: --demo runs a tracker. */
bool rs__config_takes(const struct rs_config *cfg, size_t i);
/* Indexed by enum rs_source. */
extern const char *const rs__source_names[];

#endif
