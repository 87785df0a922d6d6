/*
 * test_position_decode.c - position messages read back
 * (src/position_decode.c, src/json_scan.c): both coordinate orders, the
 * encoder's own output, every bad message and its reason, and the fast
 * path against cJSON alone.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "routesim/json_scan.h"
#include "routesim/position.h"
#include "routesim/position_decode.h"

#define R(s) s, sizeof(s) - 1

static void
decode_ok(const char *text, enum rs_position_order order,
    struct rs_position_msg *m)
{
	enum rs_reject why;
	char err[256] = "";
	int rc = rs_position_decode(text, strlen(text), order, m, &why, err,
	    sizeof(err));

	if (rc != 0)
		fail_msg("rejected: %s: %s", err, text);
}

/* Rejected by both parsers, with this reason and message start. */
static void
expect_reject(const char *text, size_t len, enum rs_reject reason,
    const char *msg)
{
	struct rs_position_msg m;
	enum rs_reject why = RS_REJECT_COUNT;
	char err[256] = "";
	int rc = rs_position_decode(text, len, RS_ORDER_LNGLAT, &m, &why, err,
	    sizeof(err));

	if (rc != -EINVAL || why != reason ||
	    strncmp(err, msg, strlen(msg)) != 0)
		fail_msg("%.60s: rc=%d why=%s err=\"%s\", expected %s \"%s\"",
		    text, rc, rs_reject_name(why), err, rs_reject_name(reason),
		    msg);
	assert_null(m.client_id);
}

static void
test_original_order(void **state)
{
	struct rs_position_msg m;

	(void)state;
	decode_ok("{\"clientId\":\"1\",\"position\":[-47.92923,-15.82594],"
	    "\"finished\":false}", RS_ORDER_LNGLAT, &m);
	assert_string_equal(m.client_id, "1");
	assert_string_equal(m.route_id, "");
	assert_true(m.lat == -15.82594 && m.lng == -47.92923);
	assert_false(m.finished);
	rs_position_msg_free(&m);
	assert_null(m.client_id);

	decode_ok("{\"clientId\":\"1\",\"position\":[-15.82594,-47.92923],"
	    "\"finished\":true}", RS_ORDER_LATLNG, &m);
	assert_true(m.lat == -15.82594 && m.lng == -47.92923);
	assert_true(m.finished);
	rs_position_msg_free(&m);
}

/* What routesim's encoder writes decodes to what it was given, in both
 * orders and with --position-metadata. */
static void
test_round_trip_with_encoder(void **state)
{
	static const double pts[][2] = {
		{-15.82594, -47.92923}, {0, 0}, {90, -180}, {-90, 180},
		{1e-7, -2.5e-8}, {12.345678901234567, -0.1},
	};
	static const char *const ids[] = {"1", "", "a\"b\\c", "\xc3\xa9<&>",
	    "x\ny"};

	(void)state;
	for (int o = 0; o < 2; o++) {
		enum rs_position_order order = o ? RS_ORDER_LNGLAT :
		    RS_ORDER_LATLNG;

		for (size_t i = 0; i < sizeof(pts) / sizeof(pts[0]); i++) {
			for (size_t j = 0; j < sizeof(ids) / sizeof(ids[0]);
			    j++) {
				struct rs_position_meta meta = {3, 17000};
				char prefix[256], pair[RS_PAIR_MAX], msg[512];
				struct rs_position_msg m;
				size_t pl = rs_position_prefix(prefix, "r_1",
				    ids[j]);
				size_t al = rs_pair_format(pts[i][0],
				    pts[i][1], order, pair);
				size_t n = rs_position_encode(msg,
				    sizeof(msg) - 1, prefix, pl, pair, al,
				    j % 2 == 0, i % 2 ? &meta : NULL);

				msg[n] = '\0';
				decode_ok(msg, order, &m);
				assert_string_equal(m.client_id, ids[j]);
				assert_string_equal(m.route_id, "r_1");
				assert_true(m.lat == pts[i][0]);
				assert_true(m.lng == pts[i][1]);
				assert_true(m.finished == (j % 2 == 0));
				rs_position_msg_free(&m);
			}
		}
	}
}

static void
test_lenient_shapes(void **state)
{
	struct rs_position_msg m;

	(void)state;
	/* Blanks, other members of any type, any order, escapes. */
	decode_ok(" {\n \"finished\" : false , \"x\": {\"y\":[1,2]},"
	    "\"position\" : [ 1.5e1 , -2E-1 ], \"clientId\":\"a\\u00e9\" }\r\n",
	    RS_ORDER_LATLNG, &m);
	assert_string_equal(m.client_id, "a\xc3\xa9");
	assert_true(m.lat == 15 && m.lng == -0.2);
	rs_position_msg_free(&m);
	/* The last of a duplicated member wins (as JSON.parse). */
	decode_ok("{\"clientId\":\"a\",\"clientId\":\"b\",\"position\":[1,2],"
	    "\"finished\":true,\"finished\":false}", RS_ORDER_LATLNG, &m);
	assert_string_equal(m.client_id, "b");
	assert_false(m.finished);
	rs_position_msg_free(&m);
	/* A routeId that is not a plain name, or not a string: "". */
	decode_ok("{\"routeId\":\"../x\",\"clientId\":\"a\",\"position\":[1,2],"
	    "\"finished\":true}", RS_ORDER_LATLNG, &m);
	assert_string_equal(m.route_id, "");
	rs_position_msg_free(&m);
	decode_ok("{\"routeId\":7,\"clientId\":\"a\",\"position\":[1,2],"
	    "\"finished\":true}", RS_ORDER_LATLNG, &m);
	assert_string_equal(m.route_id, "");
	rs_position_msg_free(&m);
	/* Names are matched exactly: ClientId is another member. */
	expect_reject(R("{\"ClientId\":\"a\",\"position\":[1,2],"
	    "\"finished\":true}"), RS_REJECT_BAD_FIELD,
	    "clientId is missing");
}

static void
test_bad_messages(void **state)
{
	(void)state;
	expect_reject(R(""), RS_REJECT_BAD_JSON, "empty message");
	expect_reject(R("not json"), RS_REJECT_BAD_JSON, "not a JSON object");
	expect_reject(R("[1,2]"), RS_REJECT_BAD_JSON, "not a JSON object");
	expect_reject(R("{\"clientId\":\"1\""), RS_REJECT_BAD_JSON,
	    "not a JSON object");
	expect_reject(R("{} {}"), RS_REJECT_BAD_JSON,
	    "unexpected data after");
	expect_reject(R("{\"position\":[1,2],\"finished\":false}"),
	    RS_REJECT_BAD_FIELD, "clientId is missing");
	expect_reject(R("{\"clientId\":1,\"position\":[1,2],"
	    "\"finished\":false}"), RS_REJECT_BAD_FIELD,
	    "clientId is not a string");
	expect_reject(R("{\"clientId\":\"1\",\"finished\":false}"),
	    RS_REJECT_BAD_FIELD, "position is missing");
	expect_reject(R("{\"clientId\":\"1\",\"position\":[1],"
	    "\"finished\":false}"), RS_REJECT_BAD_FIELD,
	    "position is not an array of two numbers");
	expect_reject(R("{\"clientId\":\"1\",\"position\":[1,2,3],"
	    "\"finished\":false}"), RS_REJECT_BAD_FIELD,
	    "position is not an array");
	expect_reject(R("{\"clientId\":\"1\",\"position\":[\"1\",2],"
	    "\"finished\":false}"), RS_REJECT_BAD_FIELD,
	    "position is not an array");
	expect_reject(R("{\"clientId\":\"1\",\"position\":{\"lat\":1},"
	    "\"finished\":false}"), RS_REJECT_BAD_FIELD,
	    "position is not an array");
	expect_reject(R("{\"clientId\":\"1\",\"position\":[1,2]}"),
	    RS_REJECT_BAD_FIELD, "finished is missing");
	expect_reject(R("{\"clientId\":\"1\",\"position\":[1,2],"
	    "\"finished\":0}"), RS_REJECT_BAD_FIELD,
	    "finished is not true or false");
	/* Out of range in the configured order (lnglat here). */
	expect_reject(R("{\"clientId\":\"1\",\"position\":[-47.9,-95.5],"
	    "\"finished\":false}"), RS_REJECT_BAD_FIELD, "latitude -95.5 "
	    "outside [-90, 90] (position order lnglat)");
	expect_reject(R("{\"clientId\":\"1\",\"position\":[180.5,0],"
	    "\"finished\":false}"), RS_REJECT_BAD_FIELD, "longitude 180.5");
	expect_reject(R("{\"clientId\":\"1\",\"position\":[1e999,0],"
	    "\"finished\":false}"), RS_REJECT_BAD_FIELD,
	    "position is not finite");
	expect_reject(R("{\"clientId\":\"1\",\"position\":[0,-1e400],"
	    "\"finished\":false}"), RS_REJECT_BAD_FIELD,
	    "position is not finite");
	/* JSON has no NaN, hex or leading zeros. */
	expect_reject(R("{\"clientId\":\"1\",\"position\":[NaN,0],"
	    "\"finished\":false}"), RS_REJECT_BAD_JSON, "not a JSON object");
	expect_reject(R("{\"clientId\":\"1\",\"position\":[0x1,0],"
	    "\"finished\":false}"), RS_REJECT_BAD_JSON, "not a JSON object");
	/* Strings: UTF-8 without NUL. */
	expect_reject(R("{\"clientId\":\"\xff\",\"position\":[1,2],"
	    "\"finished\":false}"), RS_REJECT_BAD_FIELD,
	    "clientId is not valid UTF-8");
	expect_reject(R("{\"clientId\":\"a\\u0000b\",\"position\":[1,2],"
	    "\"finished\":false}"), RS_REJECT_BAD_FIELD, "NUL character");
	expect_reject(R("{\"clientId\":\"a\0b\",\"position\":[1,2],"
	    "\"finished\":false}"), RS_REJECT_BAD_FIELD, "NUL character");
}

/* A clientId of RS_CLIENT_ID_MAX bytes is read, one more is not; a
 * message over RS_POSITION_MAX_BYTES is too large whatever it holds. */
static void
test_sizes(void **state)
{
	size_t cap = RS_POSITION_MAX_BYTES + 64;
	char *msg = malloc(cap), *id = malloc(RS_CLIENT_ID_MAX + 3);
	struct rs_position_msg m;
	enum rs_reject why;
	char err[256];
	int n;

	(void)state;
	assert_non_null(msg);
	assert_non_null(id);
	memset(id, 'c', RS_CLIENT_ID_MAX + 1);
	id[RS_CLIENT_ID_MAX] = '\0';
	n = snprintf(msg, cap, "{\"clientId\":\"%s\",\"position\":[1,2],"
	    "\"finished\":false}", id);
	assert_int_equal(rs_position_decode(msg, (size_t)n, RS_ORDER_LATLNG,
	    &m, &why, err, sizeof(err)), 0);
	assert_int_equal(strlen(m.client_id), RS_CLIENT_ID_MAX);
	rs_position_msg_free(&m);
	id[RS_CLIENT_ID_MAX] = 'c';
	id[RS_CLIENT_ID_MAX + 1] = '\0';
	n = snprintf(msg, cap, "{\"clientId\":\"%s\",\"position\":[1,2],"
	    "\"finished\":false}", id);
	expect_reject(msg, (size_t)n, RS_REJECT_BAD_FIELD,
	    "clientId of 4097 bytes exceeds 4096");
	/* The same through the cJSON path (an escape in it). */
	id[0] = '\\';
	id[1] = 't';
	id[RS_CLIENT_ID_MAX + 1] = 'c';
	id[RS_CLIENT_ID_MAX + 2] = '\0';
	n = snprintf(msg, cap, "{\"clientId\":\"%s\",\"position\":[1,2],"
	    "\"finished\":false}", id);
	expect_reject(msg, (size_t)n, RS_REJECT_BAD_FIELD,
	    "clientId of 4097 bytes exceeds");
	memset(msg, ' ', cap);
	msg[0] = '{';
	expect_reject(msg, RS_POSITION_MAX_BYTES + 1, RS_REJECT_TOO_LARGE,
	    "message of 32769 bytes exceeds 32768");
	free(msg);
	free(id);
}

/* The in-place reading and cJSON agree on every kind of input. */
static void
test_same_as_cjson(void **state)
{
	static const char *const msgs[] = {
		"{\"routeId\":\"1\",\"clientId\":\"1\",\"position\":"
		    "[-47.92923,-15.82594],\"finished\":false}",
		"{\"clientId\":\"\",\"position\":[0,-0],\"finished\":true,"
		    "\"seq\":3,\"timestamp\":-1,\"n\":null}",
		"{\"clientId\":\"1\",\"position\":[-0.0e+0,1E2],"
		    "\"finished\":true}",
		"{\"clientId\":\"1\",\"position\":[01,2],\"finished\":true}",
		"{\"clientId\":\"1\",\"position\":[1.,2],\"finished\":true}",
		"{\"clientId\":\"1\",\"position\":[-,2],\"finished\":true}",
		"{\"clientId\":\"1\",\"position\":[1,2],\"finished\":truex}",
		"{\"clientId\":\"1\",\"position\":[1,2],\"finished\":true,}",
		"{\"clientId\":\"1\",\"position\":[1,2],\"finished\":true}x",
		"{\"clientId\":\"1\",\"position\":[1,2 ,\"finished\":true}",
		"{\"clientId\":\"1\",\"position\":"
		    "[1.00000000000000000000000000000000001,2],"
		    "\"finished\":true}",
		"{\"clientId\":\"1\",\"position\":[100,2],\"finished\":true}",
		"{\"clientId\":\"\xed\xa0\x80\",\"position\":[1,2],"
		    "\"finished\":true}",
		"{\"clientId\":\"1\",\"routeId\":\"a b\",\"position\":[1,2],"
		    "\"finished\":true}",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++) {
		struct rs_position_msg a, b;
		enum rs_reject wa = RS_REJECT_COUNT, wb = RS_REJECT_COUNT;
		char ea[256] = "", eb[256] = "";
		size_t len = strlen(msgs[i]);
		int ra = rs_position_decode(msgs[i], len, RS_ORDER_LATLNG, &a,
		    &wa, ea, sizeof(ea));
		int rb = rs_position_decode_json(msgs[i], len,
		    RS_ORDER_LATLNG, &b, &wb, eb, sizeof(eb));

		if (ra != rb || wa != wb || strcmp(ea, eb) != 0)
			fail_msg("%s: %d %s \"%s\" / %d %s \"%s\"", msgs[i],
			    ra, rs_reject_name(wa), ea, rb,
			    rs_reject_name(wb), eb);
		if (ra == 0) {
			assert_string_equal(a.client_id, b.client_id);
			assert_string_equal(a.route_id, b.route_id);
			assert_memory_equal(&a.lat, &b.lat, sizeof(a.lat));
			assert_memory_equal(&a.lng, &b.lng, sizeof(a.lng));
			assert_true(a.finished == b.finished);
			rs_position_msg_free(&a);
			rs_position_msg_free(&b);
		}
	}
}

static void
test_plain_number(void **state)
{
	static const struct {
		const char *text;
		bool ok;
		size_t used;
	} cases[] = {
		{"0", true, 1}, {"-0", true, 2}, {"12.5e-3,", true, 7},
		{"1E+2]", true, 4}, {"01", false, 0}, {"-", false, 0},
		{"1.", false, 0}, {".5", false, 0}, {"1e", false, 0},
		{"+1", false, 0}, {"1.2.3", false, 0}, {"1e5e", false, 0},
		{"123456789012345678901234567890123", false, 0},
		{"12345678901234567890123456789012", true, 32},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *p = cases[i].text, *end = p + strlen(p);
		double v;
		bool ok = rs_json_plain_number(&p, end, &v);

		if (ok != cases[i].ok ||
		    (size_t)(p - cases[i].text) != cases[i].used)
			fail_msg("%s: ok=%d used=%zu", cases[i].text, ok,
			    (size_t)(p - cases[i].text));
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_original_order),
		cmocka_unit_test(test_round_trip_with_encoder),
		cmocka_unit_test(test_lenient_shapes),
		cmocka_unit_test(test_bad_messages),
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_same_as_cjson),
		cmocka_unit_test(test_plain_number),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
