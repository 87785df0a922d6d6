/*
 * offsets.c - the per-partition commit tracker.
 */
#include "routesim/offsets.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void
rs_offsets_init(struct rs_offsets *o)
{
	memset(o, 0, sizeof(*o));
	o->next = -1;
}

void
rs_offsets_free(struct rs_offsets *o)
{
	free(o->ring);
	memset(o, 0, sizeof(*o));
	o->next = -1;
}

static struct rs_offset_slot *
at(const struct rs_offsets *o, size_t i)
{
	return &o->ring[(o->head + i) % o->cap];
}

static int
grow(struct rs_offsets *o)
{
	size_t cap = o->cap ? o->cap * 2 : 64;
	struct rs_offset_slot *r = malloc(cap * sizeof(*r));

	if (r == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < o->count; i++)
		r[i] = *at(o, i);
	free(o->ring);
	o->ring = r;
	o->cap = cap;
	o->head = 0;
	return 0;
}

int
rs_offsets_add(struct rs_offsets *o, int64_t offset)
{
	int rc;

	if (o->count > 0 && offset <= at(o, o->count - 1)->offset)
		return -EINVAL;
	if (o->count == 0 && o->next >= 0 && offset < o->next)
		return -EINVAL;
	if (o->count == o->cap && (rc = grow(o)) != 0)
		return rc;
	*at(o, o->count) = (struct rs_offset_slot){offset, false};
	if (o->count++ == 0)
		o->next = offset;
	return 0;
}

bool
rs_offsets_safe(struct rs_offsets *o, int64_t offset)
{
	size_t lo = 0, hi = o->count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (at(o, mid)->offset < offset)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == o->count || at(o, lo)->offset != offset)
		return false;
	at(o, lo)->safe = true;
	/* Advance past the safe prefix. */
	while (o->count > 0 && at(o, 0)->safe) {
		o->next = at(o, 0)->offset + 1;
		o->head = (o->head + 1) % o->cap;
		o->count--;
	}
	if (o->count > 0)
		o->next = at(o, 0)->offset;
	return true;
}
