/* test_route.c - route file parsing (src/route.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "routesim/route.h"

static struct rs_route *
parse_ok(const char *text, enum rs_position_order order)
{
	struct rs_route *r = NULL;
	char err[256] = "";

	if (rs_route_parse(text, strlen(text), "x", "x.txt", order, &r, err,
	    sizeof(err)) != 0)
		fail_msg("unexpected error: %s", err);
	return r;
}

static void
expect_error(const char *text, const char *want)
{
	struct rs_route *r = (struct rs_route *)1;
	char err[256] = "";

	assert_int_equal(rs_route_parse(text, strlen(text), "x", "x.txt",
	    RS_ORDER_LATLNG, &r, err, sizeof(err)), -EINVAL);
	assert_null(r);
	if (strstr(err, want) == NULL)
		fail_msg("error '%s' does not contain '%s'", err, want);
}

static void
test_points_and_pairs(void **state)
{
	struct rs_route *r;
	size_t len;
	const char *p;

	(void)state;
	r = parse_ok("-15.82594,-47.92923\n-15.82598,-47.92922", RS_ORDER_LATLNG);
	assert_int_equal(r->npoints, 2);
	assert_true(r->points[0].lat == -15.82594);
	assert_true(r->points[1].lng == -47.92922);
	p = rs_route_pair(r, 0, &len);
	assert_int_equal(len, strlen("[-15.82594,-47.92923]"));
	assert_memory_equal(p, "[-15.82594,-47.92923]", len);
	p = rs_route_pair(r, 1, &len);
	assert_memory_equal(p, "[-15.82598,-47.92922]", len);
	assert_string_equal(r->id, "x");
	rs_route_unref(r);

	r = parse_ok("-15.82594,-47.92923\n", RS_ORDER_LNGLAT);
	p = rs_route_pair(r, 0, &len);
	assert_memory_equal(p, "[-47.92923,-15.82594]", len);
	rs_route_unref(r);
}

static void
test_tolerated_layouts(void **state)
{
	struct rs_route *r;

	(void)state;
	/* CRLF, blanks around numbers, trailing blank lines, signs. */
	r = parse_ok("1.5,2\r\n  -3 ,\t+4.25 \r\n5,6\r\n\r\n  \n\n",
	    RS_ORDER_LATLNG);
	assert_int_equal(r->npoints, 3);
	assert_true(r->points[1].lat == -3 && r->points[1].lng == 4.25);
	rs_route_unref(r);
	/* Reference counting: the last unref frees (ASan checks). */
	r = parse_ok("0,0", RS_ORDER_LATLNG);
	assert_ptr_equal(rs_route_ref(r), r);
	assert_int_equal(r->refs, 2);
	rs_route_unref(r);
	rs_route_unref(r);
}

static void
test_errors_name_file_and_line(void **state)
{
	(void)state;
	expect_error("", "x.txt: no points");
	expect_error("\n\n  \r\n", "x.txt: no points");
	expect_error("1,2\n\n3,4\n", "x.txt:2: blank line inside");
	expect_error("1,2\n3;4\n", "x.txt:2: expected");
	expect_error("1,2\n3,4,5\n", "x.txt:2: more than two fields");
	expect_error("1,2\nabc,4\n", "x.txt:2: latitude is not");
	expect_error("1,2\n3,\n", "x.txt:2: longitude is not");
	expect_error("1e3,2\n", "x.txt:1: latitude is not");
	expect_error("0x10,2\n", "x.txt:1: latitude is not");
	expect_error("nan,2\n", "x.txt:1: latitude is not");
	expect_error("1,inf\n", "x.txt:1: longitude is not");
	expect_error("1.,2\n", "x.txt:1: latitude is not");
	expect_error("1 2,3\n", "x.txt:1: latitude is not");
	expect_error("90.1,2\n", "x.txt:1: latitude outside");
	expect_error("1,-180.5\n", "x.txt:1: longitude outside");
	expect_error("1,2\n3,4\n5\n", "x.txt:3: expected");
}

static void
test_nul_byte(void **state)
{
	static const char text[] = "1,2\n\0\n3,4";
	struct rs_route *r;
	char err[128];

	(void)state;
	assert_int_equal(rs_route_parse(text, sizeof(text) - 1, "x", "x.txt",
	    RS_ORDER_LATLNG, &r, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "NUL"));
}

static void
test_load_missing_and_dir(void **state)
{
	struct rs_route *r;
	char err[256];

	(void)state;
	assert_int_equal(rs_route_load("/nonexistent-dir", "1",
	    RS_ORDER_LATLNG, &r, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "/nonexistent-dir/1.txt"));
}

static const char *
env_or_skip(const char *name)
{
	const char *v = getenv(name);

	if (v == NULL)
		fail_msg("%s not set (run through ctest)", name);
	return v;
}

/* The project's own routes start and end where the backend seeds them. */
static void
test_shipped_routes(void **state)
{
	static const struct {
		const char *id;
		double a[2], b[2];
	} seeds[] = {
		{"1", {-15.82594, -47.92923}, {-15.82942, -47.92765}},
		{"2", {-15.82449, -47.92756}, {-15.8276, -47.92621}},
		{"3", {-15.82331, -47.92588}, {-15.82758, -47.92532}},
	};
	char dir[4096], err[256];

	(void)state;
	snprintf(dir, sizeof(dir), "%s/destinations",
	    env_or_skip("RS_SOURCE_DIR"));
	for (size_t i = 0; i < 3; i++) {
		struct rs_route *r;
		const struct rs_point *last;

		if (rs_route_load(dir, seeds[i].id, RS_ORDER_LATLNG, &r, err,
		    sizeof(err)) != 0)
			fail_msg("%s", err);
		last = &r->points[r->npoints - 1];
		assert_true(r->points[0].lat == seeds[i].a[0]);
		assert_true(r->points[0].lng == seeds[i].a[1]);
		assert_true(last->lat == seeds[i].b[0]);
		assert_true(last->lng == seeds[i].b[1]);
		assert_true(r->npoints > 20);
		rs_route_unref(r);
	}
}

/* The course's files parse to exactly their points. */
static void
test_reference_routes(void **state)
{
	static const struct {
		const char *id;
		size_t n;
	} want[] = {{"1", 219}, {"2", 40}, {"3", 265}};
	const char *ref = getenv("RS_REFERENCE_DIR");
	char dir[4096], err[256];
	FILE *f;

	(void)state;
	if (ref == NULL)
		skip();
	snprintf(dir, sizeof(dir), "%s/destinations/1.txt", ref);
	if ((f = fopen(dir, "r")) == NULL) {
		print_message("skipped: reference routes not found in %s "
		    "(../shared/reference is optional)\n", ref);
		skip();
	}
	fclose(f);
	snprintf(dir, sizeof(dir), "%s/destinations", ref);
	for (size_t i = 0; i < 3; i++) {
		struct rs_route *r;

		if (rs_route_load(dir, want[i].id, RS_ORDER_LATLNG, &r, err,
		    sizeof(err)) != 0)
			fail_msg("%s", err);
		assert_int_equal(r->npoints, want[i].n);
		rs_route_unref(r);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_points_and_pairs),
		cmocka_unit_test(test_tolerated_layouts),
		cmocka_unit_test(test_errors_name_file_and_line),
		cmocka_unit_test(test_nul_byte),
		cmocka_unit_test(test_load_missing_and_dir),
		cmocka_unit_test(test_shipped_routes),
		cmocka_unit_test(test_reference_routes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
