/* test_request.c - request parsing and every bad request (src/request.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "routesim/request.h"

static void
test_good_request(void **state)
{
	struct rs_request r;
	enum rs_reject why;
	char err[128];
	const char *msg = "{\"clientId\":\"1\",\"routeId\":\"1\"}";

	(void)state;
	assert_int_equal(rs_request_parse(msg, strlen(msg), &r, &why, err,
	    sizeof(err)), 0);
	assert_string_equal(r.client_id, "1");
	assert_string_equal(r.route_id, "1");
	rs_request_free(&r);
}

static void
test_backend_variants(void **state)
{
	struct rs_request r;
	enum rs_reject why;
	char err[128];
	/* Socket ids, empty clientId (REST), extra fields, spaces, order. */
	const char *msg = " { \"routeId\" : \"route_2-b\", \"extra\": [1,{}],"
	    " \"clientId\" : \"x8Fq2-AbCdEf\" } ";
	const char *empty = "{\"clientId\":\"\",\"routeId\":\"3\"}";

	(void)state;
	assert_int_equal(rs_request_parse(msg, strlen(msg), &r, &why, err,
	    sizeof(err)), 0);
	assert_string_equal(r.client_id, "x8Fq2-AbCdEf");
	assert_string_equal(r.route_id, "route_2-b");
	rs_request_free(&r);
	assert_int_equal(rs_request_parse(empty, strlen(empty), &r, &why, err,
	    sizeof(err)), 0);
	assert_string_equal(r.client_id, "");
	rs_request_free(&r);
}

/* The shape read in place and the shapes left to cJSON give the same
 * ids as cJSON alone. */
static void
test_same_as_cjson(void **state)
{
	static const char *const msgs[] = {
		"{\"clientId\":\"1\",\"routeId\":\"1\"}",
		"\t{ \"routeId\" :\"r-1\" ,\r\n\"clientId\": \"\xc3\xa9\" }\n",
		"{\"clientId\":\"a\\\"b\",\"routeId\":\"1\"}",
		"{\"clientId\":\"\\u00e9\",\"routeId\":\"1\"}",
		"{\"routeId\":\"1\",\"clientId\":\"1\",\"x\":true}",
		"{\"routeId\":\"1\",\"routeId\":\"2\",\"clientId\":\"c\"}",
		"\xef\xbb\xbf{\"clientId\":\"1\",\"routeId\":\"1\"}",
		"{\"CLIENTID\":\"1\",\"RouteId\":\"1\"}",
		"{\"routeId\":\"1\"}",
		"{\"clientId\":\"a\",\"routeId\":\"1\",\"clientid\":\"b\"}",
		"{\"clientId\":null,\"routeId\":\"1\"}",
		"{\"clientId\":[],\"routeId\":\"1\"}",
		"{\"clientId\":\"1\",\"routeId\":\"1\",\"clientId\":2}",
		"{\"clientId\":\"1\",\"routeId\":\"../x\",\"routeId\":\"1\"}",
		/* Rejected: both say so, for the same reason. */
		"",
		"   ",
		"{",
		"{\"clientId\":\"1\",",
		"[\"1\",\"1\"]",
		"\"1\"",
		"null",
		"{}",
		"{\"clientId\":\"1\"}",
		"{\"clientId\":\"1\",\"routeId\":1}",
		"{\"clientId\":\"\xed\xa0\x80\",\"routeId\":\"1\"}",
		"{\"clientId\":\"\xff\",\"routeId\":\"1\"}",
		"{\"clientId\":\"1\",\"routeId\":\"\"}",
		"{\"clientId\":\"1\",\"routeId\":\"../x\"}",
		"{\"clientId\":\"1\",\"routeId\":\"a b\"}",
		"{\"clientId\":\"1\",\"routeId\":\"1\\u0000x\"}",
		"{\"clientId\":\"a\\u0000\",\"routeId\":\"1\"}",
		"{\"clientId\":\"\\ud800\",\"routeId\":\"1\"}",
		"{\"clientId\":\"1\",\"routeId\":\"1\"} trailing",
		"{\"clientId\":\"1\",\"routeId\":\"1\"}{}",
		"{\"clientId\":\"1\" \"routeId\":\"1\"}",
		"{\"clientId\":\"1\",\"routeId\":\"1\",}",
		"{\"clientId\":\"1\",\"routeId\":\"1\"",
		"{\"clientId\":\"\\x\",\"routeId\":\"1\"}",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++) {
		struct rs_request r, ref;
		enum rs_reject why, ref_why;
		char err[128], ref_err[128];
		size_t len = strlen(msgs[i]);
		int rc = rs_request_parse(msgs[i], len, &r, &why, err,
		    sizeof(err));

		if (rc != rs_request_parse_json(msgs[i], len, &ref, &ref_why,
		    ref_err, sizeof(ref_err)))
			fail_msg("%s: %s here, %s with cJSON alone", msgs[i],
			    rc == 0 ? "accepted" : "rejected",
			    rc == 0 ? "rejected" : "accepted");
		if (rc != 0) {
			if (why != ref_why)
				fail_msg("%s: rejected as %s (%s), as %s (%s) "
				    "with cJSON alone", msgs[i],
				    rs_reject_name(why), err,
				    rs_reject_name(ref_why), ref_err);
			continue;
		}
		assert_string_equal(r.route_id, ref.route_id);
		assert_string_equal(r.client_id, ref.client_id);
		assert_int_equal(r.client_id_defaulted,
		    ref.client_id_defaulted);
		rs_request_free(&r);
		rs_request_free(&ref);
	}
}

/*
 * What the original (Go's encoding/json into a struct, errors ignored)
 * serves, served the same way by both parsers: names in any case, the
 * last string of a field wins, a value of another type leaves the field
 * as it was, and no string clientId means clientId "".
 */
static void
test_go_leniency(void **state)
{
	static const struct {
		const char *msg, *route, *client;
		bool defaulted;
	} cases[] = {
		{"{\"ClientId\":\"a\",\"RouteId\":\"1\"}", "1", "a", false},
		{"{\"CLIENTID\":\"a\",\"routeid\":\"2\"}", "2", "a", false},
		{"{\"route\\u0049d\":\"3\",\"clientId\":\"b\"}", "3", "b",
		    false},
		{"{\"routeId\":\"1\"}", "1", "", true},
		{"{\"routeId\":\"1\",\"x\":1}", "1", "", true},
		{"{\"clientId\":null,\"routeId\":\"1\"}", "1", "", true},
		{"{\"clientId\":7,\"routeId\":\"1\"}", "1", "", true},
		{"{\"clientId\":{\"a\":1},\"routeId\":\"1\"}", "1", "", true},
		{"{\"routeId\":\"1\",\"routeId\":\"2\",\"clientId\":\"c\"}",
		    "2", "c", false},
		{"{\"routeId\":\"1\",\"ROUTEID\":\"2\",\"clientId\":\"c\"}",
		    "2", "c", false},
		{"{\"clientId\":\"a\",\"clientId\":\"b\",\"routeId\":\"1\"}",
		    "1", "b", false},
		{"{\"clientId\":\"a\",\"clientId\":null,\"routeId\":\"1\"}",
		    "1", "a", false},
		{"{\"routeId\":\"4\",\"routeId\":5,\"clientId\":\"\"}", "4",
		    "", false},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = strlen(cases[i].msg);
		struct rs_request r;
		enum rs_reject why;
		char err[128];

		for (int json = 0; json < 2; json++) {
			int rc = json ? rs_request_parse_json(cases[i].msg,
			    len, &r, &why, err, sizeof(err)) :
			    rs_request_parse(cases[i].msg, len, &r, &why, err,
			    sizeof(err));

			if (rc != 0)
				fail_msg("%s rejected: %s", cases[i].msg, err);
			assert_string_equal(r.route_id, cases[i].route);
			assert_string_equal(r.client_id, cases[i].client);
			assert_int_equal(r.client_id_defaulted,
			    cases[i].defaulted);
			rs_request_free(&r);
		}
	}
}

static void
test_copy(void **state)
{
	struct rs_request r;

	(void)state;
	assert_int_equal(rs_request_copy(&r, "route", "client"), 0);
	assert_string_equal(r.route_id, "route");
	assert_string_equal(r.client_id, "client");
	rs_request_free(&r);
	assert_null(r.route_id);
}

static void
expect_reject(const char *msg, size_t len, enum rs_reject reason,
    const char *words)
{
	struct rs_request r;
	enum rs_reject why = RS_REJECT_COUNT;
	char err[256] = "";

	if (rs_request_parse(msg, len, &r, &why, err, sizeof(err)) != -EINVAL)
		fail_msg("accepted: %.*s", (int)len, msg);
	if (why != reason || strstr(err, words) == NULL)
		fail_msg("%.*s: reason %s, error '%s'", (int)len, msg,
		    rs_reject_name(why), err);
	assert_null(r.client_id);
	assert_null(r.route_id);
}

#define REJECT(msg, reason, words) \
	expect_reject(msg, strlen(msg), reason, words)

static void
test_bad_requests(void **state)
{
	(void)state;
	REJECT("", RS_REJECT_BAD_JSON, "empty");
	REJECT("{\"clientId\":\"1\",", RS_REJECT_BAD_JSON, "JSON");
	REJECT("[\"1\",\"1\"]", RS_REJECT_BAD_JSON, "object");
	REJECT("\"1\"", RS_REJECT_BAD_JSON, "object");
	REJECT("{\"clientId\":\"1\"}", RS_REJECT_BAD_FIELD,
	    "routeId is missing");
	REJECT("{\"clientId\":\"1\",\"routeId\":1}", RS_REJECT_BAD_FIELD,
	    "routeId is not a string");
	REJECT("{\"clientId\":\"1\",\"routeId\":null}", RS_REJECT_BAD_FIELD,
	    "routeId is not a string");
	REJECT("{\"clientId\":\"1\",\"rout\":\"1\"}", RS_REJECT_BAD_FIELD,
	    "routeId is missing");
	/* A non-string routeId does not overwrite; none is left. */
	REJECT("{\"routeId\":[\"1\"],\"ROUTEID\":{}}", RS_REJECT_BAD_FIELD,
	    "routeId is not a string");
	/* The last string wins, and it is checked. */
	REJECT("{\"clientId\":\"1\",\"routeId\":\"1\",\"routeid\":\"../x\"}",
	    RS_REJECT_BAD_ROUTE_ID, "plain name");
	REJECT("{\"clientId\":\"\xed\xa0\x80\",\"routeId\":\"1\"}",
	    RS_REJECT_BAD_FIELD, "UTF-8");
	REJECT("{\"clientId\":\"\xc0\x80\",\"routeId\":\"1\"}",
	    RS_REJECT_BAD_FIELD, "UTF-8");
	REJECT("{\"clientId\":\"1\",\"routeId\":\"\"}", RS_REJECT_BAD_ROUTE_ID,
	    "plain name");
	REJECT("{\"clientId\":\"1\",\"routeId\":\"../x\"}",
	    RS_REJECT_BAD_ROUTE_ID, "plain name");
	REJECT("{\"clientId\":\"1\",\"routeId\":\"/etc/passwd\"}",
	    RS_REJECT_BAD_ROUTE_ID, "plain name");
	REJECT("{\"clientId\":\"1\",\"routeId\":\"a.txt\"}",
	    RS_REJECT_BAD_ROUTE_ID, "plain name");
	REJECT("{\"clientId\":\"1\",\"routeId\":\"1\\u0000x\"}",
	    RS_REJECT_BAD_FIELD, "NUL");
	REJECT("{\"clientId\":\"a\\u0000\",\"routeId\":\"1\"}",
	    RS_REJECT_BAD_FIELD, "NUL");
	REJECT("{\"clientId\":\"1\",\"routeId\":\"1\"} trailing",
	    RS_REJECT_BAD_JSON, "after the object");
	REJECT("{\"clientId\":\"1\",\"routeId\":\"1\"}{}",
	    RS_REJECT_BAD_JSON, "after the object");
}

static void
test_embedded_nul_and_size(void **state)
{
	static const char nul[] = "{\"clientId\":\"1\",\"routeId\":\"1\"}\0x";
	char *big;

	static const char raw[] = "{\"clientId\":\"a\0b\",\"routeId\":\"1\"}";

	(void)state;
	/* Bytes after a NUL are part of the message: not valid JSON. */
	expect_reject(nul, sizeof(nul) - 1, RS_REJECT_BAD_JSON,
	    "after the object");
	/* A raw NUL in a string would cut the id short: refused too. */
	expect_reject(raw, sizeof(raw) - 1, RS_REJECT_BAD_FIELD, "NUL");
	big = malloc(RS_REQUEST_MAX_BYTES + 1);
	memset(big, ' ', RS_REQUEST_MAX_BYTES + 1);
	expect_reject(big, RS_REQUEST_MAX_BYTES + 1, RS_REJECT_TOO_LARGE,
	    "exceeds");
	free(big);
}

static void
test_route_id_rule(void **state)
{
	char id[RS_ROUTE_ID_MAX + 2];

	(void)state;
	memset(id, 'a', sizeof(id));
	id[RS_ROUTE_ID_MAX] = '\0';
	assert_true(rs_route_id_valid(id));
	id[RS_ROUTE_ID_MAX] = 'a';
	id[RS_ROUTE_ID_MAX + 1] = '\0';
	assert_false(rs_route_id_valid(id));
	assert_true(rs_route_id_valid("Az09_-"));
	assert_false(rs_route_id_valid(".."));
	assert_false(rs_route_id_valid("a b"));
	assert_string_equal(rs_reject_name(RS_REJECT_UNKNOWN_ROUTE),
	    "unknown_route");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_request),
		cmocka_unit_test(test_backend_variants),
		cmocka_unit_test(test_same_as_cjson),
		cmocka_unit_test(test_go_leniency),
		cmocka_unit_test(test_copy),
		cmocka_unit_test(test_bad_requests),
		cmocka_unit_test(test_embedded_nul_and_size),
		cmocka_unit_test(test_route_id_rule),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
