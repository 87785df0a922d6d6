/*
 * partition.c - per-partition bookkeeping.
 */
#include "routesim/partition.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static void
part_free(struct rs_part *p)
{
	struct rs_known *k = p != NULL ? p->known : NULL, *next;
	struct rs_queued *q;

	if (p == NULL)
		return;
	/* The table first, then the elements (still linked by hh.next). */
	HASH_CLEAR(hh, p->known);
	for (; k != NULL; k = next) {
		next = k->hh.next;
		rs_progress_free(&k->rec);
		free(k);
	}
	while ((q = rs_part_dequeue(p)) != NULL)
		free(q);
	rs_offsets_free(&p->offsets);
	free(p->done);
	free(p);
}

struct rs_part *
rs_parts_get(const struct rs_parts *ps, int32_t id)
{
	return id >= 0 && (size_t)id < ps->n ? ps->v[id] : NULL;
}

struct rs_part *
rs_parts_add(struct rs_parts *ps, int32_t id)
{
	struct rs_part *p;

	if (id < 0)
		return NULL;
	if ((size_t)id >= ps->n) {
		size_t n = (size_t)id + 1;
		struct rs_part **v = realloc(ps->v, n * sizeof(*v));

		if (v == NULL)
			return NULL;
		memset(v + ps->n, 0, (n - ps->n) * sizeof(*v));
		ps->v = v;
		ps->n = n;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	p->id = id;
	p->state = RS_PART_RESTORING;
	rs_offsets_init(&p->offsets);
	p->queue_tail = &p->queue;
	part_free(ps->v[id]);
	ps->v[id] = p;
	return p;
}

void
rs_parts_del(struct rs_parts *ps, int32_t id)
{
	if (id < 0 || (size_t)id >= ps->n)
		return;
	part_free(ps->v[id]);
	ps->v[id] = NULL;
}

void
rs_parts_free(struct rs_parts *ps)
{
	for (size_t i = 0; i < ps->n; i++)
		part_free(ps->v[i]);
	free(ps->v);
	ps->v = NULL;
	ps->n = 0;
}

struct rs_known *
rs_part_known(const struct rs_part *p, int64_t offset)
{
	struct rs_known *k;

	HASH_FIND(hh, p->known, &offset, sizeof(offset), k);
	return k;
}

int
rs_part_known_set(struct rs_part *p, int64_t offset, struct rs_progress *rec)
{
	struct rs_known *k = rs_part_known(p, offset);

	if (k == NULL) {
		if ((k = calloc(1, sizeof(*k))) == NULL) {
			rs_progress_free(rec);
			return -ENOMEM;
		}
		k->offset = offset;
		HASH_ADD(hh, p->known, offset, sizeof(k->offset), k);
		if (!rs_hash_added(&k->hh)) {
			free(k);
			rs_progress_free(rec);
			return -ENOMEM;
		}
	} else {
		rs_progress_free(&k->rec);
	}
	k->rec = *rec;
	rec->client_id = NULL;	/* taken over */
	return 0;
}

void
rs_part_known_del(struct rs_part *p, int64_t offset)
{
	struct rs_known *k = rs_part_known(p, offset);

	if (k == NULL)
		return;
	HASH_DEL(p->known, k);
	rs_progress_free(&k->rec);
	free(k);
}

struct rs_known *
rs_part_known_next(const struct rs_part *p, const struct rs_known *k)
{
	return k == NULL ? p->known : k->hh.next;
}

int
rs_part_enqueue(struct rs_part *p, int64_t offset, int64_t timestamp,
    const void *payload, size_t len)
{
	struct rs_queued *q = malloc(sizeof(*q) + len);

	if (q == NULL)
		return -ENOMEM;
	q->next = NULL;
	q->offset = offset;
	q->timestamp = timestamp;
	q->len = len;
	if (len > 0)
		memcpy(q->payload, payload, len);
	*p->queue_tail = q;
	p->queue_tail = &q->next;
	p->nqueued++;
	p->queued_bytes += len;
	return 0;
}

struct rs_queued *
rs_part_dequeue(struct rs_part *p)
{
	struct rs_queued *q = p->queue;

	if (q == NULL)
		return NULL;
	p->queue = q->next;
	if (p->queue == NULL)
		p->queue_tail = &p->queue;
	p->nqueued--;
	p->queued_bytes -= q->len;
	return q;
}

int
rs_part_done_add(struct rs_part *p, int64_t offset)
{
	if (p->ndone == p->done_cap) {
		size_t cap = p->done_cap ? p->done_cap * 2 : 64;
		int64_t *d = realloc(p->done, cap * sizeof(*d));

		if (d == NULL)
			return -ENOMEM;
		p->done = d;
		p->done_cap = cap;
	}
	p->done[p->ndone++] = offset;
	return 0;
}

size_t
rs_part_done_commit(struct rs_part *p, int64_t below)
{
	for (size_t i = p->ncommitted; i < p->ndone; i++)
		if (p->done[i] < below) {
			int64_t t = p->done[i];

			p->done[i] = p->done[p->ncommitted];
			p->done[p->ncommitted++] = t;
		}
	return p->ncommitted;
}

size_t
rs_part_done_take(struct rs_part *p, int64_t *out, size_t max)
{
	size_t n = 0;

	/* Take the last due entry; the last entry of all fills its slot. */
	while (n < max && p->ncommitted > 0) {
		out[n++] = p->done[--p->ncommitted];
		p->done[p->ncommitted] = p->done[--p->ndone];
	}
	return n;
}
