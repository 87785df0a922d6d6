/* fuzz_route.c - libFuzzer target: route files (src/route.c). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "routesim/route.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rs_route *r;
	char err[256];

	if (rs_route_parse((const char *)data, size, "f", "f.txt",
	    RS_ORDER_LATLNG, &r, err, sizeof(err)) != 0)
		return 0;
	if (r->npoints == 0)
		abort();
	for (size_t i = 0; i < r->npoints; i++) {
		size_t len;
		const char *pair = rs_route_pair(r, i, &len);

		/* Every point is in range and renders as "[a,b]". */
		if (r->points[i].lat < -90 || r->points[i].lat > 90 ||
		    r->points[i].lng < -180 || r->points[i].lng > 180 ||
		    len < 5 || pair[0] != '[' || pair[len - 1] != ']')
			abort();
	}
	rs_route_unref(r);
	return 0;
}
