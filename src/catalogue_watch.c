/*
 * catalogue_watch.c - the route catalogue read again when its folder
 * changes (catalogue_watch.h).
 */
#include "routesim/catalogue_watch.h"

#include <string.h>

#include "routesim/log.h"

static void
part_done(struct rs_catalogue_watch *w)
{
	if (--w->open == 0 && w->on_stopped != NULL)
		w->on_stopped(w);
}

static void
on_closed(uv_handle_t *h)
{
	part_done(h->data);
}

/* On the thread pool. */
static void
read_folder(uv_work_t *req)
{
	struct rs_catalogue_watch *w = req->data;

	w->read = NULL;
	w->rc = rs_catalogue_load(w->dir, &w->read, w->err, sizeof(w->err));
}

static void start_read(struct rs_catalogue_watch *w);

static void
read_done(uv_work_t *req, int status)
{
	struct rs_catalogue_watch *w = req->data;
	struct rs_catalogue *cat = w->read;

	w->reading = false;
	w->read = NULL;
	if (status == 0 && w->rc == 0 && !w->stopping) {
		log_info("routes: %zu from %s (%zu skipped), read again after "
		    "a change", cat->count, w->dir, cat->skipped);
		w->on_loaded(w->ud, cat);
	} else {
		if (status == 0 && w->rc != 0)
			log_warnx("routes: %s; the routes read before stay",
			    w->err);
		if (cat != NULL)
			rs_catalogue_free(cat);
	}
	if (w->again && !w->stopping) {
		w->again = false;
		start_read(w);
	}
	part_done(w);
}

static void
start_read(struct rs_catalogue_watch *w)
{
	int rc;

	if (w->reading) {
		w->again = true;
		return;
	}
	w->work.data = w;
	if ((rc = uv_queue_work(w->loop, &w->work, read_folder,
	    read_done)) != 0) {
		log_warnx("routes: cannot read %s again: %s", w->dir,
		    uv_strerror(rc));
		return;
	}
	w->reading = true;
	w->open++;
}

static void
on_settled(uv_timer_t *h)
{
	start_read(h->data);
}

static void
on_change(uv_fs_event_t *h, const char *filename, int events, int status)
{
	struct rs_catalogue_watch *w = h->data;
	int rc;

	(void)filename;
	(void)events;
	if (status < 0) {
		log_warnx("route folder watch: %s dir=%s", uv_strerror(status),
		    w->dir);
		return;
	}
	if ((rc = uv_timer_start(&w->settle, on_settled,
	    RS_CATALOGUE_SETTLE_MS, 0)) != 0)
		log_warnx("route folder watch: timer: %s", uv_strerror(rc));
}

int
rs_catalogue_watch_start(struct rs_catalogue_watch *w, uv_loop_t *loop,
    const char *dir, void (*on_loaded)(void *ud, struct rs_catalogue *cat),
    void *ud)
{
	int rc;

	memset(w, 0, sizeof(*w));
	w->loop = loop;
	w->dir = dir;
	w->on_loaded = on_loaded;
	w->ud = ud;
	if ((rc = uv_timer_init(loop, &w->settle)) != 0)
		return rc;
	if ((rc = uv_fs_event_init(loop, &w->watch)) != 0) {
		uv_close((uv_handle_t *)&w->settle, NULL);
		return rc;
	}
	w->settle.data = w->watch.data = w;
	w->open = 2;
	w->watching = true;
	if ((rc = uv_fs_event_start(&w->watch, on_change, dir, 0)) != 0)
		log_warnx("cannot watch route folder: %s dir=%s; the map's "
		    "routes change only with a restart", uv_strerror(rc), dir);
	return 0;
}

void
rs_catalogue_watch_stop(struct rs_catalogue_watch *w,
    void (*on_stopped)(struct rs_catalogue_watch *w))
{
	if (w->stopping)
		return;
	w->stopping = true;
	w->on_stopped = on_stopped;
	w->open++;			/* held until the end of this call */
	if (w->watching) {
		uv_close((uv_handle_t *)&w->watch, on_closed);
		uv_close((uv_handle_t *)&w->settle, on_closed);
	}
	if (w->reading)
		(void)uv_cancel((uv_req_t *)&w->work);	/* or it finishes */
	part_done(w);
}
