/*
 * follow.c - reading topics from near their end, without a group (see
 * follow.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "routesim/array.h"
#include "routesim/follow.h"
#include "routesim/kafka_conf.h"
#include "routesim/log.h"

/* A lost wake-up costs at most this. */
#define FALLBACK_MS 1000

static void
follow_error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
	struct rs_follow *f = opaque;

	(void)rk;
	if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN)
		f->brokers_down = true;
	log_warnx("kafka follower: %s", reason);
}

/* A partition was read to its end: once all were, the history is in. */
static void
reached_end(struct rs_follow *f, enum rs_follow_topic topic,
    int32_t partition)
{
	size_t i;

	if (f->caught_up || partition < 0 ||
	    partition >= f->partitions[topic])
		return;
	i = (size_t)(topic == RS_FOLLOW_REQUESTS ? 0 : f->partitions[0]) +
	    (size_t)partition;
	if (f->reached[i])
		return;
	f->reached[i] = 1;
	if (--f->behind > 0)
		return;
	f->caught_up = true;
	log_info("history read: %llu messages", (unsigned long long)
	    f->messages);
	if (f->cbs.on_caught_up != NULL)
		f->cbs.on_caught_up(f->ud);
}

/* Returns true when the slice ran out before the queue was empty. */
static bool
drain(struct rs_kafka_pump *p)
{
	struct rs_follow *f = p->data;
	uint64_t end = uv_hrtime() + RS_FOLLOW_SLICE_US * 1000ull;

	rs_kafka_watch_rearm(&f->watch);
	for (unsigned n = 1; !f->stopping; n++) {
		rd_kafka_message_t *m = rd_kafka_consumer_poll(f->rk, 0);
		const char *t;

		if (m == NULL)
			break;
		t = m->rkt != NULL ? rd_kafka_topic_name(m->rkt) : "";
		if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
			reached_end(f, strcmp(t, f->topic[RS_FOLLOW_REQUESTS])
			    == 0 ? RS_FOLLOW_REQUESTS : RS_FOLLOW_POSITIONS,
			    m->partition);
		} else if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
			log_warnx("kafka follower: topic=%s partition=%d: %s",
			    t, m->partition, rd_kafka_message_errstr(m));
		} else {
			f->brokers_down = false;
			f->messages++;
			f->cbs.on_message(f->ud, strcmp(t,
			    f->topic[RS_FOLLOW_REQUESTS]) == 0 ?
			    RS_FOLLOW_REQUESTS : RS_FOLLOW_POSITIONS, m);
		}
		rd_kafka_message_destroy(m);
		if (rs_kafka_slice_over(end, n))
			return true;
	}
	return false;
}

static int
assign_all(struct rs_follow *f)
{
	rd_kafka_topic_partition_list_t *l;
	rd_kafka_resp_err_t err;

	l = rd_kafka_topic_partition_list_new(f->partitions[0] +
	    f->partitions[1]);
	if (l == NULL)
		return -ENOMEM;
	for (int t = 0; t < 2; t++)
		for (int p = 0; p < f->partitions[t]; p++)
			rd_kafka_topic_partition_list_add(l, f->topic[t],
			    p)->offset = f->history > 0 ?
			    RD_KAFKA_OFFSET_TAIL(f->history) :
			    RD_KAFKA_OFFSET_END;
	err = rd_kafka_assign(f->rk, l);
	rd_kafka_topic_partition_list_destroy(l);
	if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
		log_warnx("kafka follower: assign: %s", rd_kafka_err2str(err));
		return -EIO;
	}
	return 0;
}

static void check_stopped(struct rs_follow *f);

static void
on_checked(struct rs_topics *t, int result, const char *msg)
{
	struct rs_follow *f = t->data;
	char reason[1100];

	f->checking = false;
	if (f->stopping) {
		check_stopped(f);
		return;
	}
	if (result == 0) {
		f->partitions[RS_FOLLOW_REQUESTS] =
		    t->partitions[RS_TOPIC_REQUEST];
		f->partitions[RS_FOLLOW_POSITIONS] =
		    t->partitions[RS_TOPIC_POSITION];
		/* Not authorised to describe a topic: nothing to assign. */
		if (f->partitions[0] < 0 || f->partitions[1] < 0)
			result = -EACCES;
		else if ((f->reached = calloc((size_t)(f->partitions[0] +
		    f->partitions[1]), 1)) == NULL)
			result = -ENOMEM;
		else
			result = assign_all(f);
		f->behind = (unsigned)(f->partitions[0] + f->partitions[1]);
		msg = result == -EACCES ? "not authorised to describe the "
		    "topics" : result == -ENOMEM ? "out of memory" :
		    "cannot assign the topics' partitions";
	}
	if (result != 0) {
		snprintf(reason, sizeof(reason), "cannot follow the topics: %s",
		    msg);
		log_warnx("%s", reason);
		f->cbs.on_fatal(f->ud, reason);
		return;
	}
	f->assigned = true;
	log_info("following topics %s:%d %s:%d history=%lld",
	    f->topic[0], f->partitions[0], f->topic[1], f->partitions[1],
	    (long long)f->history);
}

/* The consumer's configuration: the project's, with no group joined and
 * nothing committed.  0 or a negative errno with the reason in err. */
static int
follower_conf(struct rs_follow *f, const struct rs_config *cfg,
    rd_kafka_conf_t **out, char *err, size_t errlen)
{
	static const char *const props[][2] = {
		{"enable.auto.commit", "false"},
		{"auto.offset.reset", "latest"},
		{"statistics.interval.ms", "0"},
		{"client.id", "routesim-tracker"},
		/* The end of each partition tells when the history is in. */
		{"enable.partition.eof", "true"},
	};
	rd_kafka_conf_t *conf;
	char why[512], group[512];
	int rc;

	if ((rc = rs_kafka_conf(cfg, RS_KAFKA_CONSUMER, &conf, err,
	    errlen)) != 0)
		return rc;
	/* assign() wants a group id; this one is never joined. */
	snprintf(group, sizeof(group), "%s.tracker", cfg->group_id);
	if (rd_kafka_conf_set(conf, "group.id", group, why, sizeof(why)) !=
	    RD_KAFKA_CONF_OK)
		goto bad;
	for (size_t i = 0; i < RS_NELEM(props); i++)
		if (rd_kafka_conf_set(conf, props[i][0], props[i][1], why,
		    sizeof(why)) != RD_KAFKA_CONF_OK)
			goto bad;
	rd_kafka_conf_set_opaque(conf, f);
	rd_kafka_conf_set_log_cb(conf, rs_kafka_log_cb);
	rd_kafka_conf_set_error_cb(conf, follow_error_cb);
	*out = conf;
	return 0;
bad:
	rd_kafka_conf_destroy(conf);
	return rs_errf(err, errlen, -EINVAL, "kafka follower: %s", why);
}

int
rs_follow_start(struct rs_follow *f, uv_loop_t *loop,
    const struct rs_config *cfg, int64_t history,
    const struct rs_follow_cbs *cbs, void *ud, char *err, size_t errlen)
{
	rd_kafka_conf_t *conf = NULL, *check = NULL;
	char why[512];
	int rc;

	memset(f, 0, sizeof(*f));
	f->loop = loop;
	f->cbs = *cbs;
	f->ud = ud;
	f->history = history;
	f->topic[RS_FOLLOW_REQUESTS] = cfg->read_topic;
	f->topic[RS_FOLLOW_POSITIONS] = cfg->produce_topic;
	if ((rc = follower_conf(f, cfg, &conf, err, errlen)) != 0)
		return rc;
	if ((rc = rs_kafka_conf(cfg, RS_KAFKA_PRODUCER, &check, err,
	    errlen)) != 0)
		goto fail;
	if ((f->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, why,
	    sizeof(why))) == NULL) {
		rc = rs_errf(err, errlen, -EINVAL, "cannot create kafka "
		    "consumer: %s", why);
		goto fail;
	}
	conf = NULL;			/* the client owns it now */
	rd_kafka_poll_set_consumer(f->rk);
	if ((f->queue = rd_kafka_queue_get_consumer(f->rk)) == NULL) {
		rc = rs_errf(err, errlen, -EIO, "kafka follower: no queue");
		goto fail;
	}
	rs_kafka_pump_init(&f->pump, loop, drain, f);
	f->open_handles += 2;
	if ((rc = rs_kafka_pump_fallback(&f->pump, FALLBACK_MS)) != 0) {
		rc = rs_errf(err, errlen, rc, "kafka follower: timer: %s",
		    uv_strerror(rc));
		goto fail;
	}
	if ((rc = rs_kafka_watch_init(&f->watch, loop, f->queue,
	    rs_kafka_pump_watch, &f->pump)) != 0) {
		rc = rs_errf(err, errlen, rc, "kafka follower: watch: %s",
		    uv_strerror(rc));
		goto fail;
	}
	f->open_handles++;
	rc = rs_topics_check(&f->check, loop, check, f->topic[0],
	    f->topic[1], "", on_checked, f);
	check = NULL;			/* taken over, also on failure */
	if (rc != 0) {
		rc = rs_errf(err, errlen, rc, "kafka follower: topic check: %s",
		    uv_strerror(rc));
		goto fail;
	}
	f->checking = true;
	return 0;
fail:
	if (conf != NULL)
		rd_kafka_conf_destroy(conf);
	if (check != NULL)
		rd_kafka_conf_destroy(check);
	/* Started handles close through the normal path, with no callback
	 * to the owner. */
	rs_follow_stop(f, NULL);
	return rc;
}

bool
rs_follow_ready(const struct rs_follow *f, const char **why)
{
	if (!f->assigned)
		*why = "the topics' partitions are not known yet";
	else if (!f->caught_up)
		*why = "the history is not read yet";
	else if (f->brokers_down)
		*why = "no broker can be reached";
	else
		return true;
	return false;
}

static void
check_stopped(struct rs_follow *f)
{
	if (f->open_handles > 0 || f->checking)
		return;
	if (f->queue != NULL) {
		rd_kafka_queue_destroy(f->queue);
		f->queue = NULL;
	}
	if (f->rk != NULL) {
		/* Nothing joined, nothing to commit. */
		rd_kafka_destroy_flags(f->rk,
		    RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
		f->rk = NULL;
	}
	free(f->reached);
	f->reached = NULL;
	if (f->stopped != NULL)
		f->stopped(f);
}

static void
on_closed_part(struct rs_follow *f)
{
	f->open_handles--;
	check_stopped(f);
}

static void
on_pump_closed(uv_handle_t *h)
{
	struct rs_kafka_pump *p = h->data;

	on_closed_part(p->data);
}

static void
on_watch_closed(uv_handle_t *h)
{
	struct rs_kafka_watch *w = h->data;
	struct rs_kafka_pump *p = w->data;

	on_closed_part(p->data);
}

void
rs_follow_stop(struct rs_follow *f, void (*cb)(struct rs_follow *))
{
	unsigned open = f->open_handles;

	f->stopping = true;
	f->stopped = cb;
	if (f->checking)
		rs_topics_cancel(&f->check);
	if (open >= 2)
		rs_kafka_pump_close(&f->pump, on_pump_closed);
	if (open >= 3)
		rs_kafka_watch_close(&f->watch, on_watch_closed);
	check_stopped(f);
}
