/*
 * lag.h - a request partition's consumer lag, as the kafka module reads
 * it from librdkafka's statistics and the metrics module renders it.
 */
#ifndef ROUTESIM_LAG_H
#define ROUTESIM_LAG_H

#include <stdint.h>

struct rs_partition_lag {
	int32_t partition;
	int64_t lag;
};

#endif
