/*
 * test_catalogue.c - the tracker's route catalogue (src/catalogue.c):
 * the shipped routes and titles, the order of ids, sidecar title rules,
 * files that are skipped, and the /api/routes body byte for byte.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "routesim/catalogue.h"

static char dir[] = "/tmp/routesim-test-catalogue-XXXXXX";

static void
put(const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_non_null(f = fopen(path, "w"));
	fputs(text, f);
	fclose(f);
}

static int
setup(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/routesim-test-catalogue-XXXXXX");
	return mkdtemp(dir) != NULL ? 0 : -1;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static struct rs_catalogue *
load(void)
{
	struct rs_catalogue *cat;
	char err[256];

	if (rs_catalogue_load(dir, &cat, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	return cat;
}

static void
test_shipped_routes(void **state)
{
	const char *src = getenv("RS_SOURCE_DIR");
	struct rs_catalogue *cat;
	char path[512], err[256];
	static const char *const titles[] = {"Primeiro", "Segundo",
	    "Terceiro"};
	cJSON *root;

	(void)state;
	snprintf(path, sizeof(path), "%s/destinations", src ? src : ".");
	assert_int_equal(rs_catalogue_load(path, &cat, err, sizeof(err)), 0);
	assert_int_equal(cat->count, 3);
	assert_int_equal(cat->skipped, 0);
	assert_non_null(root = cJSON_Parse(cat->json.data));
	assert_int_equal(cJSON_GetArraySize(root), 3);
	for (int i = 0; i < 3; i++) {
		const cJSON *r = cJSON_GetArrayItem(root, i);
		const cJSON *pts = cJSON_GetObjectItem(r, "points");
		const struct rs_route *route = cat->entries[i].route;
		const cJSON *start = cJSON_GetObjectItem(r, "start");
		const cJSON *end = cJSON_GetObjectItem(r, "end");
		int n = cJSON_GetArraySize(pts);
		char id[2] = {(char)('1' + i), '\0'};

		assert_string_equal(cJSON_GetObjectItem(r, "id")->valuestring,
		    id);
		assert_string_equal(
		    cJSON_GetObjectItem(r, "title")->valuestring, titles[i]);
		assert_int_equal(n, route->npoints);
		/* [lat, lng], the file's order, whatever the topic's. */
		assert_true(cJSON_GetArrayItem(start, 0)->valuedouble ==
		    route->points[0].lat);
		assert_true(cJSON_GetArrayItem(start, 1)->valuedouble ==
		    route->points[0].lng);
		assert_true(cJSON_GetArrayItem(end, 0)->valuedouble ==
		    route->points[n - 1].lat);
		assert_true(cJSON_GetArrayItem(cJSON_GetArrayItem(pts, 5), 1)
		    ->valuedouble == route->points[5].lng);
		assert_ptr_equal(rs_catalogue_find(cat, id), &cat->entries[i]);
	}
	/* Route 1 starts where the course's backend seeds it. */
	assert_non_null(strstr(cat->json.data, "{\"id\":\"1\",\"title\":"
	    "\"Primeiro\",\"start\":[-15.82594,-47.92923],"));
	cJSON_Delete(root);
	rs_catalogue_free(cat);
}

/* The body, byte for byte, with escaping by the project's escaper. */
static void
test_exact_body(void **state)
{
	struct rs_catalogue *cat;

	(void)state;
	cat = load();
	assert_string_equal(cat->json.data, "[]");
	rs_catalogue_free(cat);
	put("r.txt", "1.5,-2\n-0.25, 3\n10,20\n");
	put("r.title", "  A \"q\" <b> \xc3\xa9 \t\r\nsecond line\n");
	put("s.txt", "0,0\n");
	cat = load();
	assert_string_equal(cat->json.data,
	    "[{\"id\":\"r\",\"title\":\"A \\\"q\\\" \\u003cb\\u003e \xc3\xa9\","
	    "\"start\":[1.5,-2],\"end\":[10,20],"
	    "\"points\":[[1.5,-2],[-0.25,3],[10,20]]},"
	    "{\"id\":\"s\",\"title\":\"\",\"start\":[0,0],\"end\":[0,0],"
	    "\"points\":[[0,0]]}]");
	rs_catalogue_free(cat);
}

/* Digits-only ids first in numeric order, then strcmp. */
static void
test_order(void **state)
{
	static const char *const files[] = {"10", "b", "2", "B", "007", "1",
	    "a", "01", "-1", "99999999999999999999"};
	static const char *const sorted[] = {"01", "1", "2", "007", "10",
	    "99999999999999999999", "-1", "B", "a", "b"};
	struct rs_catalogue *cat;
	char name[64];

	(void)state;
	for (size_t i = 0; i < 10; i++) {
		snprintf(name, sizeof(name), "%s.txt", files[i]);
		put(name, "1,2\n");
	}
	cat = load();
	assert_int_equal(cat->count, 10);
	for (size_t i = 0; i < 10; i++) {
		assert_string_equal(cat->entries[i].route->id, sorted[i]);
		assert_ptr_equal(rs_catalogue_find(cat, sorted[i]),
		    &cat->entries[i]);
	}
	assert_null(rs_catalogue_find(cat, "3"));
	assert_null(rs_catalogue_find(cat, "c"));
	assert_null(rs_catalogue_find(cat, ""));
	rs_catalogue_free(cat);
	assert_true(rs_route_id_compare("9", "10") < 0);
	assert_true(rs_route_id_compare("10", "9") > 0);
	assert_true(rs_route_id_compare("10", "1a") < 0);
	assert_true(rs_route_id_compare("01", "1") < 0);
	assert_int_equal(rs_route_id_compare("x", "x"), 0);
}

/* What is not a route is skipped and counted; the rest loads. */
static void
test_skipped_files(void **state)
{
	struct rs_catalogue *cat;
	char path[256];

	(void)state;
	put("good.txt", "1,2\n");
	put("bad.txt", "1,2\n\n3,4\n");		/* blank line inside */
	put("empty.txt", "");
	put("a b.txt", "1,2\n");		/* not a plain name */
	put(".txt", "1,2\n");
	put("notes.md", "1,2\n");		/* not a route file */
	put("good.title.txt", "1,2\n");		/* '.' in the id */
	snprintf(path, sizeof(path), "%s/dir.txt", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/fifo.txt", dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	cat = load();
	assert_int_equal(cat->count, 1);
	assert_string_equal(cat->entries[0].route->id, "good");
	/* bad, empty, "a b", "", good.title, dir, fifo */
	assert_int_equal(cat->skipped, 7);
	rs_catalogue_free(cat);
}

static void
expect_title(const char *text, const char *want, int rc_want)
{
	char path[256], title[RS_TITLE_MAX + 1], err[256] = "";
	int rc;

	put("t.title", text);
	snprintf(path, sizeof(path), "%s/t.title", dir);
	rc = rs_title_read(path, title, err, sizeof(err));
	if (rc != rc_want || strcmp(title, want) != 0)
		fail_msg("title \"%s\": rc=%d \"%s\" (%s)", text, rc, title,
		    err);
	if (rc != 0)
		assert_non_null(strstr(err, "t.title"));
}

static void
test_title_rules(void **state)
{
	char long_title[200], path[256], title[RS_TITLE_MAX + 1], err[256];

	(void)state;
	expect_title("Primeiro", "Primeiro", 0);
	expect_title("  Segundo \t\r\nignored\n", "Segundo", 0);
	expect_title("\xef\xbb\xbfTerceiro\n", "Terceiro", 0);	/* BOM */
	expect_title("", "", 0);
	expect_title("\n\nlater lines do not count\n", "", 0);
	expect_title("S\xc3\xa3o Paulo \xe2\x86\x92 Bras\xc3\xadlia",
	    "S\xc3\xa3o Paulo \xe2\x86\x92 Bras\xc3\xadlia", 0);
	memset(long_title, 'x', RS_TITLE_MAX);
	long_title[RS_TITLE_MAX] = '\0';
	expect_title(long_title, long_title, 0);
	long_title[RS_TITLE_MAX] = 'x';
	long_title[RS_TITLE_MAX + 1] = '\0';
	expect_title(long_title, "", -EINVAL);
	expect_title("bad \xff byte", "", -EINVAL);
	expect_title("half \xc3", "", -EINVAL);
	expect_title("tab\tinside", "", -EINVAL);
	expect_title("bell\a", "", -EINVAL);
	/* Missing: -ENOENT; a FIFO: refused at once, never a hang. */
	snprintf(path, sizeof(path), "%s/none.title", dir);
	assert_int_equal(rs_title_read(path, title, err, sizeof(err)),
	    -ENOENT);
	snprintf(path, sizeof(path), "%s/fifo.title", dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(rs_title_read(path, title, err, sizeof(err)),
	    -EINVAL);
	assert_non_null(strstr(err, "not a regular file"));
}

/* A bad title costs the route its title, not its place. */
static void
test_bad_title_keeps_route(void **state)
{
	struct rs_catalogue *cat;

	(void)state;
	put("1.txt", "1,2\n");
	put("1.title", "bad \xff\n");
	put("2.txt", "1,2\n");
	put("2.title", "Segundo\n");
	cat = load();
	assert_int_equal(cat->count, 2);
	assert_string_equal(cat->entries[0].title, "");
	assert_string_equal(cat->entries[1].title, "Segundo");
	rs_catalogue_free(cat);
}

static void
test_missing_folder(void **state)
{
	struct rs_catalogue *cat = (void *)1;
	char err[256];

	(void)state;
	assert_int_equal(rs_catalogue_load("/nonexistent-routes", &cat, err,
	    sizeof(err)), -ENOENT);
	assert_null(cat);
	assert_non_null(strstr(err, "/nonexistent-routes"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shipped_routes),
		cmocka_unit_test_setup_teardown(test_exact_body, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_skipped_files, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_title_rules, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_bad_title_keeps_route,
		    setup, teardown),
		cmocka_unit_test(test_missing_folder),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
