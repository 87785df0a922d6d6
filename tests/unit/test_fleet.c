/*
 * test_fleet.c - the tracker's fleet state (src/fleet.c): requests and
 * positions, point k of n, new deliveries, linger, silence, the vehicle
 * cap and generations.  Time is a number passed in: no clock.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "routesim/catalogue.h"
#include "routesim/fleet.h"

/* Route "r": five points; route "loop" passes point A twice. */
#define A -15.82594, -47.92923
#define B -15.82598, -47.92922
#define C -15.82602, -47.9292
#define D -15.82606, -47.92918
#define E -15.8261, -47.92916

struct ctx {
	struct rs_catalogue *cat;
	struct rs_fleet *f;
};

static struct rs_catalogue *
make_catalogue(const char *const *names, const char *const *texts, size_t n)
{
	char dir[] = "/tmp/routesim-test-fleet-XXXXXX", path[128], err[256];
	struct rs_catalogue *cat;

	assert_non_null(mkdtemp(dir));
	for (size_t i = 0; i < n; i++) {
		FILE *fp;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		assert_non_null(fp = fopen(path, "w"));
		fputs(texts[i], fp);
		fclose(fp);
	}
	if (rs_catalogue_load(dir, &cat, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	for (size_t i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		unlink(path);
	}
	rmdir(dir);
	return cat;
}

static int
setup_limits(void **state, size_t max, int64_t linger, int64_t stale)
{
	static const char *const names[] = {"r.txt", "loop.txt"};
	static const char *const texts[] = {
		"-15.82594,-47.92923\n-15.82598,-47.92922\n"
		"-15.82602,-47.9292\n-15.82606,-47.92918\n"
		"-15.8261,-47.92916\n",
		"-15.82594,-47.92923\n-15.82598,-47.92922\n"
		"-15.82602,-47.9292\n-15.82594,-47.92923\n"
		"-15.82606,-47.92918\n",
	};
	struct rs_fleet_limits lim = {max, linger, stale};
	struct ctx *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return -1;
	c->cat = make_catalogue(names, texts, 2);
	*state = c;
	if ((c->f = rs_fleet_new(c->cat, &lim)) == NULL) {
		rs_catalogue_free(c->cat);
		free(c);
		return -1;
	}
	return 0;
}

static int
setup(void **state)
{
	return setup_limits(state, 100, 10000, 0);
}

static int
setup_small(void **state)
{
	return setup_limits(state, 3, 10000, 60000);
}

static int
teardown(void **state)
{
	struct ctx *c = *state;

	rs_fleet_free(c->f);
	rs_catalogue_free(c->cat);
	free(c);
	return 0;
}

static const struct rs_vehicle *
pos(struct rs_fleet *f, const char *id, double lat, double lng,
    bool finished, int64_t now)
{
	assert_int_equal(rs_fleet_position(f, id, NULL, lat, lng, finished,
	    now), 0);
	return rs_fleet_find(f, id);
}

static void
expect_k(const struct rs_vehicle *v, unsigned k, unsigned n)
{
	if (v->point != k || v->points != n)
		fail_msg("%s: point %u of %u, expected %u of %u",
		    v->client_id, v->point, v->points, k, n);
}

/* Counts callbacks and remembers their ids, comma-separated. */
struct seen {
	size_t n;
	char ids[256];
};

static void
seen_vehicle(const struct rs_vehicle *v, void *arg)
{
	struct seen *s = arg;

	s->n++;
	strcat(s->ids, v->client_id);
	strcat(s->ids, ",");
}

static void
seen_id(const char *id, void *arg)
{
	struct seen *s = arg;

	s->n++;
	strcat(s->ids, id);
	strcat(s->ids, ",");
}

static const char *
changed(const struct rs_fleet *f)
{
	static struct seen s;

	memset(&s, 0, sizeof(s));
	rs_fleet_each_changed(f, rs_fleet_seq(f), seen_vehicle, &s);
	return s.ids;
}

static const char *
removed(const struct rs_fleet *f)
{
	static struct seen s;

	memset(&s, 0, sizeof(s));
	rs_fleet_each_removed(f, rs_fleet_seq(f), seen_id, &s);
	return s.ids;
}

static const char *
located(const struct rs_fleet *f)
{
	static struct seen s;

	memset(&s, 0, sizeof(s));
	rs_fleet_each(f, seen_vehicle, &s);
	return s.ids;
}

static void
test_request_then_positions(void **state)
{
	struct ctx *c = *state;
	const struct rs_vehicle *v;

	assert_int_equal(rs_fleet_request(c->f, "1", "r", 0), 0);
	/* Known but not located: in no frame yet. */
	assert_int_equal(rs_fleet_count(c->f), 1);
	assert_int_equal(rs_fleet_located(c->f), 0);
	assert_string_equal(located(c->f), "");
	assert_false(rs_fleet_dirty(c->f));
	v = pos(c->f, "1", A, false, 0);
	assert_string_equal(v->route_id, "r");
	expect_k(v, 1, 5);
	assert_true(v->lat == -15.82594 && v->lng == -47.92923);
	assert_false(v->finished);
	assert_true(v->located);
	expect_k(pos(c->f, "1", B, false, 500), 2, 5);
	expect_k(pos(c->f, "1", C, false, 1000), 3, 5);
	expect_k(pos(c->f, "1", D, false, 1500), 4, 5);
	v = pos(c->f, "1", E, true, 2000);
	expect_k(v, 5, 5);
	assert_true(v->finished);
	assert_string_equal(located(c->f), "1,");
	assert_int_equal(rs_fleet_stats(c->f)->positions, 5);
	assert_int_equal(rs_fleet_stats(c->f)->requests, 1);
	assert_int_equal(rs_fleet_stats(c->f)->unmatched, 0);
}

/* The request never seen: route "" and n 0, unless the position's own
 * routeId is passed as the hint. */
static void
test_no_request(void **state)
{
	struct ctx *c = *state;
	const struct rs_vehicle *v;

	v = pos(c->f, "x", B, false, 0);
	assert_string_equal(v->route_id, "");
	expect_k(v, 0, 0);
	assert_null(v->route);
	assert_string_equal(v->json_ids, "[\"x\",\"\",");
	assert_int_equal(rs_fleet_position(c->f, "x", "r", C, false, 500),
	    0);
	v = rs_fleet_find(c->f, "x");
	assert_string_equal(v->route_id, "r");
	expect_k(v, 3, 5);
	/* The same hint again changes nothing but the point. */
	assert_int_equal(rs_fleet_position(c->f, "x", "r", D, false, 1000),
	    0);
	expect_k(rs_fleet_find(c->f, "x"), 4, 5);
	/* "" and NULL hints are ignored. */
	assert_int_equal(rs_fleet_position(c->f, "x", "", E, false, 1500),
	    0);
	assert_string_equal(rs_fleet_find(c->f, "x")->route_id, "r");
}

static void
test_unknown_route(void **state)
{
	struct ctx *c = *state;
	const struct rs_vehicle *v;

	assert_int_equal(rs_fleet_request(c->f, "u", "nope", 0), 0);
	v = pos(c->f, "u", A, false, 0);
	assert_string_equal(v->route_id, "nope");
	expect_k(v, 0, 0);
	assert_int_equal(rs_fleet_stats(c->f)->unknown_route, 1);
}

/* Exact match within RS_FLEET_MATCH_EPS; the search goes forward from
 * the last match (a route through one point twice), then from the
 * start; no match is the next point, or 0 with no match before. */
static void
test_matching(void **state)
{
	struct ctx *c = *state;

	assert_int_equal(rs_fleet_request(c->f, "l", "loop", 0), 0);
	expect_k(pos(c->f, "l", A, false, 0), 1, 5);
	expect_k(pos(c->f, "l", B, false, 1), 2, 5);
	expect_k(pos(c->f, "l", C, false, 2), 3, 5);
	expect_k(pos(c->f, "l", A, false, 3), 4, 5);	/* not 1 */
	expect_k(pos(c->f, "l", D, true, 4), 5, 5);

	/* Opened mid-delivery: found from the start. */
	assert_int_equal(rs_fleet_request(c->f, "m", "r", 0), 0);
	expect_k(pos(c->f, "m", D, false, 0), 4, 5);
	/* A repeated message matches its own point again. */
	expect_k(pos(c->f, "m", D, false, 1), 4, 5);
	/* Within 1e-7 matches; 2e-7 off does not: the next point. */
	expect_k(pos(c->f, "m", -15.8261 + 5e-8, -47.92916 - 5e-8, false, 2),
	    5, 5);
	assert_int_equal(rs_fleet_request(c->f, "n", "r", 0), 0);
	expect_k(pos(c->f, "n", A, false, 0), 1, 5);
	expect_k(pos(c->f, "n", -15.82598 + 2e-7, -47.92922, false, 1), 2, 5);
	expect_k(pos(c->f, "n", 1, 1, false, 2), 3, 5);
	assert_int_equal(rs_fleet_stats(c->f)->unmatched, 2);
	/* Unknown from the start: 0; the finished one: n. */
	assert_int_equal(rs_fleet_request(c->f, "o", "r", 0), 0);
	expect_k(pos(c->f, "o", 1, 1, false, 0), 0, 5);
	expect_k(pos(c->f, "o", 1, 1, true, 1), 5, 5);
	/* At the last point, an unknown position stays there. */
	assert_int_equal(rs_fleet_request(c->f, "p", "r", 0), 0);
	expect_k(pos(c->f, "p", E, false, 0), 5, 5);
	expect_k(pos(c->f, "p", 2, 2, false, 1), 5, 5);
}

/* A new delivery of the same clientId starts over: a new request, or a
 * position that is not finished after the finished one. */
static void
test_new_delivery(void **state)
{
	struct ctx *c = *state;
	const struct rs_vehicle *v;

	assert_int_equal(rs_fleet_request(c->f, "1", "r", 0), 0);
	expect_k(pos(c->f, "1", D, false, 0), 4, 5);
	v = pos(c->f, "1", E, true, 500);
	assert_true(v->finished);
	/* Again without a request: the search starts from point 1. */
	v = pos(c->f, "1", A, false, 1000);
	assert_false(v->finished);
	expect_k(v, 1, 5);
	/* A request (another route) restarts it at once. */
	rs_fleet_commit(c->f);
	assert_int_equal(rs_fleet_request(c->f, "1", "loop", 1500), 0);
	v = rs_fleet_find(c->f, "1");
	assert_string_equal(v->route_id, "loop");
	expect_k(v, 0, 5);
	assert_false(v->finished);
	assert_string_equal(changed(c->f), "1,");
	expect_k(pos(c->f, "1", A, false, 2000), 1, 5);
	/* A finished vehicle that gets a request lingers no more. */
	pos(c->f, "1", D, true, 2500);
	assert_int_equal(rs_fleet_request(c->f, "1", "r", 3000), 0);
	rs_fleet_expire(c->f, 20000);
	assert_non_null(rs_fleet_find(c->f, "1"));
}

/* A request read after its delivery's first positions (the topics are
 * read independently) keeps the vehicle where it is, found on the
 * route; a finished one, or one on another route, starts over. */
static void
test_late_request(void **state)
{
	struct ctx *c = *state;
	const struct rs_vehicle *v;

	pos(c->f, "late", A, false, 0);
	v = pos(c->f, "late", D, false, 500);
	expect_k(v, 0, 0);
	assert_int_equal(rs_fleet_request(c->f, "late", "r", 600), 0);
	v = rs_fleet_find(c->f, "late");
	assert_string_equal(v->route_id, "r");
	expect_k(v, 4, 5);
	expect_k(pos(c->f, "late", E, true, 1000), 5, 5);
	/* Finished: the next request is a new delivery. */
	assert_int_equal(rs_fleet_request(c->f, "late", "r", 1500), 0);
	expect_k(rs_fleet_find(c->f, "late"), 0, 5);
}

/* Finished vehicles are kept linger_ms after their last position. */
static void
test_linger(void **state)
{
	struct ctx *c = *state;

	assert_int_equal(rs_fleet_request(c->f, "a", "r", 0), 0);
	pos(c->f, "a", E, true, 1000);
	pos(c->f, "b", A, false, 1000);
	pos(c->f, "c", E, true, 2000);
	rs_fleet_commit(c->f);
	rs_fleet_expire(c->f, 10999);
	assert_int_equal(rs_fleet_count(c->f), 3);
	assert_false(rs_fleet_dirty(c->f));
	rs_fleet_expire(c->f, 11000);
	assert_null(rs_fleet_find(c->f, "a"));
	assert_string_equal(removed(c->f), "a,");
	assert_true(rs_fleet_dirty(c->f));
	assert_int_equal(rs_fleet_stats(c->f)->finished, 1);
	/* Another finished position starts the wait again. */
	pos(c->f, "c", E, true, 5000);
	rs_fleet_expire(c->f, 14999);
	assert_non_null(rs_fleet_find(c->f, "c"));
	rs_fleet_expire(c->f, 15000);
	assert_null(rs_fleet_find(c->f, "c"));
	/* Unfinished vehicles stay (no stale_ms here). */
	rs_fleet_expire(c->f, 1000000);
	assert_non_null(rs_fleet_find(c->f, "b"));
	assert_string_equal(removed(c->f), "a,c,");
	rs_fleet_commit(c->f);
	assert_string_equal(removed(c->f), "");
}

/* At max_vehicles the least recently updated is evicted; stale_ms
 * forgets the silent ones. */
static void
test_cap_and_silence(void **state)
{
	struct ctx *c = *state;

	pos(c->f, "1", A, false, 1);
	pos(c->f, "2", A, false, 2);
	assert_int_equal(rs_fleet_request(c->f, "3", "r", 3), 0);
	pos(c->f, "1", B, false, 4);	/* 1 is now the newest */
	pos(c->f, "4", A, false, 5);	/* evicts 2 */
	assert_null(rs_fleet_find(c->f, "2"));
	assert_int_equal(rs_fleet_count(c->f), 3);
	assert_int_equal(rs_fleet_stats(c->f)->evicted, 1);
	assert_int_equal(rs_fleet_request(c->f, "5", "r", 6), 0);
	/* 3 (a request only, never shown) went: not in removed. */
	assert_null(rs_fleet_find(c->f, "3"));
	assert_string_equal(removed(c->f), "2,");
	assert_int_equal(rs_fleet_stats(c->f)->evicted, 2);
	/* stale_ms = 60 s: silence since 4 and 5 ends 1 and 4. */
	rs_fleet_expire(c->f, 60003);
	assert_int_equal(rs_fleet_count(c->f), 3);
	rs_fleet_expire(c->f, 60005);
	assert_null(rs_fleet_find(c->f, "1"));
	assert_null(rs_fleet_find(c->f, "4"));
	assert_non_null(rs_fleet_find(c->f, "5"));
	assert_int_equal(rs_fleet_stats(c->f)->stale, 2);
	rs_fleet_expire(c->f, 60006);
	assert_int_equal(rs_fleet_count(c->f), 0);
	assert_int_equal(rs_fleet_located(c->f), 0);
}

/* Changes belong to the open generation until rs_fleet_commit(). */
static void
test_generations(void **state)
{
	struct ctx *c = *state;

	assert_int_equal(rs_fleet_seq(c->f), 0);
	assert_false(rs_fleet_dirty(c->f));
	pos(c->f, "1", A, false, 0);
	pos(c->f, "2", A, false, 0);
	pos(c->f, "1", B, false, 1);
	assert_string_equal(changed(c->f), "1,2,");
	rs_fleet_commit(c->f);
	assert_int_equal(rs_fleet_seq(c->f), 1);
	assert_false(rs_fleet_dirty(c->f));
	/* The same position again is no change. */
	pos(c->f, "1", B, false, 2);
	assert_false(rs_fleet_dirty(c->f));
	pos(c->f, "2", B, false, 2);
	assert_string_equal(changed(c->f), "2,");
	/* Forgotten and seen again in one generation: a vehicle, not
	 * removed. */
	pos(c->f, "1", E, true, 3);
	rs_fleet_expire(c->f, 10003);
	assert_string_equal(removed(c->f), "1,");
	assert_string_equal(changed(c->f), "2,");
	pos(c->f, "1", A, false, 10004);
	assert_string_equal(removed(c->f), "");
	assert_string_equal(changed(c->f), "2,1,");
	/* The snapshot order is arrival order. */
	assert_string_equal(located(c->f), "2,1,");
	rs_fleet_commit(c->f);
	assert_int_equal(rs_fleet_seq(c->f), 2);
}

static const char *
changed_since(const struct rs_fleet *f, uint64_t since)
{
	static struct seen s;

	memset(&s, 0, sizeof(s));
	rs_fleet_each_changed(f, since, seen_vehicle, &s);
	rs_fleet_each_removed(f, since, seen_id, &s);
	return s.ids;
}

/* The changes since any recent generation: vehicles in the order of their
 * last change, then the ones forgotten; old tombstones are dropped. */
static void
test_since(void **state)
{
	struct ctx *c = *state;

	pos(c->f, "1", A, false, 0);
	pos(c->f, "2", A, false, 0);
	pos(c->f, "3", A, false, 0);
	rs_fleet_commit(c->f);			/* 1 */
	pos(c->f, "1", B, false, 1);
	rs_fleet_commit(c->f);			/* 2 */
	pos(c->f, "3", E, true, 2);
	rs_fleet_expire(c->f, 10002);		/* 3 is forgotten */
	rs_fleet_commit(c->f);			/* 3 */
	pos(c->f, "2", B, false, 10003);
	rs_fleet_commit(c->f);			/* 4 */
	assert_string_equal(changed_since(c->f, 0), "1,2,3,");
	assert_string_equal(changed_since(c->f, 1), "1,2,3,");
	assert_string_equal(changed_since(c->f, 2), "2,3,");
	assert_string_equal(changed_since(c->f, 3), "2,");
	assert_string_equal(changed_since(c->f, 4), "");
	assert_false(rs_fleet_dirty(c->f));
	/* The open generation's changes are in every frame's tail. */
	pos(c->f, "1", C, false, 10004);
	assert_true(rs_fleet_dirty(c->f));
	assert_string_equal(changed_since(c->f, 4), "1,");
	assert_string_equal(changed_since(c->f, 2), "2,1,3,");
	/* Seen again after being forgotten: a vehicle, no tombstone. */
	pos(c->f, "3", A, false, 10005);
	assert_string_equal(changed_since(c->f, 2), "2,1,3,");
	assert_string_equal(changed_since(c->f, 0), "2,1,3,");
	for (uint64_t g = 0; g <= 4; g++)
		assert_true(rs_fleet_knows_since(c->f, g));
	assert_false(rs_fleet_knows_since(c->f, 5));	/* not yet made */
	/* A tombstone is kept RS_FLEET_KEEP_GENS generations: then what
	 * came before it is no longer known. */
	rs_fleet_commit(c->f);			/* 5 */
	pos(c->f, "1", E, true, 10006);
	rs_fleet_expire(c->f, 20006);
	rs_fleet_commit(c->f);			/* 6: 1 forgotten */
	while (rs_fleet_seq(c->f) < 6 + RS_FLEET_KEEP_GENS - 1)
		rs_fleet_commit(c->f);
	assert_true(rs_fleet_knows_since(c->f, 0));
	assert_string_equal(changed_since(c->f, 5), "1,");
	rs_fleet_commit(c->f);
	assert_false(rs_fleet_knows_since(c->f, 5));
	assert_true(rs_fleet_knows_since(c->f, 6));
	assert_string_equal(changed_since(c->f, 5), "");
}

/* Tombstones are at most max_vehicles: the oldest goes first, and the
 * changes from before it are no longer known. */
static void
test_tombstone_cap(void **state)
{
	struct rs_fleet_limits lim = {2, 0, 0};
	struct rs_fleet *f = rs_fleet_new(NULL, &lim);

	(void)state;
	assert_non_null(f);
	assert_int_equal(rs_fleet_position(f, "a", NULL, 1, 2, true, 0), 0);
	rs_fleet_commit(f);			/* 1 */
	assert_int_equal(rs_fleet_position(f, "b", NULL, 1, 2, true, 0), 0);
	rs_fleet_expire(f, 0);			/* a, b forgotten in 2 */
	rs_fleet_commit(f);			/* 2 */
	assert_int_equal(rs_fleet_position(f, "c", NULL, 1, 2, true, 0), 0);
	rs_fleet_commit(f);			/* 3 */
	rs_fleet_expire(f, 0);			/* c forgotten in 4 */
	assert_string_equal(changed_since(f, 2), "c,");
	assert_false(rs_fleet_knows_since(f, 1));
	assert_true(rs_fleet_knows_since(f, 2));
	rs_fleet_free(f);
}

/* The frames' text is kept with the vehicle: escaped ids, the route's
 * own digits for a matched point, shortest round-trip otherwise. */
static void
test_json_text(void **state)
{
	struct ctx *c = *state;
	const struct rs_vehicle *v;

	assert_int_equal(rs_fleet_request(c->f, "a\"b<", "r", 0), 0);
	v = pos(c->f, "a\"b<", A, false, 0);
	assert_string_equal(v->json_ids, "[\"a\\\"b\\u003c\",\"r\",");
	assert_int_equal(v->json_ids_len, strlen(v->json_ids));
	assert_string_equal(v->json_pos, "-15.82594,-47.92923");
	v = pos(c->f, "a\"b<", 0.1 + 0.2, -1e-7, false, 1);
	assert_string_equal(v->json_pos, "0.30000000000000004,-1e-7");
	assert_int_equal(v->json_pos_len, strlen(v->json_pos));
}

/* Vehicles keep their route when the catalogue is replaced and freed. */
static void
test_catalogue_swap(void **state)
{
	static const char *const names[] = {"r.txt"};
	static const char *const texts[] = {"1,1\n2,2\n"};
	struct ctx *c = *state;
	struct rs_catalogue *next = make_catalogue(names, texts, 1);
	const struct rs_vehicle *v;

	assert_int_equal(rs_fleet_request(c->f, "old", "r", 0), 0);
	rs_fleet_set_catalogue(c->f, next);
	rs_catalogue_free(c->cat);
	c->cat = next;
	expect_k(pos(c->f, "old", C, false, 1), 3, 5);	/* old route */
	assert_int_equal(rs_fleet_request(c->f, "new", "r", 2), 0);
	v = pos(c->f, "new", 2, 2, true, 3);
	expect_k(v, 2, 2);
	assert_string_equal(v->json_pos, "2,2");
	/* With no catalogue, every route is unknown. */
	rs_fleet_set_catalogue(c->f, NULL);
	assert_int_equal(rs_fleet_request(c->f, "none", "r", 4), 0);
	expect_k(rs_fleet_find(c->f, "none"), 0, 0);
}

int
main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_request_then_positions),
		T(test_no_request),
		T(test_unknown_route),
		T(test_matching),
		T(test_new_delivery),
		T(test_late_request),
		T(test_linger),
		cmocka_unit_test_setup_teardown(test_cap_and_silence,
		    setup_small, teardown),
		T(test_since),
		cmocka_unit_test(test_tombstone_cap),
		T(test_generations),
		T(test_json_text),
		T(test_catalogue_swap),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
