/*
 * tracker.h - the live map: follows the request and position topics and
 * serves the vehicles to browsers (routesim-tracker, and routesim --demo).
 *
 * One tracker holds:
 *   - the route catalogue (catalogue.h), loaded once at start;
 *   - the fleet (fleet.h), fed by a follower of both topics (follow.h):
 *     every instance sees every position, from a bounded history on;
 *   - a producer of the request topic, for POST /api/deliveries;
 *   - the web server (web.h): the page, the API, /metrics, /healthz,
 *     /readyz and the WebSocket stream (tracker_web.c);
 *   - a 100 ms tick that closes the fleet's generation and publishes it.
 *
 * Ownership: struct rs_tracker is embedded by its owner.  Shutdown is
 * two steps, as web.h's: rs_tracker_stop() on the loop (stopped() runs
 * once everything but the web server's context is gone; the tracker also
 * stops by itself when the topics cannot be followed, with failed set),
 * then rs_tracker_free() after uv_run() has returned - also when
 * rs_tracker_start() failed.  Loop thread only.
 */
#ifndef ROUTESIM_TRACKER_H
#define ROUTESIM_TRACKER_H

#include <librdkafka/rdkafka.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "routesim/buf.h"
#include "routesim/catalogue.h"
#include "routesim/catalogue_watch.h"
#include "routesim/config.h"
#include "routesim/fleet.h"
#include "routesim/follow.h"
#include "routesim/kafka_loop.h"
#include "routesim/request.h"
#include "routesim/web.h"

/* How often a generation of the fleet is published to browsers. */
#define RS_TRACKER_TICK_MS 100
/* How long a finished vehicle stays on the map. */
#define RS_TRACKER_LINGER_MS 10000
/* Largest POST body. */
#define RS_TRACKER_MAX_BODY 4096
/* Largest message a browser may send. */
#define RS_TRACKER_MAX_MSG 1024

/* Frames kept per generation: a browser one generation behind needs the
 * update since the one before, one further behind its own (or a
 * snapshot); each is made once for all the browsers that need it. */
#define RS_TRACKER_FRAMES 8

struct rs_tracker_frame {
	uint64_t seq;		/* the generation it shows; 0: none */
	uint64_t since;		/* an update since this one; 0: snapshot */
	struct rs_web_frame *frame;	/* a reference, or NULL */
};

/* What the tracker counts; rendered by tracker_web.c for /metrics. */
struct rs_tracker_stats {
	uint64_t positions;		/* applied to the fleet */
	uint64_t positions_rejected[RS_REJECT_COUNT];
	uint64_t requests;		/* applied to the fleet */
	uint64_t requests_rejected;	/* unreadable requests */
	uint64_t deliveries_accepted;	/* POSTs written to Kafka */
	uint64_t deliveries_rejected;	/* bad bodies */
	uint64_t deliveries_failed;	/* Kafka refused or timed out */
};

struct rs_tracker {
	uv_loop_t *loop;
	const struct rs_config *cfg;	/* outlives the tracker */
	struct rs_catalogue *catalogue;	/* replaced when the folder changes */
	struct rs_catalogue_watch routes;
	struct rs_fleet *fleet;
	struct rs_follow follow;
	rd_kafka_t *producer;		/* requests from the page */
	rd_kafka_queue_t *pq;
	struct rs_kafka_watch pwatch;
	struct rs_web *web;
	uv_timer_t tick;
	uv_timer_t drain;		/* at stop: waits for the producer */
	uint64_t drain_until;
	size_t inflight;		/* requests awaiting their report */
	/* The latest generation's frames; their memory is kept for the
	 * next ones. */
	struct rs_tracker_frame frames[RS_TRACKER_FRAMES];
	unsigned next_frame;		/* reused when all are taken */
	struct rs_tracker_stats stats;
	int64_t warned_ms;		/* last warning about a bad message */
	uint64_t unwarned;		/* bad messages skipped since */
	unsigned open;			/* handles and parts still closing */
	bool following, producing, stopping;
	bool failed;			/* stopped by an error */
	void (*stopped)(struct rs_tracker *);
	void *data;			/* the owner's */
};

/*
 * Loads the routes, starts the web server, the producer and the
 * follower.  Returns 0, or a negative errno with the reason in err;
 * then the owner calls rs_tracker_stop() and runs the loop to its end.
 */
int rs_tracker_start(struct rs_tracker *t, uv_loop_t *loop,
    const struct rs_config *cfg, void (*stopped)(struct rs_tracker *),
    void *data, char *err, size_t errlen);

/* The port the web server listens on (for --http-listen :0). */
int rs_tracker_port(const struct rs_tracker *t);

/* True once the topics are followed and a broker answers. */
bool rs_tracker_ready(const struct rs_tracker *t, const char **why);

/* Step 1 of the shutdown; stopped() follows.  Idempotent. */
void rs_tracker_stop(struct rs_tracker *t);

/* Step 2, after uv_run() returned. */
void rs_tracker_free(struct rs_tracker *t);

#endif
