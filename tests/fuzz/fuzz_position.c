/*
 * fuzz_position.c - libFuzzer target: position message decoding
 * (src/position_decode.c).  What is accepted is in range and safe to
 * show; every rejection says why; and the in-place reading of routesim's
 * shape never disagrees with the cJSON-only reference.  The first byte
 * picks the coordinate order.
 */
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "routesim/position.h"
#include "routesim/position_decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum rs_position_order order;
	struct rs_position_msg m, ref;
	enum rs_reject why, ref_why;
	char err[256] = "", ref_err[256] = "";
	int rc, ref_rc;

	if (size == 0)
		return 0;
	order = data[0] & 1 ? RS_ORDER_LNGLAT : RS_ORDER_LATLNG;
	data++;
	size--;
	rc = rs_position_decode(data, size, order, &m, &why, err, sizeof(err));
	if (rc == 0) {
		if (!isfinite(m.lat) || !isfinite(m.lng) || fabs(m.lat) > 90 ||
		    fabs(m.lng) > 180 || strlen(m.client_id) >
		    RS_CLIENT_ID_MAX || !rs_utf8_valid(m.client_id) ||
		    (m.route_id[0] != '\0' && !rs_route_id_valid(m.route_id)))
			abort();
	} else if (rc != -EINVAL || why >= RS_REJECT_COUNT ||
	    err[0] == '\0') {
		abort();	/* every rejection says why */
	}
	if (size > 0 && size <= RS_POSITION_MAX_BYTES) {
		ref_rc = rs_position_decode_json(data, size, order, &ref,
		    &ref_why, ref_err, sizeof(ref_err));
		if (ref_rc != rc)
			abort();
		if (rc == 0 && (strcmp(m.client_id, ref.client_id) != 0 ||
		    strcmp(m.route_id, ref.route_id) != 0 ||
		    memcmp(&m.lat, &ref.lat, sizeof(m.lat)) != 0 ||
		    memcmp(&m.lng, &ref.lng, sizeof(m.lng)) != 0 ||
		    m.finished != ref.finished))
			abort();
		if (rc == -EINVAL && (why != ref_why ||
		    strcmp(err, ref_err) != 0))
			abort();
		if (ref_rc == 0)
			rs_position_msg_free(&ref);
	}
	if (rc == 0)
		rs_position_msg_free(&m);
	return 0;
}
