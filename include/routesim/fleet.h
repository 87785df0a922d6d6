/*
 * fleet.h - the tracker's picture of the deliveries: one vehicle per
 * clientId, fed by requests (route.new-direction) and positions
 * (route.new-position), read by the frame encoder (frame.h).
 *
 * A request says which route a clientId drives; a position where it is.
 * A vehicle appears in frames once it has a position.  Its progress is
 * point k of n: n is the number of points of its route in the catalogue
 * (catalogue.h), k the 1-based index of the route point the position
 * matches (both coordinates within RS_FLEET_MATCH_EPS), searched forward
 * from the last match, then from the start.  A position that matches no
 * point counts as the point after the last match (the last point when it
 * is the finished one), or 0, unknown, when there was no match before.
 * A vehicle whose request was never seen has route "" and n = 0 (unless
 * the caller passes the position's routeId as route_hint).  A new request
 * for a clientId, or a position that is not finished after a finished
 * one, starts a new delivery: the search starts again from the first
 * point.
 *
 * Time is passed in (milliseconds, any monotonic origin): nothing here
 * reads a clock, so tests are deterministic.  rs_fleet_expire() forgets
 * finished vehicles linger_ms after their last position, and any vehicle
 * silent for stale_ms (a delivery whose simulator stopped).  At
 * max_vehicles, adding one evicts the least recently updated.
 *
 * Changes are kept per generation.  rs_fleet_commit() closes the open
 * one: rs_fleet_seq() is the last closed generation, and every change
 * since belongs to the open one, rs_fleet_seq() + 1.  Each located
 * vehicle remembers the generation of its last change, and each forgotten
 * clientId is kept (a tombstone) for RS_FLEET_KEEP_GENS generations, at
 * most max_vehicles of them: so the changes since any recent generation g
 * are known (rs_fleet_knows_since()), and an update frame from g to the
 * latest state is the vehicles changed after g and the clientIds
 * forgotten after g (and not seen again); a vehicle whose shape_seq is
 * at most g only moved since g, and a browser that has g knows the rest
 * of it.  A snapshot carries
 * rs_fleet_seq(); so does an update, made after rs_fleet_commit().  Both
 * show the latest state, which may include changes of the open
 * generation: the next update repeats those.
 *
 * Ownership: rs_fleet_new() returns a fleet rs_fleet_free() releases.
 * Vehicles belong to the fleet: the pointers handed to callbacks and
 * returned by rs_fleet_find() are valid until the next call that changes
 * the fleet.  A vehicle holds its own reference to its route, so a
 * catalogue may be replaced (rs_fleet_set_catalogue()) and freed while
 * vehicles still drive its routes.  The catalogue must outlive its use by
 * the fleet.  Loop thread only.
 */
#ifndef ROUTESIM_FLEET_H
#define ROUTESIM_FLEET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "routesim/catalogue.h"
#include "routesim/position.h"
#include "routesim/route.h"

/* How close (degrees) a position must be to a route point to match it. */
#define RS_FLEET_MATCH_EPS 1e-7

/* Tombstones are kept this many generations (10 s of 100 ms frames): a
 * browser further behind gets a snapshot. */
#define RS_FLEET_KEEP_GENS 100

struct rs_fleet_limits {
	size_t max_vehicles;	/* at least 1 */
	int64_t linger_ms;	/* finished vehicles kept this long */
	int64_t stale_ms;	/* silent vehicles kept this long; 0: ever */
};

struct rs_fleet_stats {
	uint64_t requests;	/* requests applied */
	uint64_t positions;	/* positions applied */
	uint64_t unknown_route;	/* requests naming no catalogue route */
	uint64_t unmatched;	/* positions on none of the route's points */
	uint64_t evicted;	/* forgotten to stay within max_vehicles */
	uint64_t finished;	/* forgotten linger_ms after finishing */
	uint64_t stale;		/* forgotten after stale_ms of silence */
};

/* A vehicle, as the fleet shows it: read only. */
struct rs_vehicle {
	const char *client_id;
	const char *route_id;	/* "" when no request was seen */
	const struct rs_route *route;	/* NULL: route unknown */
	double lat, lng;
	uint32_t point;		/* 1-based k of n; 0: unknown */
	uint32_t points;	/* n; 0: route unknown */
	bool finished;
	bool located;		/* has had a position */
	int64_t updated_ms;	/* time of the last request or position */
	/* The generation of its last change of more than lat, lng and
	 * point: its first position, a route, n, finished. */
	uint64_t shape_seq;
	/* The frames' text: ["<clientId>","<routeId>", (the first
	 * json_id_len bytes: ["<clientId>",) and "lat,lng". */
	const char *json_ids;
	size_t json_ids_len, json_id_len;
	char json_pos[RS_PAIR_MAX];
	size_t json_pos_len;
};

struct rs_fleet;

typedef void (*rs_vehicle_cb)(const struct rs_vehicle *v, void *arg);
typedef void (*rs_removed_cb)(const char *client_id, void *arg);

/* NULL when out of memory.  cat may be NULL (no routes). */
struct rs_fleet *rs_fleet_new(const struct rs_catalogue *cat,
    const struct rs_fleet_limits *limits);
void rs_fleet_free(struct rs_fleet *f);

/* Routes of later requests come from cat. */
void rs_fleet_set_catalogue(struct rs_fleet *f,
    const struct rs_catalogue *cat);

/* clientId starts a delivery of route_id.  0 or -ENOMEM. */
int rs_fleet_request(struct rs_fleet *f, const char *client_id,
    const char *route_id, int64_t now_ms);

/*
 * A position of clientId.  route_hint (NULL or "" to ignore it) is the
 * position message's routeId: when given and different from the
 * vehicle's route, the vehicle takes that route as a request would.
 * 0 or -ENOMEM.
 */
int rs_fleet_position(struct rs_fleet *f, const char *client_id,
    const char *route_hint, double lat, double lng, bool finished,
    int64_t now_ms);

/* Forgets finished vehicles past linger_ms and silent ones past
 * stale_ms. */
void rs_fleet_expire(struct rs_fleet *f, int64_t now_ms);

/* NULL when unknown. */
const struct rs_vehicle *rs_fleet_find(const struct rs_fleet *f,
    const char *client_id);

/* Every located vehicle (in order of arrival). */
void rs_fleet_each(const struct rs_fleet *f, rs_vehicle_cb cb, void *arg);
/* Every located vehicle changed after generation since, in the order of
 * their last change. */
void rs_fleet_each_changed(const struct rs_fleet *f, uint64_t since,
    rs_vehicle_cb cb, void *arg);
/* Every clientId forgotten after generation since (once shown, and not
 * seen again), in the order they were forgotten. */
void rs_fleet_each_removed(const struct rs_fleet *f, uint64_t since,
    rs_removed_cb cb, void *arg);
/* True when the changes after generation since are all known (it is at
 * most rs_fleet_seq(), and no tombstone after it was dropped). */
bool rs_fleet_knows_since(const struct rs_fleet *f, uint64_t since);

/* True when the open generation has changes or removals. */
bool rs_fleet_dirty(const struct rs_fleet *f);
uint64_t rs_fleet_seq(const struct rs_fleet *f);
/* Closes the open generation: seq + 1; drops old tombstones. */
void rs_fleet_commit(struct rs_fleet *f);

/* Vehicles known (located or not), and located ones. */
size_t rs_fleet_count(const struct rs_fleet *f);
size_t rs_fleet_located(const struct rs_fleet *f);
const struct rs_fleet_stats *rs_fleet_stats(const struct rs_fleet *f);

#endif
