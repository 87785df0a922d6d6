/* test_offsets.c - the commit tracker (src/offsets.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>

#include "routesim/offsets.h"

static void
test_out_of_order_completion(void **state)
{
	struct rs_offsets o;

	(void)state;
	rs_offsets_init(&o);
	assert_int_equal(rs_offsets_committable(&o), -1);
	for (int64_t i = 10; i < 15; i++)
		assert_int_equal(rs_offsets_add(&o, i), 0);
	assert_int_equal(rs_offsets_committable(&o), 10);
	/* 12 and 11 finish before 10: nothing can be committed yet. */
	assert_true(rs_offsets_safe(&o, 12));
	assert_true(rs_offsets_safe(&o, 11));
	assert_int_equal(rs_offsets_committable(&o), 10);
	assert_true(rs_offsets_safe(&o, 10));
	assert_int_equal(rs_offsets_committable(&o), 13);
	assert_int_equal(rs_offsets_pending(&o), 2);
	assert_true(rs_offsets_safe(&o, 14));
	assert_true(rs_offsets_safe(&o, 13));
	assert_int_equal(rs_offsets_committable(&o), 15);
	assert_int_equal(rs_offsets_pending(&o), 0);
	/* Unknown or repeated offsets change nothing. */
	assert_false(rs_offsets_safe(&o, 13));
	assert_false(rs_offsets_safe(&o, 99));
	assert_int_equal(rs_offsets_committable(&o), 15);
	rs_offsets_free(&o);
}

static void
test_gaps_and_order(void **state)
{
	struct rs_offsets o;

	(void)state;
	rs_offsets_init(&o);
	/* Offsets may have gaps (compaction, transaction markers). */
	assert_int_equal(rs_offsets_add(&o, 5), 0);
	assert_int_equal(rs_offsets_add(&o, 9), 0);
	assert_int_equal(rs_offsets_add(&o, 9), -EINVAL);
	assert_int_equal(rs_offsets_add(&o, 7), -EINVAL);
	assert_true(rs_offsets_safe(&o, 5));
	assert_int_equal(rs_offsets_committable(&o), 9);
	assert_true(rs_offsets_safe(&o, 9));
	assert_int_equal(rs_offsets_committable(&o), 10);
	assert_int_equal(rs_offsets_add(&o, 8), -EINVAL);
	rs_offsets_free(&o);
}

static void
test_many_wrapping(void **state)
{
	struct rs_offsets o;
	int64_t next = 0, added = 0;

	(void)state;
	rs_offsets_init(&o);
	srand(7);
	/* A sliding window of ~1000 open offsets, finished in random order,
	 * through many wraps of the ring. */
	for (int round = 0; round < 100000; round++) {
		/* added > next whenever something is pending */
		if (rs_offsets_pending(&o) < 1000 || added == next ||
		    rand() % 2) {
			assert_int_equal(rs_offsets_add(&o, added), 0);
			added++;
		} else {
			int64_t pick = next + rand() % (added - next);

			rs_offsets_safe(&o, pick);
		}
		next = rs_offsets_committable(&o);
		assert_true(next >= 0 && next <= added);
	}
	for (int64_t i = 0; i < added; i++)
		rs_offsets_safe(&o, i);
	assert_int_equal(rs_offsets_committable(&o), added);
	rs_offsets_free(&o);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_out_of_order_completion),
		cmocka_unit_test(test_gaps_and_order),
		cmocka_unit_test(test_many_wrapping),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
