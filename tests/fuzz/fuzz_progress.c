/* fuzz_progress.c - libFuzzer target: progress records (src/progress.c). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "routesim/progress.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rs_progress p, q;
	char *again;
	size_t len;

	if (rs_progress_decode(data, size, &p) != 0)
		return 0;
	/* A record that decodes survives a round trip unchanged, and its
	 * encoding stays within rs_progress_size(). */
	if ((again = malloc(rs_progress_size(&p))) == NULL)
		abort();
	len = rs_progress_encode(&p, again);
	if (len > rs_progress_size(&p))
		abort();
	if (rs_progress_decode(again, len, &q) != 0 || q.done != p.done ||
	    (!p.done && (q.next != p.next ||
	    strcmp(q.route_id, p.route_id) != 0 ||
	    strcmp(q.client_id, p.client_id) != 0)))
		abort();
	rs_progress_free(&p);
	rs_progress_free(&q);
	free(again);
	return 0;
}
