/*
 * mock.h - librdkafka's in-process mock Kafka cluster, for --demo, the
 * tests' broker helper and the benchmark.
 *
 * The mock speaks the real Kafka protocol on loopback TCP ports (consumer
 * groups, idempotent producer, fault injection) but keeps everything in
 * memory: it is not durable and lives only as long as this process.
 *
 * Ownership: struct rs_mock is the caller's; rs_mock_start() creates the
 * hosting producer handle (m->rk, usable to produce to the cluster) and
 * rs_mock_stop() destroys both.
 */
#ifndef ROUTESIM_MOCK_H
#define ROUTESIM_MOCK_H

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stddef.h>

struct rs_mock {
	rd_kafka_t *rk;
	rd_kafka_mock_cluster_t *cluster;
};

int rs_mock_start(struct rs_mock *m, int brokers, char *err, size_t errlen);
/* Creates topic with partitions; returns 0 or -EINVAL. */
int rs_mock_topic(struct rs_mock *m, const char *topic, int partitions);
const char *rs_mock_bootstraps(const struct rs_mock *m);
void rs_mock_stop(struct rs_mock *m);

#endif
