/*
 * metrics.h - the process's counters and their Prometheus exposition.
 *
 * One global struct, written only on the loop thread by the module where
 * each event happens (as Redis keeps its stat_* fields in one place), and
 * rendered for /metrics in the Prometheus text format (version 0.0.4):
 * routesim_ prefix, base units (seconds), _total counters, no per-route or
 * per-client labels.
 */
#ifndef ROUTESIM_METRICS_H
#define ROUTESIM_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "routesim/buf.h"
#include "routesim/lag.h"
#include "routesim/reject.h"

/* Upper bounds of the tick lateness histogram, in milliseconds. */
#define RS_LATENESS_BUCKETS 11
extern const unsigned rs_lateness_bounds_ms[RS_LATENESS_BUCKETS];

struct rs_metrics {
	uint64_t requests_received;
	uint64_t requests_rejected[RS_REJECT_COUNT];
	uint64_t requests_defaulted_client_id;	/* served with clientId "" */
	uint64_t deliveries_started;	/* new or resumed */
	uint64_t deliveries_resumed;	/* from a progress record */
	uint64_t deliveries_finished;	/* every position acknowledged */
	uint64_t deliveries_failed;	/* a position permanently failed */
	uint64_t deliveries_stopped;	/* stopped before the end: hand-off
					 * (shutdown included) or a refused
					 * topic */
	uint64_t deliveries_active;	/* gauge */
	uint64_t deliveries_max;	/* gauge: --max-deliveries */
	uint64_t capped_since_ns;	/* uv_hrtime() reading stopped; 0 */
	double capped_seconds;		/* ended periods of that */
	uint64_t positions_produced;
	uint64_t positions_delivered;
	uint64_t positions_failed;
	uint64_t producer_queue_full;	/* times a delivery had to pause */
	/* Tick lateness: how long after its due time a position went out. */
	uint64_t lateness_buckets[RS_LATENESS_BUCKETS]; /* not cumulative */
	uint64_t lateness_count;
	uint64_t lateness_sum_ms;
	double loop_lag_seconds;	/* gauge, see daemon_http.c */
};

extern struct rs_metrics rs_metrics;

static inline void
rs_metrics_lateness(uint64_t ms)
{
	size_t i = 0;

	while (i < RS_LATENESS_BUCKETS - 1 && ms > rs_lateness_bounds_ms[i])
		i++;
	rs_metrics.lateness_buckets[i]++;
	rs_metrics.lateness_count++;
	rs_metrics.lateness_sum_ms += ms;
}

/* What the metrics module cannot see by itself. */
struct rs_web_stats;

struct rs_metrics_state {
	size_t producer_queue;		/* messages in librdkafka's queue */
	int ready;			/* 0 or 1 */
	const char *read_topic;
	const struct rs_partition_lag *lags;
	size_t nlags;
	const struct rs_web_stats *http;	/* NULL: no HTTP server */
};

void rs_metrics_render(struct rs_buf *out, const struct rs_metrics_state *st);

/* Pieces of the exposition, for other programs' metrics (the tracker):
 * "# HELP" and "# TYPE" lines, then an unlabelled sample. */
void rs_metrics_header(struct rs_buf *b, const char *name, const char *type,
    const char *help);
void rs_metrics_counter(struct rs_buf *b, const char *name, const char *help,
    uint64_t v);
void rs_metrics_gauge(struct rs_buf *b, const char *name, const char *help,
    double v);
/* routesim_build_info: versions of routesim and its libraries. */
void rs_metrics_build_info(struct rs_buf *b);

#endif
