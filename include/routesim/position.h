/*
 * position.h - encoding of position messages, byte-compatible with the
 * original Go simulator (encoding/json):
 *
 *   {"routeId":"1","clientId":"1",
 *    "position":[-15.82594,-47.92923],"finished":false}
 *
 * Field order as above, no spaces, no trailing newline.  Numbers are in
 * their shortest round-trip form, in fixed notation for 1e-6 <= |x| < 1e21
 * and exponent notation otherwise ("1e-7"), as Go prints float64.  Strings
 * are escaped as Go does: \" \\ \n \r \t, other control characters and
 * < > & U+2028 U+2029 as \uXXXX, invalid UTF-8 as \ufffd.
 *
 * A message is assembled from three parts so that a tick does no
 * formatting: a per-delivery prefix (rendered once), a per-point pair
 * (rendered once per route, see route.h) and a constant suffix.
 *
 * Nothing here keeps state or allocates: everything writes into caller
 * buffers.
 */
#ifndef ROUTESIM_POSITION_H
#define ROUTESIM_POSITION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "routesim/json.h"
#include "routesim/order.h"

/* Enough for any double in Go's format, with its NUL. */
#define RS_NUMBER_MAX 32
/* Enough for "[a,b]" with its NUL. */
#define RS_PAIR_MAX (2 * RS_NUMBER_MAX + 4)
/* Longest suffix: ",\"finished\":false,\"seq\":N,\"timestamp\":T}". */
#define RS_SUFFIX_MAX 72

/* Writes v in Go's encoding/json form; returns its length. */
size_t rs_number_format(double v, char buf[RS_NUMBER_MAX]);

/* Writes "[lat,lng]" or "[lng,lat]"; returns its length. */
size_t rs_pair_format(double lat, double lng, enum rs_position_order order,
    char buf[RS_PAIR_MAX]);

/*
 * Writes {"routeId":"<r>","clientId":"<c>" (no NUL) at buf, which holds
 * rs_json_ids_size() bytes; returns its length.  The opening positions
 * and progress records share.
 */
size_t rs_json_ids_size(const char *route_id, const char *client_id);
size_t rs_json_ids(char *buf, const char *route_id, const char *client_id);

/* How many bytes rs_position_prefix() may write (its NUL included). */
size_t rs_position_prefix_size(const char *route_id, const char *client_id);
/*
 * Writes {"routeId":"<r>","clientId":"<c>","position": and a NUL at buf,
 * which holds rs_position_prefix_size() bytes; returns its length.
 */
size_t rs_position_prefix(char *buf, const char *route_id,
    const char *client_id);

/* Writes the decimal digits of v at p (no NUL); returns how many (at
 * most 20).  The hot paths format numbers with this, not printf. */
size_t rs_put_u64(char *p, uint64_t v);


/* Optional fields after "finished" (--position-metadata). */
struct rs_position_meta {
	uint32_t seq;		/* 0-based point index */
	int64_t timestamp;	/* scheduled time, ms since the epoch */
};

/* Writes prefix + pair + suffix (with meta when not NULL) into buf (cap
 * bytes); returns the length, or 0 if it does not fit. */
size_t rs_position_encode(char *buf, size_t cap, const char *prefix,
    size_t prefix_len, const char *pair, size_t pair_len, bool finished,
    const struct rs_position_meta *meta);

#endif
