/*
 * topics.c - the startup check of the topics (see topics.h).
 *
 * The worker (libuv's thread pool) owns a producer-type client for the
 * length of the check and touches nothing of the loop's: it fills the
 * facts in struct rs_topics and returns.  after_work() judges them and
 * calls done() on the loop thread.  A client of its own costs a
 * connection at startup, but keeps the check out of the lifetime of the
 * daemon's clients.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "routesim/log.h"
#include "routesim/topics.h"

#define METADATA_TIMEOUT_MS 1000
#define DESCRIBE_TIMEOUT_MS 10000

static const char *const role_name[RS_TOPIC_NROLES] = {
	"request", "position", "progress",
};

bool
rs_topics_compacted(const char *policy)
{
	const char *p = policy;

	/* A comma-separated list: "compact", "compact,delete". */
	while (p != NULL && *p != '\0') {
		size_t n;

		p += strspn(p, " ,");
		n = strcspn(p, " ,");
		if (n == 7 && strncmp(p, "compact", 7) == 0)
			return true;
		p += n;
	}
	return false;
}

/* Appends "; "-separated text to buf. */
static void
add(char *buf, size_t len, const char *fmt, ...) RS_PRINTF(3, 4);

static void
add(char *buf, size_t len, const char *fmt, ...)
{
	size_t used = strlen(buf);
	va_list ap;

	if (used > 0 && used + 2 < len) {
		memcpy(buf + used, "; ", 3);
		used += 2;
	}
	if (used + 1 >= len)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + used, len - used, fmt, ap);
	va_end(ap);
}

int
rs_topics_judge(const struct rs_topic_facts *f, char *msg, size_t msglen,
    char *warn, size_t warnlen)
{
	int req = f->partitions[RS_TOPIC_REQUEST];
	int prog = f->partitions[RS_TOPIC_PROGRESS];

	msg[0] = warn[0] = '\0';
	for (int r = 0; r < RS_TOPIC_NROLES; r++)
		if (f->partitions[r] == RS_TOPIC_UNUSED)
			continue;
		else if (f->partitions[r] == RS_TOPIC_MISSING)
			add(msg, msglen, "%s topic %s does not exist",
			    role_name[r], f->name[r]);
		else if (f->partitions[r] < 0)
			add(warn, warnlen, "%s topic %s not checked: not "
			    "authorised to describe it", role_name[r],
			    f->name[r]);
	if (prog >= 0) {
		if (f->policy != NULL && !rs_topics_compacted(f->policy))
			add(msg, msglen, "progress topic %s is not compacted "
			    "(cleanup.policy=%s; create it with --config "
			    "cleanup.policy=compact)",
			    f->name[RS_TOPIC_PROGRESS],
			    f->policy);
		else if (f->policy == NULL)
			add(warn, warnlen,
			    "cleanup.policy of progress topic %s "
			    "not checked: %s", f->name[RS_TOPIC_PROGRESS],
			    f->policy_error != NULL ? f->policy_error :
			    "unknown");
	}
	if (req >= 0 && prog >= 0 && prog < req)
		add(msg, msglen, "progress topic %s has %d partition%s, "
		    "fewer than the %d of request topic %s",
		    f->name[RS_TOPIC_PROGRESS], prog, prog == 1 ? "" : "s", req,
		    f->name[RS_TOPIC_REQUEST]);
	return msg[0] != '\0' ? -EINVAL : 0;
}

int
rs_topics_partitions(const struct rd_kafka_metadata *md, const char *name)
{
	int n = RS_TOPIC_MISSING;

	for (int i = 0; i < md->topic_cnt; i++) {
		const rd_kafka_metadata_topic_t *mt = &md->topics[i];

		if (strcmp(mt->topic, name) != 0 ||
		    mt->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART)
			continue;
		n = mt->err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED ?
		    RS_TOPIC_UNKNOWN : mt->partition_cnt;
	}
	return n;
}

/* ---- The worker (thread pool) ----------------------------------------- */

static void
nap_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

/* Metadata of every topic, so that asking creates none; retried until
 * the broker answers or the check is cancelled. */
static int
read_partitions(struct rs_topics *t, rd_kafka_t *rk)
{
	const struct rd_kafka_metadata *md = NULL;
	rd_kafka_resp_err_t err;

	for (;;) {
		if (atomic_load(&t->cancel))
			return -ECANCELED;
		t->attempts++;
		err = rd_kafka_metadata(rk, 1, NULL, &md,
		    METADATA_TIMEOUT_MS);
		if (err == RD_KAFKA_RESP_ERR_NO_ERROR)
			break;
		nap_ms(200);
	}
	for (int r = 0; r < RS_TOPIC_NROLES; r++)
		t->partitions[r] = t->name[r][0] == '\0' ? RS_TOPIC_UNUSED :
		    rs_topics_partitions(md, t->name[r]);
	t->broker = md->orig_broker_id;
	rd_kafka_metadata_destroy(md);
	return 0;
}

/* Copies the cleanup.policy of a DescribeConfigs result, or why not. */
static void
take_policy(struct rs_topics *t, rd_kafka_event_t *ev)
{
	const rd_kafka_DescribeConfigs_result_t *res;
	const rd_kafka_ConfigResource_t **rs;
	const rd_kafka_ConfigEntry_t **entries;
	size_t nres = 0, nent = 0;

	if (rd_kafka_event_error(ev) != RD_KAFKA_RESP_ERR_NO_ERROR) {
		t->unsupported = rd_kafka_event_error(ev) ==
		    RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE;
		snprintf(t->policy_error, sizeof(t->policy_error), "%s",
		    rd_kafka_event_error_string(ev));
		return;
	}
	res = rd_kafka_event_DescribeConfigs_result(ev);
	rs = res != NULL ? rd_kafka_DescribeConfigs_result_resources(res,
	    &nres) : NULL;
	if (nres != 1) {
		snprintf(t->policy_error, sizeof(t->policy_error),
		    "no result from the broker");
		return;
	}
	if (rd_kafka_ConfigResource_error(rs[0]) !=
	    RD_KAFKA_RESP_ERR_NO_ERROR) {
		snprintf(t->policy_error, sizeof(t->policy_error), "%s",
		    rd_kafka_ConfigResource_error_string(rs[0]) != NULL ?
		    rd_kafka_ConfigResource_error_string(rs[0]) :
		    rd_kafka_err2str(rd_kafka_ConfigResource_error(rs[0])));
		return;
	}
	entries = rd_kafka_ConfigResource_configs(rs[0], &nent);
	for (size_t i = 0; i < nent; i++)
		if (strcmp(rd_kafka_ConfigEntry_name(entries[i]),
		    "cleanup.policy") == 0) {
			const char *v = rd_kafka_ConfigEntry_value(entries[i]);

			snprintf(t->policy, sizeof(t->policy), "%s",
			    v != NULL ? v : "");
			return;
		}
	snprintf(t->policy_error, sizeof(t->policy_error),
	    "the broker did not say");
}

static void
read_policy(struct rs_topics *t, rd_kafka_t *rk)
{
	rd_kafka_ConfigResource_t *res;
	rd_kafka_AdminOptions_t *opts;
	rd_kafka_queue_t *q;
	rd_kafka_event_t *ev;
	char why[256];

	q = rd_kafka_queue_new(rk);
	res = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC,
	    t->name[RS_TOPIC_PROGRESS]);
	opts = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS);
	if (q == NULL || res == NULL || opts == NULL) {
		snprintf(t->policy_error, sizeof(t->policy_error),
		    "out of memory");
		goto out;
	}
	/* Any broker can answer for a topic; the one that answered the
	 * metadata is surely reachable, while librdkafka's default, the
	 * controller, may not be known (librdkafka's mock cluster). */
	if (rd_kafka_AdminOptions_set_request_timeout(opts,
	    DESCRIBE_TIMEOUT_MS, why, sizeof(why)) !=
	    RD_KAFKA_RESP_ERR_NO_ERROR ||
	    rd_kafka_AdminOptions_set_broker(opts, t->broker, why,
	    sizeof(why)) != RD_KAFKA_RESP_ERR_NO_ERROR) {
		snprintf(t->policy_error, sizeof(t->policy_error), "%s", why);
		goto out;
	}
	rd_kafka_DescribeConfigs(rk, &res, 1, opts, q);
	/* The request carries its own timeout; this one only bounds a lost
	 * answer. */
	ev = rd_kafka_queue_poll(q, DESCRIBE_TIMEOUT_MS + 5000);
	if (ev == NULL) {
		snprintf(t->policy_error, sizeof(t->policy_error),
		    "no answer in %d ms", DESCRIBE_TIMEOUT_MS + 5000);
		goto out;
	}
	take_policy(t, ev);
	rd_kafka_event_destroy(ev);
out:
	if (opts != NULL)
		rd_kafka_AdminOptions_destroy(opts);
	if (res != NULL)
		rd_kafka_ConfigResource_destroy(res);
	if (q != NULL)
		rd_kafka_queue_destroy(q);
}

static void
work(uv_work_t *w)
{
	struct rs_topics *t = w->data;
	rd_kafka_conf_t *conf = t->conf;
	rd_kafka_t *rk;
	char why[512];

	t->conf = NULL;
	/* Neither idempotence (an extra request) nor statistics; logs stay
	 * on the client's own queue, which nobody reads: the daemon's
	 * clients report connection and authentication problems. */
	if (rd_kafka_conf_set(conf, "enable.idempotence", "false", why,
	    sizeof(why)) != RD_KAFKA_CONF_OK ||
	    rd_kafka_conf_set(conf, "statistics.interval.ms", "0", why,
	    sizeof(why)) != RD_KAFKA_CONF_OK ||
	    rd_kafka_conf_set(conf, "client.id", "routesim-topics", why,
	    sizeof(why)) != RD_KAFKA_CONF_OK) {
		rd_kafka_conf_destroy(conf);
		snprintf(t->msg, sizeof(t->msg), "topic check client: %s", why);
		t->result = -EINVAL;
		return;
	}
	if ((rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why,
	    sizeof(why))) == NULL) {
		rd_kafka_conf_destroy(conf);
		snprintf(t->msg, sizeof(t->msg), "topic check client: %s", why);
		t->result = -EIO;
		return;
	}
	t->result = read_partitions(t, rk);
	if (t->result == 0 && t->partitions[RS_TOPIC_PROGRESS] >= 0 &&
	    !atomic_load(&t->cancel))
		read_policy(t, rk);
	rd_kafka_destroy(rk);
}

/* ---- Back on the loop ------------------------------------------------- */

static void
after_work(uv_work_t *w, int status)
{
	struct rs_topics *t = w->data;
	struct rs_topic_facts f;

	t->busy = false;
	if (t->conf != NULL) {		/* cancelled before it ran */
		rd_kafka_conf_destroy(t->conf);
		t->conf = NULL;
	}
	if (status == UV_ECANCELED || atomic_load(&t->cancel)) {
		t->done(t, -ECANCELED, "cancelled");
		return;
	}
	if (t->result != 0) {
		t->done(t, t->result, t->msg);
		return;
	}
	for (int r = 0; r < RS_TOPIC_NROLES; r++) {
		f.name[r] = t->name[r];
		f.partitions[r] = t->partitions[r];
	}
	f.policy = t->policy_error[0] == '\0' ? t->policy : NULL;
	f.policy_error = t->policy_error;
	t->result = rs_topics_judge(&f, t->msg, sizeof(t->msg), t->warn,
	    sizeof(t->warn));
	/* Only librdkafka's mock cluster lacks DescribeConfigs (Kafka has
	 * had it since 0.11): no reason to alarm anyone. */
	if (t->warn[0] != '\0')
		rs_log(t->unsupported ? RS_LOG_INFO : RS_LOG_WARN,
		    "topic check: %s", t->warn);
	if (t->result == 0 &&
	    t->partitions[RS_TOPIC_PROGRESS] == RS_TOPIC_UNUSED)
		/* The tracker: no progress topic. */
		log_info("topic check passed request=%s:%d position=%s:%d "
		    "metadata_requests=%u", t->name[RS_TOPIC_REQUEST],
		    t->partitions[RS_TOPIC_REQUEST],
		    t->name[RS_TOPIC_POSITION],
		    t->partitions[RS_TOPIC_POSITION], t->attempts);
	else if (t->result == 0)
		log_info("topic check passed request=%s:%d position=%s:%d "
		    "progress=%s:%d cleanup.policy=%s metadata_requests=%u",
		    t->name[RS_TOPIC_REQUEST], t->partitions[RS_TOPIC_REQUEST],
		    t->name[RS_TOPIC_POSITION],
		    t->partitions[RS_TOPIC_POSITION],
		    t->name[RS_TOPIC_PROGRESS],
		    t->partitions[RS_TOPIC_PROGRESS],
		    t->policy_error[0] == '\0' ? t->policy : "?", t->attempts);
	t->done(t, t->result, t->msg);
}

int
rs_topics_check(struct rs_topics *t, uv_loop_t *loop, rd_kafka_conf_t *conf,
    const char *request, const char *position, const char *progress,
    rs_topics_done_cb done, void *data)
{
	const char *names[RS_TOPIC_NROLES] = {request, position, progress};
	int rc;

	memset(t, 0, sizeof(*t));
	for (int r = 0; r < RS_TOPIC_NROLES; r++)
		snprintf(t->name[r], sizeof(t->name[r]), "%s", names[r]);
	atomic_init(&t->cancel, false);
	t->conf = conf;
	t->done = done;
	t->data = data;
	t->work.data = t;
	if ((rc = uv_queue_work(loop, &t->work, work, after_work)) != 0) {
		rd_kafka_conf_destroy(conf);
		t->conf = NULL;
		return rc;
	}
	t->busy = true;
	return 0;
}

void
rs_topics_cancel(struct rs_topics *t)
{
	atomic_store(&t->cancel, true);
	/* Not started yet: the pool drops it and after_work() says so;
	 * already running (UV_EBUSY): the worker sees the flag. */
	if (t->busy && uv_cancel((uv_req_t *)&t->work) == 0)
		log_debug("topic check cancelled before it ran");
}
