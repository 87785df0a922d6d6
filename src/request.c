/*
 * request.c - delivery request parsing: the shape backends send read in
 * place, anything else with cJSON.
 */
#include "routesim/request.h"

#include "routesim/json_scan.h"
#include "routesim/position.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

bool
rs_route_id_valid(const char *id)
{
	size_t n = 0;

	for (; id[n] != '\0'; n++) {
		char c = id[n];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '_' || c == '-'))
			return false;
	}
	return n > 0 && n <= RS_ROUTE_ID_MAX;
}

int
rs_reject_errf(enum rs_reject *why, enum rs_reject reason, char *err,
    size_t errlen, const char *fmt, ...)
{
	va_list ap;

	*why = reason;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* Fills req with copies of the two ids, in one heap block (route id
 * first).  0 or -ENOMEM. */
static int
copy_ids(struct rs_request *req, const char *route, size_t rlen,
    const char *client, size_t clen)
{
	char *ids;

	if ((ids = malloc(rlen + clen + 2)) == NULL)
		return -ENOMEM;
	memcpy(ids, route, rlen);
	ids[rlen] = '\0';
	memcpy(ids + rlen + 1, client, clen);
	ids[rlen + 1 + clen] = '\0';
	req->route_id = ids;
	req->client_id = ids + rlen + 1;
	return 0;
}

/* Copies both ids and checks them; the checks are the same whichever
 * parser found the strings. */
static int
take_ids(struct rs_request *req, const char *route, size_t rlen,
    const char *client, size_t clen, enum rs_reject *why, char *err,
    size_t errlen)
{
	int rc;

	if ((rc = copy_ids(req, route, rlen, client, clen)) != 0)
		return rc;
	if (!rs_route_id_valid(req->route_id)) {
		rs_request_free(req);
		return rs_reject_errf(why, RS_REJECT_BAD_ROUTE_ID, err, errlen,
		    "routeId is not a plain name of 1 to %d characters "
		    "[A-Za-z0-9_-]", RS_ROUTE_ID_MAX);
	}
	if (!rs_utf8_valid(req->client_id)) {
		rs_request_free(req);
		return rs_reject_errf(why, RS_REJECT_BAD_FIELD, err, errlen,
		    "clientId is not valid UTF-8");
	}
	return 0;
}

int
rs_request_copy(struct rs_request *req, const char *route_id,
    const char *client_id)
{
	memset(req, 0, sizeof(*req));
	return copy_ids(req, route_id, strlen(route_id), client_id,
	    strlen(client_id));
}

/* ---- The plain shape, without a tree ---------------------------------- */

/*
 * What every backend sends: {"clientId":"..","routeId":".."}, the two
 * members in either order (names in any case), blanks wherever JSON allows
 * them, no escapes.
 * Building and freeing a cJSON tree was 45 % of a request's cost on the
 * loop; this reads that shape in place.  It returns -1 for anything else
 * (another member, another type, an escape, a duplicate), and the caller
 * then asks cJSON: so it can only ever agree with cJSON, which the
 * request fuzzer checks on every input.
 */
static int
parse_plain(const char *p, const char *end, const char **route,
    size_t *rlen, const char **client, size_t *clen)
{
	*route = *client = NULL;
	p = rs_json_blanks(p, end);
	if (p == end || *p++ != '{')
		return -1;
	for (int i = 0; i < 2; i++) {
		const char *key, *value;
		size_t klen, vlen;

		p = rs_json_blanks(p, end);
		if ((key = rs_json_plain_string(&p, end, &klen)) == NULL)
			return -1;
		p = rs_json_blanks(p, end);
		if (p == end || *p++ != ':')
			return -1;
		p = rs_json_blanks(p, end);
		if ((value = rs_json_plain_string(&p, end, &vlen)) == NULL)
			return -1;
		if (klen == 7 && strncasecmp(key, "routeId", 7) == 0 &&
		    *route == NULL) {
			*route = value;
			*rlen = vlen;
		} else if (klen == 8 && strncasecmp(key, "clientId", 8) == 0 &&
		    *client == NULL) {
			*client = value;
			*clen = vlen;
		} else {
			return -1;
		}
		p = rs_json_blanks(p, end);
		if (p == end || *p++ != (i == 0 ? ',' : '}'))
			return -1;
	}
	return rs_json_blanks(p, end) == end ? 0 : -1;
}

/* ---- Anything else, with cJSON ---------------------------------------- */

/*
 * The original decodes a request with Go's encoding/json into a struct
 * with fields tagged "routeId" and "clientId", ignoring errors: a member
 * name matches a field whatever its case (for these two names Go's case
 * folding is ASCII's), the last string given for a field wins, and any
 * other value (null included) leaves the field as it was.  field[0] is
 * routeId, field[1] clientId; seen[i] tells whether a member named it.
 */
static void
go_fields(const cJSON *obj, const cJSON *field[2], bool seen[2])
{
	static const char *const names[2] = {"routeId", "clientId"};

	field[0] = field[1] = NULL;
	seen[0] = seen[1] = false;
	for (const cJSON *m = obj->child; m != NULL; m = m->next) {
		for (int i = 0; i < 2; i++) {
			if (m->string == NULL ||
			    strcasecmp(m->string, names[i]) != 0)
				continue;
			seen[i] = true;
			if (cJSON_IsString(m) && m->valuestring != NULL)
				field[i] = m;
		}
	}
}

int
rs_request_parse_json(const void *buf, size_t len, struct rs_request *req,
    enum rs_reject *why, char *err, size_t errlen)
{
	const char *client, *route;
	const cJSON *field[2];
	bool seen[2];
	cJSON *root;
	int rc;

	memset(req, 0, sizeof(*req));
	if ((root = rs_json_parse_object(buf, len, why, err, errlen)) ==
	    NULL) {
		rc = -EINVAL;
		goto out;
	}
	go_fields(root, field, seen);
	if (field[0] == NULL) {
		rc = rs_reject_errf(why, RS_REJECT_BAD_FIELD, err, errlen,
		    "routeId is %s", seen[0] ? "not a string" : "missing");
		goto out;
	}
	/* The original runs such a delivery with an empty clientId. */
	client = field[1] != NULL ? field[1]->valuestring : "";
	route = field[0]->valuestring;
	rc = take_ids(req, route, strlen(route), client, strlen(client), why,
	    err, errlen);
	if (rc == 0)
		req->client_id_defaulted = field[1] == NULL;
out:
	cJSON_Delete(root);
	return rc;
}

int
rs_request_parse(const void *buf, size_t len, struct rs_request *req,
    enum rs_reject *why, char *err, size_t errlen)
{
	const char *route, *client;
	size_t rlen = 0, clen = 0;

	memset(req, 0, sizeof(*req));
	if (len > RS_REQUEST_MAX_BYTES)
		return rs_reject_errf(why, RS_REJECT_TOO_LARGE, err, errlen,
		    "message of %zu bytes exceeds %d", len,
		    RS_REQUEST_MAX_BYTES);
	if (buf == NULL || len == 0)
		return rs_reject_errf(why, RS_REJECT_BAD_JSON, err, errlen,
		    "empty message");
	if (parse_plain(buf, (const char *)buf + len, &route, &rlen, &client,
	    &clen) == 0)
		return take_ids(req, route, rlen, client, clen, why, err,
		    errlen);
	return rs_request_parse_json(buf, len, req, why, err, errlen);
}

void
rs_request_free(struct rs_request *req)
{
	free(req->route_id);	/* the client id is in the same block */
	req->client_id = req->route_id = NULL;
}
