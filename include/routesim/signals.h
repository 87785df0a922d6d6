/*
 * signals.h - SIGINT and SIGTERM on the loop, for a program's orderly
 * stop: the first one calls the owner's stop(); a second one, while the
 * stop is still running, exits at once with status 1 (a user pressing
 * Ctrl-C again means it).
 *
 * Ownership: struct rs_signals is embedded by its owner; rs_signals_close()
 * closes both handles (the loop then ends once everything else has).
 * Loop thread.
 */
#ifndef ROUTESIM_SIGNALS_H
#define ROUTESIM_SIGNALS_H

#include <uv.h>

struct rs_signals {
	uv_signal_t sigint, sigterm;
	unsigned count;			/* signals received */
	void (*stop)(void *data, int signum);
	void *data;
};

/* Returns 0 or a libuv error (logged here); the handles are open either
 * way, so rs_signals_close() must follow. */
int rs_signals_start(struct rs_signals *s, uv_loop_t *loop,
    void (*stop)(void *data, int signum), void *data);
void rs_signals_close(struct rs_signals *s);

#endif
