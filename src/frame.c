/*
 * frame.c - snapshot and update frames.  Each vehicle keeps its ids and
 * its position already as JSON text (fleet.c), so a frame is copies and
 * one or two small integers per vehicle.
 */
#include "routesim/frame.h"

#include <errno.h>
#include <string.h>

#include "routesim/position.h"

/* Room for ",<u32>" and, after it, the longest rest of V:
 * ",<u32>,false]", or M's "]". */
#define POINT_MAX (1 + 10)
#define V_REST_MAX (1 + 10 + 7)

/*
 * Writes the first idlen bytes of v's ids, its "lat,lng" and ",<point>"
 * into room for rest more bytes; returns where the rest goes, with *n the
 * bytes written so far, or NULL (the buffer failed).  end() then closes
 * the element.
 */
static char *
begin(struct rs_buf *b, const struct rs_vehicle *v, size_t idlen,
    size_t rest, size_t *n)
{
	char *p = rs_buf_reserve(b, idlen + v->json_pos_len + POINT_MAX +
	    rest);

	if (p == NULL)
		return NULL;
	memcpy(p, v->json_ids, idlen);
	*n = idlen;
	memcpy(p + *n, v->json_pos, v->json_pos_len);
	*n += v->json_pos_len;
	p[(*n)++] = ',';
	*n += rs_put_u64(p + *n, v->point);
	return p;
}

static void
end(struct rs_buf *b, char *p, size_t n)
{
	p[n] = '\0';
	b->len += n;
}

void
rs_frame_move(struct rs_buf *b, const struct rs_vehicle *v)
{
	size_t n;
	char *p = begin(b, v, v->json_id_len, 1, &n);

	if (p == NULL)
		return;
	p[n++] = ']';
	end(b, p, n);
}

void
rs_frame_vehicle(struct rs_buf *b, const struct rs_vehicle *v)
{
	size_t n;
	char *p = begin(b, v, v->json_ids_len, V_REST_MAX, &n);

	if (p == NULL)
		return;
	p[n++] = ',';
	n += rs_put_u64(p + n, v->points);
	if (v->finished) {
		memcpy(p + n, ",true]", 6);
		n += 6;
	} else {
		memcpy(p + n, ",false]", 7);
		n += 7;
	}
	end(b, p, n);
}

/* Appends V (or, in an update, M for a vehicle that only moved since the
 * browser's generation) to a list, with a comma after the first. */
struct list {
	struct rs_buf *b;
	size_t n;
	uint64_t since;		/* an update's; 0 in a snapshot: all V */
};

static void
list_vehicle(const struct rs_vehicle *v, void *arg)
{
	struct list *l = arg;

	if (l->n++ > 0)
		rs_buf_append(l->b, ",", 1);
	if (v->shape_seq <= l->since)
		rs_frame_move(l->b, v);
	else
		rs_frame_vehicle(l->b, v);
}

static void
list_id(const char *client_id, void *arg)
{
	struct list *l = arg;

	if (l->n++ > 0)
		rs_buf_append(l->b, ",", 1);
	rs_buf_json_string(l->b, client_id);
}

static void
number(struct rs_buf *b, uint64_t v)
{
	char num[24];

	rs_buf_append(b, num, rs_put_u64(num, v));
}

int
rs_frame_snapshot(struct rs_buf *b, const struct rs_fleet *f)
{
	struct list l = {b, 0, 0};

	rs_buf_append(b, "{\"type\":\"snapshot\",\"seq\":", 25);
	number(b, rs_fleet_seq(f));
	rs_buf_append(b, ",\"vehicles\":[", 13);
	rs_fleet_each(f, list_vehicle, &l);
	rs_buf_append(b, "]}", 2);
	return rs_buf_failed(b) ? -ENOMEM : 0;
}

int
rs_frame_update(struct rs_buf *b, const struct rs_fleet *f, uint64_t since)
{
	struct list l = {b, 0, since};

	rs_buf_append(b, "{\"type\":\"update\",\"seq\":", 23);
	number(b, rs_fleet_seq(f));
	rs_buf_append(b, ",\"since\":", 9);
	number(b, since);
	rs_buf_append(b, ",\"vehicles\":[", 13);
	rs_fleet_each_changed(f, since, list_vehicle, &l);
	rs_buf_append(b, "],\"removed\":[", 13);
	l.n = 0;
	rs_fleet_each_removed(f, since, list_id, &l);
	rs_buf_append(b, "]}", 2);
	return rs_buf_failed(b) ? -ENOMEM : 0;
}
