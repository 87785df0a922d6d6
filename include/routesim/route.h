/*
 * route.h - a route: the points of one destinations/<routeId>.txt file.
 *
 * File format: one point per line, "lat,lng" (decimal numbers, latitude
 * first).  Blanks around numbers, CRLF line ends, a missing final newline
 * and trailing blank lines are accepted.  Anything else - a blank line
 * between points, a third field, a number out of range, an empty file - is
 * an error naming the file and line: a route is never silently truncated.
 *
 * A route is immutable once loaded and shared by every delivery on it.
 * Besides its points it holds each point's JSON pair ("[-15.8,-47.9]" in
 * the configured order), rendered once here so that a tick only copies.
 *
 * Ownership: rs_route_parse()/rs_route_load() return a route with one
 * reference.  rs_route_ref()/rs_route_unref() are called on the loop
 * thread only; the last unref frees it.  Loading may run on a libuv
 * thread-pool thread: the route is handed to the loop afterwards, never
 * shared while it is being built.
 */
#ifndef ROUTESIM_ROUTE_H
#define ROUTESIM_ROUTE_H

#include <stddef.h>
#include <sys/stat.h>
#include <stdint.h>

#include "routesim/order.h"

/* Largest route file accepted. */
#define RS_ROUTE_FILE_MAX (16 * 1024 * 1024)

struct rs_point {
	double lat;
	double lng;
};

struct rs_route {
	unsigned refs;
	char *id;
	size_t npoints;
	struct rs_point *points;
	char *pairs;		/* every point's JSON pair, back to back */
	uint32_t *pair_off;	/* npoints + 1 offsets into pairs */
};

/*
 * Parses len bytes of a route file.  name is used in error messages
 * ("name:LINE: reason").  Returns 0, -EINVAL with a message, -ENOMEM.
 */
int rs_route_parse(const char *buf, size_t len, const char *id,
    const char *name, enum rs_position_order order, struct rs_route **out,
    char *err, size_t errlen);

/*
 * Opens a file of the routes folder (a route, a title) for reading,
 * without blocking: a regular file only (symlinks followed), checked
 * with fstat before any read, so a FIFO, socket or folder is -EINVAL at
 * once.  Returns the descriptor (the caller closes it) and fills *st, or
 * a negative errno with err set.
 */
int rs_route_open(const char *path, struct stat *st, char *err,
    size_t errlen);

/* Reads fd (from rs_route_open()) to its end or cap bytes, whichever
 * comes first.  Returns the length read, or a negative errno with err
 * set.  cap must fit an int (route and title files are small). */
int rs_route_read(int fd, char *buf, size_t cap, const char *path, char *err,
    size_t errlen);

/*
 * Reads DIR/<id>.txt (blocking: call it off the loop) and parses it.
 * Only a regular file (symlinks followed) of at most RS_ROUTE_FILE_MAX
 * bytes is read; it is opened non-blocking and checked with fstat before
 * any read, so a FIFO, socket or folder is -EINVAL at once, never a hang.
 * Returns 0, -ENOENT if there is no such file, -EINVAL for a bad file,
 * or another negative errno; err says why.
 */
int rs_route_load(const char *dir, const char *id,
    enum rs_position_order order, struct rs_route **out, char *err,
    size_t errlen);

struct rs_route *rs_route_ref(struct rs_route *r);
void rs_route_unref(struct rs_route *r);

/* The JSON pair of point i and its length. */
static inline const char *
rs_route_pair(const struct rs_route *r, size_t i, size_t *len)
{
	*len = r->pair_off[i + 1] - r->pair_off[i];
	return r->pairs + r->pair_off[i];
}

#endif
