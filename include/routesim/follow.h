/*
 * follow.h - reads the request and position topics the way `tail -f`
 * reads a file: every partition, from a bounded number of messages before
 * the end, with no consumer group.
 *
 * Every reader sees every message, so each replica of the tracker can
 * serve its own browsers.  The client has a group id only because
 * librdkafka's assign() needs one: it never joins that group and never
 * commits.  The partitions are learnt once, at start, by topics.c's check
 * on the thread pool (retried until a broker answers); partitions added
 * to a topic later are not read until the next start.
 *
 * The client's queue is served on the loop thread (kafka_loop.h), in
 * slices of about RS_FOLLOW_SLICE_US: long enough that reading keeps its
 * share of a busy loop (one turn may also send a fragment of a frame to
 * every browser), short enough that the tracker's 100 ms tick is never
 * late by much.
 *
 * Ownership: struct rs_follow is embedded by its owner and must stay valid
 * until the callback of rs_follow_stop() has run.  Loop thread only.
 */
#ifndef ROUTESIM_FOLLOW_H
#define ROUTESIM_FOLLOW_H

#include <librdkafka/rdkafka.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "routesim/config.h"
#include "routesim/kafka_loop.h"
#include "routesim/topics.h"

/* How long one drain may hold the loop: about what a turn of 100
 * browsers' fragments takes (rs-tracker-bench). */
#define RS_FOLLOW_SLICE_US 5000

enum rs_follow_topic { RS_FOLLOW_REQUESTS = 0, RS_FOLLOW_POSITIONS };

struct rs_follow_cbs {
	/* A message; valid during the call only. */
	void (*on_message)(void *ud, enum rs_follow_topic topic,
	    const rd_kafka_message_t *m);
	/* The topics cannot be read (one is missing, the client failed);
	 * logged here.  The owner should stop. */
	void (*on_fatal)(void *ud, const char *reason);
	/* Every partition has been read to its end once: the history is
	 * in (may be NULL). */
	void (*on_caught_up)(void *ud);
};

struct rs_follow {
	uv_loop_t *loop;
	struct rs_follow_cbs cbs;
	void *ud;
	rd_kafka_t *rk;
	rd_kafka_queue_t *queue;
	struct rs_kafka_watch watch;
	struct rs_kafka_pump pump;
	struct rs_topics check;
	const char *topic[2];		/* not owned: the configuration's */
	int64_t history;		/* messages per partition at start */
	int partitions[2];		/* known once assigned */
	unsigned char *reached;		/* per partition: its end was read */
	unsigned behind;		/* partitions whose end was not */
	bool checking, assigned, caught_up, stopping, brokers_down;
	unsigned open_handles;
	uint64_t messages;		/* consumed, both topics */
	void (*stopped)(struct rs_follow *);
};

/*
 * Creates the client and starts learning the partitions; messages follow
 * once they are assigned.  history: how many of the newest messages of
 * each partition are read first (0: only new ones).  Returns 0, or a
 * negative errno with the reason in err; f must then stay valid until
 * the loop has run once more (handles opened so far are closing).
 */
int rs_follow_start(struct rs_follow *f, uv_loop_t *loop,
    const struct rs_config *cfg, int64_t history,
    const struct rs_follow_cbs *cbs, void *ud, char *err, size_t errlen);

/* True once every partition is assigned and read to its end once (the
 * history), and a broker answers; otherwise false with the reason in
 * *why. */
bool rs_follow_ready(const struct rs_follow *f, const char **why);

/* Stops reading and destroys the client; cb runs when all is gone. */
void rs_follow_stop(struct rs_follow *f, void (*cb)(struct rs_follow *));

#endif
