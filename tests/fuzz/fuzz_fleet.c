/*
 * fuzz_fleet.c - libFuzzer target: the tracker's fleet (src/fleet.c) and
 * frames (src/frame.c) driven by any sequence of requests, positions,
 * clock steps, expiries and frames.  Besides memory safety (ASan), the
 * fleet's invariants hold after every step: at most max_vehicles, point
 * k never beyond n, a snapshot that is valid JSON listing exactly the
 * located vehicles, an update whose vehicles and removed ids never
 * overlap.  Three model browsers, one behind by one generation, one by
 * two, one by three, apply the updates since what they have (or the
 * snapshot, when the fleet no longer knows): a move (M) only ever comes
 * for a vehicle the browser has, and each then shows exactly what a
 * snapshot shows.
 */
#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "routesim/catalogue.h"
#include "routesim/fleet.h"
#include "routesim/frame.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_VEHICLES 5
#define IDS 8			/* clientIds c0 .. c7 */
#define BROWSERS 3

/* What a browser shows: each vehicle's array V, by id number. */
struct view {
	cJSON *v[IDS];
};

/* A browser: the generation it has and what it shows. */
struct browser {
	uint64_t have;
	struct view view;
};

static struct rs_catalogue *cat;

/* Route "1" passes its first point twice; route "2" has one point. */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char *const files[][2] = {
		{"1.txt", "1,1\n1,2\n1,3\n1,1\n1,4\n"},
		{"2.txt", "2,2\n"},
	};
	char dir[] = "/tmp/fuzz-fleet-XXXXXX", path[64], err[256];

	(void)argc;
	(void)argv;
	if (mkdtemp(dir) == NULL)
		abort();
	for (size_t i = 0; i < 2; i++) {
		FILE *f;

		snprintf(path, sizeof(path), "%s/%s", dir, files[i][0]);
		if ((f = fopen(path, "w")) == NULL)
			abort();
		fputs(files[i][1], f);
		fclose(f);
	}
	if (rs_catalogue_load(dir, &cat, err, sizeof(err)) != 0)
		abort();
	for (size_t i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i][0]);
		unlink(path);
	}
	rmdir(dir);
	return 0;
}

static void
check_vehicle(const struct rs_vehicle *v, void *arg)
{
	(void)arg;
	if (v->point > v->points || !v->located ||
	    (v->route == NULL && v->points != 0))
		abort();
}

static void
view_clear(struct view *w)
{
	for (size_t i = 0; i < IDS; i++) {
		cJSON_Delete(w->v[i]);
		w->v[i] = NULL;
	}
}

static size_t
id_number(const char *id)
{
	if (id[0] != 'c' || id[1] < '0' || id[1] >= '0' + IDS || id[2] != 0)
		abort();
	return (size_t)(id[1] - '0');
}

/* Applies a frame's vehicles and removed ids to w. */
static void
view_apply(struct view *w, const char *frame)
{
	cJSON *root = cJSON_Parse(frame);
	const cJSON *vs, *rm;

	if (root == NULL)
		abort();
	vs = cJSON_GetObjectItem(root, "vehicles");
	rm = cJSON_GetObjectItem(root, "removed");
	for (const cJSON *v = vs->child; v != NULL; v = v->next) {
		size_t i = id_number(v->child->valuestring);

		if (cJSON_GetArraySize(v) == 4) {	/* M: lat, lng, k */
			if (w->v[i] == NULL)
				abort();	/* a move of a stranger */
			for (int j = 1; j < 4; j++)
				cJSON_ReplaceItemInArray(w->v[i], j + 1,
				    cJSON_Duplicate(cJSON_GetArrayItem(v, j),
				    1));
			continue;
		}
		cJSON_Delete(w->v[i]);
		if ((w->v[i] = cJSON_Duplicate(v, 1)) == NULL)
			abort();
	}
	for (const cJSON *r = rm != NULL ? rm->child : NULL; r != NULL;
	    r = r->next) {
		size_t i = id_number(r->valuestring);

		cJSON_Delete(w->v[i]);
		w->v[i] = NULL;
	}
	cJSON_Delete(root);
}

static void
view_same(const struct view *a, const struct view *b)
{
	for (size_t i = 0; i < IDS; i++) {
		const cJSON *x = a->v[i], *y = b->v[i];

		if (x == NULL || y == NULL) {
			if (x != y)
				abort();
		} else if (!cJSON_Compare(x, y, 1)) {
			abort();
		}
	}
}

/* After a commit: browser k takes a frame every k + 1 generations, the
 * update since what it has when the fleet knows it, else a snapshot. */
static void
browsers_follow(struct browser *br, const struct rs_fleet *f)
{
	uint64_t seq = rs_fleet_seq(f);
	struct view now = {0};
	struct rs_buf b = {0};

	if (rs_frame_snapshot(&b, f) != 0)
		abort();
	view_apply(&now, b.data);
	for (size_t k = 0; k < BROWSERS; k++) {
		if (seq % (k + 1) != 0)
			continue;
		rs_buf_reset(&b);
		if (br[k].have != 0 && rs_fleet_knows_since(f, br[k].have)) {
			if (rs_frame_update(&b, f, br[k].have) != 0)
				abort();
		} else {
			view_clear(&br[k].view);
			if (rs_frame_snapshot(&b, f) != 0)
				abort();
		}
		view_apply(&br[k].view, b.data);
		br[k].have = seq;
		view_same(&br[k].view, &now);
	}
	view_clear(&now);
	rs_buf_free(&b);
}

static void
check(const struct rs_fleet *f)
{
	struct rs_buf b = {0};
	const cJSON *vs, *rm;
	cJSON *root;

	if (rs_fleet_count(f) > MAX_VEHICLES ||
	    rs_fleet_located(f) > rs_fleet_count(f))
		abort();
	rs_fleet_each(f, check_vehicle, NULL);
	if (rs_frame_snapshot(&b, f) != 0 ||
	    (root = cJSON_Parse(b.data)) == NULL)
		abort();
	vs = cJSON_GetObjectItem(root, "vehicles");
	if ((size_t)cJSON_GetArraySize(vs) != rs_fleet_located(f))
		abort();
	cJSON_Delete(root);
	rs_buf_reset(&b);
	if (rs_frame_update(&b, f, rs_fleet_seq(f)) != 0 ||
	    (root = cJSON_Parse(b.data)) == NULL)
		abort();
	vs = cJSON_GetObjectItem(root, "vehicles");
	rm = cJSON_GetObjectItem(root, "removed");
	for (const cJSON *v = vs->child; v != NULL; v = v->next)
		for (const cJSON *r = rm->child; r != NULL; r = r->next)
			if (strcmp(v->child->valuestring, r->valuestring) ==
			    0)
				abort();
	cJSON_Delete(root);
	rs_buf_free(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const routes[] = {"1", "2", "none", ""};
	struct rs_fleet_limits lim = {MAX_VEHICLES, 3000, 20000};
	struct rs_fleet *f = rs_fleet_new(cat, &lim);
	struct browser br[BROWSERS] = {0};
	int64_t now = 0;

	if (f == NULL)
		abort();
	for (size_t i = 0; i + 2 < size; i += 3) {
		uint8_t op = data[i], a = data[i + 1], b = data[i + 2];
		char id[8];

		snprintf(id, sizeof(id), "c%d", a % 8);
		switch (op % 6) {
		case 0:
			if (rs_fleet_request(f, id, routes[b % 4], now) != 0)
				abort();
			break;
		case 1:		/* a point of route 1, or off it */
		case 2:		/* the same with the position's routeId */
			if (rs_fleet_position(f, id,
			    op % 6 == 2 ? routes[(a >> 4) % 4] : NULL,
			    b & 0x80 ? (b & 7) : 1, (b & 7), b & 0x40,
			    now) != 0)
				abort();
			break;
		case 3:
			now += (int64_t)(b % 16) * 500;
			break;
		case 4:
			rs_fleet_expire(f, now);
			break;
		default:
			rs_fleet_commit(f);
			browsers_follow(br, f);
			break;
		}
		check(f);
	}
	for (size_t k = 0; k < BROWSERS; k++)
		view_clear(&br[k].view);
	rs_fleet_free(f);
	return 0;
}
