/* test_routes.c - the route cache on a real loop (src/routes.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "routesim/routes.h"

struct waiter {
	struct rs_route_wait w;	/* first: the callback casts back */
	struct rs_route *route;
	int rc, calls;
	char err[256];
};

static char dir[64];
static uv_loop_t loop;

static void
write_route(const char *id, const char *text)
{
	char path[128], tmp[160];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s.txt", dir, id);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(rename(tmp, path), 0);
}

static void
on_ready(struct rs_route_wait *w, struct rs_route *route, int rc,
    const char *err)
{
	struct waiter *wt = (struct waiter *)w;

	wt->route = route;
	wt->rc = rc;
	wt->calls++;
	snprintf(wt->err, sizeof(wt->err), "%s", err ? err : "");
}

static void
on_timeout(uv_timer_t *t)
{
	*(int *)t->data = 1;
}

/* Runs the loop until *done or 2 s have passed; fails on time-out. */
static void
run_until(const int *done)
{
	uv_timer_t t;
	int expired = 0;

	uv_timer_init(&loop, &t);
	t.data = &expired;
	uv_timer_start(&t, on_timeout, 2000, 0);
	while (!*done && !expired)
		uv_run(&loop, UV_RUN_ONCE);
	uv_close((uv_handle_t *)&t, NULL);
	uv_run(&loop, UV_RUN_NOWAIT);
	if (!*done)
		fail_msg("timed out");
}

static int
setup(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/routesim-routes-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	return uv_loop_init(&loop);
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		return -1;
	return uv_loop_close(&loop);
}

static int closed;

static void
on_closed(struct rs_routes *rt)
{
	(void)rt;
	closed = 1;
}

static void
close_cache(struct rs_routes *rt)
{
	closed = 0;
	rs_routes_close(rt, on_closed);
	run_until(&closed);
}

static void
test_load_once_then_cached(void **state)
{
	struct rs_routes rt;
	struct waiter a = {0}, b = {0};
	struct rs_route *r;

	(void)state;
	write_route("7", "1,2\n3,4\n");
	assert_int_equal(rs_routes_init(&rt, &loop, dir, RS_ORDER_LATLNG), 0);
	/* Two requests while loading share one load. */
	assert_int_equal(rs_routes_get(&rt, "7", &r, &a.w, on_ready),
	    -EINPROGRESS);
	assert_int_equal(rs_routes_get(&rt, "7", &r, &b.w, on_ready),
	    -EINPROGRESS);
	run_until(&a.calls);
	run_until(&b.calls);
	assert_int_equal(a.rc, 0);
	assert_ptr_equal(a.route, b.route);
	assert_int_equal(a.route->npoints, 2);
	assert_int_equal(a.route->refs, 3);	/* cache + two waiters */
	/* Now it is cached: answered at once, no callback. */
	assert_int_equal(rs_routes_get(&rt, "7", &r, &a.w, on_ready), 0);
	assert_ptr_equal(r, b.route);
	assert_int_equal(rs_routes_cached(&rt), 1);
	rs_route_unref(r);
	rs_route_unref(a.route);
	rs_route_unref(b.route);
	close_cache(&rt);
}

static void
test_missing_and_bad_files(void **state)
{
	struct rs_routes rt;
	struct waiter a = {0}, b = {0};
	struct rs_route *r;

	(void)state;
	write_route("bad", "1,2\n\n3,4\n");
	assert_int_equal(rs_routes_init(&rt, &loop, dir, RS_ORDER_LATLNG), 0);
	assert_int_equal(rs_routes_get(&rt, "nope", &r, &a.w, on_ready),
	    -EINPROGRESS);
	assert_int_equal(rs_routes_get(&rt, "bad", &r, &b.w, on_ready),
	    -EINPROGRESS);
	run_until(&a.calls);
	run_until(&b.calls);
	assert_int_equal(a.rc, -ENOENT);
	assert_null(a.route);
	assert_int_equal(b.rc, -EINVAL);
	assert_non_null(strstr(b.err, "bad.txt:2: blank line"));
	/* Failures are not cached: the file may appear later. */
	assert_int_equal(rs_routes_cached(&rt), 0);
	write_route("nope", "5,6\n");
	a.calls = 0;
	assert_int_equal(rs_routes_get(&rt, "nope", &r, &a.w, on_ready),
	    -EINPROGRESS);
	run_until(&a.calls);
	assert_int_equal(a.rc, 0);
	rs_route_unref(a.route);
	close_cache(&rt);
}

static void
test_changed_file_is_reread(void **state)
{
	struct rs_routes rt;
	struct waiter a = {0};
	struct rs_route *r, *old;
	int gone = 0;

	(void)state;
	write_route("9", "1,1\n");
	assert_int_equal(rs_routes_init(&rt, &loop, dir, RS_ORDER_LATLNG), 0);
	assert_int_equal(rs_routes_get(&rt, "9", &r, &a.w, on_ready),
	    -EINPROGRESS);
	run_until(&a.calls);
	old = a.route;
	write_route("9", "1,1\n2,2\n3,3\n");
	/* The folder watch drops the cached copy. */
	for (int i = 0; i < 100 && !gone; i++) {
		uv_run(&loop, UV_RUN_NOWAIT);
		gone = rs_routes_cached(&rt) == 0;
		usleep(10000);
	}
	assert_true(gone);
	a.calls = 0;
	assert_int_equal(rs_routes_get(&rt, "9", &r, &a.w, on_ready),
	    -EINPROGRESS);
	run_until(&a.calls);
	assert_int_equal(a.route->npoints, 3);
	/* A delivery holding the old version still has it intact. */
	assert_int_equal(old->npoints, 1);
	assert_int_equal(old->refs, 1);
	rs_route_unref(old);
	rs_route_unref(a.route);
	close_cache(&rt);
}

static void
test_close_cancels_waiters(void **state)
{
	struct rs_routes rt;
	struct waiter a = {0};
	struct rs_route *r;

	(void)state;
	write_route("5", "1,1\n");
	assert_int_equal(rs_routes_init(&rt, &loop, dir, RS_ORDER_LATLNG), 0);
	assert_int_equal(rs_routes_get(&rt, "5", &r, &a.w, on_ready),
	    -EINPROGRESS);
	close_cache(&rt);
	/* The load either was cancelled or finished: the waiter was told. */
	assert_int_equal(a.calls, 1);
	assert_int_equal(a.rc, -ECANCELED);
	assert_null(a.route);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_load_once_then_cached),
		cmocka_unit_test(test_missing_and_bad_files),
		cmocka_unit_test(test_changed_file_is_reread),
		cmocka_unit_test(test_close_cancels_waiters),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
