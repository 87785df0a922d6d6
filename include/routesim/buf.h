/*
 * buf.h - a growable byte buffer for building text (HTTP responses,
 * metrics).  The caller owns the struct; rs_buf_free() releases the
 * memory.  After a failed allocation the buffer keeps what it had and
 * rs_buf_failed() says so, so callers check once at the end.
 */
#ifndef ROUTESIM_BUF_H
#define ROUTESIM_BUF_H

#include <stdbool.h>
#include <stddef.h>

#include "routesim/log.h"

struct rs_buf {
	char *data;
	size_t len, cap;
	bool failed;
};

void rs_buf_printf(struct rs_buf *b, const char *fmt, ...) RS_PRINTF(2, 3);
void rs_buf_append(struct rs_buf *b, const void *data, size_t len);
/* Room for n more bytes at the end: returns where they go (the caller
 * writes them and adds to len), or NULL when out of memory. */
char *rs_buf_reserve(struct rs_buf *b, size_t n);
/* Appends s as a JSON string, quotes included, escaped by json.h's
 * rs_json_escape() (the project's one JSON escaper). */
void rs_buf_json_string(struct rs_buf *b, const char *s);
void rs_buf_reset(struct rs_buf *b);
void rs_buf_free(struct rs_buf *b);

static inline bool
rs_buf_failed(const struct rs_buf *b)
{
	return b->failed;
}

#endif
