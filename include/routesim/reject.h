/*
 * reject.h - why a request is rejected: the reasons the metrics count
 * and the logs name.  Each reason says which module produces it; a new
 * one goes here, with its name in the same order.
 */
#ifndef ROUTESIM_REJECT_H
#define ROUTESIM_REJECT_H

#include <stddef.h>

enum rs_reject {
	/* request.c: rs_request_parse(); the first three also
	 * position_decode.c: rs_position_decode() */
	RS_REJECT_TOO_LARGE = 0,	/* message over RS_REQUEST_MAX_BYTES */
	RS_REJECT_BAD_JSON,		/* not a JSON object */
	RS_REJECT_BAD_FIELD,		/* clientId/routeId missing or bad */
	RS_REJECT_BAD_ROUTE_ID,		/* routeId not a plain name */
	/* daemon_requests.c, from the route cache's answer */
	RS_REJECT_UNKNOWN_ROUTE,	/* no such route file */
	RS_REJECT_BAD_ROUTE,		/* route file empty or malformed */
	/* daemon_requests.c: --max-request-age */
	RS_REJECT_EXPIRED,		/* older than --max-request-age */
	RS_REJECT_COUNT
};

/* Short label for logs and metrics: "too_large", "bad_json", ... */
static inline const char *
rs_reject_name(enum rs_reject why)
{
	static const char *const names[RS_REJECT_COUNT] = {
		"too_large", "bad_json", "bad_field", "bad_route_id",
		"unknown_route", "bad_route_file", "expired",
	};

	return (unsigned)why < RS_REJECT_COUNT ? names[why] : "?";
}

/* Sets *why, formats the message into err and returns -EINVAL: how every
 * parser that rejects with these reasons says why (request.c). */
int rs_reject_errf(enum rs_reject *why, enum rs_reject reason, char *err,
    size_t errlen, const char *fmt, ...) __attribute__((format(printf, 5,
    6)));

#endif
