/*
 * metrics.h - the process's counters.
 *
 * One global struct, written only on the loop thread by the module where
 * each event happens (as Redis keeps its stat_* fields in one place).
 * Read by the log lines at shutdown, the demo and, later, /metrics.
 */
#ifndef ROUTESIM_METRICS_H
#define ROUTESIM_METRICS_H

#include <stdint.h>

#include "routesim/request.h"

struct rs_metrics {
	uint64_t requests_received;
	uint64_t requests_rejected[RS_REJECT_COUNT];
	uint64_t deliveries_started;
	uint64_t deliveries_finished;	/* every position acknowledged */
	uint64_t deliveries_failed;	/* a position permanently failed */
	uint64_t deliveries_stopped;	/* stopped by shutdown */
	uint64_t deliveries_active;	/* gauge */
	uint64_t positions_produced;
	uint64_t positions_delivered;
	uint64_t positions_failed;
	uint64_t producer_queue_full;	/* times a delivery had to pause */
};

extern struct rs_metrics rs_metrics;

#endif
