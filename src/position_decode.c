/*
 * position_decode.c - position messages read back: routesim's own shape
 * in place, anything else with cJSON, both ending in the same checks.
 */
#include "routesim/position_decode.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "routesim/json_scan.h"
#include "routesim/position.h"

/* What either parser found, before the common checks. */
struct fields {
	const char *client, *route;
	size_t clen, rlen;
	double a, b;		/* the two numbers, in message order */
	bool finished;
};

/*
 * The checks both parsers end in, then one heap block for the two ids
 * (client id first).  route may be NULL.
 */
static int
take(const struct fields *f, enum rs_position_order order,
    struct rs_position_msg *msg, enum rs_reject *why, char *err,
    size_t errlen)
{
	double lat = order == RS_ORDER_LNGLAT ? f->b : f->a;
	double lng = order == RS_ORDER_LNGLAT ? f->a : f->b;
	size_t rlen = f->rlen;
	char *ids;

	if (f->clen > RS_CLIENT_ID_MAX)
		return rs_reject_errf(why, RS_REJECT_BAD_FIELD, err, errlen,
		    "clientId of %zu bytes exceeds %d", f->clen,
		    RS_CLIENT_ID_MAX);
	if (!isfinite(lat) || !isfinite(lng))
		return rs_reject_errf(why, RS_REJECT_BAD_FIELD, err, errlen,
		    "position is not finite");
	if (lat < -90 || lat > 90)
		return rs_reject_errf(why, RS_REJECT_BAD_FIELD, err, errlen,
		    "latitude %.17g outside [-90, 90] (position order %s)",
		    lat, rs_position_order_name(order));
	if (lng < -180 || lng > 180)
		return rs_reject_errf(why, RS_REJECT_BAD_FIELD, err, errlen,
		    "longitude %.17g outside [-180, 180] (position order %s)",
		    lng, rs_position_order_name(order));
	if ((ids = malloc(f->clen + rlen + 2)) == NULL)
		return -ENOMEM;
	memcpy(ids, f->client, f->clen);
	ids[f->clen] = '\0';
	if (!rs_utf8_valid(ids)) {
		free(ids);
		return rs_reject_errf(why, RS_REJECT_BAD_FIELD, err, errlen,
		    "clientId is not valid UTF-8");
	}
	msg->client_id = ids;
	msg->route_id = ids + f->clen + 1;
	if (f->route != NULL)
		memcpy(msg->route_id, f->route, rlen);
	else
		rlen = 0;
	msg->route_id[rlen] = '\0';
	if (!rs_route_id_valid(msg->route_id))
		msg->route_id[0] = '\0';
	msg->lat = lat;
	msg->lng = lng;
	msg->finished = f->finished;
	return 0;
}

/* ---- routesim's shape, without a tree --------------------------------- */

enum { F_CLIENT = 1, F_ROUTE = 2, F_POSITION = 4, F_FINISHED = 8 };

static bool
key_is(const char *key, size_t klen, const char *name)
{
	return klen == strlen(name) && memcmp(key, name, klen) == 0;
}

/* [a, b] with blanks allowed. */
static bool
plain_pair(const char **pp, const char *end, double *a, double *b)
{
	const char *p = *pp;

	if (p == end || *p++ != '[')
		return false;
	p = rs_json_blanks(p, end);
	if (!rs_json_plain_number(&p, end, a))
		return false;
	p = rs_json_blanks(p, end);
	if (p == end || *p++ != ',')
		return false;
	p = rs_json_blanks(p, end);
	if (!rs_json_plain_number(&p, end, b))
		return false;
	p = rs_json_blanks(p, end);
	if (p == end || *p++ != ']')
		return false;
	*pp = p;
	return true;
}

/* A scalar value of a member this decoder ignores. */
static bool
plain_other(const char **p, const char *end)
{
	size_t len;
	double v;

	return rs_json_plain_string(p, end, &len) != NULL ||
	    rs_json_plain_number(p, end, &v) ||
	    rs_json_literal(p, end, "true") ||
	    rs_json_literal(p, end, "false") ||
	    rs_json_literal(p, end, "null");
}

/* One member's value at *p, stored in f; false if it is not plain. */
static bool
plain_value(const char **p, const char *end, const char *key, size_t klen,
    struct fields *f, unsigned *seen)
{
	unsigned bit = key_is(key, klen, "clientId") ? F_CLIENT :
	    key_is(key, klen, "routeId") ? F_ROUTE :
	    key_is(key, klen, "position") ? F_POSITION :
	    key_is(key, klen, "finished") ? F_FINISHED : 0;

	if (bit == 0)
		return plain_other(p, end);
	if (*seen & bit)
		return false;	/* a duplicate: cJSON's turn */
	*seen |= bit;
	switch (bit) {
	case F_CLIENT:
		return (f->client = rs_json_plain_string(p, end, &f->clen)) !=
		    NULL;
	case F_ROUTE:
		return (f->route = rs_json_plain_string(p, end, &f->rlen)) !=
		    NULL;
	case F_POSITION:
		return plain_pair(p, end, &f->a, &f->b);
	default:
		if (rs_json_literal(p, end, "true"))
			f->finished = true;
		else if (rs_json_literal(p, end, "false"))
			f->finished = false;
		else
			return false;
		return true;
	}
}

/*
 * routesim's messages: an object of plain members (no escapes, no nested
 * values but the position pair), clientId, position and finished each
 * once.  Returns -1 for anything else, which the caller then gives to
 * cJSON, so this can only ever agree with cJSON.
 */
static int
parse_plain(const char *p, const char *end, struct fields *f)
{
	unsigned seen = 0;

	memset(f, 0, sizeof(*f));
	p = rs_json_blanks(p, end);
	if (p == end || *p++ != '{')
		return -1;
	for (;;) {
		const char *key;
		size_t klen;

		p = rs_json_blanks(p, end);
		if ((key = rs_json_plain_string(&p, end, &klen)) == NULL)
			return -1;
		p = rs_json_blanks(p, end);
		if (p == end || *p++ != ':')
			return -1;
		p = rs_json_blanks(p, end);
		if (!plain_value(&p, end, key, klen, f, &seen))
			return -1;
		p = rs_json_blanks(p, end);
		if (p == end)
			return -1;
		if (*p == '}')
			break;
		if (*p++ != ',')
			return -1;
	}
	if ((seen & (F_CLIENT | F_POSITION | F_FINISHED)) !=
	    (F_CLIENT | F_POSITION | F_FINISHED))
		return -1;
	return rs_json_blanks(p + 1, end) == end ? 0 : -1;
}

/* ---- Anything else, with cJSON ---------------------------------------- */

/* The last member named name, or NULL. */
static const cJSON *
last_member(const cJSON *obj, const char *name)
{
	const cJSON *found = NULL;

	for (const cJSON *m = obj->child; m != NULL; m = m->next)
		if (m->string != NULL && strcmp(m->string, name) == 0)
			found = m;
	return found;
}

static bool
two_numbers(const cJSON *pos)
{
	return cJSON_IsArray(pos) && cJSON_GetArraySize(pos) == 2 &&
	    cJSON_IsNumber(pos->child) && cJSON_IsNumber(pos->child->next);
}

int
rs_position_decode_json(const void *buf, size_t len,
    enum rs_position_order order, struct rs_position_msg *msg,
    enum rs_reject *why, char *err, size_t errlen)
{
	const cJSON *client, *route, *pos, *fin;
	struct fields f;
	cJSON *root;
	int rc;

	memset(msg, 0, sizeof(*msg));
	memset(&f, 0, sizeof(f));
	if ((root = rs_json_parse_object(buf, len, why, err, errlen)) ==
	    NULL) {
		rc = -EINVAL;
		goto out;
	}
	client = last_member(root, "clientId");
	pos = last_member(root, "position");
	fin = last_member(root, "finished");
	route = last_member(root, "routeId");
	if (!cJSON_IsString(client) || client->valuestring == NULL) {
		rc = rs_reject_errf(why, RS_REJECT_BAD_FIELD, err, errlen,
		    "clientId is %s", client ? "not a string" : "missing");
		goto out;
	}
	if (!two_numbers(pos)) {
		rc = rs_reject_errf(why, RS_REJECT_BAD_FIELD, err, errlen,
		    "position is %s", pos ? "not an array of two numbers" :
		    "missing");
		goto out;
	}
	if (!cJSON_IsBool(fin)) {
		rc = rs_reject_errf(why, RS_REJECT_BAD_FIELD, err, errlen,
		    "finished is %s", fin ? "not true or false" : "missing");
		goto out;
	}
	f.client = client->valuestring;
	f.clen = strlen(f.client);
	if (cJSON_IsString(route) && route->valuestring != NULL) {
		f.route = route->valuestring;
		f.rlen = strlen(f.route);
	}
	f.a = pos->child->valuedouble;
	f.b = pos->child->next->valuedouble;
	f.finished = cJSON_IsTrue(fin);
	rc = take(&f, order, msg, why, err, errlen);
out:
	cJSON_Delete(root);
	return rc;
}

int
rs_position_decode(const void *buf, size_t len,
    enum rs_position_order order, struct rs_position_msg *msg,
    enum rs_reject *why, char *err, size_t errlen)
{
	struct fields f;

	memset(msg, 0, sizeof(*msg));
	if (len > RS_POSITION_MAX_BYTES)
		return rs_reject_errf(why, RS_REJECT_TOO_LARGE, err, errlen,
		    "message of %zu bytes exceeds %d", len,
		    RS_POSITION_MAX_BYTES);
	if (buf == NULL || len == 0)
		return rs_reject_errf(why, RS_REJECT_BAD_JSON, err, errlen,
		    "empty message");
	if (parse_plain(buf, (const char *)buf + len, &f) == 0)
		return take(&f, order, msg, why, err, errlen);
	return rs_position_decode_json(buf, len, order, msg, why, err,
	    errlen);
}

void
rs_position_msg_free(struct rs_position_msg *msg)
{
	free(msg->client_id);	/* the route id is in the same block */
	msg->client_id = msg->route_id = NULL;
}
