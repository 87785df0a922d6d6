/*
 * buf.c - the growable buffer.
 */
#include "routesim/buf.h"

#include "routesim/json.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool
reserve(struct rs_buf *b, size_t more)
{
	size_t cap = b->cap ? b->cap : 256;
	char *p;

	if (b->failed)
		return false;
	if (b->len + more + 1 <= b->cap)
		return true;
	while (cap < b->len + more + 1)
		cap *= 2;
	if ((p = realloc(b->data, cap)) == NULL) {
		b->failed = true;
		return false;
	}
	b->data = p;
	b->cap = cap;
	return true;
}

void
rs_buf_append(struct rs_buf *b, const void *data, size_t len)
{
	if (!reserve(b, len))
		return;
	memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
}

char *
rs_buf_reserve(struct rs_buf *b, size_t n)
{
	return reserve(b, n) ? b->data + b->len : NULL;
}

void
rs_buf_printf(struct rs_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !reserve(b, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void
rs_buf_json_string(struct rs_buf *b, const char *s)
{
	size_t cap = rs_json_escape_max(strlen(s));
	char *p = rs_buf_reserve(b, cap + 2);
	size_t n = 0;

	if (p == NULL)
		return;
	p[n++] = '"';
	n += rs_json_escape(p + n, cap, s);
	p[n++] = '"';
	p[n] = '\0';
	b->len += n;
}

void
rs_buf_reset(struct rs_buf *b)
{
	b->len = 0;
	b->failed = false;
	if (b->data != NULL)
		b->data[0] = '\0';
}

void
rs_buf_free(struct rs_buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}
