/*
 * position_decode.h - reading position messages from the position topic,
 * the inverse of position.h's encoder:
 *
 *   {"routeId":"1","clientId":"1","position":[-47.92923,-15.82594],"finished":false}
 *
 * The two numbers are read in the configured order (--position-order:
 * lnglat, the original's [lng, lat], or latlng) and handed back as lat and
 * lng.  Member names are matched exactly (the course's backends read the
 * message with JSON.parse); a member given twice: the last one wins;
 * other members (seq, timestamp, ...) are ignored.
 *
 * A message is accepted when it is a JSON object of at most
 * RS_POSITION_MAX_BYTES with
 *   - "clientId": a string, valid UTF-8 without NUL, at most
 *     RS_CLIENT_ID_MAX bytes (it may be "", as routesim sends it for a
 *     request without one);
 *   - "position": an array of exactly two finite numbers, latitude in
 *     [-90, 90] and longitude in [-180, 180];
 *   - "finished": true or false.
 * "routeId" is optional and only informative: kept when it is a plain
 * route name (request.h's rule), else taken as "".  Anything else is
 * rejected with one of request.h's reasons (too_large, bad_json,
 * bad_field) and a message that says what was wrong.
 *
 * The shape routesim sends is read in place (json_scan.h); anything else
 * goes through cJSON, with the same result (fuzz_position checks it).
 *
 * Ownership: rs_position_decode() fills a caller-provided struct whose two
 * strings share one heap block; rs_position_msg_free() releases it.
 * Nothing else is kept.
 */
#ifndef ROUTESIM_POSITION_DECODE_H
#define ROUTESIM_POSITION_DECODE_H

#include <stdbool.h>
#include <stddef.h>

#include "routesim/config.h"
#include "routesim/request.h"

/* Largest position message read (a clientId of RS_CLIENT_ID_MAX bytes
 * fits even when every byte is escaped). */
#define RS_POSITION_MAX_BYTES 32768
/* Longest clientId accepted, in bytes once decoded. */
#define RS_CLIENT_ID_MAX 4096

struct rs_position_msg {
	char *client_id;
	char *route_id;		/* "" when absent or not a plain name */
	double lat, lng;
	bool finished;
};

/*
 * Decodes len bytes (not NUL-terminated).  Returns 0 and fills msg, or
 * -EINVAL and sets *why and a message in err; -ENOMEM.
 */
int rs_position_decode(const void *buf, size_t len,
    enum rs_position_order order, struct rs_position_msg *msg,
    enum rs_reject *why, char *err, size_t errlen);

/* The same with cJSON alone, whatever the shape: the reference the fast
 * path is tested against. */
int rs_position_decode_json(const void *buf, size_t len,
    enum rs_position_order order, struct rs_position_msg *msg,
    enum rs_reject *why, char *err, size_t errlen);

void rs_position_msg_free(struct rs_position_msg *msg);

#endif
