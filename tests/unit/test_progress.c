/* test_progress.c - progress records (src/progress.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "routesim/progress.h"

static void
test_round_trip(void **state)
{
	struct rs_progress p = {false, 4294967295u, "route_1", "cli\"ent\n"}, q;
	char buf[128];
	size_t len;

	(void)state;
	len = rs_progress_encode(&p, buf);
	assert_true(len <= rs_progress_size(&p));
	buf[len] = '\0';
	assert_string_equal(buf, "{\"routeId\":\"route_1\",\"clientId\":"
	    "\"cli\\\"ent\\n\",\"next\":4294967295}");
	assert_int_equal(rs_progress_decode(buf, len, &q), 0);
	assert_false(q.done);
	assert_int_equal(q.next, 4294967295u);
	assert_string_equal(q.route_id, "route_1");
	assert_string_equal(q.client_id, "cli\"ent\n");
	rs_progress_free(&q);

	p.done = true;
	len = rs_progress_encode(&p, buf);
	assert_int_equal(len, rs_progress_size(&p));
	buf[len] = '\0';
	assert_string_equal(buf, "{\"done\":true}");
	assert_int_equal(rs_progress_decode(buf, len, &q), 0);
	assert_true(q.done);
	assert_null(q.client_id);
}

static void
test_bad_records(void **state)
{
	static const char *const bad[] = {
		"", "null", "[]", "{}", "{\"done\":false}",
		"{\"routeId\":\"1\",\"clientId\":\"x\"}",
		"{\"routeId\":\"1\",\"clientId\":\"x\",\"next\":-1}",
		"{\"routeId\":\"1\",\"clientId\":\"x\",\"next\":1.5}",
		"{\"routeId\":\"1\",\"clientId\":\"x\",\"next\":5e10}",
		"{\"routeId\":\"../1\",\"clientId\":\"x\",\"next\":1}",
		"{\"routeId\":\"1\",\"clientId\":3,\"next\":1}",
		/* Found by fuzz_progress: requests refuse such a clientId,
		 * so a restored record must too. */
		"{\"routeId\":\"1\",\"clientId\":\"}x\xff\xff\",\"next\":12}",
	};
	struct rs_progress q;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (rs_progress_decode(bad[i], strlen(bad[i]), &q) != -EINVAL)
			fail_msg("accepted %s", bad[i]);
	assert_int_equal(rs_progress_decode(NULL, 0, &q), -EINVAL);
}

/* A record's clientId obeys the limit of a request's: at most
 * RS_REQUEST_MAX_BYTES bytes once decoded. */
static void
test_client_id_limit(void **state)
{
	char rec[RS_REQUEST_MAX_BYTES + 64];
	struct rs_progress q;
	int n;

	(void)state;
	for (size_t len = RS_REQUEST_MAX_BYTES; len <= RS_REQUEST_MAX_BYTES + 1;
	    len++) {
		n = snprintf(rec, sizeof(rec), "{\"routeId\":\"1\",\"clientId\":"
		    "\"%0*d\",\"next\":1}", (int)len, 0);
		assert_true(n > 0 && (size_t)n < sizeof(rec));
		if (len == RS_REQUEST_MAX_BYTES) {
			assert_int_equal(rs_progress_decode(rec, (size_t)n, &q),
			    0);
			assert_int_equal(strlen(q.client_id), len);
			rs_progress_free(&q);
		} else {
			assert_int_equal(rs_progress_decode(rec, (size_t)n, &q),
			    -EINVAL);
		}
	}
}

static void
test_keys(void **state)
{
	char key[21];

	(void)state;
	assert_int_equal(rs_progress_key(0, key), 1);
	assert_string_equal(key, "0");
	rs_progress_key(INT64_MAX, key);
	assert_string_equal(key, "9223372036854775807");
	assert_int_equal(rs_progress_key_parse("12345", 5), 12345);
	assert_int_equal(rs_progress_key_parse("12a", 3), -1);
	assert_int_equal(rs_progress_key_parse("", 0), -1);
	assert_int_equal(rs_progress_key_parse(NULL, 0), -1);
	assert_int_equal(rs_progress_key_parse("-1", 2), -1);
}

/* Keys are Kafka offsets, 0..INT64_MAX, in the one form rs_progress_key()
 * writes; anything else is not a key, never a wrapped offset that could
 * alias another request's. */
static void
test_key_range(void **state)
{
	static const char *const bad[] = {
		"9223372036854775808",		/* INT64_MAX + 1 */
		"9999999999999999999",		/* wraps to a negative */
		"18446744073709551617",		/* wraps to 1 in 64 bits */
		"10000000000000000000",
		"99999999999999999999",
		"00", "01", "0009", "+1", " 1", "1 ", "1\n",
	};
	char key[21];

	(void)state;
	assert_int_equal(rs_progress_key_parse("0", 1), 0);
	assert_int_equal(rs_progress_key_parse("9", 1), 9);
	assert_int_equal(rs_progress_key_parse("10", 2), 10);
	assert_true(rs_progress_key_parse("9223372036854775807", 19) ==
	    INT64_MAX);
	assert_true(rs_progress_key_parse("9223372036854775806", 19) ==
	    INT64_MAX - 1);
	assert_true(rs_progress_key_parse("999999999999999999", 18) ==
	    999999999999999999LL);
	assert_true(rs_progress_key_parse("1000000000000000000", 19) ==
	    1000000000000000000LL);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (rs_progress_key_parse(bad[i], strlen(bad[i])) != -1)
			fail_msg("accepted key '%s' as %lld", bad[i],
			    (long long)rs_progress_key_parse(bad[i],
			    strlen(bad[i])));
	/* The length counts, not a NUL: "12" of "123". */
	assert_int_equal(rs_progress_key_parse("123", 2), 12);
	assert_int_equal(rs_progress_key_parse("1\0", 2), -1);
	/* Every key written parses back to its offset. */
	for (int64_t o = 1; o > 0 && o <= INT64_MAX / 3; o = o * 3 + 1) {
		size_t n = rs_progress_key(o, key);

		assert_true(rs_progress_key_parse(key, n) == o);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_bad_records),
		cmocka_unit_test(test_client_id_limit),
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_key_range),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
