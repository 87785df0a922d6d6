/*
 * catalogue_watch.h - keeps a route catalogue (catalogue.h) up to date:
 * a uv_fs_event watch on the destinations folder, and on a change (after
 * RS_CATALOGUE_SETTLE_MS without another, so that a copy of many files
 * or a ConfigMap's symlink swap is read once) the folder is read again on
 * libuv's thread pool, never on the loop.  A catalogue read whole is
 * handed to the owner; a folder that cannot be read is logged and the
 * owner keeps what it has.  One read at a time: a change during a read
 * reads again after it.
 *
 * Ownership: struct rs_catalogue_watch is embedded by its owner and must
 * stay valid until the callback of rs_catalogue_watch_stop() has run (a
 * read in progress is waited for).  Each catalogue given to on_loaded is
 * the owner's, to free with rs_catalogue_free().  Loop thread only.
 */
#ifndef ROUTESIM_CATALOGUE_WATCH_H
#define ROUTESIM_CATALOGUE_WATCH_H

#include <stdbool.h>
#include <uv.h>

#include "routesim/catalogue.h"

#define RS_CATALOGUE_SETTLE_MS 300

struct rs_catalogue_watch {
	uv_loop_t *loop;
	const char *dir;		/* not owned */
	uv_fs_event_t watch;
	uv_timer_t settle;
	uv_work_t work;
	struct rs_catalogue *read;	/* the thread pool's result */
	char err[256];
	int rc;
	unsigned open;			/* handles and reads to wait for */
	bool watching, reading, again, stopping;
	void (*on_loaded)(void *ud, struct rs_catalogue *cat);
	void (*on_stopped)(struct rs_catalogue_watch *w);
	void *ud;
};

/*
 * Starts watching dir (which must outlive the watch).  A folder that
 * cannot be watched is logged, not an error: the catalogue then changes
 * only with a restart.  Returns 0, or a negative libuv code (nothing is
 * left open).
 */
int rs_catalogue_watch_start(struct rs_catalogue_watch *w, uv_loop_t *loop,
    const char *dir, void (*on_loaded)(void *ud, struct rs_catalogue *cat),
    void *ud);

/* Closes the watch; on_stopped runs once everything is closed (NULL is
 * fine).  Idempotent. */
void rs_catalogue_watch_stop(struct rs_catalogue_watch *w,
    void (*on_stopped)(struct rs_catalogue_watch *w));

#endif
