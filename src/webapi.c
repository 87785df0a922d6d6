/*
 * webapi.c - the tracker's HTTP API bodies.
 */
#include "routesim/webapi.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include "routesim/log.h"
#include "routesim/position.h"

int
rs_webapi_delivery_parse(const void *body, size_t len,
    const struct rs_catalogue *cat, char route_id[RS_ROUTE_ID_MAX + 1],
    char *err, size_t errlen)
{
	struct rs_request req;
	enum rs_reject why;
	int rc;

	route_id[0] = '\0';
	rc = rs_request_parse(body, len, &req, &why, err, errlen);
	if (rc != 0)
		return rc == -EINVAL && why == RS_REJECT_TOO_LARGE ? -E2BIG :
		    rc;
	/* A plain name: it fits and needs no escaping in the reason. */
	strcpy(route_id, req.route_id);
	rs_request_free(&req);
	if (cat == NULL || rs_catalogue_find(cat, route_id) == NULL) {
		rc = rs_errf(err, errlen, -EINVAL, "no route \"%s\"",
		    route_id);
		route_id[0] = '\0';
	}
	return rc;
}

void
rs_webapi_client_id_format(const uint8_t bytes[8],
    char out[RS_WEB_CLIENT_ID_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";

	memcpy(out, "web-", 4);
	for (int i = 0; i < 8; i++) {
		out[4 + 2 * i] = hex[bytes[i] >> 4];
		out[5 + 2 * i] = hex[bytes[i] & 15];
	}
	out[RS_WEB_CLIENT_ID_LEN] = '\0';
}

int
rs_webapi_client_id(char out[RS_WEB_CLIENT_ID_LEN + 1])
{
	uint8_t bytes[8];
	ssize_t n;

	do
		n = getrandom(bytes, sizeof(bytes), GRND_NONBLOCK);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if ((size_t)n != sizeof(bytes))
		return -EAGAIN;
	rs_webapi_client_id_format(bytes, out);
	return 0;
}

void
rs_webapi_request(struct rs_buf *b, const char *client_id,
    const char *route_id)
{
	rs_buf_append(b, "{\"clientId\":", 12);
	rs_buf_json_string(b, client_id);
	rs_buf_append(b, ",\"routeId\":", 11);
	rs_buf_json_string(b, route_id);
	rs_buf_append(b, "}", 1);
}

void
rs_webapi_error(struct rs_buf *b, const char *reason)
{
	rs_buf_append(b, "{\"error\":", 9);
	rs_buf_json_string(b, reason);
	rs_buf_append(b, "}", 1);
}

void
rs_webapi_config(struct rs_buf *b, const char *tiles,
    const char *attribution, unsigned interval_ms)
{
	rs_buf_append(b, "{\"tiles\":", 9);
	rs_buf_json_string(b, tiles);
	rs_buf_append(b, ",\"attribution\":", 15);
	rs_buf_json_string(b, attribution);
	rs_buf_printf(b, ",\"interval_ms\":%u}", interval_ms);
}
