/*
 * kafka_restore.c - the progress restore reader: a consumer without a
 * group that reads one progress partition at a time from its beginning
 * to its end (kafka.h: rs_kafka_restore()).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "kafka-int.h"
#include "routesim/array.h"
#include "routesim/kafka_conf.h"
#include "routesim/log.h"
#include "routesim/topics.h"

/* How long a lookup waits for the progress topic's metadata, and how
 * long it pauses before asking again after a failure. */
#define LOOKUP_TIMEOUT_MS 5000
#define LOOKUP_RETRY_MS 1000

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
 * Which progress partitions exist.  librdkafka 2.0 reports an assigned
 * partition that the topic does not have only when it learns the
 * topic's partition count, as an error event of the client whose code
 * does not say which partition, and not at all when it knew the count
 * already: without a look of its own, the restore of such a partition
 * would wait forever.  So the reader keeps the progress topic's partition
 * count (a topic never loses partitions) and asks the broker again when
 * a partition at or past it is to be restored, or when such an error
 * event comes (the topic may be gone).  rd_kafka_metadata() blocks: the
 * lookup runs on libuv's thread pool, one at a time (it judges every
 * partition assigned when it ends), and rs_kafka_stop() waits for it as
 * for a handle.
 */
static void
lookup_work(uv_work_t *w)
{
	struct rs_kafka *k = w->data;

	if (k->lookup_retry)
		uv_sleep(LOOKUP_RETRY_MS);
	/* Every topic, as the startup check asks: asking creates none. */
	k->lookup_err = rd_kafka_metadata(k->reader, 1, NULL, &k->lookup_md,
	    LOOKUP_TIMEOUT_MS);
}

static void lookup_done(uv_work_t *w, int status);

static void
lookup_start(struct rs_kafka *k, bool retry)
{
	int rc;

	if (k->looking_up)
		return;		/* the lookup under way judges it too */
	k->lookup.data = k;
	k->lookup_md = NULL;
	k->lookup_err = RD_KAFKA_RESP_ERR_NO_ERROR;
	k->lookup_retry = retry;
	if ((rc = uv_queue_work(k->loop, &k->lookup, lookup_work,
	    lookup_done)) != 0) {
		log_warnx("progress restore: metadata of %s: %s",
		    k->progress_topic, uv_strerror(rc));
		return;
	}
	k->looking_up = true;
	k->open_handles++;	/* rs_kafka_stop() waits for it */
}

/* Ends the restore of each assigned partition that the progress topic,
 * with count partitions (or RS_TOPIC_MISSING), lacks. */
static void
end_missing(struct rs_kafka *k, int count)
{
	rd_kafka_topic_partition_list_t *l = NULL;
	rd_kafka_resp_err_t err;

	if (count == RS_TOPIC_MISSING) {
		k->cbs.on_restore_end(k->ud, -1, -ENOENT);
		return;
	}
	if (count < 0) {
		log_warnx("progress restore: not authorised to describe %s: "
		    "its partitions are not checked", k->progress_topic);
		return;
	}
	k->progress_partitions = count;
	if ((err = rd_kafka_assignment(k->reader, &l)) !=
	    RD_KAFKA_RESP_ERR_NO_ERROR) {
		log_warnx("progress restore: %s", rd_kafka_err2str(err));
		return;
	}
	for (int i = 0; i < l->cnt; i++)
		if (l->elems[i].partition >= count &&
		    strcmp(l->elems[i].topic, k->progress_topic) == 0)
			restore_end(k, l->elems[i].partition, -ENOENT);
	rd_kafka_topic_partition_list_destroy(l);
}

static void
lookup_done(uv_work_t *w, int status)
{
	struct rs_kafka *k = w->data;
	const struct rd_kafka_metadata *md = k->lookup_md;
	rd_kafka_resp_err_t err = k->lookup_err;

	k->looking_up = false;
	k->lookup_md = NULL;
	if (status == 0 && err == RD_KAFKA_RESP_ERR_NO_ERROR) {
		end_missing(k, rs_topics_partitions(md, k->progress_topic));
	} else {
		log_warnx("progress restore: metadata of %s: %s%s",
		    k->progress_topic, status != 0 ? uv_strerror(status) :
		    rd_kafka_err2str(err), k->stopping ? "" : "; asking again");
		if (!k->stopping)
			lookup_start(k, true);
	}
	if (md != NULL)
		rd_kafka_metadata_destroy(md);
	rs__kafka_handle_closed(k);
}

bool
rs__kafka_reader_error(struct rs_kafka *k, int err, const char *reason)
{
	if (!missing_partition(err))
		return false;
	log_debug("progress restore: %s", reason);
	lookup_start(k, false);
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
	if (partition >= k->progress_partitions)
		lookup_start(k, false);	/* it may not exist */
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
