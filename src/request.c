/*
 * request.c - delivery request parsing with cJSON.
 */
#include "routesim/request.h"

#include "routesim/position.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const reject_names[RS_REJECT_COUNT] = {
	"too_large", "bad_json", "bad_field", "bad_route_id",
	"unknown_route", "bad_route_file", "expired",
};

const char *
rs_reject_name(enum rs_reject why)
{
	return (unsigned)why < RS_REJECT_COUNT ? reject_names[why] : "?";
}

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

static int
reject(enum rs_reject *why, enum rs_reject reason, char *err, size_t errlen,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int
reject(enum rs_reject *why, enum rs_reject reason, char *err, size_t errlen,
    const char *fmt, ...)
{
	va_list ap;

	*why = reason;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* Returns the string value of field name, or NULL with a message. */
static const char *
string_field(const cJSON *obj, const char *name, char *err, size_t errlen)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, name);

	if (item == NULL)
		snprintf(err, errlen, "%s is missing", name);
	else if (!cJSON_IsString(item) || item->valuestring == NULL)
		snprintf(err, errlen, "%s is not a string", name);
	else
		return item->valuestring;
	return NULL;
}

int
rs_request_parse(const void *buf, size_t len, struct rs_request *req,
    enum rs_reject *why, char *err, size_t errlen)
{
	const char *client, *route, *end = NULL;
	char what[64];
	cJSON *root;
	int rc = 0;

	memset(req, 0, sizeof(*req));
	if (len > RS_REQUEST_MAX_BYTES)
		return reject(why, RS_REJECT_TOO_LARGE, err, errlen,
		    "message of %zu bytes exceeds %d", len,
		    RS_REQUEST_MAX_BYTES);
	if (buf == NULL || len == 0)
		return reject(why, RS_REJECT_BAD_JSON, err, errlen,
		    "empty message");
	root = cJSON_ParseWithLengthOpts(buf, len, &end, false);
	if (root == NULL || !cJSON_IsObject(root)) {
		rc = reject(why, RS_REJECT_BAD_JSON, err, errlen,
		    "not a JSON object");
		goto out;
	}
	/* cJSON stops after the value; anything but blanks after it is an
	 * error here (a NUL byte included). */
	while (end < (const char *)buf + len && (*end == ' ' ||
	    *end == '\t' || *end == '\n' || *end == '\r'))
		end++;
	if (end != (const char *)buf + len) {
		rc = reject(why, RS_REJECT_BAD_JSON, err, errlen,
		    "unexpected data after the object");
		goto out;
	}
	/* cJSON turns \u0000 into a string terminator, silently cutting the
	 * string: refuse such messages rather than act on a shorter id. */
	if (memmem(buf, len, "\\u0000", 6) != NULL) {
		rc = reject(why, RS_REJECT_BAD_FIELD, err, errlen,
		    "NUL character (\\u0000) in a string");
		goto out;
	}
	if ((route = string_field(root, "routeId", what, sizeof(what))) ==
	    NULL || (client = string_field(root, "clientId", what,
	    sizeof(what))) == NULL) {
		rc = reject(why, RS_REJECT_BAD_FIELD, err, errlen, "%s", what);
		goto out;
	}
	if (!rs_route_id_valid(route)) {
		rc = reject(why, RS_REJECT_BAD_ROUTE_ID, err, errlen,
		    "routeId is not a plain name of 1 to %d characters "
		    "[A-Za-z0-9_-]", RS_ROUTE_ID_MAX);
		goto out;
	}
	if (!rs_utf8_valid(client)) {
		rc = reject(why, RS_REJECT_BAD_FIELD, err, errlen,
		    "clientId is not valid UTF-8");
		goto out;
	}
	req->route_id = strdup(route);
	req->client_id = strdup(client);
	if (req->route_id == NULL || req->client_id == NULL) {
		rs_request_free(req);
		rc = -ENOMEM;
	}
out:
	cJSON_Delete(root);
	return rc;
}

void
rs_request_free(struct rs_request *req)
{
	free(req->client_id);
	free(req->route_id);
	req->client_id = req->route_id = NULL;
}
