/*
 * progress.c - encoding and decoding of progress records.
 */
#include "routesim/progress.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "routesim/position.h"

char *
rs_progress_encode(const struct rs_progress *p, size_t *len)
{
	char *buf;
	size_t n, cap;

	if (p->done) {
		buf = strdup("{\"done\":true}");
		*len = buf ? strlen(buf) : 0;
		return buf;
	}
	cap = 64 + strlen(p->route_id) + rs_json_escape_max(strlen(p->client_id));
	if ((buf = malloc(cap)) == NULL)
		return NULL;
	n = (size_t)snprintf(buf, cap, "{\"routeId\":\"%s\",\"clientId\":\"",
	    p->route_id);	/* route ids need no escaping */
	n += rs_json_escape(buf + n, p->client_id);
	n += (size_t)snprintf(buf + n, cap - n, "\",\"next\":%u}", p->next);
	*len = n;
	return buf;
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
rs_progress_key(int64_t offset, char buf[21])
{
	return (size_t)snprintf(buf, 21, "%lld", (long long)offset);
}

int64_t
rs_progress_key_parse(const void *key, size_t len)
{
	const char *k = key;
	int64_t v = 0;

	if (k == NULL || len == 0 || len > 19)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (k[i] < '0' || k[i] > '9')
			return -1;
		v = v * 10 + (k[i] - '0');
	}
	return v;
}
