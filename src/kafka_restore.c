/*
 * kafka_restore.c - the progress restore reader: a consumer without a
 * group that reads one progress partition at a time from its beginning
 * to its end (kafka.h: rs_kafka_restore()).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kafka-int.h"
#include "routesim/array.h"
#include "routesim/kafka_conf.h"
#include "routesim/log.h"

/* The errors that say a progress partition does not exist. */
static bool
missing_partition(int err)
{
	return err == RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION ||
	    err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ||
	    err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC;
}

/* Partition p's restore is over: read to its end (err 0), or it does not
 * exist (-ENOENT). */
static void
restore_end(struct rs_kafka *k, int32_t partition, int err)
{
	rd_kafka_topic_partition_list_t *l;

	l = rd_kafka_topic_partition_list_new(1);
	rd_kafka_topic_partition_list_add(l, k->progress_topic, partition);
	rs__kafka_log_error("restore unassign",
	    rd_kafka_incremental_unassign(k->reader, l));
	rd_kafka_topic_partition_list_destroy(l);
	k->cbs.on_restore_end(k->ud, partition, err);
}

/*
 * librdkafka 2.0 reports an assigned partition that the topic does not
 * have as an error event naming it ("TOPIC [N]: ..."), not as a message
 * of that partition: without this the restore would wait for it forever.
 * A partition no longer assigned to the reader has been dealt with
 * already (the event may come more than once).
 */
static void
restore_unavailable(struct rs_kafka *k, const char *reason)
{
	size_t tlen = strlen(k->progress_topic);
	rd_kafka_topic_partition_list_t *l = NULL;
	rd_kafka_resp_err_t err;
	bool assigned;
	char *end;
	long v;

	if (strncmp(reason, k->progress_topic, tlen) != 0 ||
	    strncmp(reason + tlen, " [", 2) != 0 ||
	    (v = strtol(reason + tlen + 2, &end, 10)) < 0 || v > INT32_MAX ||
	    *end != ']') {
		/* Not the form expected: the partition is unknown, the
		 * owner is told all the same. */
		log_debug("progress restore: %s", reason);
		k->cbs.on_restore_end(k->ud, -1, -ENOENT);
		return;
	}
	if ((err = rd_kafka_assignment(k->reader, &l)) !=
	    RD_KAFKA_RESP_ERR_NO_ERROR) {
		log_warnx("progress restore: %s", rd_kafka_err2str(err));
		return;
	}
	assigned = rd_kafka_topic_partition_list_find(l, k->progress_topic,
	    (int32_t)v) != NULL;
	rd_kafka_topic_partition_list_destroy(l);
	log_debug("progress restore: %s%s", reason, assigned ? "" :
	    " (no longer restoring)");
	if (assigned)
		restore_end(k, (int32_t)v, -ENOENT);
}

bool
rs__kafka_reader_error(struct rs_kafka *k, int err, const char *reason)
{
	if (!missing_partition(err))
		return false;
	restore_unavailable(k, reason);
	return true;
}

/* The restore reader: progress records, and the end of each partition. */
bool
rs__kafka_reader_drain(struct rs_kafka *k)
{
	uint64_t end = rs_kafka_slice_end();
	unsigned n;

	rs_kafka_watch_rearm(&k->rwatch);
	for (n = 1;; n++) {
		rd_kafka_message_t *m = rd_kafka_consumer_poll(k->reader, 0);

		if (m == NULL)
			break;
		if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
			k->cbs.on_restore_record(k->ud, m->partition, m);
		} else if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
			restore_end(k, m->partition, 0);
		} else if (missing_partition(m->err)) {
			restore_end(k, m->partition, -ENOENT);
		} else {
			log_warnx("progress restore: %s partition=%d",
			    rd_kafka_message_errstr(m), m->partition);
		}
		rd_kafka_message_destroy(m);
		if (rs_kafka_slice_over(end, n))
			return true;
	}
	return false;
}

int
rs_kafka_restore(struct rs_kafka *k, int32_t partition)
{
	rd_kafka_topic_partition_list_t *l;
	rd_kafka_error_t *error;

	l = rd_kafka_topic_partition_list_new(1);
	rd_kafka_topic_partition_list_add(l, k->progress_topic,
	    partition)->offset = RD_KAFKA_OFFSET_BEGINNING;
	error = rd_kafka_incremental_assign(k->reader, l);
	rd_kafka_topic_partition_list_destroy(l);
	if (error != NULL) {
		rs__kafka_log_error("restore assign", error);
		return -EIO;
	}
	return 0;
}

/* The restore reader: a consumer without a group that reads progress
 * partitions to their end (enable.partition.eof) and commits nothing. */
int
rs__kafka_reader_new(struct rs_kafka *k, const struct rs_config *cfg, char *err,
    size_t errlen)
{
	static const struct rs_kafka_setting reader_props[] = {
		{"enable.partition.eof", "true"},
		{"enable.auto.commit", "false"},
		{"statistics.interval.ms", "0"},
		{"client.id", "routesim-restore"},
	};
	rd_kafka_conf_t *conf = NULL;
	char group[512];
	struct rs_kafka_setting group_id = {"group.id", group};
	int rc;

	if ((rc = rs_kafka_conf(cfg, RS_KAFKA_CONSUMER, &conf, err,
	    errlen)) != 0)
		return rc;
	/* Never joined: assign() only.  A group id of its own keeps it
	 * apart from the request consumers all the same. */
	snprintf(group, sizeof(group), "%s.restore", cfg->group_id);
	if ((rc = rs_kafka_conf_set(conf, reader_props, RS_NELEM(reader_props),
	    err, errlen)) != 0 ||
	    (rc = rs_kafka_conf_set(conf, &group_id, 1, err, errlen)) != 0) {
		rd_kafka_conf_destroy(conf);
		return rc;
	}
	rd_kafka_conf_set_opaque(conf, k);
	rd_kafka_conf_set_log_cb(conf, rs_kafka_log_cb);
	rd_kafka_conf_set_error_cb(conf, rs__kafka_error_cb);
	if ((rc = rs__kafka_new_client(RD_KAFKA_CONSUMER, conf, &k->reader, err,
	    errlen)) != 0)
		return rc;
	rd_kafka_poll_set_consumer(k->reader);
	k->rq = rd_kafka_queue_get_consumer(k->reader);
	return 0;
}
