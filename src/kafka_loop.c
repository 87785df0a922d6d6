/*
 * kafka_loop.c - librdkafka queues served by a libuv loop (kafka_loop.h).
 */
#include "routesim/kafka_loop.h"

#include <errno.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "routesim/log.h"

/* ---- Watches ---------------------------------------------------------- */

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

/* ---- Slices ----------------------------------------------------------- */

uint64_t
rs_kafka_slice_end(void)
{
	return uv_hrtime() + RS_KAFKA_SLICE_US * 1000ull;
}

bool
rs_kafka_slice_over(uint64_t end, uint64_t n)
{
	return n % RS_KAFKA_BATCH == 0 && uv_hrtime() >= end;
}

/* ---- Pumps ------------------------------------------------------------ */

static void
on_again(uv_idle_t *h)
{
	uv_idle_stop(h);
	rs_kafka_pump_run(h->data);
}

static void
on_fallback(uv_timer_t *h)
{
	rs_kafka_pump_run(h->data);
}

void
rs_kafka_pump_init(struct rs_kafka_pump *p, uv_loop_t *loop,
    bool (*drain)(struct rs_kafka_pump *), void *data)
{
	uv_idle_init(loop, &p->again);
	uv_timer_init(loop, &p->fallback);
	p->again.data = p->fallback.data = p;
	p->drain = drain;
	p->data = data;
}

int
rs_kafka_pump_fallback(struct rs_kafka_pump *p, unsigned period_ms)
{
	return uv_timer_start(&p->fallback, on_fallback, period_ms,
	    period_ms);
}

void
rs_kafka_pump_run(struct rs_kafka_pump *p)
{
	int rc;

	if (!p->drain(p) || uv_is_closing((uv_handle_t *)&p->again))
		return;
	/* Idempotent; on failure the fallback timer carries on. */
	if ((rc = uv_idle_start(&p->again, on_again)) != 0)
		log_warnx("uv_idle_start: %s", uv_strerror(rc));
}

void
rs_kafka_pump_watch(struct rs_kafka_watch *w)
{
	struct rs_kafka_pump *p = w->data;

	if (uv_is_active((uv_handle_t *)&p->again)) {
		rs_kafka_watch_rearm(w);
		return;
	}
	rs_kafka_pump_run(p);
}

void
rs_kafka_pump_close(struct rs_kafka_pump *p, uv_close_cb close_cb)
{
	uv_close((uv_handle_t *)&p->again, close_cb);
	uv_close((uv_handle_t *)&p->fallback, close_cb);
}

void
rs_kafka_log_cb(const rd_kafka_t *rk, int level, const char *fac,
    const char *buf)
{
	enum rs_log_level l = level <= 3 ? RS_LOG_ERROR :
	    level == 4 ? RS_LOG_WARN : level <= 6 ? RS_LOG_INFO : RS_LOG_DEBUG;

	/* A broker connection's failure is logged by librdkafka (FAIL) and
	 * raised as an error event too; the client's error callback
	 * reports it once. */
	if (strcmp(fac, "FAIL") == 0)
		l = RS_LOG_DEBUG;

	rs_log(l, "librdkafka client=%s facility=%s: %s", rd_kafka_name(rk),
	    fac, buf);
}
