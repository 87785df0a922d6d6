/* test_position.c - byte-exact position messages (src/position.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "routesim/position.h"

static void
expect_number(double v, const char *want)
{
	char buf[RS_NUMBER_MAX];
	size_t n = rs_number_format(v, buf);

	assert_string_equal(buf, want);
	assert_int_equal(n, strlen(want));
}

static void
test_shortest_round_trip(void **state)
{
	(void)state;
	expect_number(-15.82594, "-15.82594");
	expect_number(-47.92923, "-47.92923");
	expect_number(-15.8276, "-15.8276");
	expect_number(0.1 + 0.2, "0.30000000000000004");
	expect_number(1.0 / 3, "0.3333333333333333");
	expect_number(0, "0");
	expect_number(-0.0, "-0");
	expect_number(90, "90");
	expect_number(-180, "-180");
	expect_number(123456789, "123456789");
	expect_number(0.000001, "0.000001");
	expect_number(0.00001234, "0.00001234");
	expect_number(1e20, "100000000000000000000");
}

static void
test_go_exponent_form(void **state)
{
	(void)state;
	/* Go's encoding/json switches to exponents outside [1e-6, 1e21). */
	expect_number(1e-7, "1e-7");
	expect_number(-2.5e-7, "-2.5e-7");
	expect_number(1e-10, "1e-10");
	expect_number(1e21, "1e+21");
	expect_number(1.5e300, "1.5e+300");
}

static void
test_every_number_round_trips(void **state)
{
	char buf[RS_NUMBER_MAX];

	(void)state;
	srand(42);
	for (int i = 0; i < 20000; i++) {
		double v = ((double)rand() / RAND_MAX - 0.5) * 360.0;

		rs_number_format(v, buf);
		assert_true(strtod(buf, NULL) == v);
	}
}

static void
test_pair_order(void **state)
{
	char buf[RS_PAIR_MAX];

	(void)state;
	rs_pair_format(-15.82594, -47.92923, RS_ORDER_LATLNG, buf);
	assert_string_equal(buf, "[-15.82594,-47.92923]");
	rs_pair_format(-15.82594, -47.92923, RS_ORDER_LNGLAT, buf);
	assert_string_equal(buf, "[-47.92923,-15.82594]");
}

static void
test_message_is_byte_compatible(void **state)
{
	char pair[RS_PAIR_MAX], out[256], prefix[64];
	size_t plen = rs_position_prefix(prefix, "1", "1"), n, pairlen;

	(void)state;
	assert_true(plen < rs_position_prefix_size("1", "1"));
	pairlen = rs_pair_format(-15.82594, -47.92923, RS_ORDER_LATLNG, pair);
	n = rs_position_encode(out, sizeof(out), prefix, plen, pair, pairlen,
	    false, NULL);
	out[n] = '\0';
	assert_string_equal(out, "{\"routeId\":\"1\",\"clientId\":\"1\","
	    "\"position\":[-15.82594,-47.92923],\"finished\":false}");
	n = rs_position_encode(out, sizeof(out), prefix, plen, pair, pairlen,
	    true, NULL);
	out[n] = '\0';
	assert_string_equal(out, "{\"routeId\":\"1\",\"clientId\":\"1\","
	    "\"position\":[-15.82594,-47.92923],\"finished\":true}");
	/* Too small a buffer is refused, not overrun. */
	assert_int_equal(rs_position_encode(out, 10, prefix, plen, pair,
	    pairlen, true, NULL), 0);
	/* With --position-metadata: seq and the scheduled time follow. */
	n = rs_position_encode(out, sizeof(out), prefix, plen, pair, pairlen,
	    false, &(struct rs_position_meta){7, 1795274245398});
	out[n] = '\0';
	assert_string_equal(out, "{\"routeId\":\"1\",\"clientId\":\"1\","
	    "\"position\":[-15.82594,-47.92923],\"finished\":false,"
	    "\"seq\":7,\"timestamp\":1795274245398}");
	n = rs_position_encode(out, sizeof(out), prefix, plen, pair, pairlen,
	    true, &(struct rs_position_meta){0, 0});
	out[n] = '\0';
	assert_non_null(strstr(out, ",\"finished\":true,\"seq\":0,"
	    "\"timestamp\":0}"));
	n = rs_position_encode(out, sizeof(out), prefix, plen, pair, pairlen,
	    true, &(struct rs_position_meta){UINT32_MAX, INT64_MIN});
	out[n] = '\0';
	assert_non_null(strstr(out, "\"seq\":4294967295,"
	    "\"timestamp\":-9223372036854775808}"));
}

/* The prefix of route "r" for client, checked against its size bound. */
static const char *
prefix_of(const char *client)
{
	static char buf[256];
	size_t len;

	assert_true(rs_position_prefix_size("r", client) <= sizeof(buf));
	len = rs_position_prefix(buf, "r", client);
	assert_int_equal(len, strlen(buf));
	assert_true(len < rs_position_prefix_size("r", client));
	return buf;
}

static void
test_strings_escaped_like_go(void **state)
{
	(void)state;
	assert_string_equal(prefix_of("a\"b\\c\n\t<>&\x01\xe2\x80\xa8 \xc3\xa9"),
	    "{\"routeId\":\"r\",\"clientId\":\"a\\\"b\\\\c"
	    "\\n\\t\\u003c\\u003e\\u0026\\u0001\\u2028 \xc3\xa9\","
	    "\"position\":");
	/* Invalid UTF-8 becomes U+FFFD, as Go writes it. */
	assert_string_equal(prefix_of("\xff"),
	    "{\"routeId\":\"r\",\"clientId\":\"\\ufffd\",\"position\":");
	/* An empty clientId is kept as "". */
	assert_string_equal(prefix_of(""),
	    "{\"routeId\":\"r\",\"clientId\":\"\",\"position\":");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shortest_round_trip),
		cmocka_unit_test(test_go_exponent_form),
		cmocka_unit_test(test_every_number_round_trips),
		cmocka_unit_test(test_pair_order),
		cmocka_unit_test(test_message_is_byte_compatible),
		cmocka_unit_test(test_strings_escaped_like_go),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
