/* fuzz_dotenv.c - libFuzzer target: the .env parser (src/dotenv.c). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "routesim/dotenv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
check(void *ud, const char *key, const char *value, unsigned line)
{
	size_t size = *(size_t *)ud;

	/* Keys are never empty; nothing decoded is longer than the input. */
	if (key[0] == '\0' || strlen(key) > size || strlen(value) > size ||
	    line == 0)
		abort();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[128];

	(void)rs_dotenv_parse((const char *)data, size, check, &size, err,
	    sizeof(err));
	return 0;
}
