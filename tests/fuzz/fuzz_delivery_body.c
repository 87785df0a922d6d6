/*
 * fuzz_delivery_body.c - libFuzzer target: POST /api/deliveries bodies
 * (src/webapi.c).  An accepted body names a route of the catalogue, and
 * the request made from it is read back by routesim's own request parser
 * to the same route and clientId; a rejected one says why, and only an
 * oversized body is -E2BIG.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "routesim/catalogue.h"
#include "routesim/request.h"
#include "routesim/webapi.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct rs_catalogue *cat;

/* A catalogue of routes "1", "2" and "a-b", from a scratch folder. */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char *const ids[] = {"1", "2", "a-b"};
	char dir[] = "/tmp/fuzz-delivery-XXXXXX", path[64], err[256];

	(void)argc;
	(void)argv;
	if (mkdtemp(dir) == NULL)
		abort();
	for (size_t i = 0; i < 3; i++) {
		FILE *f;

		snprintf(path, sizeof(path), "%s/%s.txt", dir, ids[i]);
		if ((f = fopen(path, "w")) == NULL)
			abort();
		fputs("1,2\n3,4\n", f);
		fclose(f);
	}
	if (rs_catalogue_load(dir, &cat, err, sizeof(err)) != 0 ||
	    cat->count != 3)
		abort();
	for (size_t i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/%s.txt", dir, ids[i]);
		unlink(path);
	}
	rmdir(dir);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char route[RS_ROUTE_ID_MAX + 1], err[256] = "";
	char client[RS_WEB_CLIENT_ID_LEN + 1];
	struct rs_buf b = {0};
	struct rs_request req;
	enum rs_reject why;
	int rc;

	rc = rs_webapi_delivery_parse(data, size, cat, route, err,
	    sizeof(err));
	if (rc == -E2BIG) {
		if (size <= RS_REQUEST_MAX_BYTES)
			abort();
		return 0;
	}
	if (rc != 0) {
		if (rc != -EINVAL || err[0] == '\0' || route[0] != '\0')
			abort();
		return 0;
	}
	if (rs_catalogue_find(cat, route) == NULL)
		abort();
	if (rs_webapi_client_id(client) != 0)
		return 0;
	rs_webapi_request(&b, client, route);
	if (rs_buf_failed(&b) ||
	    rs_request_parse(b.data, b.len, &req, &why, err, sizeof(err)) !=
	    0 || strcmp(req.route_id, route) != 0 ||
	    strcmp(req.client_id, client) != 0)
		abort();
	rs_request_free(&req);
	rs_buf_free(&b);
	return 0;
}
