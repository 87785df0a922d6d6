/*
 * kafka_conf.c - librdkafka client configurations (kafka_conf.h).
 */
#include "routesim/kafka_conf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "routesim/array.h"
#include "routesim/log.h"

/* ---- Which client knows which property -------------------------------- */

struct prop_scope {
	char *name;
	char scope;
};

static struct prop_scope *scopes;
static size_t nscopes;

static void
free_scopes(void)
{
	for (size_t i = 0; i < nscopes; i++)
		free(scopes[i].name);
	free(scopes);
	scopes = NULL;
	nscopes = 0;
}

static int
load_scopes(void)
{
	char *buf = NULL, *line, *save = NULL;
	struct prop_scope *v = NULL, *grown;
	size_t len = 0, n = 0, cap = 0;
	FILE *f;

	if (scopes != NULL)
		return 0;
	if ((f = open_memstream(&buf, &len)) == NULL)
		return -errno;
	rd_kafka_conf_properties_show(f);
	if (fclose(f) != 0) {
		free(buf);
		return -ENOMEM;
	}
	for (line = strtok_r(buf, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		char name[128], scope[8];

		if (sscanf(line, "%127s | %7s |", name, scope) != 2 ||
		    strcmp(name, "Property") == 0 || scope[1] != '\0')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			if ((grown = realloc(v, cap * sizeof(*grown))) == NULL)
				goto nomem;
			v = grown;
		}
		if ((v[n].name = strdup(name)) == NULL)
			goto nomem;
		v[n++].scope = scope[0];
	}
	free(buf);
	if (n == 0) {
		free(v);
		return -ENOENT;
	}
	scopes = v;
	nscopes = n;
	atexit(free_scopes);
	return 0;
nomem:
	free(buf);
	while (n > 0)
		free(v[--n].name);
	free(v);
	return -ENOMEM;
}

/* '*', 'C', 'P', or 0 for a property librdkafka does not know. */
static char
prop_scope(const char *name)
{
	for (size_t i = 0; i < nscopes; i++)
		if (strcmp(scopes[i].name, name) == 0)
			return scopes[i].scope;
	return 0;
}
/* ---- Building a configuration ----------------------------------------- */

static int
set(rd_kafka_conf_t *conf, const char *name, const char *value, char *err,
    size_t errlen)
{
	char why[256];

	if (rd_kafka_conf_set(conf, name, value, why, sizeof(why)) !=
	    RD_KAFKA_CONF_OK)
		return rs_errf(err, errlen, -EINVAL,
		    "librdkafka property %s: %s", name, why);
	return 0;
}

int
rs_kafka_conf_set(rd_kafka_conf_t *conf, const struct rs_kafka_setting *v,
    size_t n, char *err, size_t errlen)
{
	int rc;

	for (size_t i = 0; i < n; i++)
		if ((rc = set(conf, v[i].name, v[i].value, err, errlen)) != 0)
			return rc;
	return 0;
}

/* Sets the user's properties that are spec's client's. */
static int
set_user(rd_kafka_conf_t *conf, const struct rs_kafka_conf_spec *spec,
    char *err, size_t errlen)
{
	int rc;

	for (size_t i = 0; i < spec->nuser; i++) {
		const struct rs_kafka_prop *p = &spec->user[i];
		char scope = prop_scope(p->name);

		if (scope == 0)
			return rs_errf(err, errlen, -EINVAL, "-X %s: unknown "
			    "librdkafka property", p->name);
		if (scope != '*' && scope != (char)spec->client)
			continue;
		for (size_t j = 0; j < spec->nfixed; j++)
			if (strcmp(p->name, spec->fixed[j].name) == 0)
				log_warnx("-X %s ignored: routesim needs %s",
				    p->name, spec->fixed[j].value);
		if ((rc = set(conf, p->name, p->value, err, errlen)) != 0)
			return rc;
	}
	return 0;
}

int
rs_kafka_conf_build(const struct rs_kafka_conf_spec *spec,
    rd_kafka_conf_t **out, char *err, size_t errlen)
{
	rd_kafka_conf_t *conf;
	int rc;

	if ((rc = load_scopes()) != 0)
		return rs_errf(err, errlen, -EINVAL, "cannot read librdkafka's "
		    "property table: %s", strerror(-rc));
	if ((conf = rd_kafka_conf_new()) == NULL)
		return -ENOMEM;
	if ((rc = rs_kafka_conf_set(conf, spec->defaults, spec->ndefaults, err,
	    errlen)) != 0 ||
	    (rc = set(conf, "bootstrap.servers", spec->bootstrap_servers, err,
	    errlen)) != 0)
		goto fail;
	if (spec->group_id != NULL &&
	    (rc = set(conf, "group.id", spec->group_id, err, errlen)) != 0)
		goto fail;
	if ((rc = set_user(conf, spec, err, errlen)) != 0 ||
	    (rc = rs_kafka_conf_set(conf, spec->fixed, spec->nfixed, err,
	    errlen)) != 0)
		goto fail;
	*out = conf;
	return 0;
fail:
	rd_kafka_conf_destroy(conf);
	return rc;
}

/* ---- routesim's clients ----------------------------------------------- */

/* What routesim sets unless the user says otherwise. */
static const struct rs_kafka_setting consumer_defaults[] = {
	{"client.id", "routesim"},
	{"statistics.interval.ms", "1000"},
	{"auto.offset.reset", "earliest"},
	{"partition.assignment.strategy", "cooperative-sticky"},
};
static const struct rs_kafka_setting producer_defaults[] = {
	{"client.id", "routesim"},
	{"statistics.interval.ms", "1000"},
	{"enable.idempotence", "true"},
	/* Java-compatible hashing; an empty clientId still hashes to one
	 * partition, so a delivery's positions stay in order. */
	{"partitioner", "murmur2_random"},
	/* Positions wait for the broker rather than expire unseen. */
	{"message.timeout.ms", "0"},
	{"queue.buffering.max.messages", "1000000"},
	{"linger.ms", "5"},
};
/* What routesim's correctness depends on: never overridden. */
static const struct rs_kafka_setting consumer_fixed[] = {
	{"enable.auto.offset.store", "false"},
	{"enable.auto.commit", "true"},
	{"enable.partition.eof", "false"},
	{"log.queue", "true"},
};
static const struct rs_kafka_setting producer_fixed[] = {
	{"log.queue", "true"},
};

int
rs_kafka_conf(const struct rs_config *cfg, enum rs_kafka_client which,
    rd_kafka_conf_t **out, char *err, size_t errlen)
{
	bool c = which == RS_KAFKA_CONSUMER;
	struct rs_kafka_conf_spec spec = {
		.client = which,
		.bootstrap_servers = cfg->bootstrap_servers,
		.group_id = c ? cfg->group_id : NULL,
		.defaults = c ? consumer_defaults : producer_defaults,
		.ndefaults = c ? RS_NELEM(consumer_defaults) :
		    RS_NELEM(producer_defaults),
		.user = cfg->kafka_props,
		.nuser = cfg->nkafka_props,
		.fixed = c ? consumer_fixed : producer_fixed,
		.nfixed = c ? RS_NELEM(consumer_fixed) :
		    RS_NELEM(producer_fixed),
	};

	return rs_kafka_conf_build(&spec, out, err, errlen);
}

int
rs_kafka_check_config(const struct rs_config *cfg, char *err, size_t errlen)
{
	rd_kafka_conf_t *c = NULL, *p = NULL;
	int rc;

	if ((rc = rs_kafka_conf(cfg, RS_KAFKA_CONSUMER, &c, err, errlen)) != 0)
		return rc;
	rc = rs_kafka_conf(cfg, RS_KAFKA_PRODUCER, &p, err, errlen);
	rd_kafka_conf_destroy(c);
	if (p != NULL)
		rd_kafka_conf_destroy(p);
	return rc;
}
