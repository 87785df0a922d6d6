/*
 * webapi.h - the bodies of the tracker's HTTP API, without the HTTP:
 *
 *   POST /api/deliveries  {"routeId":"1"}
 *       -> request message and 202 body {"clientId":"web-…","routeId":"1"}
 *       -> 400/413 body {"error":"<reason>"}
 *   GET /api/config       {"tiles":"","attribution":"","interval_ms":500}
 *
 * A delivery body is read by request.h's parser (at most
 * RS_REQUEST_MAX_BYTES, a JSON object with a string routeId that is a
 * plain route name; other members ignored) and its route must be in the
 * catalogue.  The clientId of a delivery started from the page is "web-"
 * and 16 lowercase hex digits from getrandom(2).
 *
 * Nothing here allocates but through the caller's struct rs_buf, which is
 * appended to (not reset first); nothing is kept.
 */
#ifndef ROUTESIM_WEBAPI_H
#define ROUTESIM_WEBAPI_H

#include <stddef.h>
#include <stdint.h>

#include "routesim/buf.h"
#include "routesim/catalogue.h"
#include "routesim/request.h"

/* "web-" and 16 hex digits. */
#define RS_WEB_CLIENT_ID_LEN 20

/*
 * Reads a POST /api/deliveries body of len bytes.  Returns 0 with the
 * route's id in route_id; -E2BIG (413) when len exceeds
 * RS_REQUEST_MAX_BYTES; -EINVAL (400) with the reason in err for anything
 * else (not JSON, no routeId, routeId not a string or not a plain name,
 * no such route in cat).
 */
int rs_webapi_delivery_parse(const void *body, size_t len,
    const struct rs_catalogue *cat, char route_id[RS_ROUTE_ID_MAX + 1],
    char *err, size_t errlen);

/* Writes "web-" and the 16 hex digits of bytes, and a NUL. */
void rs_webapi_client_id_format(const uint8_t bytes[8],
    char out[RS_WEB_CLIENT_ID_LEN + 1]);
/* A new random clientId: 0, or a negative errno from getrandom(2)
 * (-EAGAIN while the kernel's pool is not ready: it never blocks). */
int rs_webapi_client_id(char out[RS_WEB_CLIENT_ID_LEN + 1]);

/* Appends {"clientId":"<c>","routeId":"<r>"}: the request message, and
 * the 202 body. */
void rs_webapi_request(struct rs_buf *b, const char *client_id,
    const char *route_id);

/* Appends {"error":"<reason>"}. */
void rs_webapi_error(struct rs_buf *b, const char *reason);

/* Appends {"tiles":"<t>","attribution":"<a>","interval_ms":N}. */
void rs_webapi_config(struct rs_buf *b, const char *tiles,
    const char *attribution, unsigned interval_ms);

#endif
