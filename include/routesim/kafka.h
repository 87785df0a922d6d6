/*
 * kafka.h - routesim's Kafka clients on the libuv loop.
 *
 * Owns one consumer (the request topic, in the configured group), one
 * producer (positions and progress records) and a restore reader
 * (progress partitions) for the whole process.  Their queues are served
 * by one pump (kafka_loop.h): a large backlog is drained in slices of
 * about RS_KAFKA_SLICE_US per queue, so due timers never wait long behind
 * it, and a one-second fallback timer drains them as well.  All
 * librdkafka callbacks (messages, delivery reports, rebalances, errors and
 * logs, routed with log.queue) therefore run on the loop thread.
 *
 * Properties: built by kafka_conf.h (routesim's defaults, the user's -X
 * each given only to the client that knows it, then the few properties
 * routesim's correctness depends on).
 *
 * Offsets: enable.auto.offset.store is off; the owner says which request
 * offsets may be committed with rs_kafka_store_offset(), and auto-commit
 * commits them.
 *
 * Ownership: struct rs_kafka is embedded by its owner and must outlive
 * rs_kafka_stop()'s callback, after which everything it created is gone.
 */
#ifndef ROUTESIM_KAFKA_H
#define ROUTESIM_KAFKA_H

#include <librdkafka/rdkafka.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "routesim/config.h"
#include "routesim/kafka_conf.h"
#include "routesim/kafka_loop.h"
#include "routesim/lag.h"

/* Not ready: messages wait and no delivery report came for this long. */
#define RS_KAFKA_STALL_MS 10000
#define RS_KAFKA_STALL_TEXT "10 s"

struct rs_kafka;

struct rs_kafka_cbs {
	/* A message from the request topic; valid during the call only. */
	void (*on_request)(void *ud, const rd_kafka_message_t *m);
	/* Delivery report of a position produced with this opaque. */
	void (*on_delivery)(void *ud, void *opaque, rd_kafka_resp_err_t err);
	/* Delivery report of a progress record: the request partition and
	 * key it was written with (valid during the call), and its opaque. */
	void (*on_progress_delivery)(void *ud, int32_t partition,
	    const void *key, size_t keylen, void *opaque,
	    rd_kafka_resp_err_t err);
	/* The group assigned a request partition; its requests start
	 * arriving at once. */
	void (*on_assign)(void *ud, int32_t partition);
	/* The group takes these partitions away, all of them in one call
	 * (however many): the owner stops their work and calls
	 * rs_kafka_revoke_done() (possibly at once).  The owner bounds how
	 * long that takes; nothing here gives up on it, rs_kafka_stop()
	 * included. */
	void (*on_revoke)(void *ud,
	    const rd_kafka_topic_partition_list_t *parts);
	/* A record of progress partition p (restore), then its end: err 0,
	 * or -ENOENT when the progress topic has no such partition
	 * (partition -1 when the topic itself could not be found). */
	void (*on_restore_record)(void *ud, int32_t partition,
	    const rd_kafka_message_t *m);
	void (*on_restore_end)(void *ud, int32_t partition, int err);
	/* Offsets committed to the group (offset = next to read). */
	void (*on_committed)(void *ud, int32_t partition, int64_t offset);
	/* The producer queue has room again after rs_kafka_produce()
	 * returned -ENOBUFS. */
	void (*on_room)(void *ud);
	/* librdkafka raised a fatal error, or a broker refused the
	 * credentials (both logged here); the owner should stop. */
	void (*on_fatal)(void *ud, const char *reason);
	/* rs_kafka_stop() finished; undelivered = positions given up. */
	void (*on_stopped)(void *ud, size_t undelivered);
};

/* A client's latest statistics JSON, unread; owned, freed with
 * rd_kafka_mem_free() once read or replaced. */
struct rs_kafka_stats {
	char *json;
	size_t len;
};

struct rs_kafka {
	uv_loop_t *loop;
	struct rs_kafka_cbs cbs;
	void *ud;
	rd_kafka_t *consumer, *producer;
	rd_kafka_t *reader;		/* restores progress partitions */
	rd_kafka_queue_t *cq, *pq, *rq;
	rd_kafka_topic_t *ptopic, *prtopic;
	rd_kafka_topic_partition_list_t *revoking;	/* awaiting done */
	size_t high_water;		/* positions pause above this */
	size_t queued;			/* produced, report not yet served
					 * (rd_kafka_outq_len() takes locks) */
	uint64_t waiting_since;		/* uv_now() of the last report, or
					 * of the first message queued */
	uint64_t slice_end;		/* uv_hrtime() the slice ends at */
	size_t reports;			/* served in this slice */
	bool yielded;			/* the slice ran out */
	rd_kafka_topic_partition_list_t *to_store;
	struct rs_kafka_watch cwatch, pwatch, rwatch;
	struct rs_kafka_pump pump;
	uv_timer_t deadline;
	unsigned open_handles;		/* what rs_kafka_stop() waits for:
					 * handles and a lookup under way */
	bool full, consuming, stopping, closing_consumer, deadline_hit;
	bool auth_failed;		/* reported; the daemon stops */
	size_t undelivered;
	const char *read_topic, *progress_topic;
	/* Health, from rebalances, errors and librdkafka's statistics
	 * (statistics.interval.ms, 1000 by default), which are kept unread
	 * until health or lags are asked for. */
	struct rs_kafka_stats cstats, pstats;
	bool assigned;			/* the group gave us an assignment */
	int consumer_brokers_up;	/* -1 until the first statistics */
	int producer_brokers_up;
	struct rs_partition_lag *lags;	/* one per assigned partition */
	size_t nlags, lags_cap;
	/* Which progress partitions exist (kafka_restore.c): their count
	 * as last seen, and the lookup that asks the broker on the thread
	 * pool. */
	int progress_partitions;
	uv_work_t lookup;
	bool looking_up, lookup_retry;
	const struct rd_kafka_metadata *lookup_md;	/* from the worker */
	rd_kafka_resp_err_t lookup_err;
};

/* Creates both clients and starts watching their queues; requests are
 * read only after rs_kafka_subscribe(). */
int rs_kafka_start(struct rs_kafka *k, uv_loop_t *loop,
    const struct rs_config *cfg, const struct rs_kafka_cbs *cbs, void *ud,
    char *err, size_t errlen);

/* Joins the group on the request topic (nothing once stopping).
 * Returns 0, or -EIO (logged as an error). */
int rs_kafka_subscribe(struct rs_kafka *k);

/*
 * True for an error that says a topic refuses every write - it does not
 * exist, or this client may not write to it: the configuration is wrong,
 * not the message, and every other message would fail the same way.
 */
bool rs_kafka_refused(rd_kafka_resp_err_t err);

/*
 * Queues one message (copied) to the position topic.  Returns 0; -ENOBUFS
 * when the local queue is full (on_room follows); -EPERM when the topic
 * refuses writes (rs_kafka_refused(); *refusal says how, a static
 * string), left to the caller to report; -EIO for any other failure,
 * logged here.
 */
int rs_kafka_produce(struct rs_kafka *k, const void *key, size_t keylen,
    const void *payload, size_t len, void *opaque, const char **refusal);

/*
 * Queues a progress record (value NULL: a tombstone) for request
 * partition p (key and value copied; progress.h makes both).  Progress
 * records ignore the position back-pressure threshold, so a hand-off
 * never waits on a full queue.  Returns 0, -EPERM (as rs_kafka_produce())
 * or -EIO (logged).
 */
int rs_kafka_produce_progress(struct rs_kafka *k, int32_t partition,
    const void *key, size_t keylen, const void *value, size_t len,
    void *opaque, const char **refusal);

/* Sets the offset to commit for a request partition (the next to read). */
void rs_kafka_store_offset(struct rs_kafka *k, int32_t partition,
    int64_t next);

/* Stops reading a request partition, and reads it on.  A partition must
 * already have delivered a request when it is paused (then its fetching
 * has surely started), and must be resumed before it is handed off
 * (librdkafka may keep a pause across assignments). */
void rs_kafka_pause(struct rs_kafka *k, int32_t partition);
void rs_kafka_resume(struct rs_kafka *k, int32_t partition);

/* Reads progress partition p from its beginning; on_restore_record for
 * each record, then on_restore_end. */
int rs_kafka_restore(struct rs_kafka *k, int32_t partition);

/* The owner has finished with the partitions of the last on_revoke. */
void rs_kafka_revoke_done(struct rs_kafka *k);

/*
 * True when the consumer has joined its group, both clients reach a
 * broker, and the broker acknowledges what is produced (no message has
 * waited RS_KAFKA_STALL_MS without any delivery report); otherwise false
 * with the reason in *why.
 */
bool rs_kafka_ready(struct rs_kafka *k, const char **why);

/* The request topic's consumer lag per partition, from the latest
 * statistics; the array belongs to k. */
size_t rs_kafka_lags(struct rs_kafka *k, const struct rs_partition_lag **lags);

/* Messages waiting in the producer (queued or in flight). */
size_t rs_kafka_outq_len(const struct rs_kafka *k);

/*
 * Stops consuming, closes the consumer (leaving the group, committing
 * stored offsets; the close revokes what is assigned, see on_revoke),
 * waits up to timeout_ms for the close and for queued positions, then
 * gives up what is still queued, destroys both clients and calls
 * on_stopped.  A revocation still being handed off at timeout_ms is
 * waited for: the owner bounds it, and should end it by then.
 */
void rs_kafka_stop(struct rs_kafka *k, unsigned timeout_ms);

#endif
