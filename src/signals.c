/*
 * signals.c - SIGINT and SIGTERM for an orderly stop (see signals.h).
 */
#include "routesim/signals.h"

#include <signal.h>
#include <stdlib.h>

#include "routesim/log.h"

static void
on_signal(uv_signal_t *h, int signum)
{
	struct rs_signals *s = h->data;

	if (++s->count > 1) {
		log_warnx("signal %d again: exiting at once", signum);
		exit(1);
	}
	log_info("signal %d: stopping", signum);
	s->stop(s->data, signum);
}

int
rs_signals_start(struct rs_signals *s, uv_loop_t *loop,
    void (*stop)(void *data, int signum), void *data)
{
	int rc;

	s->count = 0;
	s->stop = stop;
	s->data = data;
	/* Cannot fail on an initialised loop. */
	(void)uv_signal_init(loop, &s->sigint);
	(void)uv_signal_init(loop, &s->sigterm);
	s->sigint.data = s->sigterm.data = s;
	if ((rc = uv_signal_start(&s->sigint, on_signal, SIGINT)) != 0 ||
	    (rc = uv_signal_start(&s->sigterm, on_signal, SIGTERM)) != 0)
		log_warnx("signals: %s", uv_strerror(rc));
	return rc;
}

void
rs_signals_close(struct rs_signals *s)
{
	uv_close((uv_handle_t *)&s->sigint, NULL);
	uv_close((uv_handle_t *)&s->sigterm, NULL);
}
