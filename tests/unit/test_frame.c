/*
 * test_frame.c - snapshot and update frames (src/frame.c), byte for byte
 * as the tracker's protocol gives them, and valid JSON whatever the ids.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "routesim/catalogue.h"
#include "routesim/fleet.h"
#include "routesim/frame.h"

static struct rs_catalogue *
catalogue(void)
{
	char dir[] = "/tmp/routesim-test-frame-XXXXXX", path[128], err[256];
	struct rs_catalogue *cat;
	FILE *fp;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/1.txt", dir);
	assert_non_null(fp = fopen(path, "w"));
	fputs("-15.82594,-47.92923\n-15.82598,-47.92922\n-15.82602,-47.9292\n",
	    fp);
	fclose(fp);
	assert_int_equal(rs_catalogue_load(dir, &cat, err, sizeof(err)), 0);
	unlink(path);
	rmdir(dir);
	return cat;
}

static const char *
snapshot(struct rs_buf *b, const struct rs_fleet *f)
{
	rs_buf_reset(b);
	assert_int_equal(rs_frame_snapshot(b, f), 0);
	assert_int_equal(strlen(b->data), b->len);
	return b->data;
}

/* The update since the generation before the latest. */
static const char *
update(struct rs_buf *b, const struct rs_fleet *f)
{
	rs_buf_reset(b);
	assert_int_equal(rs_frame_update(b, f, rs_fleet_seq(f) - 1), 0);
	assert_int_equal(strlen(b->data), b->len);
	return b->data;
}

static void
test_frames(void **state)
{
	struct rs_catalogue *cat = catalogue();
	struct rs_fleet_limits lim = {10, 10000, 0};
	struct rs_fleet *f = rs_fleet_new(cat, &lim);
	struct rs_buf b = {0};

	(void)state;
	assert_non_null(f);
	assert_string_equal(snapshot(&b, f),
	    "{\"type\":\"snapshot\",\"seq\":0,\"vehicles\":[]}");
	assert_int_equal(rs_fleet_request(f, "1", "1", 0), 0);
	assert_int_equal(rs_fleet_position(f, "1", NULL, -15.82594,
	    -47.92923, false, 0), 0);
	assert_int_equal(rs_fleet_position(f, "web-3f9c2a71d04b8e65", NULL,
	    10.5, -0.25, false, 0), 0);
	rs_fleet_commit(f);
	assert_string_equal(update(&b, f),
	    "{\"type\":\"update\",\"seq\":1,\"since\":0,\"vehicles\":["
	    "[\"1\",\"1\",-15.82594,-47.92923,1,3,false],"
	    "[\"web-3f9c2a71d04b8e65\",\"\",10.5,-0.25,0,0,false]],"
	    "\"removed\":[]}");
	assert_int_equal(rs_fleet_position(f, "1", NULL, -15.82602, -47.9292,
	    true, 1000), 0);
	rs_fleet_commit(f);
	assert_string_equal(update(&b, f),
	    "{\"type\":\"update\",\"seq\":2,\"since\":1,\"vehicles\":["
	    "[\"1\",\"1\",-15.82602,-47.9292,3,3,true]],\"removed\":[]}");
	assert_string_equal(snapshot(&b, f),
	    "{\"type\":\"snapshot\",\"seq\":2,\"vehicles\":["
	    "[\"1\",\"1\",-15.82602,-47.9292,3,3,true],"
	    "[\"web-3f9c2a71d04b8e65\",\"\",10.5,-0.25,0,0,false]]}");
	rs_fleet_expire(f, 11000);
	rs_fleet_commit(f);
	assert_string_equal(update(&b, f),
	    "{\"type\":\"update\",\"seq\":3,\"since\":2,\"vehicles\":[],"
	    "\"removed\":[\"1\"]}");
	/* Since an older generation: what changed after it, once each. */
	rs_buf_reset(&b);
	assert_int_equal(rs_frame_update(&b, f, 1), 0);
	assert_string_equal(b.data,
	    "{\"type\":\"update\",\"seq\":3,\"since\":1,\"vehicles\":[],"
	    "\"removed\":[\"1\"]}");
	rs_buf_reset(&b);
	assert_int_equal(rs_frame_update(&b, f, 0), 0);
	assert_string_equal(b.data,
	    "{\"type\":\"update\",\"seq\":3,\"since\":0,\"vehicles\":["
	    "[\"web-3f9c2a71d04b8e65\",\"\",10.5,-0.25,0,0,false]],"
	    "\"removed\":[\"1\"]}");
	/* A vehicle that only moved is M for a browser that has it, V for
	 * one that may not. */
	assert_int_equal(rs_fleet_position(f, "web-3f9c2a71d04b8e65", NULL,
	    10.75, -0.5, false, 12000), 0);
	rs_fleet_commit(f);
	assert_string_equal(update(&b, f),
	    "{\"type\":\"update\",\"seq\":4,\"since\":3,\"vehicles\":["
	    "[\"web-3f9c2a71d04b8e65\",10.75,-0.5,0]],\"removed\":[]}");
	rs_buf_reset(&b);
	assert_int_equal(rs_frame_update(&b, f, 0), 0);
	assert_string_equal(b.data,
	    "{\"type\":\"update\",\"seq\":4,\"since\":0,\"vehicles\":["
	    "[\"web-3f9c2a71d04b8e65\",\"\",10.75,-0.5,0,0,false]],"
	    "\"removed\":[\"1\"]}");
	/* Frames are appended to what the buffer holds. */
	rs_buf_reset(&b);
	rs_buf_append(&b, "x", 1);
	assert_int_equal(rs_frame_snapshot(&b, f), 0);
	assert_int_equal(b.data[0], 'x');
	assert_int_equal(b.data[1], '{');
	rs_buf_free(&b);
	rs_fleet_free(f);
	rs_catalogue_free(cat);
}

/* Any clientId gives valid JSON that reads back to the same id. */
static void
test_escaped_ids(void **state)
{
	static const char *const ids[] = {"a\"b", "back\\slash", "nl\n",
	    "<script>&", "\xe2\x80\xa8", "caf\xc3\xa9", "\x01\x1f"};
	struct rs_fleet_limits lim = {100, 1000, 0};
	struct rs_fleet *f = rs_fleet_new(NULL, &lim);
	struct rs_buf b = {0};
	size_t n = sizeof(ids) / sizeof(ids[0]);
	cJSON *root;

	(void)state;
	for (size_t i = 0; i < n; i++)
		assert_int_equal(rs_fleet_position(f, ids[i], NULL, 1, 2,
		    true, 0), 0);
	rs_fleet_commit(f);
	assert_non_null(root = cJSON_Parse(update(&b, f)));
	for (size_t i = 0; i < n; i++) {
		const cJSON *v = cJSON_GetArrayItem(
		    cJSON_GetObjectItem(root, "vehicles"), (int)i);

		assert_int_equal(cJSON_GetArraySize(v), 7);
		assert_string_equal(cJSON_GetArrayItem(v, 0)->valuestring,
		    ids[i]);
		assert_true(cJSON_IsTrue(cJSON_GetArrayItem(v, 6)));
	}
	cJSON_Delete(root);
	rs_fleet_expire(f, 1000);
	rs_fleet_commit(f);
	assert_non_null(root = cJSON_Parse(update(&b, f)));
	for (size_t i = 0; i < n; i++)
		assert_string_equal(cJSON_GetArrayItem(
		    cJSON_GetObjectItem(root, "removed"), (int)i)->valuestring,
		    ids[i]);
	cJSON_Delete(root);
	rs_buf_free(&b);
	rs_fleet_free(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_frames),
		cmocka_unit_test(test_escaped_ids),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
