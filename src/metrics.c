/*
 * metrics.c - Prometheus text exposition of struct rs_metrics.
 */
#include "routesim/metrics.h"

#include <librdkafka/rdkafka.h>
#include <uv.h>

#include "routesim/position.h"
#include "routesim/version.h"
#include "routesim/web.h"

struct rs_metrics rs_metrics;

/* The last bucket is +Inf; its bound is only a placeholder. */
const unsigned rs_lateness_bounds_ms[RS_LATENESS_BUCKETS] = {
	1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 0,
};

void
rs_metrics_header(struct rs_buf *b, const char *name, const char *type,
    const char *help)
{
	rs_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name,
	    type);
}

void
rs_metrics_counter(struct rs_buf *b, const char *name, const char *help,
    uint64_t v)
{
	rs_metrics_header(b, name, "counter", help);
	rs_buf_printf(b, "%s %llu\n", name, (unsigned long long)v);
}

void
rs_metrics_gauge(struct rs_buf *b, const char *name, const char *help,
    double v)
{
	char num[RS_NUMBER_MAX];

	rs_metrics_header(b, name, "gauge", help);
	rs_number_format(v, num);
	rs_buf_printf(b, "%s %s\n", name, num);
}

void
rs_metrics_build_info(struct rs_buf *b)
{
	rs_metrics_header(b, "routesim_build_info", "gauge",
	    "Versions of routesim and its libraries.");
	rs_buf_printf(b, "routesim_build_info{version=\"%s\",librdkafka=\"%s\","
	    "libuv=\"%s\"} 1\n", RS_VERSION, rd_kafka_version_str(),
	    uv_version_string());
}

static void
render_requests(struct rs_buf *b, const struct rs_metrics *m)
{
	rs_metrics_counter(b, "routesim_requests_received_total",
	    "Delivery requests read from the request topic.",
	    m->requests_received);
	rs_metrics_header(b, "routesim_requests_rejected_total", "counter",
	    "Requests skipped, by reason.");
	for (int i = 0; i < RS_REJECT_COUNT; i++)
		rs_buf_printf(b, "routesim_requests_rejected_total"
		    "{reason=\"%s\"} %llu\n", rs_reject_name((enum rs_reject)i),
		    (unsigned long long)m->requests_rejected[i]);
	rs_metrics_header(b, "routesim_requests_defaulted_total", "counter",
	    "Requests served with a default for a missing field, as the "
	    "original serves them.");
	rs_buf_printf(b, "routesim_requests_defaulted_total"
	    "{field=\"clientId\"} %llu\n",
	    (unsigned long long)m->requests_defaulted_client_id);
}

/* The deliveries now, and --max-deliveries. */
static void
render_active(struct rs_buf *b, const struct rs_metrics *m)
{
	rs_metrics_gauge(b, "routesim_deliveries_active",
	    "Deliveries streaming now.", (double)m->deliveries_active);
	rs_metrics_gauge(b, "routesim_deliveries_max",
	    "--max-deliveries: at this many deliveries (or requests waiting "
	    "for their route), requests wait in Kafka.",
	    (double)m->deliveries_max);
	rs_metrics_gauge(b, "routesim_deliveries_capped", "1 while requests "
	    "wait because --max-deliveries is reached.",
	    m->capped_since_ns != 0);
	rs_metrics_header(b, "routesim_deliveries_capped_seconds_total",
	    "counter", "Time spent with requests waiting for "
	    "--max-deliveries.");
	rs_buf_printf(b, "routesim_deliveries_capped_seconds_total %.3f\n",
	    m->capped_seconds + (m->capped_since_ns != 0 ?
	    (double)(uv_hrtime() - m->capped_since_ns) / 1e9 : 0));
}

/* How the deliveries began and ended. */
static void
render_deliveries(struct rs_buf *b, const struct rs_metrics *m)
{
	rs_metrics_counter(b, "routesim_deliveries_started_total",
	    "Deliveries started.", m->deliveries_started);
	rs_metrics_counter(b, "routesim_deliveries_resumed_total",
	    "Deliveries carried on from a progress record.",
	    m->deliveries_resumed);
	rs_metrics_counter(b, "routesim_deliveries_finished_total",
	    "Deliveries whose every position was acknowledged.",
	    m->deliveries_finished);
	rs_metrics_counter(b, "routesim_deliveries_failed_total",
	    "Deliveries with a position that failed for good.",
	    m->deliveries_failed);
	rs_metrics_counter(b, "routesim_deliveries_stopped_total",
	    "Deliveries stopped before their end (hand-off, shutdown, "
	    "refused topic).", m->deliveries_stopped);
}

static void
render_positions(struct rs_buf *b, const struct rs_metrics *m,
    const struct rs_metrics_state *st)
{
	rs_metrics_counter(b, "routesim_positions_produced_total",
	    "Positions handed to the producer.", m->positions_produced);
	rs_metrics_counter(b, "routesim_positions_delivered_total",
	    "Positions acknowledged by the broker.", m->positions_delivered);
	rs_metrics_counter(b, "routesim_positions_failed_total",
	    "Positions that failed for good.", m->positions_failed);
	rs_metrics_gauge(b, "routesim_producer_queue_messages",
	    "Messages waiting in the producer (queued or in flight).",
	    (double)st->producer_queue);
	rs_metrics_counter(b, "routesim_producer_queue_full_total",
	    "Times a delivery paused because the producer queue was full.",
	    m->producer_queue_full);
}

static void
render_lateness(struct rs_buf *b, const struct rs_metrics *m)
{
	uint64_t cum = 0;

	rs_metrics_header(b, "routesim_tick_lateness_seconds", "histogram",
	    "How long after its due time each position was produced.");
	for (int i = 0; i < RS_LATENESS_BUCKETS; i++) {
		cum += m->lateness_buckets[i];
		if (i < RS_LATENESS_BUCKETS - 1)
			rs_buf_printf(b, "routesim_tick_lateness_seconds_bucket"
			    "{le=\"%g\"} %llu\n",
			    rs_lateness_bounds_ms[i] / 1000.0,
			    (unsigned long long)cum);
		else
			rs_buf_printf(b, "routesim_tick_lateness_seconds_bucket"
			    "{le=\"+Inf\"} %llu\n", (unsigned long long)cum);
	}
	rs_buf_printf(b, "routesim_tick_lateness_seconds_sum %g\n"
	    "routesim_tick_lateness_seconds_count %llu\n",
	    (double)m->lateness_sum_ms / 1000.0,
	    (unsigned long long)m->lateness_count);
}

void
rs_metrics_render(struct rs_buf *b, const struct rs_metrics_state *st)
{
	const struct rs_metrics *m = &rs_metrics;

	rs_metrics_build_info(b);
	rs_metrics_gauge(b, "routesim_ready", "1 when partitions are "
	    "assigned and brokers reachable.", st->ready);
	render_requests(b, m);
	render_active(b, m);
	render_deliveries(b, m);
	render_positions(b, m, st);
	render_lateness(b, m);
	rs_metrics_gauge(b, "routesim_event_loop_lag_seconds",
	    "How late the loop's 500 ms probe timer last fired.",
	    m->loop_lag_seconds);
	rs_metrics_header(b, "routesim_consumer_lag_messages", "gauge",
	    "Requests not yet read, per assigned partition (librdkafka "
	    "statistics).");
	for (size_t i = 0; i < st->nlags; i++)
		rs_buf_printf(b, "routesim_consumer_lag_messages{topic=\"%s\","
		    "partition=\"%d\"} %lld\n", st->read_topic,
		    st->lags[i].partition, (long long)st->lags[i].lag);
	if (st->http == NULL)
		return;
	rs_metrics_header(b, "routesim_http_responses_total", "counter",
	    "HTTP responses sent, by status class (this one not yet).");
	for (int i = 1; i < 6; i++)
		rs_buf_printf(b, "routesim_http_responses_total{code=\"%dxx\"} "
		    "%llu\n", i, (unsigned long long)st->http->requests[i]);
}
