/*
 * kafka.c - routesim's consumer and producer on the libuv loop: start,
 * produce, rebalances, stop (kafka.h).  Statistics are in kafka_stats.c,
 * the progress restore reader in kafka_restore.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kafka-int.h"
#include "routesim/array.h"
#include "routesim/kafka_conf.h"
#include "routesim/log.h"

#define FALLBACK_MS 1000

/* ---- librdkafka callbacks (all served on the loop thread) ------------- */

void
rs__kafka_log_error(const char *what, rd_kafka_error_t *error)
{
	if (error == NULL)
		return;
	log_warnx("%s: %s", what, rd_kafka_error_string(error));
	rd_kafka_error_destroy(error);
}

void
rs__kafka_error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
	struct rs_kafka *k = opaque;
	char fatal[512];

	if (err == RD_KAFKA_RESP_ERR__FATAL) {
		rd_kafka_fatal_error(rk, fatal, sizeof(fatal));
		rs_log(RS_LOG_ERROR, "kafka fatal error client=%s: %s",
		    rd_kafka_name(rk), fatal);
		if (k->cbs.on_fatal != NULL)
			k->cbs.on_fatal(k->ud, fatal);
		return;
	}
	if (err == RD_KAFKA_RESP_ERR__AUTHENTICATION ||
	    err == RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED) {
		/* Wrong credentials do not heal by retrying: say so once
		 * and stop, rather than retry forever. */
		if (k->auth_failed) {
			log_debug("kafka client=%s: %s", rd_kafka_name(rk),
			    reason);
			return;
		}
		k->auth_failed = true;
		rs_log(RS_LOG_ERROR, "kafka authentication failed client=%s: "
		    "%s; stopping", rd_kafka_name(rk), reason);
		if (k->cbs.on_fatal != NULL)
			k->cbs.on_fatal(k->ud, reason);
		return;
	}
	if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN)
		rs__kafka_brokers_down(k, rk);
	if (rk == k->reader && rs__kafka_reader_error(k, err, reason))
		return;
	/* Transient: librdkafka retries by itself. */
	log_warnx("kafka client=%s error=%s: %s", rd_kafka_name(rk),
	    rd_kafka_err2name((rd_kafka_resp_err_t)err), reason);
}

static void
dr_msg_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	struct rs_kafka *k = opaque;

	k->queued--;
	k->waiting_since = uv_now(k->loop);	/* the broker answers */
	/* A delivery report op carries a whole batch (thousands of
	 * positions when a wave of ticks was sent at once): stop after the
	 * op that runs past the slice, so due timers are not kept waiting. */
	k->reports++;
	if (!k->yielded && rs_kafka_slice_over(k->slice_end, k->reports)) {
		k->yielded = true;
		rd_kafka_yield(rk);
	}
	if (m->rkt == k->prtopic)
		k->cbs.on_progress_delivery(k->ud, m->partition, m->key,
		    m->key_len, m->_private, m->err);
	else
		k->cbs.on_delivery(k->ud, m->_private, m->err);
}

/* ---- Serving the queues ----------------------------------------------- */

static void check_stopped(struct rs_kafka *k);
static void start_failed(struct rs_kafka *k, unsigned handles);

/* Returns true when the slice ran out before the queue was empty. */
static bool
drain_consumer(struct rs_kafka *k)
{
	rd_kafka_message_t *batch[RS_KAFKA_BATCH];
	uint64_t end = rs_kafka_slice_end();
	ssize_t n;

	rs_kafka_watch_rearm(&k->cwatch);
	/* One call takes a batch (group events are served on the way, as
	 * rd_kafka_consumer_poll() does): the queue's bookkeeping is paid
	 * once per batch, not once per request. */
	do {
		n = rd_kafka_consume_batch_queue(k->cq, 0, batch,
		    RS_KAFKA_BATCH);
		if (n < 0) {
			log_warnx("consume: %s",
			    rd_kafka_err2str(rd_kafka_last_error()));
			break;
		}
		for (ssize_t i = 0; i < n; i++) {
			rd_kafka_message_t *m = batch[i];

			if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR)
				log_warnx("consumer: %s topic=%s partition=%d",
				    rd_kafka_message_errstr(m),
				    m->rkt ? rd_kafka_topic_name(m->rkt) : "-",
				    m->partition);
			else if (k->consuming)
				k->cbs.on_request(k->ud, m);
			/* else: fetched after stop; not stored, so read
			 * again later */
			rd_kafka_message_destroy(m);
		}
	} while (n == RS_KAFKA_BATCH && uv_hrtime() < end);
	rs__kafka_flush_offsets(k);
	return n == RS_KAFKA_BATCH;
}

/*
 * Serves queued delivery reports for about RS_KAFKA_SLICE_US (dr_msg_cb
 * yields).  Returns true only when the slice ran out:
 * reports that arrive after the queue emptied write the eventfd again,
 * and asking for another turn then would only spin the loop while
 * reports stream in.
 */
static bool
drain_producer(struct rs_kafka *k)
{
	int served;

	rs_kafka_watch_rearm(&k->pwatch);
	k->reports = 0;
	k->yielded = false;
	k->slice_end = rs_kafka_slice_end();
	served = rd_kafka_poll(k->producer, 0);
	if (k->full && served > 0 && k->queued < k->high_water) {
		k->full = false;
		if (k->cbs.on_room != NULL)
			k->cbs.on_room(k->ud);
	}
	return k->yielded;
}

/* The pump's drain: every queue, a slice each. */
static bool
drain(struct rs_kafka_pump *pump)
{
	struct rs_kafka *k = pump->data;
	bool again = false;

	if (k->consumer == NULL)
		return false;
	again |= drain_consumer(k);
	again |= drain_producer(k);
	again |= rs__kafka_reader_drain(k);
	check_stopped(k);
	return again;
}

/* ---- Start ------------------------------------------------------------ */

int
rs__kafka_new_client(rd_kafka_type_t type, rd_kafka_conf_t *conf,
    rd_kafka_t **out, char *err, size_t errlen)
{
	char why[512];

	if ((*out = rd_kafka_new(type, conf, why, sizeof(why))) == NULL) {
		rd_kafka_conf_destroy(conf);
		return rs_errf(err, errlen, -EINVAL,
		    "cannot create kafka %s: %s",
		    type == RD_KAFKA_CONSUMER ? "consumer" : "producer", why);
	}
	return 0;
}

/* Counts in *handles what must be closed if a later step fails. */
static int
start_handles(struct rs_kafka *k, unsigned *handles, char *err,
    size_t errlen)
{
	int rc;

	if ((rc = rs_kafka_watch_init(&k->cwatch, k->loop, k->cq,
	    rs_kafka_pump_watch, &k->pump)) != 0)
		goto fail;
	++*handles;
	if ((rc = rs_kafka_watch_init(&k->pwatch, k->loop, k->pq,
	    rs_kafka_pump_watch, &k->pump)) != 0)
		goto fail;
	++*handles;
	if ((rc = rs_kafka_watch_init(&k->rwatch, k->loop, k->rq,
	    rs_kafka_pump_watch, &k->pump)) != 0)
		goto fail;
	++*handles;
	/* These cannot fail on an initialised loop. */
	rs_kafka_pump_init(&k->pump, k->loop, drain, k);
	uv_timer_init(k->loop, &k->deadline);
	*handles += 3;
	k->open_handles = *handles;
	k->deadline.data = k;
	if ((rc = rs_kafka_pump_fallback(&k->pump, FALLBACK_MS)) != 0)
		goto fail;
	return 0;
fail:
	rs_errf(err, errlen, -EINVAL, "libuv: %s", uv_strerror(rc));
	return rc;
}

/*
 * Positions pause at 90% of the producer's queue limit, leaving the rest
 * for progress records.
 */
static int
high_water(rd_kafka_conf_t *pc, size_t *out, char *err, size_t errlen)
{
	char v[32];
	size_t len = sizeof(v);

	if (rd_kafka_conf_get(pc, "queue.buffering.max.messages", v, &len) !=
	    RD_KAFKA_CONF_OK)
		return rs_errf(err, errlen, -EINVAL, "cannot read "
		    "queue.buffering.max.messages");
	*out = (size_t)strtoull(v, NULL, 10) / 10 * 9;
	return 0;
}

/* Creates the consumer and the producer, their callbacks set. */
static int
new_clients(struct rs_kafka *k, const struct rs_config *cfg, char *err,
    size_t errlen)
{
	rd_kafka_conf_t *cc = NULL, *pc = NULL;
	int rc;

	if ((rc = rs_kafka_conf(cfg, RS_KAFKA_CONSUMER, &cc, err,
	    errlen)) != 0 ||
	    (rc = rs_kafka_conf(cfg, RS_KAFKA_PRODUCER, &pc, err, errlen)) != 0)
		goto fail;
	rd_kafka_conf_set_opaque(cc, k);
	rd_kafka_conf_set_opaque(pc, k);
	rd_kafka_conf_set_log_cb(cc, rs_kafka_log_cb);
	rd_kafka_conf_set_log_cb(pc, rs_kafka_log_cb);
	rd_kafka_conf_set_error_cb(cc, rs__kafka_error_cb);
	rd_kafka_conf_set_error_cb(pc, rs__kafka_error_cb);
	rd_kafka_conf_set_rebalance_cb(cc, rs__kafka_rebalance_cb);
	rd_kafka_conf_set_offset_commit_cb(cc, rs__kafka_commit_cb);
	rd_kafka_conf_set_stats_cb(cc, rs__kafka_stats_cb);
	rd_kafka_conf_set_stats_cb(pc, rs__kafka_stats_cb);
	rd_kafka_conf_set_dr_msg_cb(pc, dr_msg_cb);

	rc = rs__kafka_new_client(RD_KAFKA_CONSUMER, cc, &k->consumer, err,
	    errlen);
	cc = NULL;	/* owned by the client now, or destroyed */
	if (rc != 0)
		goto fail;
	if ((rc = high_water(pc, &k->high_water, err, errlen)) != 0)
		goto fail;
	rc = rs__kafka_new_client(RD_KAFKA_PRODUCER, pc, &k->producer, err,
	    errlen);
	pc = NULL;
fail:
	if (cc != NULL)
		rd_kafka_conf_destroy(cc);
	if (pc != NULL)
		rd_kafka_conf_destroy(pc);
	return rc;
}

static int
new_topic(struct rs_kafka *k, const char *name, rd_kafka_topic_t **out,
    char *err, size_t errlen)
{
	if ((*out = rd_kafka_topic_new(k->producer, name, NULL)) == NULL)
		return rs_errf(err, errlen, -EINVAL, "topic %s: %s", name,
		    rd_kafka_err2str(rd_kafka_last_error()));
	return 0;
}

/* The clients' queues (logs included) and the producer's topics. */
static int
open_queues(struct rs_kafka *k, const struct rs_config *cfg, char *err,
    size_t errlen)
{
	rd_kafka_resp_err_t kerr;
	int rc;

	/* Everything the consumer emits, logs included, on one queue. */
	rd_kafka_poll_set_consumer(k->consumer);
	k->cq = rd_kafka_queue_get_consumer(k->consumer);
	k->pq = rd_kafka_queue_get_main(k->producer);
	if ((kerr = rd_kafka_set_log_queue(k->consumer, NULL)) != 0 ||
	    (kerr = rd_kafka_set_log_queue(k->producer, NULL)) != 0)
		return rs_errf(err, errlen, -EINVAL, "kafka log queue: %s",
		    rd_kafka_err2str(kerr));
	if ((rc = new_topic(k, cfg->produce_topic, &k->ptopic, err,
	    errlen)) != 0 ||
	    (rc = new_topic(k, cfg->progress_topic, &k->prtopic, err,
	    errlen)) != 0)
		return rc;
	k->to_store = rd_kafka_topic_partition_list_new(4);
	return 0;
}

int
rs_kafka_start(struct rs_kafka *k, uv_loop_t *loop,
    const struct rs_config *cfg, const struct rs_kafka_cbs *cbs, void *ud,
    char *err, size_t errlen)
{
	unsigned handles = 0;
	int rc;

	memset(k, 0, sizeof(*k));
	k->loop = loop;
	k->cbs = *cbs;
	k->ud = ud;
	k->read_topic = cfg->read_topic;
	k->progress_topic = cfg->progress_topic;
	k->consumer_brokers_up = k->producer_brokers_up = -1;
	if ((rc = new_clients(k, cfg, err, errlen)) != 0 ||
	    (rc = rs__kafka_reader_new(k, cfg, err, errlen)) != 0 ||
	    (rc = open_queues(k, cfg, err, errlen)) != 0 ||
	    (rc = start_handles(k, &handles, err, errlen)) != 0) {
		start_failed(k, handles);
		return rc < 0 ? rc : -EIO;
	}
	log_info("kafka started bootstrap=%s group=%s read=%s produce=%s",
	    cfg->bootstrap_servers, cfg->group_id, cfg->read_topic,
	    cfg->produce_topic);
	return 0;
}

/* ---- Produce ---------------------------------------------------------- */

bool
rs_kafka_refused(rd_kafka_resp_err_t err)
{
	switch (err) {
	case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
	case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
	case RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION:
	case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
	case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
		return true;
	default:
		return false;
	}
}

/* Counts a message queued, for readiness and back-pressure. */
static void
queued_one(struct rs_kafka *k)
{
	if (k->queued++ == 0)
		k->waiting_since = uv_now(k->loop);
}

int
rs_kafka_produce(struct rs_kafka *k, const void *key, size_t keylen,
    const void *payload, size_t len, void *opaque, const char **refusal)
{
	rd_kafka_resp_err_t err;

	if (k->queued >= k->high_water) {
		k->full = true;
		return -ENOBUFS;
	}
	if (rd_kafka_produce(k->ptopic, RD_KAFKA_PARTITION_UA,
	    RD_KAFKA_MSG_F_COPY, (void *)(uintptr_t)payload, len, key, keylen,
	    opaque) == 0) {
		queued_one(k);
		return 0;
	}
	err = rd_kafka_last_error();
	if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
		k->full = true;
		return -ENOBUFS;
	}
	if (rs_kafka_refused(err)) {
		*refusal = rd_kafka_err2str(err);
		return -EPERM;
	}
	log_warnx("produce to %s: %s", rd_kafka_topic_name(k->ptopic),
	    rd_kafka_err2str(err));
	return -EIO;
}

int
rs_kafka_produce_progress(struct rs_kafka *k, int32_t partition,
    const void *key, size_t keylen, const void *value, size_t len,
    void *opaque, const char **refusal)
{
	rd_kafka_resp_err_t err;

	if (rd_kafka_produce(k->prtopic, partition, RD_KAFKA_MSG_F_COPY,
	    (void *)(uintptr_t)value, len, (void *)(uintptr_t)key, keylen,
	    opaque) == 0) {
		queued_one(k);
		return 0;
	}
	err = rd_kafka_last_error();
	if (rs_kafka_refused(err)) {
		*refusal = rd_kafka_err2str(err);
		return -EPERM;
	}
	log_warnx("progress record partition=%d offset=%.*s: %s", partition,
	    (int)keylen, (const char *)key, rd_kafka_err2str(err));
	return -EIO;
}

size_t
rs_kafka_outq_len(const struct rs_kafka *k)
{
	return k->producer ? (size_t)rd_kafka_outq_len(k->producer) : 0;
}

/* ---- Stop ------------------------------------------------------------- */

/*
 * Destroys whatever rs_kafka_start() created; the consumer leaves its
 * group (a blocking close) only when leave, else it was closed on the
 * loop already, or never joined.
 */
static void
destroy_clients(struct rs_kafka *k, bool leave)
{
	if (k->cq != NULL)
		rd_kafka_queue_destroy(k->cq);
	if (k->pq != NULL)
		rd_kafka_queue_destroy(k->pq);
	if (k->rq != NULL)
		rd_kafka_queue_destroy(k->rq);
	if (k->ptopic != NULL)
		rd_kafka_topic_destroy(k->ptopic);
	if (k->prtopic != NULL)
		rd_kafka_topic_destroy(k->prtopic);
	if (k->to_store != NULL)
		rd_kafka_topic_partition_list_destroy(k->to_store);
	if (k->revoking != NULL)
		rd_kafka_topic_partition_list_destroy(k->revoking);
	if (k->reader != NULL)
		rd_kafka_destroy_flags(k->reader,
		    RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
	rs__kafka_stats_free(k);
	if (k->consumer != NULL && leave)
		rd_kafka_destroy(k->consumer);
	else if (k->consumer != NULL)
		rd_kafka_destroy_flags(k->consumer,
		    RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
	if (k->producer != NULL)
		rd_kafka_destroy(k->producer);
	k->consumer = k->producer = NULL;
}

void
rs__kafka_handle_closed(struct rs_kafka *k)
{
	if (--k->open_handles > 0)
		return;
	destroy_clients(k, !k->closing_consumer ||
	    rd_kafka_consumer_closed(k->consumer));
	if (k->cbs.on_stopped != NULL)
		k->cbs.on_stopped(k->ud, k->undelivered);
}

static void
on_deadline_closed(uv_handle_t *h)
{
	rs__kafka_handle_closed(h->data);
}

static void
on_pump_closed(uv_handle_t *h)
{
	struct rs_kafka_pump *p = h->data;

	rs__kafka_handle_closed(p->data);
}

static void
on_watch_closed(uv_handle_t *h)
{
	struct rs_kafka_watch *w = h->data;
	struct rs_kafka_pump *p = w->data;

	rs__kafka_handle_closed(p->data);
}

/* Closes the first n handles that start_handles() opens; with notify,
 * the last close destroys the clients and calls on_stopped. */
static void
close_handles(struct rs_kafka *k, unsigned n, bool notify)
{
	struct rs_kafka_watch *w[] = {&k->cwatch, &k->pwatch, &k->rwatch};

	for (unsigned i = 0; i < n && i < RS_NELEM(w); i++)
		rs_kafka_watch_close(w[i], notify ? on_watch_closed : NULL);
	if (n <= RS_NELEM(w))
		return;
	rs_kafka_pump_close(&k->pump, notify ? on_pump_closed : NULL);
	uv_close((uv_handle_t *)&k->deadline,
	    notify ? on_deadline_closed : NULL);
}

/* Undoes a partial rs_kafka_start(); the caller must still run the loop
 * once so that the closed handles are released. */
static void
start_failed(struct rs_kafka *k, unsigned handles)
{
	close_handles(k, handles, false);
	destroy_clients(k, false);
}

/*
 * Closes up once the consumer is closed and every message reported, or
 * at the deadline - but never while the owner still hands off revoked
 * partitions: the owner bounds that and decides when to let them go
 * (on_revoke), and a deadline that passed meanwhile takes effect after.
 */
static void
check_stopped(struct rs_kafka *k)
{
	if (!k->stopping || k->open_handles == 0 ||
	    uv_is_closing((uv_handle_t *)&k->pump.fallback))
		return;
	if (k->revoking != NULL)
		return;
	if (!k->deadline_hit) {
		if (k->closing_consumer &&
		    !rd_kafka_consumer_closed(k->consumer))
			return;
		if (rd_kafka_outq_len(k->producer) > 0)
			return;
	}
	k->undelivered = (size_t)rd_kafka_outq_len(k->producer);
	if (k->undelivered > 0) {
		log_warnx("shutdown: giving up on %zu queued positions",
		    k->undelivered);
		rd_kafka_purge(k->producer,
		    RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
		while (rd_kafka_poll(k->producer, 0) > 0)
			;	/* their reports, slice by slice */
	}
	close_handles(k, k->open_handles, true);
}

static void
on_deadline(uv_timer_t *h)
{
	struct rs_kafka *k = h->data;

	k->deadline_hit = true;
	check_stopped(k);
}

void
rs_kafka_stop(struct rs_kafka *k, unsigned timeout_ms)
{
	rd_kafka_error_t *error;

	if (k->stopping)
		return;
	k->stopping = true;
	k->consuming = false;
	rs__kafka_flush_offsets(k);
	error = rd_kafka_consumer_close_queue(k->consumer, k->cq);
	if (error != NULL) {
		log_warnx("consumer close: %s", rd_kafka_error_string(error));
		rd_kafka_error_destroy(error);
	} else {
		k->closing_consumer = true;
	}
	/* Poll faster than the fallback while shutting down.  Neither call
	 * can fail on an open handle with a callback. */
	if (rs_kafka_pump_fallback(&k->pump, 10) != 0 ||
	    uv_timer_start(&k->deadline, on_deadline, timeout_ms, 0) != 0)
		log_warnx("shutdown timers did not start");
	rs_kafka_pump_run(&k->pump);
}
