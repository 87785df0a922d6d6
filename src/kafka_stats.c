/*
 * kafka_stats.c - librdkafka's statistics, read only when asked for:
 * broker states, consumer lags, readiness (kafka.h).
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kafka-int.h"
#include "routesim/log.h"

/*
 * Keeps the client's latest statistics JSON unread: parsing it costs about
 * a million instructions, and nothing needs it until someone asks for
 * health or metrics (rs_kafka_ready(), rs_kafka_lags()).  Returning 1
 * takes the string over from librdkafka.
 */
int
rs__kafka_stats_cb(rd_kafka_t *rk, char *json, size_t len, void *opaque)
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
		const cJSON *state = cJSON_GetObjectItemCaseSensitive(b,
		    "state");
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(b, "nodeid");

		if (cJSON_IsNumber(id) && id->valuedouble >= 0 &&
		    cJSON_IsString(state) &&
		    strcmp(state->valuestring, "UP") == 0)
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

void
rs__kafka_brokers_down(struct rs_kafka *k, rd_kafka_t *rk)
{
	if (rk == k->consumer) {
		stats_drop(rk, &k->cstats);
		k->consumer_brokers_up = 0;
	} else if (rk == k->producer) {
		stats_drop(rk, &k->pstats);
		k->producer_brokers_up = 0;
	}
}

void
rs__kafka_stats_free(struct rs_kafka *k)
{
	stats_drop(k->consumer, &k->cstats);
	stats_drop(k->producer, &k->pstats);
	free(k->lags);
	k->lags = NULL;
	k->nlags = k->lags_cap = 0;
}

bool
rs_kafka_ready(struct rs_kafka *k, const char **why)
{
	stats_refresh(k);
	if (k->stopping)
		*why = "shutting down";
	else if (k->consumer_brokers_up <= 0 || k->producer_brokers_up <= 0)
		*why = k->consumer_brokers_up < 0 ||
		    k->producer_brokers_up < 0 ?
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
