/*
 * kafka-int.h - what the parts of the kafka module share; not for
 * callers, who use routesim/kafka.h.  Names are rs__kafka_, as libuv
 * names its internals uv__.
 *
 *   kafka.c          the clients' start and stop, draining, produce
 *   kafka_group.c    the consumer group: rebalances, offsets, pauses
 *   kafka_stats.c    statistics and readiness
 *   kafka_restore.c  the progress restore reader
 */
#ifndef ROUTESIM_KAFKA_INT_H
#define ROUTESIM_KAFKA_INT_H

#include "routesim/kafka.h"

/* kafka.c: the callbacks every client of the module has. */
void rs__kafka_error_cb(rd_kafka_t *rk, int err, const char *reason,
    void *opaque);
int rs__kafka_new_client(rd_kafka_type_t type, rd_kafka_conf_t *conf,
    rd_kafka_t **out, char *err, size_t errlen);
/* One of the handles (or the work) rs_kafka_stop() waits for is over;
 * the last one destroys the clients and calls on_stopped. */
void rs__kafka_handle_closed(struct rs_kafka *k);
/* Logs and frees error, if any. */
void rs__kafka_log_error(const char *what, rd_kafka_error_t *error);

/* kafka_group.c */
void rs__kafka_rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
    rd_kafka_topic_partition_list_t *parts, void *opaque);
void rs__kafka_commit_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
    rd_kafka_topic_partition_list_t *offsets, void *opaque);
/* Hands the offsets set with rs_kafka_store_offset() to librdkafka. */
void rs__kafka_flush_offsets(struct rs_kafka *k);

/* kafka_stats.c */
int rs__kafka_stats_cb(rd_kafka_t *rk, char *json, size_t len,
    void *opaque);
/* Client rk reaches no broker (an error event said so). */
void rs__kafka_brokers_down(struct rs_kafka *k, rd_kafka_t *rk);
/* Frees the statistics and lags; before the clients are destroyed. */
void rs__kafka_stats_free(struct rs_kafka *k);

/* kafka_restore.c */
int rs__kafka_reader_new(struct rs_kafka *k, const struct rs_config *cfg,
    char *err, size_t errlen);
/* Serves the reader's queue for a slice; true when the slice ran out. */
bool rs__kafka_reader_drain(struct rs_kafka *k);
/* An error event of the reader; true when it was about the restore. */
bool rs__kafka_reader_error(struct rs_kafka *k, int err,
    const char *reason);

#endif
