/* fuzz_request.c - libFuzzer target: request parsing (src/request.c). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "routesim/request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rs_request r;
	enum rs_reject why;
	char err[256];

	if (rs_request_parse(data, size, &r, &why, err, sizeof(err)) == 0) {
		/* What is accepted must be safe to use as a file name. */
		if (!rs_route_id_valid(r.route_id) ||
		    strchr(r.route_id, '/') != NULL)
			abort();
		rs_request_free(&r);
	} else if (why >= RS_REJECT_COUNT || err[0] == '\0') {
		abort();	/* every rejection says why */
	}
	return 0;
}
