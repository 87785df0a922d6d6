/*
 * mock.c - starting and stopping librdkafka's mock cluster.
 */
#include "routesim/mock.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static void
quiet_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	(void)rk;
	(void)fac;
	/* Connection errors are the point of fault-injection tests. */
	if (level <= 2)
		fprintf(stderr, "mock cluster: %s\n", buf);
}

int
rs_mock_start(struct rs_mock *m, int brokers, char *err, size_t errlen)
{
	char num[16];
	rd_kafka_conf_t *conf = rd_kafka_conf_new();

	memset(m, 0, sizeof(*m));
	snprintf(num, sizeof(num), "%d", brokers);
	/* test.mock.num.brokers makes this handle host a new cluster and
	 * point its own bootstrap.servers at it. */
	if (rd_kafka_conf_set(conf, "test.mock.num.brokers", num, err,
	    errlen) != RD_KAFKA_CONF_OK ||
	    rd_kafka_conf_set(conf, "client.id", "routesim-mock", err,
	    errlen) != RD_KAFKA_CONF_OK) {
		rd_kafka_conf_destroy(conf);
		return -EINVAL;
	}
	rd_kafka_conf_set_log_cb(conf, quiet_log);
	if ((m->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, errlen)) ==
	    NULL) {
		rd_kafka_conf_destroy(conf);
		return -EINVAL;
	}
	if ((m->cluster = rd_kafka_handle_mock_cluster(m->rk)) == NULL) {
		snprintf(err, errlen,
		    "librdkafka did not start a mock cluster");
		rd_kafka_destroy(m->rk);
		m->rk = NULL;
		return -EINVAL;
	}
	return 0;
}

int
rs_mock_topic(struct rs_mock *m, const char *topic, int partitions)
{
	return rd_kafka_mock_topic_create(m->cluster, topic, partitions, 1) ==
	    RD_KAFKA_RESP_ERR_NO_ERROR ? 0 : -EINVAL;
}

const char *
rs_mock_bootstraps(const struct rs_mock *m)
{
	return rd_kafka_mock_cluster_bootstraps(m->cluster);
}

void
rs_mock_stop(struct rs_mock *m)
{
	if (m->rk != NULL)
		rd_kafka_destroy(m->rk);	/* destroys the cluster too */
	m->rk = NULL;
	m->cluster = NULL;
}
