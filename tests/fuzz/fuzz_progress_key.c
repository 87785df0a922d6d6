/* fuzz_progress_key.c - libFuzzer target: progress record keys
 * (rs_progress_key_parse() in src/progress.c).
 *
 * A key is accepted exactly when it is the canonical decimal form of an
 * offset 0..INT64_MAX, and then it is what rs_progress_key() writes for
 * that offset.  The oracle below decides acceptance on its own, with
 * arithmetic that cannot overflow.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "routesim/progress.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The expected result, digit by digit against INT64_MAX's digits. */
static int64_t
oracle(const uint8_t *data, size_t size)
{
	static const char max[] = "9223372036854775807";
	int64_t v = 0;

	if (size == 0 || size > sizeof(max) - 1 ||
	    (data[0] == '0' && size > 1))
		return -1;
	for (size_t i = 0; i < size; i++)
		if (data[i] < '0' || data[i] > '9')
			return -1;
	if (size == sizeof(max) - 1 && memcmp(data, max, size) > 0)
		return -1;
	for (size_t i = 0; i < size; i++)
		v = v * 10 + (data[i] - '0');
	return v;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int64_t got = rs_progress_key_parse(size ? data : NULL, size);
	char key[21];
	size_t n;

	if (got != oracle(data, size))
		abort();
	if (got < 0)
		return 0;
	n = rs_progress_key(got, key);
	if (n != size || memcmp(key, data, size) != 0)
		abort();
	return 0;
}
