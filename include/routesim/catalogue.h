/*
 * catalogue.h - the route catalogue the tracker serves: every route of the
 * destinations folder with its optional title, and the /api/routes body
 * rendered once.
 *
 * A route is destinations/<id>.txt with <id> a plain route name
 * (request.h), read by route.h's loader (regular files only, at most
 * RS_ROUTE_FILE_MAX bytes, opened non-blocking).  Its title is the first
 * line of the sidecar file destinations/<id>.title, blanks (and a UTF-8
 * byte order mark) trimmed, at most RS_TITLE_MAX bytes of valid UTF-8
 * without control characters; a title file that breaks these rules is
 * ignored with a warning, and a route without one has the title "".  The
 * title lives beside the route because the original simulator reads every
 * line of <id>.txt as a point.  A file that is not a valid route is
 * skipped with a warning (counted in skipped); so are routes beyond
 * RS_CATALOGUE_MAX.
 *
 * Routes are sorted by id: ids of digits only first, in numeric order,
 * then the others by strcmp.  Points are loaded in [lat, lng] order, the
 * file's, whatever --position-order says, so rs_route_pair() gives the
 * pairs the page and the frames use.
 *
 *   [{"id":"1","title":"Primeiro","start":[-15.82594,-47.92923],
 *     "end":[-15.82942,-47.92765],"points":[[-15.82594,-47.92923],...]}]
 *
 * Ownership: rs_catalogue_load() reads the folder (blocking: call it
 * before the loop runs or on the thread pool) and returns a catalogue the
 * caller frees with rs_catalogue_free().  It holds one reference to each
 * route; whoever keeps a route beyond the catalogue's life takes its own
 * with rs_route_ref().  Once handed to the loop thread it is read only
 * there (route references are not atomic).
 */
#ifndef ROUTESIM_CATALOGUE_H
#define ROUTESIM_CATALOGUE_H

#include <stddef.h>

#include "routesim/buf.h"
#include "routesim/route.h"

/* Longest title, in bytes. */
#define RS_TITLE_MAX 80
/* Most routes in a catalogue. */
#define RS_CATALOGUE_MAX 1000

struct rs_catalogue_entry {
	struct rs_route *route;	/* route->id is the id */
	char *title;		/* "" when none */
};

struct rs_catalogue {
	struct rs_catalogue_entry *entries;	/* sorted by id */
	size_t count;
	size_t skipped;		/* files named *.txt that were not loaded */
	struct rs_buf json;	/* the /api/routes body */
};

/*
 * Reads dir.  Returns 0 and a catalogue (possibly empty), -ENOMEM, or
 * another negative errno with err set when the folder cannot be read.
 */
int rs_catalogue_load(const char *dir, struct rs_catalogue **out,
    char *err, size_t errlen);

/* The entry of route id, or NULL. */
const struct rs_catalogue_entry *rs_catalogue_find(
    const struct rs_catalogue *cat, const char *id);

void rs_catalogue_free(struct rs_catalogue *cat);

/* The catalogue's order of two ids: <0, 0 (same string), >0. */
int rs_route_id_compare(const char *a, const char *b);

/*
 * Reads a title file: 0 and the title in title (RS_TITLE_MAX + 1 bytes;
 * "" for an empty first line), -ENOENT when there is none, -EINVAL with
 * err set when it breaks the rules above, another negative errno.
 */
int rs_title_read(const char *path, char title[RS_TITLE_MAX + 1],
    char *err, size_t errlen);

#endif
