/*
 * request.h - parsing of delivery requests from the read topic:
 *
 *   {"clientId":"1","routeId":"1"}
 *
 * Read as the original reads it (Go's encoding/json into a struct, errors
 * ignored) wherever that is safe: member names match in any case
 * ({"RouteId":"1"}), the last string given for a field wins, and a
 * clientId that is missing, null or not a string is taken as "" (the
 * original runs such a delivery; client_id_defaulted says so).  routeId
 * must be a JSON string and a plain name ([A-Za-z0-9_-], 1 to
 * RS_ROUTE_ID_MAX bytes) so it can never name a file outside the route
 * folder.  clientId may be empty (backends send "" when a route is started
 * over REST) but must be valid UTF-8 without NUL.  Other fields are
 * ignored, as the original ignores them.
 *
 * The reasons a request is rejected, its own among them, are in
 * reject.h.
 *
 * The shape backends send is read in place; anything else goes through
 * cJSON (see request.c), with the same result.
 *
 * Ownership: rs_request_parse() and rs_request_copy() fill a
 * caller-provided struct whose two strings share one heap block;
 * rs_request_free() releases it.
 */
#ifndef ROUTESIM_REQUEST_H
#define ROUTESIM_REQUEST_H

#include <stdbool.h>
#include <stddef.h>

#include "routesim/reject.h"

#define RS_REQUEST_MAX_BYTES 4096
#define RS_ROUTE_ID_MAX 64

struct rs_request {
	char *client_id;
	char *route_id;
	bool client_id_defaulted;	/* no string clientId: "" taken */
};

/* True if id is a plain route name (see above). */
bool rs_route_id_valid(const char *id);

/*
 * Parses len bytes (not NUL-terminated).  Returns 0 and fills req, or
 * -EINVAL and sets *why and a message in err; -ENOMEM.
 */
int rs_request_parse(const void *buf, size_t len, struct rs_request *req,
    enum rs_reject *why, char *err, size_t errlen);

/* The same with cJSON alone, whatever the shape: the reference the fast
 * path is tested against. */
int rs_request_parse_json(const void *buf, size_t len,
    struct rs_request *req, enum rs_reject *why, char *err, size_t errlen);

/* Fills req with copies of the two ids.  Returns 0 or -ENOMEM. */
int rs_request_copy(struct rs_request *req, const char *route_id,
    const char *client_id);

void rs_request_free(struct rs_request *req);

#endif
