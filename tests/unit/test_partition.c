/* test_partition.c - per-partition bookkeeping (src/partition.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "routesim/partition.h"

static int
cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* Takes every due offset, max at a time, sorted. */
static size_t
take_all(struct rs_part *p, size_t max, int64_t *out)
{
	size_t n = 0, got;

	while ((got = rs_part_done_take(p, out + n, max)) > 0) {
		assert_true(got <= max);
		n += got;
	}
	qsort(out, n, sizeof(*out), cmp64);
	return n;
}

static void
test_done_due_after_commit(void **state)
{
	struct rs_parts ps = {0};
	struct rs_part *p = rs_parts_add(&ps, 0);
	int64_t out[16];

	(void)state;
	assert_non_null(p);
	/* Finished out of order. */
	for (int64_t o = 7; o >= 1; o -= 2)
		assert_int_equal(rs_part_done_add(p, o), 0);	/* 7 5 3 1 */
	assert_int_equal(rs_part_done_add(p, 4), 0);
	assert_int_equal(rs_part_done_take(p, out, 16), 0);	/* none due */
	assert_int_equal(rs_part_done_commit(p, 5), 3);	/* 1 3 4 */
	assert_int_equal(take_all(p, 2, out), 3);
	assert_true(out[0] == 1 && out[1] == 3 && out[2] == 4);
	assert_int_equal(p->ndone, 2);
	/* Later ones join; an older commit makes nothing new due. */
	assert_int_equal(rs_part_done_add(p, 9), 0);
	assert_int_equal(rs_part_done_commit(p, 2), 0);
	assert_int_equal(rs_part_done_commit(p, 10), 3);
	assert_int_equal(take_all(p, 16, out), 3);
	assert_true(out[0] == 5 && out[1] == 7 && out[2] == 9);
	assert_int_equal(p->ndone, 0);
	rs_parts_free(&ps);
}

/* Taking in slices while more finish: every offset comes out once, and
 * only after a commit past it. */
static void
test_done_slices_interleaved(void **state)
{
	enum { N = 1000 };
	struct rs_parts ps = {0};
	struct rs_part *p = rs_parts_add(&ps, 3);
	static int64_t out[N];
	static unsigned char seen[N];
	size_t n = 0, got;
	int64_t committed = 0;

	(void)state;
	assert_non_null(p);
	memset(seen, 0, sizeof(seen));
	for (int64_t i = 0; i < N; i++) {
		/* A permutation of 0..N-1: the order deliveries end in. */
		assert_int_equal(rs_part_done_add(p, (i * 37) % N), 0);
		if (i % 50 == 49) {
			committed = i / 2;
			rs_part_done_commit(p, committed);
		}
		got = rs_part_done_take(p, out, 7);
		for (size_t j = 0; j < got; j++) {
			assert_true(out[j] < committed);
			assert_false(seen[out[j]]);
			seen[out[j]] = 1;
		}
		n += got;
	}
	assert_int_equal(rs_part_done_commit(p, N), N - n);
	got = take_all(p, 13, out);
	for (size_t j = 0; j < got; j++) {
		assert_false(seen[out[j]]);
		seen[out[j]] = 1;
	}
	assert_int_equal(n + got, N);
	assert_int_equal(p->ndone, 0);
	for (int i = 0; i < N; i++)
		assert_true(seen[i]);
	rs_parts_free(&ps);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_done_due_after_commit),
		cmocka_unit_test(test_done_slices_interleaved),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
