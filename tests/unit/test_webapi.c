/*
 * test_webapi.c - the tracker's HTTP API bodies (src/webapi.c): delivery
 * bodies and their reasons, the request they produce, the clientId's
 * form, /api/config and error bodies.
 */
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

#include "routesim/catalogue.h"
#include "routesim/request.h"
#include "routesim/webapi.h"

static struct rs_catalogue *
catalogue(void)
{
	char dir[] = "/tmp/routesim-test-webapi-XXXXXX", path[128], err[256];
	struct rs_catalogue *cat;
	FILE *fp;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/1.txt", dir);
	assert_non_null(fp = fopen(path, "w"));
	fputs("1,2\n", fp);
	fclose(fp);
	assert_int_equal(rs_catalogue_load(dir, &cat, err, sizeof(err)), 0);
	unlink(path);
	rmdir(dir);
	return cat;
}

static void
expect_body(const struct rs_catalogue *cat, const char *body, size_t len,
    int rc_want, const char *reason)
{
	char route[RS_ROUTE_ID_MAX + 1], err[256] = "";
	int rc = rs_webapi_delivery_parse(body, len, cat, route, err,
	    sizeof(err));

	if (rc != rc_want || (rc == 0 && strcmp(route, reason) != 0) ||
	    (rc == -EINVAL && strncmp(err, reason, strlen(reason)) != 0))
		fail_msg("%.40s: rc=%d route=\"%s\" err=\"%s\"", body, rc,
		    route, err);
	if (rc != 0)
		assert_string_equal(route, "");
}

#define B(s) s, sizeof(s) - 1

static void
test_delivery_bodies(void **state)
{
	struct rs_catalogue *cat = catalogue();
	char *big;

	(void)state;
	expect_body(cat, B("{\"routeId\":\"1\"}"), 0, "1");
	expect_body(cat, B(" {\"RouteId\" : \"1\", \"other\":[]}\n"), 0,
	    "1");
	expect_body(cat, B(""), -EINVAL, "empty message");
	expect_body(cat, B("routeId=1"), -EINVAL, "not a JSON object");
	expect_body(cat, B("[\"1\"]"), -EINVAL, "not a JSON object");
	expect_body(cat, B("{}"), -EINVAL, "routeId is missing");
	expect_body(cat, B("{\"routeId\":1}"), -EINVAL,
	    "routeId is not a string");
	expect_body(cat, B("{\"routeId\":\"../1\"}"), -EINVAL,
	    "routeId is not a plain name");
	expect_body(cat, B("{\"routeId\":\"2\"}"), -EINVAL, "no route \"2\"");
	expect_body(NULL, B("{\"routeId\":\"1\"}"), -EINVAL,
	    "no route \"1\"");
	expect_body(cat, B("{\"routeId\":\"1\"} x"), -EINVAL,
	    "unexpected data after");
	/* At most 4096 bytes: 4096 is read, 4097 is 413. */
	assert_non_null(big = malloc(RS_REQUEST_MAX_BYTES + 1));
	memset(big, ' ', RS_REQUEST_MAX_BYTES + 1);
	memcpy(big, "{\"routeId\":\"1\"}", 15);
	expect_body(cat, big, RS_REQUEST_MAX_BYTES, 0, "1");
	expect_body(cat, big, RS_REQUEST_MAX_BYTES + 1, -E2BIG, "");
	free(big);
	rs_catalogue_free(cat);
}

static void
test_client_id(void **state)
{
	static const uint8_t bytes[8] = {0x3f, 0x9c, 0x2a, 0x71, 0xd0, 0x4b,
	    0x8e, 0x65};
	char a[RS_WEB_CLIENT_ID_LEN + 1], b[RS_WEB_CLIENT_ID_LEN + 1];

	(void)state;
	rs_webapi_client_id_format(bytes, a);
	assert_string_equal(a, "web-3f9c2a71d04b8e65");
	assert_int_equal(rs_webapi_client_id(a), 0);
	assert_int_equal(rs_webapi_client_id(b), 0);
	assert_int_equal(strlen(a), RS_WEB_CLIENT_ID_LEN);
	assert_memory_equal(a, "web-", 4);
	assert_int_equal(strspn(a + 4, "0123456789abcdef"), 16);
	assert_string_not_equal(a, b);	/* 2^-64 to fail by chance */
}

/* The request produced is exactly the documented bytes, and routesim's
 * request parser reads it back. */
static void
test_request_bytes(void **state)
{
	struct rs_buf b = {0};
	struct rs_request req;
	enum rs_reject why;
	char err[128];

	(void)state;
	rs_webapi_request(&b, "web-3f9c2a71d04b8e65", "1");
	assert_string_equal(b.data,
	    "{\"clientId\":\"web-3f9c2a71d04b8e65\",\"routeId\":\"1\"}");
	assert_int_equal(rs_request_parse(b.data, b.len, &req, &why, err,
	    sizeof(err)), 0);
	assert_string_equal(req.client_id, "web-3f9c2a71d04b8e65");
	assert_string_equal(req.route_id, "1");
	rs_request_free(&req);
	rs_buf_free(&b);
}

static void
test_config_and_error(void **state)
{
	struct rs_buf b = {0};

	(void)state;
	rs_webapi_config(&b, "", "", 500);
	assert_string_equal(b.data,
	    "{\"tiles\":\"\",\"attribution\":\"\",\"interval_ms\":500}");
	rs_buf_reset(&b);
	rs_webapi_config(&b, "https://tile.example/{z}/{x}/{y}.png",
	    "&copy; <a href=\"https://osm.org\">OSM</a>", 250);
	assert_string_equal(b.data,
	    "{\"tiles\":\"https://tile.example/{z}/{x}/{y}.png\","
	    "\"attribution\":\"\\u0026copy; \\u003ca href=\\\"https://osm.org"
	    "\\\"\\u003eOSM\\u003c/a\\u003e\",\"interval_ms\":250}");
	rs_buf_reset(&b);
	rs_webapi_error(&b, "routeId is \"x\"\n");
	assert_string_equal(b.data,
	    "{\"error\":\"routeId is \\\"x\\\"\\n\"}");
	rs_buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_delivery_bodies),
		cmocka_unit_test(test_client_id),
		cmocka_unit_test(test_request_bytes),
		cmocka_unit_test(test_config_and_error),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
