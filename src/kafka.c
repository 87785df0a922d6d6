/*
 * kafka.c - librdkafka consumer and producer driven by the libuv loop.
 */
#include "routesim/kafka.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "routesim/log.h"
#include "routesim/progress.h"

#define FALLBACK_MS 1000

/* ---- Which client knows which property -------------------------------- */

/*
 * librdkafka documents every property with a C/P column ("C" consumer,
 * "P" producer, "*" both) in rd_kafka_conf_properties_show().  Reading
 * that table, rather than keeping a copy, keeps -X right for whatever
 * librdkafka version is installed and spares users the "is a consumer
 * property and will be ignored" warnings.
 */
struct prop_scope {
	char *name;
	char scope;
};

static struct prop_scope *scopes;
static size_t nscopes;

static void
free_scopes(void)
{
	for (size_t i = 0; i < nscopes; i++)
		free(scopes[i].name);
	free(scopes);
	scopes = NULL;
	nscopes = 0;
}

static int
load_scopes(void)
{
	char *buf = NULL, *line, *save = NULL;
	struct prop_scope *v = NULL, *grown;
	size_t len = 0, n = 0, cap = 0;
	FILE *f;

	if (scopes != NULL)
		return 0;
	if ((f = open_memstream(&buf, &len)) == NULL)
		return -errno;
	rd_kafka_conf_properties_show(f);
	if (fclose(f) != 0) {
		free(buf);
		return -ENOMEM;
	}
	for (line = strtok_r(buf, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		char name[128], scope[8];

		if (sscanf(line, "%127s | %7s |", name, scope) != 2 ||
		    strcmp(name, "Property") == 0 || scope[1] != '\0')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			if ((grown = realloc(v, cap * sizeof(*grown))) == NULL)
				goto nomem;
			v = grown;
		}
		if ((v[n].name = strdup(name)) == NULL)
			goto nomem;
		v[n++].scope = scope[0];
	}
	free(buf);
	if (n == 0) {
		free(v);
		return -ENOENT;
	}
	scopes = v;
	nscopes = n;
	atexit(free_scopes);
	return 0;
nomem:
	free(buf);
	while (n > 0)
		free(v[--n].name);
	free(v);
	return -ENOMEM;
}

/* '*', 'C', 'P', or 0 for a property librdkafka does not know. */
static char
prop_scope(const char *name)
{
	for (size_t i = 0; i < nscopes; i++)
		if (strcmp(scopes[i].name, name) == 0)
			return scopes[i].scope;
	return 0;
}

/* ---- Configuration ---------------------------------------------------- */

static int
set(rd_kafka_conf_t *conf, const char *name, const char *value, char *err,
    size_t errlen)
{
	char why[256];

	if (rd_kafka_conf_set(conf, name, value, why, sizeof(why)) !=
	    RD_KAFKA_CONF_OK)
		return rs_errf(err, errlen, -EINVAL, "librdkafka property %s: %s", name,
		    why);
	return 0;
}

struct prop {
	const char *name, *value;
};

/* What routesim sets unless the user says otherwise. */
static const struct prop consumer_defaults[] = {
	{"client.id", "routesim"},
	{"statistics.interval.ms", "1000"},
	{"auto.offset.reset", "earliest"},
	{"partition.assignment.strategy", "cooperative-sticky"},
};
static const struct prop producer_defaults[] = {
	{"client.id", "routesim"},
	{"statistics.interval.ms", "1000"},
	{"enable.idempotence", "true"},
	/* Java-compatible hashing; an empty clientId still hashes to one
	 * partition, so a delivery's positions stay in order. */
	{"partitioner", "murmur2_random"},
	/* Positions wait for the broker rather than expire unseen. */
	{"message.timeout.ms", "0"},
	{"queue.buffering.max.messages", "1000000"},
	{"linger.ms", "5"},
};
/* What routesim's correctness depends on: never overridden. */
static const struct prop consumer_fixed[] = {
	{"enable.auto.offset.store", "false"},
	{"enable.auto.commit", "true"},
	{"enable.partition.eof", "false"},
	{"log.queue", "true"},
};
static const struct prop producer_fixed[] = {
	{"log.queue", "true"},
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static int
set_all(rd_kafka_conf_t *conf, const struct prop *p, size_t n, char *err,
    size_t errlen)
{
	int rc;

	for (size_t i = 0; i < n; i++)
		if ((rc = set(conf, p[i].name, p[i].value, err, errlen)) != 0)
			return rc;
	return 0;
}

/* Builds the configuration of one client ('C' or 'P'). */
int
rs_kafka_conf(const struct rs_config *cfg, char which, rd_kafka_conf_t **out,
    char *err, size_t errlen)
{
	const struct prop *defs = which == 'C' ? consumer_defaults :
	    producer_defaults;
	const struct prop *fixed = which == 'C' ? consumer_fixed :
	    producer_fixed;
	size_t ndefs = which == 'C' ? NELEM(consumer_defaults) :
	    NELEM(producer_defaults);
	size_t nfixed = which == 'C' ? NELEM(consumer_fixed) :
	    NELEM(producer_fixed);
	rd_kafka_conf_t *conf;
	int rc;

	if ((rc = load_scopes()) != 0)
		return rs_errf(err, errlen, -EINVAL, "cannot read librdkafka's property "
		    "table: %s", strerror(-rc));
	if ((conf = rd_kafka_conf_new()) == NULL)
		return -ENOMEM;
	if ((rc = set_all(conf, defs, ndefs, err, errlen)) != 0 ||
	    (rc = set(conf, "bootstrap.servers", cfg->bootstrap_servers, err,
	    errlen)) != 0)
		goto fail;
	if (which == 'C' &&
	    (rc = set(conf, "group.id", cfg->group_id, err, errlen)) != 0)
		goto fail;
	for (size_t i = 0; i < cfg->nkafka_props; i++) {
		const struct rs_kafka_prop *p = &cfg->kafka_props[i];
		char scope = prop_scope(p->name);

		if (scope == 0) {
			rc = rs_errf(err, errlen, -EINVAL, "-X %s: unknown librdkafka "
			    "property", p->name);
			goto fail;
		}
		if (scope != '*' && scope != which)
			continue;
		for (size_t j = 0; j < nfixed; j++)
			if (strcmp(p->name, fixed[j].name) == 0)
				log_warnx("-X %s ignored: routesim needs %s",
				    p->name, fixed[j].value);
		if ((rc = set(conf, p->name, p->value, err, errlen)) != 0)
			goto fail;
	}
	if ((rc = set_all(conf, fixed, nfixed, err, errlen)) != 0)
		goto fail;
	*out = conf;
	return 0;
fail:
	rd_kafka_conf_destroy(conf);
	return rc;
}

int
rs_kafka_check_config(const struct rs_config *cfg, char *err, size_t errlen)
{
	rd_kafka_conf_t *c = NULL, *p = NULL;
	int rc;

	if ((rc = rs_kafka_conf(cfg, 'C', &c, err, errlen)) != 0)
		return rc;
	rc = rs_kafka_conf(cfg, 'P', &p, err, errlen);
	rd_kafka_conf_destroy(c);
	if (p != NULL)
		rd_kafka_conf_destroy(p);
	return rc;
}

/* ---- librdkafka callbacks (all served on the loop thread) ------------- */

static void
log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	enum rs_log_level l = level <= 3 ? RS_LOG_ERROR :
	    level == 4 ? RS_LOG_WARN : level <= 6 ? RS_LOG_INFO : RS_LOG_DEBUG;

	/* A broker connection's failure is logged by librdkafka (FAIL) and
	 * raised as an error event too; error_cb() reports it once. */
	if (strcmp(fac, "FAIL") == 0)
		l = RS_LOG_DEBUG;

	rs_log(l, "librdkafka client=%s facility=%s: %s", rd_kafka_name(rk),
	    fac, buf);
}

/*
 * Keeps the client's latest statistics JSON unread: parsing it costs about
 * a million instructions, and nothing needs it until someone asks for
 * health or metrics (rs_kafka_ready(), rs_kafka_lags()).  Returning 1
 * takes the string over from librdkafka.
 */
static int
stats_cb(rd_kafka_t *rk, char *json, size_t len, void *opaque)
{
	struct rs_kafka *k = opaque;
	struct rs_kafka_stats *st = rk == k->producer ? &k->pstats : &k->cstats;

	if (st->json != NULL)
		rd_kafka_mem_free(rk, st->json);
	st->json = json;
	st->len = len;
	return 1;
}

/* Drops statistics that predate what the caller learnt since. */
static void
stats_drop(rd_kafka_t *rk, struct rs_kafka_stats *st)
{
	if (st->json != NULL)
		rd_kafka_mem_free(rk, st->json);
	st->json = NULL;
}

static int
grow_lags(struct rs_kafka *k)
{
	size_t cap = k->lags_cap ? k->lags_cap * 2 : 64;
	struct rs_partition_lag *v = reallocarray(k->lags, cap, sizeof(*v));

	if (v == NULL)
		return -ENOMEM;
	k->lags = v;
	k->lags_cap = cap;
	return 0;
}

/* Reads broker states (and, for the consumer, partition lags) from the
 * client's unread statistics, if any. */
static void
stats_read(struct rs_kafka *k, rd_kafka_t *rk, struct rs_kafka_stats *st)
{
	cJSON *root, *b, *parts, *p;
	int up = 0;

	if (st->json == NULL)
		return;
	root = cJSON_ParseWithLength(st->json, st->len);
	stats_drop(rk, st);
	if (root == NULL)
		return;
	cJSON_ArrayForEach(b, cJSON_GetObjectItemCaseSensitive(root, "brokers"))
	{
		const cJSON *state = cJSON_GetObjectItemCaseSensitive(b, "state");
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(b, "nodeid");

		if (cJSON_IsNumber(id) && id->valuedouble >= 0 &&
		    cJSON_IsString(state) && strcmp(state->valuestring, "UP") == 0)
			up++;
	}
	if (rk == k->producer) {
		k->producer_brokers_up = up;
		goto out;
	}
	k->consumer_brokers_up = up;
	k->nlags = 0;
	parts = cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(root, "topics"), k->read_topic),
	    "partitions");
	cJSON_ArrayForEach(p, parts) {
		const cJSON *lag = cJSON_GetObjectItemCaseSensitive(p,
		    "consumer_lag");
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(p,
		    "partition");

		if (!cJSON_IsNumber(lag) || lag->valuedouble < 0 ||
		    !cJSON_IsNumber(id) || id->valuedouble < 0)
			continue;
		if (k->nlags == k->lags_cap && grow_lags(k) != 0) {
			log_warnx("consumer lag of %zu partitions only: out of "
			    "memory", k->nlags);
			break;
		}
		k->lags[k->nlags].partition = (int32_t)id->valuedouble;
		k->lags[k->nlags++].lag = (int64_t)lag->valuedouble;
	}
out:
	cJSON_Delete(root);
}

static void
stats_refresh(struct rs_kafka *k)
{
	if (k->consumer != NULL)
		stats_read(k, k->consumer, &k->cstats);
	if (k->producer != NULL)
		stats_read(k, k->producer, &k->pstats);
}

static void
log_error(const char *what, rd_kafka_error_t *error)
{
	if (error == NULL)
		return;
	log_warnx("%s: %s", what, rd_kafka_error_string(error));
	rd_kafka_error_destroy(error);
}

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
	rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);

	rd_kafka_topic_partition_list_add(l, k->progress_topic, partition);
	log_error("restore unassign", rd_kafka_incremental_unassign(k->reader,
	    l));
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

static void
error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
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
	if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) {
		if (rk == k->consumer) {
			stats_drop(rk, &k->cstats);
			k->consumer_brokers_up = 0;
		} else if (rk == k->producer) {
			stats_drop(rk, &k->pstats);
			k->producer_brokers_up = 0;
		}
	}
	if (rk == k->reader && missing_partition(err)) {
		restore_unavailable(k, reason);
		return;
	}
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
	if (++k->reports % RS_KAFKA_BATCH == 0 && !k->yielded &&
	    uv_hrtime() >= k->slice_end) {
		k->yielded = true;
		rd_kafka_yield(rk);
	}
	if (m->rkt == k->prtopic)
		k->cbs.on_progress_delivery(k->ud, m->partition,
		    rs_progress_key_parse(m->key, m->key_len), m->_private,
		    m->err);
	else
		k->cbs.on_delivery(k->ud, m->_private, m->err);
}

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

static void flush_offsets(struct rs_kafka *k);

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
static void
rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
    rd_kafka_topic_partition_list_t *parts, void *opaque)
{
	struct rs_kafka *k = opaque;
	rd_kafka_resp_err_t ret = RD_KAFKA_RESP_ERR_NO_ERROR;

	switch (err) {
	case RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS:
		log_partitions("assigned", parts);
		k->assigned = true;
		if (cooperative(rk))
			log_error("incremental assign",
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
	flush_offsets(k);
	if (cooperative(k->consumer)) {
		log_error("incremental unassign",
		    rd_kafka_incremental_unassign(k->consumer, parts));
	} else if ((ret = rd_kafka_assign(k->consumer, NULL)) !=
	    RD_KAFKA_RESP_ERR_NO_ERROR) {
		log_warnx("unassign: %s", rd_kafka_err2str(ret));
	}
	log_partitions("handed off", parts);
	rd_kafka_topic_partition_list_destroy(parts);
}

static void
commit_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
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

/* ---- Serving the queues ----------------------------------------------- */

static void check_stopped(struct rs_kafka *k);
static void on_more(uv_idle_t *h);

static void
on_watch_readable(uv_poll_t *h, int status, int events)
{
	struct rs_kafka_watch *w = h->data;

	(void)events;
	if (status < 0)
		log_warnx("kafka queue poll: %s", uv_strerror(status));
	w->cb(w);
}

int
rs_kafka_watch_init(struct rs_kafka_watch *w, uv_loop_t *loop,
    rd_kafka_queue_t *queue, void (*cb)(struct rs_kafka_watch *),
    void *data)
{
	static const uint64_t one = 1;
	int rc;

	w->queue = queue;
	w->cb = cb;
	w->data = data;
	if ((w->fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0)
		return -errno;
	if ((rc = uv_poll_init(loop, &w->poll, w->fd)) != 0) {
		close(w->fd);
		return rc;
	}
	w->poll.data = w;
	if ((rc = uv_poll_start(&w->poll, UV_READABLE, on_watch_readable)) !=
	    0) {
		/* The handle is initialised: it must be closed. */
		rs_kafka_watch_close(w, NULL);
		return rc;
	}
	rd_kafka_queue_io_event_enable(queue, w->fd, &one, sizeof(one));
	/* The event fires only when the queue goes from empty to non-empty:
	 * serve whatever was queued before it was enabled. */
	if (write(w->fd, &one, sizeof(one)) < 0)
		log_warn("eventfd write");
	return 0;
}

void
rs_kafka_watch_rearm(struct rs_kafka_watch *w)
{
	uint64_t v;

	/* EAGAIN: nothing was signalled, which is fine. */
	if (read(w->fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		log_warn("eventfd read");
}

void
rs_kafka_watch_close(struct rs_kafka_watch *w, uv_close_cb close_cb)
{
	rd_kafka_queue_io_event_enable(w->queue, -1, NULL, 0);
	close(w->fd);
	w->fd = -1;
	uv_close((uv_handle_t *)&w->poll, close_cb);
}

static void
flush_offsets(struct rs_kafka *k)
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

/* Returns true when the slice ran out before the queue was empty. */
static bool
drain_consumer(struct rs_kafka *k)
{
	rd_kafka_message_t *batch[RS_KAFKA_BATCH];
	uint64_t end = uv_hrtime() + RS_KAFKA_SLICE_US * 1000ull;
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
	flush_offsets(k);
	return n == RS_KAFKA_BATCH;
}

/* The restore reader: progress records, and the end of each partition. */
static bool
drain_reader(struct rs_kafka *k)
{
	uint64_t end = uv_hrtime() + RS_KAFKA_SLICE_US * 1000ull;
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
		if (n % RS_KAFKA_BATCH == 0 && uv_hrtime() >= end)
			return true;
	}
	return false;
}

int
rs_kafka_restore(struct rs_kafka *k, int32_t partition)
{
	rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
	rd_kafka_error_t *error;

	rd_kafka_topic_partition_list_add(l, k->progress_topic,
	    partition)->offset = RD_KAFKA_OFFSET_BEGINNING;
	error = rd_kafka_incremental_assign(k->reader, l);
	rd_kafka_topic_partition_list_destroy(l);
	if (error != NULL) {
		log_error("restore assign", error);
		return -EIO;
	}
	return 0;
}

static void
pause_resume(struct rs_kafka *k, int32_t partition, bool pause)
{
	rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
	rd_kafka_resp_err_t err;

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
	k->slice_end = uv_hrtime() + RS_KAFKA_SLICE_US * 1000ull;
	served = rd_kafka_poll(k->producer, 0);
	if (k->full && served > 0 && k->queued < k->high_water) {
		k->full = false;
		if (k->cbs.on_room != NULL)
			k->cbs.on_room(k->ud);
	}
	return k->yielded;
}

static void
drain(struct rs_kafka *k)
{
	bool more = false;

	if (k->consumer == NULL)
		return;
	more |= drain_consumer(k);
	more |= drain_producer(k);
	more |= drain_reader(k);
	if (more) {
		int rc = uv_idle_start(&k->more, on_more);	/* idempotent */

		if (rc != 0)	/* the fallback timer will carry on */
			log_warnx("uv_idle_start: %s", uv_strerror(rc));
	}
	check_stopped(k);
}

static void
on_watch(struct rs_kafka_watch *w)
{
	struct rs_kafka *k = w->data;

	/* A slice ran out this turn and on_more() carries on next turn,
	 * after the timers: draining here too would double the turn. */
	if (uv_is_active((uv_handle_t *)&k->more)) {
		rs_kafka_watch_rearm(w);
		return;
	}
	drain(k);
}

static void
on_more(uv_idle_t *h)
{
	struct rs_kafka *k = h->data;

	uv_idle_stop(h);
	drain(k);
}

static void
on_fallback(uv_timer_t *h)
{
	drain(h->data);
}

/* ---- Start ------------------------------------------------------------ */

static int
new_client(rd_kafka_type_t type, rd_kafka_conf_t *conf, rd_kafka_t **out,
    char *err, size_t errlen)
{
	char why[512];

	if ((*out = rd_kafka_new(type, conf, why, sizeof(why))) == NULL) {
		rd_kafka_conf_destroy(conf);
		return rs_errf(err, errlen, -EINVAL, "cannot create kafka %s: %s",
		    type == RD_KAFKA_CONSUMER ? "consumer" : "producer", why);
	}
	return 0;
}

/* The restore reader: a consumer without a group that reads progress
 * partitions to their end (enable.partition.eof) and commits nothing. */
static int
new_reader(struct rs_kafka *k, const struct rs_config *cfg, char *err,
    size_t errlen)
{
	static const struct prop reader_props[] = {
		{"enable.partition.eof", "true"},
		{"enable.auto.commit", "false"},
		{"statistics.interval.ms", "0"},
		{"client.id", "routesim-restore"},
	};
	rd_kafka_conf_t *conf = NULL;
	char group[512];
	int rc;

	if ((rc = rs_kafka_conf(cfg, 'C', &conf, err, errlen)) != 0)
		return rc;
	/* Never joined: assign() only.  A group id of its own keeps it
	 * apart from the request consumers all the same. */
	snprintf(group, sizeof(group), "%s.restore", cfg->group_id);
	if ((rc = set_all(conf, reader_props, NELEM(reader_props), err,
	    errlen)) != 0 ||
	    (rc = set(conf, "group.id", group, err, errlen)) != 0) {
		rd_kafka_conf_destroy(conf);
		return rc;
	}
	rd_kafka_conf_set_opaque(conf, k);
	rd_kafka_conf_set_log_cb(conf, log_cb);
	rd_kafka_conf_set_error_cb(conf, error_cb);
	if ((rc = new_client(RD_KAFKA_CONSUMER, conf, &k->reader, err,
	    errlen)) != 0)
		return rc;
	rd_kafka_poll_set_consumer(k->reader);
	k->rq = rd_kafka_queue_get_consumer(k->reader);
	return 0;
}

static void
noop_closed(uv_handle_t *h)
{
	(void)h;
}

/* Undoes a partial rs_kafka_start(); the caller must still run the loop
 * once so that the closed handles are released. */
static void
start_failed(struct rs_kafka *k, unsigned handles)
{
	if (handles >= 1)
		rs_kafka_watch_close(&k->cwatch, noop_closed);
	if (handles >= 2)
		rs_kafka_watch_close(&k->pwatch, noop_closed);
	if (handles >= 3)
		rs_kafka_watch_close(&k->rwatch, noop_closed);
	if (handles >= 4) {
		uv_close((uv_handle_t *)&k->more, noop_closed);
		uv_close((uv_handle_t *)&k->fallback, noop_closed);
		uv_close((uv_handle_t *)&k->deadline, noop_closed);
	}
	if (k->ptopic != NULL)
		rd_kafka_topic_destroy(k->ptopic);
	if (k->prtopic != NULL)
		rd_kafka_topic_destroy(k->prtopic);
	if (k->cq != NULL)
		rd_kafka_queue_destroy(k->cq);
	if (k->rq != NULL)
		rd_kafka_queue_destroy(k->rq);
	if (k->reader != NULL)
		rd_kafka_destroy_flags(k->reader,
		    RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
	if (k->pq != NULL)
		rd_kafka_queue_destroy(k->pq);
	if (k->to_store != NULL)
		rd_kafka_topic_partition_list_destroy(k->to_store);
	if (k->consumer != NULL)
		rd_kafka_destroy_flags(k->consumer,
		    RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
	if (k->producer != NULL)
		rd_kafka_destroy(k->producer);
	k->consumer = k->producer = NULL;
}

/* Counts in *handles what must be closed if a later step fails. */
static int
start_handles(struct rs_kafka *k, unsigned *handles, char *err,
    size_t errlen)
{
	int rc;

	if ((rc = rs_kafka_watch_init(&k->cwatch, k->loop, k->cq, on_watch,
	    k)) != 0)
		goto fail;
	++*handles;
	if ((rc = rs_kafka_watch_init(&k->pwatch, k->loop, k->pq, on_watch,
	    k)) != 0)
		goto fail;
	++*handles;
	if ((rc = rs_kafka_watch_init(&k->rwatch, k->loop, k->rq, on_watch,
	    k)) != 0)
		goto fail;
	++*handles;
	/* These cannot fail on an initialised loop. */
	uv_idle_init(k->loop, &k->more);
	uv_timer_init(k->loop, &k->fallback);
	uv_timer_init(k->loop, &k->deadline);
	*handles += 3;
	k->open_handles = *handles;
	k->more.data = k->fallback.data = k->deadline.data = k;
	if ((rc = uv_timer_start(&k->fallback, on_fallback, FALLBACK_MS,
	    FALLBACK_MS)) != 0)
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

int
rs_kafka_start(struct rs_kafka *k, uv_loop_t *loop,
    const struct rs_config *cfg, const struct rs_kafka_cbs *cbs, void *ud,
    char *err, size_t errlen)
{
	rd_kafka_conf_t *cc = NULL, *pc = NULL;
	rd_kafka_resp_err_t kerr;
	unsigned handles = 0;
	int rc;

	memset(k, 0, sizeof(*k));
	k->loop = loop;
	k->cbs = *cbs;
	k->ud = ud;
	k->read_topic = cfg->read_topic;
	k->progress_topic = cfg->progress_topic;
	k->consumer_brokers_up = k->producer_brokers_up = -1;

	if ((rc = rs_kafka_conf(cfg, 'C', &cc, err, errlen)) != 0 ||
	    (rc = rs_kafka_conf(cfg, 'P', &pc, err, errlen)) != 0)
		goto fail;
	rd_kafka_conf_set_opaque(cc, k);
	rd_kafka_conf_set_opaque(pc, k);
	rd_kafka_conf_set_log_cb(cc, log_cb);
	rd_kafka_conf_set_log_cb(pc, log_cb);
	rd_kafka_conf_set_error_cb(cc, error_cb);
	rd_kafka_conf_set_error_cb(pc, error_cb);
	rd_kafka_conf_set_rebalance_cb(cc, rebalance_cb);
	rd_kafka_conf_set_offset_commit_cb(cc, commit_cb);
	rd_kafka_conf_set_stats_cb(cc, stats_cb);
	rd_kafka_conf_set_stats_cb(pc, stats_cb);
	rd_kafka_conf_set_dr_msg_cb(pc, dr_msg_cb);

	rc = new_client(RD_KAFKA_CONSUMER, cc, &k->consumer, err, errlen);
	cc = NULL;	/* owned by the client now, or destroyed */
	if (rc != 0)
		goto fail;
	if ((rc = high_water(pc, &k->high_water, err, errlen)) != 0)
		goto fail;
	rc = new_client(RD_KAFKA_PRODUCER, pc, &k->producer, err, errlen);
	pc = NULL;
	if (rc != 0)
		goto fail;
	if ((rc = new_reader(k, cfg, err, errlen)) != 0)
		goto fail;

	/* Everything the consumer emits, logs included, on one queue. */
	rd_kafka_poll_set_consumer(k->consumer);
	k->cq = rd_kafka_queue_get_consumer(k->consumer);
	k->pq = rd_kafka_queue_get_main(k->producer);
	if ((kerr = rd_kafka_set_log_queue(k->consumer, NULL)) != 0 ||
	    (kerr = rd_kafka_set_log_queue(k->producer, NULL)) != 0) {
		rc = rs_errf(err, errlen, -EINVAL, "kafka log queue: %s",
		    rd_kafka_err2str(kerr));
		goto fail;
	}
	if ((k->ptopic = rd_kafka_topic_new(k->producer, cfg->produce_topic,
	    NULL)) == NULL) {
		rc = rs_errf(err, errlen, -EINVAL, "topic %s: %s", cfg->produce_topic,
		    rd_kafka_err2str(rd_kafka_last_error()));
		goto fail;
	}
	if ((k->prtopic = rd_kafka_topic_new(k->producer, cfg->progress_topic,
	    NULL)) == NULL) {
		rc = rs_errf(err, errlen, -EINVAL, "topic %s: %s",
		    cfg->progress_topic,
		    rd_kafka_err2str(rd_kafka_last_error()));
		goto fail;
	}
	k->to_store = rd_kafka_topic_partition_list_new(4);
	if ((rc = start_handles(k, &handles, err, errlen)) != 0)
		goto fail;

	log_info("kafka started bootstrap=%s group=%s read=%s produce=%s",
	    cfg->bootstrap_servers, cfg->group_id, cfg->read_topic,
	    cfg->produce_topic);
	return 0;
fail:
	if (cc != NULL)
		rd_kafka_conf_destroy(cc);
	if (pc != NULL)
		rd_kafka_conf_destroy(pc);
	start_failed(k, handles);
	return rc < 0 ? rc : -EIO;
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

int
rs_kafka_produce(struct rs_kafka *k, const void *key, size_t keylen,
    const void *payload, size_t len, void *opaque)
{
	rd_kafka_resp_err_t err;

	if (k->queued >= k->high_water) {
		k->full = true;
		return -ENOBUFS;
	}
	if (rd_kafka_produce(k->ptopic, RD_KAFKA_PARTITION_UA,
	    RD_KAFKA_MSG_F_COPY, (void *)(uintptr_t)payload, len, key, keylen,
	    opaque) == 0) {
		if (k->queued++ == 0)
			k->waiting_since = uv_now(k->loop);
		return 0;
	}
	err = rd_kafka_last_error();
	if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
		k->full = true;
		return -ENOBUFS;
	}
	if (rs_kafka_refused(err))
		return -EPERM;
	log_warnx("produce to %s: %s", rd_kafka_topic_name(k->ptopic),
	    rd_kafka_err2str(err));
	return -EIO;
}

int
rs_kafka_produce_progress(struct rs_kafka *k, int32_t partition,
    int64_t offset, const void *value, size_t len, void *opaque)
{
	char key[21];
	size_t klen = rs_progress_key(offset, key);

	if (rd_kafka_produce(k->prtopic, partition, RD_KAFKA_MSG_F_COPY,
	    (void *)(uintptr_t)value, len, key, klen, opaque) == 0) {
		if (k->queued++ == 0)
			k->waiting_since = uv_now(k->loop);
		return 0;
	}
	if (rs_kafka_refused(rd_kafka_last_error()))
		return -EPERM;
	log_warnx("progress record partition=%d offset=%lld: %s", partition,
	    (long long)offset, rd_kafka_err2str(rd_kafka_last_error()));
	return -EIO;
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

bool
rs_kafka_ready(struct rs_kafka *k, const char **why)
{
	stats_refresh(k);
	if (k->stopping)
		*why = "shutting down";
	else if (k->consumer_brokers_up <= 0 || k->producer_brokers_up <= 0)
		*why = k->consumer_brokers_up < 0 || k->producer_brokers_up < 0 ?
		    "waiting for the first broker connection" :
		    "no broker reachable";
	else if (!k->assigned)
		*why = "no partition assignment from the consumer group yet";
	else if (k->queued > 0 &&
	    uv_now(k->loop) - k->waiting_since >= RS_KAFKA_STALL_MS)
		/* Connections can look up while the broker answers nothing
		 * (frozen, overloaded): the silence says more. */
		*why = "the broker has acknowledged no message for "
		    RS_KAFKA_STALL_TEXT;
	else
		return true;
	return false;
}

size_t
rs_kafka_lags(struct rs_kafka *k, const struct rs_partition_lag **lags)
{
	stats_refresh(k);
	*lags = k->lags;
	return k->nlags;
}

size_t
rs_kafka_outq_len(const struct rs_kafka *k)
{
	return k->producer ? (size_t)rd_kafka_outq_len(k->producer) : 0;
}

/* ---- Stop ------------------------------------------------------------- */

static void
handle_closed(struct rs_kafka *k)
{
	if (--k->open_handles > 0)
		return;
	rd_kafka_queue_destroy(k->cq);
	rd_kafka_queue_destroy(k->pq);
	rd_kafka_queue_destroy(k->rq);
	rd_kafka_topic_destroy(k->ptopic);
	rd_kafka_topic_destroy(k->prtopic);
	rd_kafka_topic_partition_list_destroy(k->to_store);
	if (k->revoking != NULL)
		rd_kafka_topic_partition_list_destroy(k->revoking);
	rd_kafka_destroy_flags(k->reader, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
	stats_drop(k->consumer, &k->cstats);
	stats_drop(k->producer, &k->pstats);
	free(k->lags);
	k->lags = NULL;
	k->nlags = k->lags_cap = 0;
	if (k->closing_consumer && !rd_kafka_consumer_closed(k->consumer))
		rd_kafka_destroy_flags(k->consumer,
		    RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
	else
		rd_kafka_destroy(k->consumer);
	rd_kafka_destroy(k->producer);
	k->consumer = k->producer = NULL;
	if (k->cbs.on_stopped != NULL)
		k->cbs.on_stopped(k->ud, k->undelivered);
}

static void
on_handle_closed(uv_handle_t *h)
{
	handle_closed(h->data);
}

static void
on_watch_closed(uv_handle_t *h)
{
	struct rs_kafka_watch *w = h->data;

	handle_closed(w->data);
}

static void
check_stopped(struct rs_kafka *k)
{
	if (!k->stopping || k->open_handles == 0 ||
	    uv_is_closing((uv_handle_t *)&k->fallback))
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
	rs_kafka_watch_close(&k->cwatch, on_watch_closed);
	rs_kafka_watch_close(&k->pwatch, on_watch_closed);
	rs_kafka_watch_close(&k->rwatch, on_watch_closed);
	uv_close((uv_handle_t *)&k->more, on_handle_closed);
	uv_close((uv_handle_t *)&k->fallback, on_handle_closed);
	uv_close((uv_handle_t *)&k->deadline, on_handle_closed);
}

static void
on_deadline(uv_timer_t *h)
{
	struct rs_kafka *k = h->data;

	k->deadline_hit = true;
	if (k->revoking != NULL) {
		log_warnx("shutdown: hand-off not finished in time, leaving "
		    "the group anyway");
		rs_kafka_revoke_done(k);
	}
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
	flush_offsets(k);
	error = rd_kafka_consumer_close_queue(k->consumer, k->cq);
	if (error != NULL) {
		log_warnx("consumer close: %s", rd_kafka_error_string(error));
		rd_kafka_error_destroy(error);
	} else {
		k->closing_consumer = true;
	}
	/* Poll faster than the fallback while shutting down.  Neither call
	 * can fail on an open handle with a callback. */
	if (uv_timer_start(&k->fallback, on_fallback, 10, 10) != 0 ||
	    uv_timer_start(&k->deadline, on_deadline, timeout_ms, 0) != 0)
		log_warnx("shutdown timers did not start");
	drain(k);
}
