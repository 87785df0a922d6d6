/*
 * progress.c - encoding and decoding of progress records.
 */
#include "routesim/progress.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "routesim/position.h"

/* The pieces of a record value after its opening; see progress.h. */
#define NEXT ",\"next\":"
#define DONE "{\"done\":true}"

size_t
rs_progress_size(const struct rs_progress *p)
{
	if (p->done)
		return sizeof(DONE) - 1;
	/* NEXT, up to 10 digits, "}" */
	return rs_json_ids_size(p->route_id, p->client_id) +
	    sizeof(NEXT) - 1 + 10 + 1;
}

size_t
rs_progress_encode(const struct rs_progress *p, char *buf)
{
	size_t n;

	if (p->done) {
		memcpy(buf, DONE, sizeof(DONE) - 1);
		return sizeof(DONE) - 1;
	}
	n = rs_json_ids(buf, p->route_id, p->client_id);
	memcpy(buf + n, NEXT, sizeof(NEXT) - 1);
	n += sizeof(NEXT) - 1;
	n += rs_put_u64(buf + n, p->next);
	buf[n++] = '}';
	return n;
}

int
rs_progress_decode(const void *buf, size_t len, struct rs_progress *p)
{
	cJSON *root = NULL;
	const cJSON *done, *route, *client, *next;
	int rc = -EINVAL;

	memset(p, 0, sizeof(*p));
	if (buf == NULL || len == 0 || len > RS_REQUEST_MAX_BYTES * 8 ||
	    memchr(buf, '\0', len) != NULL)
		return -EINVAL;
	if ((root = cJSON_ParseWithLength(buf, len)) == NULL ||
	    !cJSON_IsObject(root))
		goto out;
	done = cJSON_GetObjectItemCaseSensitive(root, "done");
	if (cJSON_IsTrue(done)) {
		p->done = true;
		rc = 0;
		goto out;
	}
	route = cJSON_GetObjectItemCaseSensitive(root, "routeId");
	client = cJSON_GetObjectItemCaseSensitive(root, "clientId");
	next = cJSON_GetObjectItemCaseSensitive(root, "next");
	if (!cJSON_IsString(route) || !rs_route_id_valid(route->valuestring) ||
	    !cJSON_IsString(client) || !rs_utf8_valid(client->valuestring) ||
	    strlen(client->valuestring) > RS_REQUEST_MAX_BYTES ||
	    !cJSON_IsNumber(next) ||
	    next->valuedouble < 0 || next->valuedouble > UINT32_MAX ||
	    next->valuedouble != (double)(uint32_t)next->valuedouble)
		goto out;
	if ((p->client_id = strdup(client->valuestring)) == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	strcpy(p->route_id, route->valuestring);
	p->next = (uint32_t)next->valuedouble;
	rc = 0;
out:
	cJSON_Delete(root);
	return rc;
}

void
rs_progress_free(struct rs_progress *p)
{
	free(p->client_id);
	p->client_id = NULL;
}

size_t
rs_progress_key(int64_t offset, char buf[RS_PROGRESS_KEY_MAX])
{
	size_t n = rs_put_u64(buf, offset < 0 ? 0 : (uint64_t)offset);

	buf[n] = '\0';
	return n;
}

int64_t
rs_progress_key_parse(const void *key, size_t len)
{
	const char *k = key;
	uint64_t v = 0;

	/* Exactly what rs_progress_key() writes: decimal digits, no sign,
	 * no leading zero, at most INT64_MAX (19 digits). */
	if (k == NULL || len == 0 || len > 19 || (k[0] == '0' && len > 1))
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (k[i] < '0' || k[i] > '9')
			return -1;
		/* 19 digits fit in uint64_t; only INT64_MAX bounds them. */
		v = v * 10 + (uint64_t)(k[i] - '0');
	}
	return v > (uint64_t)INT64_MAX ? -1 : (int64_t)v;
}
