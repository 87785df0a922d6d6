/*
 * topics.h - the startup check of the topics routesim uses.
 *
 * Before routesim joins its group it asks the broker whether the request,
 * position and progress topics exist, whether the progress topic is
 * compacted (its cleanup.policy contains compact) and whether it has at
 * least as many partitions as the request topic.  A broker that creates
 * topics on first use would otherwise create them with its defaults, and
 * a wrong progress topic would be found only on the first restore.
 *
 * librdkafka 2.0.2 has no asynchronous metadata call, so the check runs
 * on libuv's thread pool with a short-lived client of its own: metadata of
 * every topic (so nothing is created by asking), then DescribeConfigs of
 * the progress topic.  While the broker cannot be reached it asks again,
 * until it answers or the check is cancelled.  Only the result comes back
 * to the loop thread: done() runs there, and everything is logged there.
 *
 * What cannot be checked - a broker without DescribeConfigs (librdkafka's
 * mock cluster) or a client not authorised to describe configurations -
 * is a warning, not an error.
 *
 * Ownership: struct rs_topics is embedded by its owner, who keeps it valid
 * until done() has run (also after rs_topics_cancel()).  The check takes
 * the client configuration over.
 */
#ifndef ROUTESIM_TOPICS_H
#define ROUTESIM_TOPICS_H

#include <librdkafka/rdkafka.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

enum rs_topic_role { RS_TOPIC_REQUEST, RS_TOPIC_POSITION, RS_TOPIC_PROGRESS,
	RS_TOPIC_NROLES };

/* What the broker said about the topics; the input of rs_topics_judge(). */
struct rs_topic_facts {
	const char *name[RS_TOPIC_NROLES];
	int partitions[RS_TOPIC_NROLES];	/* or one of these: */
#define RS_TOPIC_MISSING (-1)	/* no such topic */
#define RS_TOPIC_UNKNOWN (-2)	/* not authorised to describe it */
#define RS_TOPIC_UNUSED (-3)	/* no topic in this role (name "") */
	/* The progress topic's cleanup.policy; NULL when it could not be
	 * read, with the reason in policy_error. */
	const char *policy;
	const char *policy_error;
};

/*
 * Judges the facts.  Returns 0 when all is well (warnings, if any, in
 * warn), or -EINVAL with every problem in one line in msg.
 */
int rs_topics_judge(const struct rs_topic_facts *f, char *msg,
    size_t msglen, char *warn, size_t warnlen);

/* The number of partitions of topic name in metadata md, or
 * RS_TOPIC_MISSING or RS_TOPIC_UNKNOWN. */
int rs_topics_partitions(const struct rd_kafka_metadata *md,
    const char *name);

/* True when a cleanup.policy list ("compact", "delete,compact") holds
 * compact. */
bool rs_topics_compacted(const char *policy);

struct rs_topics;
/* result: 0 (topics fine), -EINVAL (msg says what is wrong; not yet
 * logged), -ECANCELED, or another negative code (msg says why). */
typedef void (*rs_topics_done_cb)(struct rs_topics *t, int result,
    const char *msg);

struct rs_topics {
	uv_work_t work;
	rd_kafka_conf_t *conf;		/* owned until the worker takes it */
	char name[RS_TOPIC_NROLES][256];
	atomic_bool cancel;
	bool busy;			/* between check and done */
	int result;
	unsigned attempts;		/* metadata requests made */
	int32_t broker;			/* the one that answered them */
	char policy[256];
	char policy_error[256];
	bool unsupported;		/* the broker lacks DescribeConfigs */
	int partitions[RS_TOPIC_NROLES];
	char msg[1024];
	char warn[512];
	rs_topics_done_cb done;
	void *data;			/* for the owner */
};

/*
 * Starts the check of the named topics with a client made from conf
 * (progress may be "": a program without one, such as the tracker)
 * (taken over, also on failure).  Returns 0, or a negative libuv code
 * when the thread pool refused the work (done is then not called).
 */
int rs_topics_check(struct rs_topics *t, uv_loop_t *loop,
    rd_kafka_conf_t *conf, const char *request, const char *position,
    const char *progress, rs_topics_done_cb done, void *data);

/* Asks a running check to stop; done() follows with -ECANCELED within
 * about a second. */
void rs_topics_cancel(struct rs_topics *t);

#endif
