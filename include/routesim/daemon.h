/*
 * daemon.h - the daemon: requests in, deliveries out, nothing lost.
 *
 * Wires the modules together on one loop: the kafka bridge hands each
 * request message to the daemon, which parses it (request.h), finds its
 * route (routes.h) and starts a delivery (sched.h); delivery reports
 * flow back to the scheduler.  Every bad request is logged once, counted
 * by reason and skipped; nothing a request contains can stop the daemon.
 *
 * At-least-once: each delivery keeps a progress record in the progress
 * topic (progress.h).  A request's offset becomes committable (offsets.h)
 * once its first record - or its rejection - is durable.  A newly
 * assigned partition is first restored from its progress partition:
 * deliveries found there carry on where their record says, and requests
 * read again are recognised and skipped.  A revoked partition hands off:
 * its deliveries stop, wait for their reports, write an exact record,
 * and only then is the partition let go.
 *
 * At startup it checks the topics (topics.h) and joins the group only
 * when they are right; otherwise it stops with exit status 1.
 *
 * It also serves /metrics, /healthz and /readyz when an HTTP address is
 * configured, and measures the loop's own lag.
 *
 * Stopping: rs_daemon_stop() stops the deliveries, closes the consumer
 * (which hands off every partition), waits for queued positions, closes
 * the route cache, the HTTP listener and its own handles, then calls
 * on_stopped.  One deadline, shutdown_timeout_ms after the stop, bounds
 * the hand-off and the wait for queued positions together: the hand-off
 * is let go at the deadline by the daemon (the one line that says so),
 * and only then does the kafka module give up what is still queued.  A
 * hand-off while running has shutdown_timeout_ms of its own.
 *
 * Ownership: struct rs_daemon is embedded by its owner and must stay valid
 * until on_stopped has run.  cfg must outlive the daemon.  Loop thread.
 */
#ifndef ROUTESIM_DAEMON_H
#define ROUTESIM_DAEMON_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "routesim/buf.h"
#include "routesim/config.h"
#include "routesim/http.h"
#include "routesim/kafka.h"
#include "routesim/partition.h"
#include "routesim/routes.h"
#include "routesim/sched.h"
#include "routesim/topics.h"

struct rs__pending;

struct rs_daemon {
	uv_loop_t *loop;
	const struct rs_config *cfg;
	struct rs_kafka kafka;
	struct rs_topics topics;	/* the startup check (topics.h) */
	bool checking;			/* it runs; not yet subscribed */
	bool check_in_close;		/* counted in closing */
	struct rs_routes routes;
	struct rs_sched sched;
	struct rs_parts parts;		/* request partitions we own */
	struct rs_http http;		/* when cfg->http_listen is set */
	uv_timer_t revoke_timer;	/* bounds a hand-off */
	bool revoking;
	uint64_t stop_deadline;	/* uv_now() the stop must end by */
	uv_timer_t lag_timer;		/* measures event-loop lag */
	uv_idle_t tombs;	/* writes due tombstones, a slice a turn */
	uv_idle_t resumer;	/* resumes restored deliveries, likewise */
	struct rs__pending *resume_head, **resume_tail;	/* to resume, owned */
	uint64_t lag_last_ns;
	size_t route_waits;	/* requests waiting for their route */
	bool capped;		/* at --max-deliveries: not reading */
	struct rs_buf record;		/* scratch for one progress record */
	int exit_code;
	unsigned closing;	/* closes still to complete */
	bool stopping;
	void (*on_stopped)(struct rs_daemon *);
	void *data;		/* for the owner */
};

/*
 * Starts consuming; data is stored in d->data.  Returns 0, or a negative
 * code with err set; after a failure the caller must run the loop once
 * more before freeing d.
 */
int rs_daemon_start(struct rs_daemon *d, uv_loop_t *loop,
    const struct rs_config *cfg, void (*on_stopped)(struct rs_daemon *),
    void *data, char *err, size_t errlen);

/* Begins an orderly stop; exit_code is kept for the owner (the first
 * non-zero one wins).  Safe to call more than once. */
void rs_daemon_stop(struct rs_daemon *d, int exit_code);

#endif
