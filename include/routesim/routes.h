/*
 * routes.h - the route cache: routeId -> loaded route, shared by every
 * delivery of that route.
 *
 * A route file is read and parsed once, on libuv's thread pool, so the
 * loop never blocks on the disk.  Requests for a route that is being
 * loaded wait on that one load.  A uv_fs_event watch on the route folder
 * drops every cached route when anything in the folder changes (including
 * the symlink swap of a Kubernetes ConfigMap volume), so the next request
 * reads the file again; deliveries already running keep the version they
 * started with.  Failed loads are not cached: a file added later is found.
 *
 * Ownership: struct rs_routes is embedded by its owner; rs_routes_close()
 * must be called and its callback awaited before that memory is freed.
 * Routes handed out carry a reference the receiver must drop with
 * rs_route_unref().  A struct rs_route_wait belongs to the caller and must
 * stay valid until its callback has run.  Loop thread only.
 */
#ifndef ROUTESIM_ROUTES_H
#define ROUTESIM_ROUTES_H

#include <stdbool.h>
#include <uv.h>

#include "routesim/order.h"
#include "routesim/route.h"

struct rs_routes;
struct rs_route_wait;

/*
 * Called when a load finishes: route holds a new reference, or is NULL
 * with err set (rc -ENOENT: no such route; -EINVAL: bad file; -ECANCELED:
 * the cache is closing).
 */
typedef void (*rs_route_wait_cb)(struct rs_route_wait *w,
    struct rs_route *route, int rc, const char *err);

struct rs_route_wait {
	rs_route_wait_cb cb;
	struct rs_route_wait *next;
};

struct rs_route_entry;

struct rs_routes {
	uv_loop_t *loop;
	char *dir;
	enum rs_position_order order;
	uv_fs_event_t watch;
	bool watch_open;
	bool closing;
	struct rs_route_entry *table;	/* uthash head (hash.h) */
	unsigned loads_running;
	void (*close_cb)(struct rs_routes *);
};

int rs_routes_init(struct rs_routes *rt, uv_loop_t *loop, const char *dir,
    enum rs_position_order order);

/*
 * Returns 0 and a new reference in *out when the route is cached; else
 * starts or joins a load, returns -EINPROGRESS, and w->cb runs later.
 * id must satisfy rs_route_id_valid().
 */
int rs_routes_get(struct rs_routes *rt, const char *id,
    struct rs_route **out, struct rs_route_wait *w, rs_route_wait_cb cb);

/* Number of routes currently cached (for tests and metrics). */
size_t rs_routes_cached(const struct rs_routes *rt);

/* Cancels waiters (-ECANCELED), stops the watch; cb runs when no load is
 * in flight any more. */
void rs_routes_close(struct rs_routes *rt, void (*cb)(struct rs_routes *));

#endif
