/*
 * routes.c - the route cache.
 *
 * A hash table (hash.h) keyed by routeId.  An entry is either loading (it
 * has a uv_work_t in flight and a list of waiters) or ready (it holds a
 * route reference).  An entry invalidated while loading is marked stale:
 * its waiters still get the result, but it is not kept.
 */
#include "routesim/routes.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "routesim/hash.h"
#include "routesim/log.h"
#include "routesim/request.h"

struct rs_route_entry {
	UT_hash_handle hh;		/* in rs_routes.table, by id */
	struct rs_routes *rt;
	char id[RS_ROUTE_ID_MAX + 1];
	struct rs_route *route;		/* ready: one reference */
	/* Loading: */
	bool loading, stale, in_table;
	uv_work_t work;
	struct rs_route_wait *waiters;
	struct rs_route *loaded;
	int rc;
	char err[256];
};

static struct rs_route_entry *
find(struct rs_routes *rt, const char *id)
{
	struct rs_route_entry *e;

	HASH_FIND_STR(rt->table, id, e);
	return e;
}

static void
unlink_entry(struct rs_routes *rt, struct rs_route_entry *e)
{
	if (find(rt, e->id) == e)
		HASH_DEL(rt->table, e);
	e->in_table = false;
}

static void invalidate(struct rs_routes *rt);

static void
on_watch(uv_fs_event_t *h, const char *filename, int events, int status)
{
	struct rs_routes *rt = h->data;
	char name[RS_LOG_VALUE_MAX];

	(void)events;
	if (status < 0) {
		log_warnx("route folder watch: %s dir=%s", uv_strerror(status),
		    rt->dir);
		return;
	}
	log_debug("route folder changed file=%s: routes will be re-read",
	    filename ? rs_log_value(name, sizeof(name), filename) : "?");
	invalidate(rt);
}

int
rs_routes_init(struct rs_routes *rt, uv_loop_t *loop, const char *dir,
    enum rs_position_order order)
{
	int rc;

	memset(rt, 0, sizeof(*rt));
	rt->loop = loop;
	rt->order = order;
	if ((rt->dir = strdup(dir)) == NULL)
		return -ENOMEM;
	if ((rc = uv_fs_event_init(loop, &rt->watch)) != 0)
		goto fail;
	rt->watch.data = rt;
	rt->watch_open = true;
	if ((rc = uv_fs_event_start(&rt->watch, on_watch, dir, 0)) != 0) {
		/* Not fatal: routes load, but edits need a restart. */
		log_warnx("cannot watch route folder: %s dir=%s; changed "
		    "route files are only read after a restart",
		    uv_strerror(rc), dir);
	}
	return 0;
fail:
	free(rt->dir);
	return rc;
}

size_t
rs_routes_cached(const struct rs_routes *rt)
{
	return HASH_COUNT(rt->table);
}

/* Drops every cached route: what the folder watch does. */
static void
invalidate(struct rs_routes *rt)
{
	struct rs_route_entry *e = rt->table, *next;

	/* The table first, then the elements (still linked by hh.next). */
	HASH_CLEAR(hh, rt->table);
	for (; e != NULL; e = next) {
		next = e->hh.next;
		e->in_table = false;
		if (e->loading) {
			e->stale = true;	/* freed when done */
		} else {
			rs_route_unref(e->route);
			free(e);
		}
	}
}

static void
load_work(uv_work_t *req)
{
	struct rs_route_entry *e = req->data;

	e->rc = rs_route_load(e->rt->dir, e->id, e->rt->order, &e->loaded,
	    e->err, sizeof(e->err));
}

static void
maybe_closed(struct rs_routes *rt)
{
	if (!rt->closing || rt->loads_running > 0 || rt->watch_open)
		return;
	free(rt->dir);
	rt->dir = NULL;
	if (rt->close_cb != NULL)
		rt->close_cb(rt);
}

static void
load_done(uv_work_t *req, int status)
{
	struct rs_route_entry *e = req->data;
	struct rs_routes *rt = e->rt;
	struct rs_route_wait *w, *next;
	bool keep;

	rt->loads_running--;
	e->loading = false;
	if (status == UV_ECANCELED || rt->closing) {
		e->rc = -ECANCELED;
		snprintf(e->err, sizeof(e->err), "shutting down");
	}
	keep = e->rc == 0 && !e->stale && e->in_table;
	if (e->in_table && !keep)
		unlink_entry(rt, e);
	/* Detach the waiters first: a callback may ask for this route. */
	w = e->waiters;
	e->waiters = NULL;
	e->route = e->loaded;
	for (; w != NULL; w = next) {
		next = w->next;
		w->cb(w, e->rc == 0 ? rs_route_ref(e->route) : NULL, e->rc,
		    e->err);
	}
	if (!keep) {
		rs_route_unref(e->route);
		free(e);
	}
	maybe_closed(rt);
}

int
rs_routes_get(struct rs_routes *rt, const char *id, struct rs_route **out,
    struct rs_route_wait *w, rs_route_wait_cb cb)
{
	struct rs_route_entry *e;
	int rc;

	*out = NULL;
	if (rt->closing)
		return -ECANCELED;
	if (strlen(id) > RS_ROUTE_ID_MAX)
		return -EINVAL;
	if ((e = find(rt, id)) != NULL && !e->loading) {
		*out = rs_route_ref(e->route);
		return 0;
	}
	w->cb = cb;
	if (e != NULL) {
		w->next = e->waiters;
		e->waiters = w;
		return -EINPROGRESS;
	}
	if ((e = calloc(1, sizeof(*e))) == NULL)
		return -ENOMEM;
	e->rt = rt;
	strcpy(e->id, id);
	e->loading = true;
	e->work.data = e;
	HASH_ADD_STR(rt->table, id, e);
	if (!rs_hash_added(&e->hh)) {
		free(e);
		return -ENOMEM;
	}
	if ((rc = uv_queue_work(rt->loop, &e->work, load_work, load_done)) !=
	    0) {
		HASH_DEL(rt->table, e);
		free(e);
		return rc;
	}
	rt->loads_running++;
	w->next = NULL;
	e->waiters = w;
	e->in_table = true;
	return -EINPROGRESS;
}

static void
watch_closed(uv_handle_t *h)
{
	struct rs_routes *rt = h->data;

	rt->watch_open = false;
	maybe_closed(rt);
}

void
rs_routes_close(struct rs_routes *rt, void (*cb)(struct rs_routes *))
{
	rt->closing = true;
	rt->close_cb = cb;
	/* Loads still queued are cancelled; running ones finish first. */
	for (struct rs_route_entry *e = rt->table; e != NULL; e = e->hh.next)
		if (e->loading)
			uv_cancel((uv_req_t *)&e->work);
	invalidate(rt);
	/* The watch handle is closed even when it failed to start. */
	uv_close((uv_handle_t *)&rt->watch, watch_closed);
}
