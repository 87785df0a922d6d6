/*
 * fleet.c - vehicles by clientId (uthash), three intrusive lists (utlist):
 *
 *   lru       every vehicle, least recently updated first: the eviction
 *             order, and the silence order for stale_ms (an update moves a
 *             vehicle to the end, so the list stays sorted by time);
 *   finished  finished vehicles in the order they finished: linger_ms
 *             expiry pops from the front;
 *   changed   every located vehicle, in the order of its last change
 *             (a change moves it to the end, and stamps it with the open
 *             generation): the changes since generation g are the tail
 *             of vehicles stamped after g.
 *
 * Forgotten clientIds are tombstones stamped with their generation: a
 * hash (one forgotten and seen again loses its tombstone: it is sent as a
 * vehicle, not as removed) and a list in generation order, pruned to the
 * last RS_FLEET_KEEP_GENS generations.
 */
#include "routesim/fleet.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* uthash (hash.h): an allocation failure is reported, not fatal. */
static bool hash_oom;
#define uthash_nonfatal_oom(obj) ((void)(obj), hash_oom = true)
#include "routesim/hash.h"
#include "routesim/json.h"
#include <utlist.h>

struct vehicle {
	struct rs_vehicle pub;	/* first: a pub pointer is a vehicle's */
	struct vehicle *lru_prev, *lru_next;
	struct vehicle *fin_prev, *fin_next;
	struct vehicle *chg_prev, *chg_next;
	bool in_fin, in_chg;
	uint64_t chg_seq;		/* the generation of its last change */
	int64_t finished_ms;
	char *route_id;
	char *json_ids;
	struct rs_route *route;		/* a reference, or NULL */
	/* A lookup reads the handle, then the key: side by side, they are
	 * one or two cache lines, not three. */
	UT_hash_handle hh;
	char client_id[];
};

struct gone {
	UT_hash_handle hh;
	struct gone *prev, *next;	/* generation order */
	uint64_t seq;			/* forgotten in this generation */
	char id[];
};

struct rs_fleet {
	const struct rs_catalogue *cat;
	struct rs_fleet_limits limits;
	struct rs_fleet_stats stats;
	struct vehicle *byid;		/* the hash */
	struct vehicle *lru, *fin, *chg;
	struct gone *gone;		/* the tombstones' hash */
	struct gone *graves;		/* ... and their order */
	size_t count, located, ngone;
	uint64_t seq;
	uint64_t horizon;	/* tombstones after this one are all kept */
};

struct rs_fleet *
rs_fleet_new(const struct rs_catalogue *cat,
    const struct rs_fleet_limits *limits)
{
	struct rs_fleet *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return NULL;
	f->cat = cat;
	f->limits = *limits;
	if (f->limits.max_vehicles == 0)
		f->limits.max_vehicles = 1;
	return f;
}

void
rs_fleet_set_catalogue(struct rs_fleet *f, const struct rs_catalogue *cat)
{
	f->cat = cat;
}

/* ---- Generations ------------------------------------------------------ */

static void
gone_free(struct rs_fleet *f, struct gone *g)
{
	HASH_DELETE(hh, f->gone, g);
	DL_DELETE(f->graves, g);
	f->ngone--;
	free(g);
}

static void
gone_drop(struct rs_fleet *f, const char *id)
{
	struct gone *g;

	if (f->gone == NULL)
		return;
	HASH_FIND(hh, f->gone, id, strlen(id), g);
	if (g != NULL)
		gone_free(f, g);
}

/* Forgets the oldest tombstone: changes since before its generation are
 * no longer known. */
static void
gone_prune(struct rs_fleet *f)
{
	struct gone *g = f->graves;

	if (g->seq > f->horizon)
		f->horizon = g->seq;
	gone_free(f, g);
}

/* Best effort: out of memory, the tombstone is not kept and changes since
 * before it are no longer known (a browser behind it gets a snapshot). */
static void
gone_add(struct rs_fleet *f, const char *id)
{
	size_t len = strlen(id);
	struct gone *g;

	HASH_FIND(hh, f->gone, id, len, g);
	if (g != NULL)
		gone_free(f, g);
	if (f->ngone >= f->limits.max_vehicles)
		gone_prune(f);
	if ((g = malloc(sizeof(*g) + len + 1)) == NULL)
		goto lost;
	memcpy(g->id, id, len + 1);
	g->seq = f->seq + 1;
	hash_oom = false;
	HASH_ADD_KEYPTR(hh, f->gone, g->id, len, g);
	if (hash_oom) {
		free(g);
		goto lost;
	}
	DL_APPEND(f->graves, g);
	f->ngone++;
	return;
lost:
	f->horizon = f->seq + 1;
}

static void
mark_changed(struct rs_fleet *f, struct vehicle *v)
{
	if (v->in_chg && v->chg_seq == f->seq + 1)
		return;
	if (v->in_chg) {
		DL_DELETE2(f->chg, v, chg_prev, chg_next);
	} else {
		/* Shown for the first time: a tombstone of an earlier
		 * vehicle of this clientId goes (later changes cannot have
		 * one: tombstones are made only when a vehicle goes). */
		v->in_chg = true;
		gone_drop(f, v->client_id);
	}
	v->chg_seq = f->seq + 1;
	DL_APPEND2(f->chg, v, chg_prev, chg_next);
}

/* A change of more than the place: the route, its length, finished, or
 * the first position.  Updates then carry the whole vehicle. */
static void
mark_shaped(struct rs_fleet *f, struct vehicle *v)
{
	v->pub.shape_seq = f->seq + 1;
	mark_changed(f, v);
}

void
rs_fleet_commit(struct rs_fleet *f)
{
	f->seq++;
	while (f->graves != NULL &&
	    f->graves->seq + RS_FLEET_KEEP_GENS <= f->seq)
		gone_prune(f);
}

bool
rs_fleet_dirty(const struct rs_fleet *f)
{
	return (f->chg != NULL && f->chg->chg_prev->chg_seq > f->seq) ||
	    (f->graves != NULL && f->graves->prev->seq > f->seq);
}

uint64_t
rs_fleet_seq(const struct rs_fleet *f)
{
	return f->seq;
}

bool
rs_fleet_knows_since(const struct rs_fleet *f, uint64_t since)
{
	return since >= f->horizon && since <= f->seq;
}

/* ---- Vehicles --------------------------------------------------------- */

static void
vehicle_remove(struct rs_fleet *f, struct vehicle *v)
{
	HASH_DELETE(hh, f->byid, v);
	DL_DELETE2(f->lru, v, lru_prev, lru_next);
	if (v->in_fin)
		DL_DELETE2(f->fin, v, fin_prev, fin_next);
	if (v->in_chg)
		DL_DELETE2(f->chg, v, chg_prev, chg_next);
	if (v->pub.located) {
		gone_add(f, v->client_id);
		f->located--;
	}
	f->count--;
	rs_route_unref(v->route);
	free(v->route_id);
	free(v->json_ids);
	free(v);
}

static void
touch(struct rs_fleet *f, struct vehicle *v, int64_t now_ms)
{
	v->pub.updated_ms = now_ms;
	if (f->lru != NULL && f->lru->lru_prev == v)
		return;		/* already the last */
	DL_DELETE2(f->lru, v, lru_prev, lru_next);
	DL_APPEND2(f->lru, v, lru_prev, lru_next);
}

static void
set_finished(struct rs_fleet *f, struct vehicle *v, bool finished,
    int64_t now_ms)
{
	if (v->in_fin) {
		DL_DELETE2(f->fin, v, fin_prev, fin_next);
		v->in_fin = false;
	}
	v->pub.finished = finished;
	if (finished) {
		v->finished_ms = now_ms;
		DL_APPEND2(f->fin, v, fin_prev, fin_next);
		v->in_fin = true;
	}
}

/*
 * Gives v route id (from the catalogue, when it has it): n is the route's
 * size, k unknown, the delivery not finished.  0 or -ENOMEM (v as it was).
 */
static int
set_route(struct rs_fleet *f, struct vehicle *v, const char *id)
{
	const struct rs_catalogue_entry *e = f->cat ?
	    rs_catalogue_find(f->cat, id) : NULL;
	size_t clen = strlen(v->client_id), rlen = strlen(id), n;
	char *rid, *json, *shrunk;

	if ((rid = strdup(id)) == NULL)
		return -ENOMEM;
	json = malloc(rs_json_escape_max(clen) + rs_json_escape_max(rlen) +
	    8);
	if (json == NULL) {
		free(rid);
		return -ENOMEM;
	}
	n = 0;
	json[n++] = '[';
	json[n++] = '"';
	n += rs_json_escape(json + n, rs_json_escape_max(clen),
	    v->client_id);
	v->pub.json_id_len = n + 2;	/* ["<clientId>", */
	memcpy(json + n, "\",\"", 3);
	n += 3;
	n += rs_json_escape(json + n, rs_json_escape_max(rlen), id);
	memcpy(json + n, "\",", 3);	/* with the NUL */
	n += 2;
	if ((shrunk = realloc(json, n + 1)) != NULL)
		json = shrunk;
	free(v->route_id);
	free(v->json_ids);
	rs_route_unref(v->route);
	v->route_id = rid;
	v->pub.route_id = rid;
	v->json_ids = json;
	v->pub.json_ids = json;
	v->pub.json_ids_len = n;
	v->route = e ? rs_route_ref(e->route) : NULL;
	v->pub.route = v->route;
	v->pub.points = v->route ? (uint32_t)v->route->npoints : 0;
	v->pub.point = 0;
	return 0;
}

static struct vehicle *
find(const struct rs_fleet *f, const char *client_id)
{
	struct vehicle *v = NULL;

	HASH_FIND(hh, f->byid, client_id, strlen(client_id), v);
	return v;
}

/* A new vehicle without route or position; evicts the least recently
 * updated one at max_vehicles.  NULL when out of memory. */
static struct vehicle *
vehicle_add(struct rs_fleet *f, const char *client_id, int64_t now_ms)
{
	size_t len = strlen(client_id);
	struct vehicle *v = calloc(1, sizeof(*v) + len + 1);

	if (v == NULL)
		return NULL;
	memcpy(v->client_id, client_id, len + 1);
	v->pub.client_id = v->client_id;
	if (set_route(f, v, "") != 0) {
		free(v);
		return NULL;
	}
	hash_oom = false;
	HASH_ADD_KEYPTR(hh, f->byid, v->client_id, len, v);
	if (hash_oom) {
		free(v->route_id);
		free(v->json_ids);
		free(v);
		return NULL;
	}
	while (f->count >= f->limits.max_vehicles && f->lru != NULL) {
		vehicle_remove(f, f->lru);
		f->stats.evicted++;
	}
	v->pub.updated_ms = now_ms;
	DL_APPEND2(f->lru, v, lru_prev, lru_next);
	f->count++;
	return v;
}

static uint32_t match(const struct rs_route *r, uint32_t last, double lat,
    double lng);
static void set_text(struct vehicle *v, uint32_t matched);

int
rs_fleet_request(struct rs_fleet *f, const char *client_id,
    const char *route_id, int64_t now_ms)
{
	struct vehicle *v = find(f, client_id);
	bool same;

	if (v == NULL && (v = vehicle_add(f, client_id, now_ms)) == NULL)
		return -ENOMEM;
	/* The two topics are read independently (at start, both from their
	 * history): a moving vehicle with no route, or this one, already
	 * shows this delivery, whose request is read late.  It keeps its
	 * place, found on the route. */
	same = v->pub.located && !v->pub.finished &&
	    (v->route_id[0] == '\0' || strcmp(v->route_id, route_id) == 0);
	if (set_route(f, v, route_id) != 0)
		return -ENOMEM;
	f->stats.requests++;
	if (v->route == NULL)
		f->stats.unknown_route++;
	else if (same)
		set_text(v, v->pub.point = match(v->route, 0, v->pub.lat,
		    v->pub.lng));
	set_finished(f, v, false, now_ms);
	touch(f, v, now_ms);
	if (v->pub.located)
		mark_shaped(f, v);
	return 0;
}

static bool
near(const struct rs_point *p, double lat, double lng)
{
	return fabs(p->lat - lat) <= RS_FLEET_MATCH_EPS &&
	    fabs(p->lng - lng) <= RS_FLEET_MATCH_EPS;
}

/* The 1-based index of the route point at (lat, lng), searched after
 * last (1-based, 0: none), then from the start; 0 if none. */
static uint32_t
match(const struct rs_route *r, uint32_t last, double lat, double lng)
{
	size_t n = r->npoints, from = last < n ? last : n;

	for (size_t i = from; i < n; i++)
		if (near(&r->points[i], lat, lng))
			return (uint32_t)i + 1;
	for (size_t i = 0; i < from; i++)
		if (near(&r->points[i], lat, lng))
			return (uint32_t)i + 1;
	return 0;
}

/* "lat,lng": the route's own text for a matched point (the catalogue's
 * pairs are [lat,lng]), else the numbers formatted. */
static void
set_text(struct vehicle *v, uint32_t matched)
{
	char *t = v->pub.json_pos;
	size_t n = 0, len;

	if (matched > 0) {
		const char *pair = rs_route_pair(v->route, matched - 1, &len);

		memcpy(t, pair + 1, len - 2);
		n = len - 2;
	} else {
		n += rs_number_format(v->pub.lat, t);
		t[n++] = ',';
		n += rs_number_format(v->pub.lng, t + n);
	}
	t[n] = '\0';
	v->pub.json_pos_len = n;
}

int
rs_fleet_position(struct rs_fleet *f, const char *client_id,
    const char *route_hint, double lat, double lng, bool finished,
    int64_t now_ms)
{
	struct vehicle *v = find(f, client_id);
	struct rs_vehicle old;
	uint32_t k = 0, matched = 0;
	bool new_route = false;

	if (v == NULL && (v = vehicle_add(f, client_id, now_ms)) == NULL)
		return -ENOMEM;
	old = v->pub;
	if (route_hint != NULL && route_hint[0] != '\0' &&
	    strcmp(route_hint, v->route_id) != 0) {
		if (set_route(f, v, route_hint) != 0)
			return -ENOMEM;
		new_route = true;
	}
	if (v->pub.finished && !finished)
		v->pub.point = 0;	/* a new delivery */
	if (v->route != NULL) {
		uint32_t n = v->pub.points, last = v->pub.point;

		if ((k = matched = match(v->route, last, lat, lng)) == 0) {
			f->stats.unmatched++;
			k = finished ? n : last > 0 && last < n ? last + 1 :
			    last;
		}
	}
	f->stats.positions++;
	v->pub.lat = lat;
	v->pub.lng = lng;
	v->pub.point = k;
	if (!v->pub.located) {
		v->pub.located = true;
		f->located++;
	}
	set_text(v, matched);
	if (finished || v->pub.finished)
		set_finished(f, v, finished, now_ms);
	touch(f, v, now_ms);
	if (!old.located || old.points != v->pub.points ||
	    old.finished != finished || new_route)
		mark_shaped(f, v);
	else if (old.lat != lat || old.lng != lng || old.point != k)
		mark_changed(f, v);
	return 0;
}

void
rs_fleet_expire(struct rs_fleet *f, int64_t now_ms)
{
	while (f->fin != NULL &&
	    now_ms - f->fin->finished_ms >= f->limits.linger_ms) {
		vehicle_remove(f, f->fin);
		f->stats.finished++;
	}
	while (f->limits.stale_ms > 0 && f->lru != NULL &&
	    now_ms - f->lru->pub.updated_ms >= f->limits.stale_ms) {
		vehicle_remove(f, f->lru);
		f->stats.stale++;
	}
}

const struct rs_vehicle *
rs_fleet_find(const struct rs_fleet *f, const char *client_id)
{
	struct vehicle *v = find(f, client_id);

	return v ? &v->pub : NULL;
}

void
rs_fleet_each(const struct rs_fleet *f, rs_vehicle_cb cb, void *arg)
{
	for (const struct vehicle *v = f->byid; v != NULL; v = v->hh.next)
		if (v->pub.located)
			cb(&v->pub, arg);
}

/* The lists are in generation order: find the first entry after since
 * from the end (a frame's changes are the recent tail), then go forward. */
void
rs_fleet_each_changed(const struct rs_fleet *f, uint64_t since,
    rs_vehicle_cb cb, void *arg)
{
	const struct vehicle *v = f->chg, *first = NULL;

	if (v == NULL)
		return;
	for (v = v->chg_prev; v->chg_seq > since; v = v->chg_prev) {
		first = v;
		if (v == f->chg)
			break;
	}
	for (v = first; v != NULL; v = v->chg_next)
		cb(&v->pub, arg);
}

void
rs_fleet_each_removed(const struct rs_fleet *f, uint64_t since,
    rs_removed_cb cb, void *arg)
{
	const struct gone *g = f->graves, *first = NULL;

	if (g == NULL)
		return;
	for (g = g->prev; g->seq > since; g = g->prev) {
		first = g;
		if (g == f->graves)
			break;
	}
	for (g = first; g != NULL; g = g->next)
		cb(g->id, arg);
}

size_t
rs_fleet_count(const struct rs_fleet *f)
{
	return f->count;
}

size_t
rs_fleet_located(const struct rs_fleet *f)
{
	return f->located;
}

const struct rs_fleet_stats *
rs_fleet_stats(const struct rs_fleet *f)
{
	return &f->stats;
}

void
rs_fleet_free(struct rs_fleet *f)
{
	struct gone *g;

	if (f == NULL)
		return;
	while (f->lru != NULL)
		vehicle_remove(f, f->lru);
	/* As hash.h says: the table first, then the entries. */
	HASH_CLEAR(hh, f->gone);
	while ((g = f->graves) != NULL) {
		DL_DELETE(f->graves, g);
		free(g);
	}
	free(f);
}
