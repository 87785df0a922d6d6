/*
 * kafka_group.c - the request consumer's group: subscription, both
 * rebalance protocols, hand-off of revoked partitions, offsets stored
 * and committed, pauses (kafka.h).
 */
#include <stdio.h>
#include <string.h>

#include "kafka-int.h"
#include "routesim/log.h"

static void
log_partitions(const char *what, const rd_kafka_topic_partition_list_t *l)
{
	char buf[512];
	size_t n = 0;

	buf[0] = '\0';
	for (int i = 0; i < l->cnt && n < sizeof(buf) - 32; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s[%d]",
		    i ? "," : "", l->elems[i].topic, l->elems[i].partition);
	log_info("%s partitions=%s", what, l->cnt ? buf : "none");
}

static bool
cooperative(rd_kafka_t *rk)
{
	return strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
}

/*
 * Both rebalance protocols, as kcat handles them.  An assignment is taken
 * at once; a revocation is completed only when the owner says its
 * deliveries have handed off (rs_kafka_revoke_done()).  Assigned
 * partitions are not paused here: a pause right after an assign can make
 * librdkafka drop the assignment's fetch start, leaving the partition
 * never read (librdkafka issue #2190); the owner pauses one later, if
 * at all (rs_kafka_pause()).
 */
void
rs__kafka_rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
    rd_kafka_topic_partition_list_t *parts, void *opaque)
{
	struct rs_kafka *k = opaque;
	rd_kafka_resp_err_t ret = RD_KAFKA_RESP_ERR_NO_ERROR;

	switch (err) {
	case RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS:
		log_partitions("assigned", parts);
		k->assigned = true;
		if (cooperative(rk))
			rs__kafka_log_error("incremental assign",
			    rd_kafka_incremental_assign(rk, parts));
		else if ((ret = rd_kafka_assign(rk, parts)) !=
		    RD_KAFKA_RESP_ERR_NO_ERROR)
			log_warnx("assign: %s", rd_kafka_err2str(ret));
		for (int i = 0; i < parts->cnt; i++)
			k->cbs.on_assign(k->ud, parts->elems[i].partition);
		break;
	case RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS:
		log_partitions("revoked", parts);
		if (k->revoking != NULL)
			rd_kafka_topic_partition_list_destroy(k->revoking);
		k->revoking = rd_kafka_topic_partition_list_copy(parts);
		k->cbs.on_revoke(k->ud, parts);
		break;
	default:
		log_warnx("rebalance failed: %s", rd_kafka_err2str(err));
		ret = rd_kafka_assign(rk, NULL);
		break;
	}
	if (ret != RD_KAFKA_RESP_ERR_NO_ERROR)
		log_warnx("rebalance: %s", rd_kafka_err2str(ret));
}

void
rs_kafka_revoke_done(struct rs_kafka *k)
{
	rd_kafka_topic_partition_list_t *parts = k->revoking;
	rd_kafka_resp_err_t ret;

	if (parts == NULL)
		return;
	k->revoking = NULL;
	/* Offsets done so far are committed with the revocation. */
	rs__kafka_flush_offsets(k);
	if (cooperative(k->consumer)) {
		rs__kafka_log_error("incremental unassign",
		    rd_kafka_incremental_unassign(k->consumer, parts));
	} else if ((ret = rd_kafka_assign(k->consumer, NULL)) !=
	    RD_KAFKA_RESP_ERR_NO_ERROR) {
		log_warnx("unassign: %s", rd_kafka_err2str(ret));
	}
	log_partitions("handed off", parts);
	rd_kafka_topic_partition_list_destroy(parts);
}

void
rs__kafka_commit_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
    rd_kafka_topic_partition_list_t *offsets, void *opaque)
{
	struct rs_kafka *k = opaque;

	(void)rk;
	if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
		if (err != RD_KAFKA_RESP_ERR__NO_OFFSET)
			log_warnx("offset commit: %s", rd_kafka_err2str(err));
		return;
	}
	for (int i = 0; i < offsets->cnt; i++) {
		rd_kafka_topic_partition_t *tp = &offsets->elems[i];

		if (tp->err == RD_KAFKA_RESP_ERR_NO_ERROR && tp->offset >= 0 &&
		    k->cbs.on_committed != NULL)
			k->cbs.on_committed(k->ud, tp->partition, tp->offset);
	}
}

void
rs__kafka_flush_offsets(struct rs_kafka *k)
{
	rd_kafka_resp_err_t err;

	if (k->to_store->cnt == 0)
		return;
	err = rd_kafka_offsets_store(k->consumer, k->to_store);
	if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
		log_debug("offset store: %s (partition no longer assigned?)",
		    rd_kafka_err2str(err));
	rd_kafka_topic_partition_list_destroy(k->to_store);
	k->to_store = rd_kafka_topic_partition_list_new(4);
}

static void
pause_resume(struct rs_kafka *k, int32_t partition, bool pause)
{
	rd_kafka_topic_partition_list_t *l;
	rd_kafka_resp_err_t err;

	l = rd_kafka_topic_partition_list_new(1);
	rd_kafka_topic_partition_list_add(l, k->read_topic, partition);
	err = pause ? rd_kafka_pause_partitions(k->consumer, l) :
	    rd_kafka_resume_partitions(k->consumer, l);
	if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
		log_warnx("%s partition=%d: %s", pause ? "pause" : "resume",
		    partition, rd_kafka_err2str(err));
	rd_kafka_topic_partition_list_destroy(l);
}

void
rs_kafka_pause(struct rs_kafka *k, int32_t partition)
{
	pause_resume(k, partition, true);
}

void
rs_kafka_resume(struct rs_kafka *k, int32_t partition)
{
	pause_resume(k, partition, false);
}

int
rs_kafka_subscribe(struct rs_kafka *k)
{
	rd_kafka_topic_partition_list_t *sub;
	rd_kafka_resp_err_t kerr;

	if (k->stopping)
		return 0;
	sub = rd_kafka_topic_partition_list_new(1);
	rd_kafka_topic_partition_list_add(sub, k->read_topic,
	    RD_KAFKA_PARTITION_UA);
	kerr = rd_kafka_subscribe(k->consumer, sub);
	rd_kafka_topic_partition_list_destroy(sub);
	if (kerr != RD_KAFKA_RESP_ERR_NO_ERROR) {
		rs_log(RS_LOG_ERROR, "subscribe to %s: %s", k->read_topic,
		    rd_kafka_err2str(kerr));
		return -EIO;
	}
	k->consuming = true;
	return 0;
}

void
rs_kafka_store_offset(struct rs_kafka *k, int32_t partition, int64_t next)
{
	rd_kafka_topic_partition_t *tp;

	tp = rd_kafka_topic_partition_list_find(k->to_store, k->read_topic,
	    partition);
	if (tp == NULL)
		tp = rd_kafka_topic_partition_list_add(k->to_store,
		    k->read_topic, partition);
	if (next > tp->offset)
		tp->offset = next;
}
