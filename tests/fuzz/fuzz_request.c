/*
 * fuzz_request.c - libFuzzer target: request parsing (src/request.c).
 * Besides the safety of what is accepted, every input must get the same
 * answer from the parser as from its cJSON-only reference: the in-place
 * reading of the plain shape may never disagree with cJSON.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "routesim/request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rs_request r, ref;
	enum rs_reject why, ref_why;
	char err[256] = "", ref_err[256] = "";
	int rc, ref_rc;

	rc = rs_request_parse(data, size, &r, &why, err, sizeof(err));
	if (rc == 0) {
		/* What is accepted must be safe to use as a file name. */
		if (!rs_route_id_valid(r.route_id) ||
		    strchr(r.route_id, '/') != NULL)
			abort();
	} else if (why >= RS_REJECT_COUNT || err[0] == '\0') {
		abort();	/* every rejection says why */
	}
	if (size > 0 && size <= RS_REQUEST_MAX_BYTES) {
		ref_rc = rs_request_parse_json(data, size, &ref, &ref_why,
		    ref_err, sizeof(ref_err));
		if (ref_rc != rc)
			abort();
		if (rc == 0 && (strcmp(r.route_id, ref.route_id) != 0 ||
		    strcmp(r.client_id, ref.client_id) != 0 ||
		    r.client_id_defaulted != ref.client_id_defaulted))
			abort();
		if (rc == -EINVAL && (why != ref_why ||
		    strcmp(err, ref_err) != 0))
			abort();
		if (ref_rc == 0)
			rs_request_free(&ref);
	}
	if (rc == 0)
		rs_request_free(&r);
	return 0;
}
