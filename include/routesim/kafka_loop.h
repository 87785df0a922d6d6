/*
 * kafka_loop.h - librdkafka queues served by a libuv loop.
 *
 * For any program with a uv loop and librdkafka queues (routesim's
 * clients, the demo, the tracker).  No queue is polled in a busy loop:
 * a watch enables the queue's IO event on an eventfd that a uv_poll_t
 * watches (librdkafka writes the fd only when the queue goes from empty
 * to non-empty), and every wake-up drains the queue.
 *
 * A pump serves a program's queues together: its drain function runs on
 * every wake-up of its watches, on a fallback timer (a lost wake-up costs
 * at most that period, and max.poll.interval.ms can never expire), and,
 * when a queue's slice ran out (about RS_KAFKA_SLICE_US each), once more
 * on the next loop turn from an idle handle, after the due timers.
 *
 * Ownership: the caller embeds watches and pumps and keeps them valid
 * until their close callbacks have run; the queues are not owned.  All
 * callbacks run on the loop thread.
 */
#ifndef ROUTESIM_KAFKA_LOOP_H
#define ROUTESIM_KAFKA_LOOP_H

#include <librdkafka/rdkafka.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

/* How long one queue may hold the loop per turn (a due tick waits at most
 * about this per queue), and how many events are taken between two looks
 * at the clock. */
#define RS_KAFKA_SLICE_US 200
#define RS_KAFKA_BATCH 32

/*
 * A librdkafka queue wired into the loop: cb runs on the loop thread and
 * must call rs_kafka_watch_rearm() before it drains the queue.
 */
struct rs_kafka_watch {
	uv_poll_t poll;
	int fd;
	rd_kafka_queue_t *queue;	/* not owned */
	void (*cb)(struct rs_kafka_watch *w);
	void *data;
};

/* Returns 0 or a negative errno / libuv code (nothing left open). */
int rs_kafka_watch_init(struct rs_kafka_watch *w, uv_loop_t *loop,
    rd_kafka_queue_t *queue, void (*cb)(struct rs_kafka_watch *),
    void *data);
void rs_kafka_watch_rearm(struct rs_kafka_watch *w);
/* Disables the IO event and closes the handle; close_cb gets the poll
 * handle, the eventfd is closed before it runs. */
void rs_kafka_watch_close(struct rs_kafka_watch *w, uv_close_cb close_cb);

/* The uv_hrtime() at which a slice starting now ends. */
uint64_t rs_kafka_slice_end(void);

/* True when the n-th event of a slice ending at end should be the last
 * (the clock is read every RS_KAFKA_BATCH events). */
bool rs_kafka_slice_over(uint64_t end, uint64_t n);

struct rs_kafka_pump {
	uv_idle_t again;		/* a slice ran out: next turn */
	uv_timer_t fallback;
	/* Serves the queues; true when a slice ran out before its queue
	 * was empty.  It may close the pump. */
	bool (*drain)(struct rs_kafka_pump *p);
	void *data;
};

/* Cannot fail on an initialised loop; the fallback timer is not started. */
void rs_kafka_pump_init(struct rs_kafka_pump *p, uv_loop_t *loop,
    bool (*drain)(struct rs_kafka_pump *), void *data);

/* (Re)starts the fallback timer at every period_ms.  Returns 0 or a
 * libuv code. */
int rs_kafka_pump_fallback(struct rs_kafka_pump *p, unsigned period_ms);

/* Drains now, and again on the next turn if a slice ran out. */
void rs_kafka_pump_run(struct rs_kafka_pump *p);

/*
 * A watch callback for the pump in w->data: drains, unless a slice ran
 * out this turn and the pump carries on next turn anyway (draining here
 * too would double the turn).
 */
void rs_kafka_pump_watch(struct rs_kafka_watch *w);

/* Closes both handles; close_cb runs once for each. */
void rs_kafka_pump_close(struct rs_kafka_pump *p, uv_close_cb close_cb);

/*
 * librdkafka's log callback for a client whose log.queue is served on the
 * loop: its lines go to log.c at the matching level.  A broker
 * connection's failure (facility FAIL) is logged at debug, since the
 * client's error callback reports it.
 */
void rs_kafka_log_cb(const rd_kafka_t *rk, int level, const char *fac,
    const char *buf);

#endif
