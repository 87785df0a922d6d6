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
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

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

/* Only regular files are read, never blocking: a FIFO, a socket or a
 * folder named <id>.txt is an error at once.  A symlink to a regular
 * file (a ConfigMap's layout) is read; one to a FIFO is not. */
static void
test_load_only_regular_files(void **state)
{
	char dir[] = "/tmp/routesim-test-route-XXXXXX", path[256], err[256];
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	struct rs_route *r;
	FILE *f;
	int sfd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/fifo.txt", dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(rs_route_load(dir, "fifo", RS_ORDER_LATLNG, &r, err,
	    sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "fifo.txt: not a regular file"));

	snprintf(path, sizeof(path), "%s/dir.txt", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(rs_route_load(dir, "dir", RS_ORDER_LATLNG, &r, err,
	    sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "dir.txt: not a regular file"));

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/sock.txt", dir);
	assert_true((sfd = socket(AF_UNIX, SOCK_STREAM, 0)) >= 0);
	assert_int_equal(bind(sfd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	assert_true(rs_route_load(dir, "sock", RS_ORDER_LATLNG, &r, err,
	    sizeof(err)) < 0);
	assert_non_null(strstr(err, "sock.txt"));
	close(sfd);

	snprintf(path, sizeof(path), "%s/real", dir);
	assert_non_null(f = fopen(path, "w"));
	fputs("1,2\n3,4\n", f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/link.txt", dir);
	assert_int_equal(symlink("real", path), 0);
	assert_int_equal(rs_route_load(dir, "link", RS_ORDER_LATLNG, &r, err,
	    sizeof(err)), 0);
	assert_int_equal(r->npoints, 2);
	rs_route_unref(r);
	snprintf(path, sizeof(path), "%s/tofifo.txt", dir);
	assert_int_equal(symlink("fifo.txt", path), 0);
	assert_int_equal(rs_route_load(dir, "tofifo", RS_ORDER_LATLNG, &r,
	    err, sizeof(err)), -EINVAL);

	/* The size limit, checked before anything is read. */
	snprintf(path, sizeof(path), "%s/huge.txt", dir);
	assert_non_null(f = fopen(path, "w"));
	assert_int_equal(ftruncate(fileno(f), RS_ROUTE_FILE_MAX + 1), 0);
	fclose(f);
	assert_int_equal(rs_route_load(dir, "huge", RS_ORDER_LATLNG, &r, err,
	    sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "larger than"));

	for (const char *const *n = (const char *const[]){"fifo.txt",
	    "sock.txt", "real", "link.txt", "tofifo.txt", "huge.txt", NULL};
	    *n != NULL; n++) {
		snprintf(path, sizeof(path), "%s/%s", dir, *n);
		unlink(path);
	}
	snprintf(path, sizeof(path), "%s/dir.txt", dir);
	rmdir(path);
	rmdir(dir);
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

/* The course's files parse to exactly their points.  Run on its own
 * ("test_route reference"), so that absent data is a skip in ctest. */
static void
test_reference_routes(void **state)
{
	static const struct {
		const char *id;
		size_t n;
	} want[] = {{"1", 219}, {"2", 40}, {"3", 265}};
	const char *ref = *state;
	char dir[4096], err[256];

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

/* Exit status ctest counts as a skip (SKIP_RETURN_CODE). */
#define EXIT_SKIP 77

static int
reference_main(void)
{
	const char *ref = getenv("RS_REFERENCE_DIR");
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_prestate(test_reference_routes, (void *)ref),
	};
	char path[4096];

	if (ref == NULL || *ref == '\0') {
		printf("skipped: RS_REFERENCE_DIR is not set\n");
		return EXIT_SKIP;
	}
	snprintf(path, sizeof(path), "%s/destinations/1.txt", ref);
	if (access(path, F_OK) != 0) {
		printf("skipped: reference routes not found in %s "
		    "(../shared/reference is optional)\n", ref);
		return EXIT_SKIP;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}

int
main(int argc, char *argv[])
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_points_and_pairs),
		cmocka_unit_test(test_tolerated_layouts),
		cmocka_unit_test(test_errors_name_file_and_line),
		cmocka_unit_test(test_nul_byte),
		cmocka_unit_test(test_load_missing_and_dir),
		cmocka_unit_test(test_load_only_regular_files),
		cmocka_unit_test(test_shipped_routes),
	};

	if (argc > 1 && strcmp(argv[1], "reference") == 0)
		return reference_main();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
