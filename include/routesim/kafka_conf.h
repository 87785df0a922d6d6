/*
 * kafka_conf.h - librdkafka client configurations, with each -X property
 * given only to the client that knows it.
 *
 * librdkafka documents every property with a C/P column ("C" consumer,
 * "P" producer, "*" both); this module reads that table once, so -X
 * stays right for whatever librdkafka version is installed and users are
 * spared the "is a consumer property and will be ignored" warnings.
 *
 * A configuration is made of, in this order: the program's defaults,
 * bootstrap.servers (and group.id for a consumer), the user's properties
 * that are this client's, then the properties the program's correctness
 * depends on (a user's value for one of those is logged as ignored).
 * Any program that builds librdkafka clients from struct rs_config uses
 * rs_kafka_conf_build(); rs_kafka_conf() is routesim's own pair.
 *
 * Ownership: the caller owns the rd_kafka_conf_t it gets (to
 * rd_kafka_new(), or rd_kafka_conf_destroy()).  Loop thread.
 */
#ifndef ROUTESIM_KAFKA_CONF_H
#define ROUTESIM_KAFKA_CONF_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>

#include "routesim/config.h"

/* Which client a configuration is for, as librdkafka's C/P column. */
enum rs_kafka_client {
	RS_KAFKA_CONSUMER = 'C',
	RS_KAFKA_PRODUCER = 'P',
};

/* A property a program sets itself. */
struct rs_kafka_setting {
	const char *name, *value;
};

struct rs_kafka_conf_spec {
	enum rs_kafka_client client;
	const char *bootstrap_servers;
	const char *group_id;		/* consumers; NULL: none */
	const struct rs_kafka_setting *defaults;	/* the user's win */
	size_t ndefaults;
	const struct rs_kafka_prop *user;	/* -X and the like */
	size_t nuser;
	const struct rs_kafka_setting *fixed;	/* win over the user's */
	size_t nfixed;
};

/*
 * Builds one client's configuration from spec.  Returns 0 and sets *out,
 * or -EINVAL (a property unknown to librdkafka or a bad value) with a
 * message in err, or -ENOMEM.
 */
int rs_kafka_conf_build(const struct rs_kafka_conf_spec *spec,
    rd_kafka_conf_t **out, char *err, size_t errlen);

/* Sets n properties on conf.  Returns 0 or -EINVAL with err set. */
int rs_kafka_conf_set(rd_kafka_conf_t *conf,
    const struct rs_kafka_setting *v, size_t n, char *err, size_t errlen);

/*
 * Builds the configuration of routesim's request consumer or position
 * producer, as rs_kafka_start() does.  Returns as rs_kafka_conf_build().
 */
int rs_kafka_conf(const struct rs_config *cfg, enum rs_kafka_client which,
    rd_kafka_conf_t **out, char *err, size_t errlen);

/*
 * Checks that every librdkafka property in cfg is known and valid for at
 * least one of routesim's clients.  Returns 0 or -EINVAL with err set.
 */
int rs_kafka_check_config(const struct rs_config *cfg, char *err,
    size_t errlen);

#endif
