/*
 * dotenv.c - the ".env" parser.
 *
 * A single forward scan over the buffer with an index; values are decoded
 * into one scratch buffer as large as the input, so nothing can overflow
 * and nothing is allocated per line.
 */
#include "routesim/dotenv.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct scan {
	const char *buf;
	size_t len, pos;
	unsigned line;
	char *err;
	size_t errlen;
};

static int
fail(struct scan *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
fail(struct scan *s, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (s->errlen == 0)
		return -EINVAL;
	n = snprintf(s->err, s->errlen, "line %u: ", s->line);
	if (n < 0 || (size_t)n >= s->errlen)
		return -EINVAL;
	va_start(ap, fmt);
	vsnprintf(s->err + n, s->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int
peek(const struct scan *s)
{
	return s->pos < s->len ? (unsigned char)s->buf[s->pos] : -1;
}

static bool
is_blank(int c)
{
	return c == ' ' || c == '\t';
}

static bool
is_eol(int c)
{
	return c == '\n' || c == '\r' || c == -1;
}

static void
skip_blanks(struct scan *s)
{
	while (is_blank(peek(s)))
		s->pos++;
}

/* Consumes the rest of the line, including its newline (LF or CRLF). */
static void
skip_line(struct scan *s)
{
	while (s->pos < s->len && s->buf[s->pos] != '\n')
		s->pos++;
	if (s->pos < s->len) {
		s->pos++;
		s->line++;
	}
}

/* After a value: only blanks and an optional comment may follow. */
static int
finish_line(struct scan *s)
{
	skip_blanks(s);
	if (peek(s) == '#' || is_eol(peek(s))) {
		skip_line(s);
		return 0;
	}
	return fail(s, "unexpected text after value");
}

static bool
key_start(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static bool
key_char(int c)
{
	return key_start(c) || (c >= '0' && c <= '9') || c == '.' || c == '-';
}

static int
parse_key(struct scan *s, char *out, size_t *outlen)
{
	size_t n = 0;

	if (!key_start(peek(s)))
		return fail(s, "expected a variable name");
	while (key_char(peek(s)))
		out[n++] = s->buf[s->pos++];
	out[n] = '\0';
	*outlen = n;
	return 0;
}

/* A quoted value; only double quotes know escapes.  May span lines. */
static int
parse_quoted(struct scan *s, char *out)
{
	char quote = s->buf[s->pos++];
	unsigned start = s->line;
	size_t n = 0;

	for (;;) {
		int c = peek(s);

		if (c == -1) {
			s->line = start;
			return fail(s, "unterminated %s quote",
			    quote == '"' ? "double" : "single");
		}
		s->pos++;
		if (c == quote)
			break;
		if (c == '\n')
			s->line++;
		if (quote == '"' && c == '\\' && s->pos < s->len) {
			c = (unsigned char)s->buf[s->pos++];
			switch (c) {
			case 'n': c = '\n'; break;
			case 'r': c = '\r'; break;
			case 't': c = '\t'; break;
			case '"': case '\\': case '$': break;
			default:
				/* Unknown escapes are kept as written. */
				out[n++] = '\\';
				break;
			}
		}
		out[n++] = (char)c;
	}
	out[n] = '\0';
	return 0;
}

/* Unquoted: up to end of line or a '#' that follows a blank; trimmed. */
static void
parse_bare(struct scan *s, char *out)
{
	size_t n = 0;

	while (!is_eol(peek(s))) {
		if (peek(s) == '#' && (n == 0 || is_blank(out[n - 1])))
			break;
		out[n++] = s->buf[s->pos++];
	}
	while (n > 0 && is_blank(out[n - 1]))
		n--;
	out[n] = '\0';
}

static int
parse_assignment(struct scan *s, char *key, char *value)
{
	size_t klen = 0;
	int rc;

	if ((rc = parse_key(s, key, &klen)) != 0)
		return rc;
	if (klen == 6 && strcmp(key, "export") == 0 && is_blank(peek(s))) {
		skip_blanks(s);
		if ((rc = parse_key(s, key, &klen)) != 0)
			return rc;
	}
	skip_blanks(s);
	if (peek(s) != '=' && peek(s) != ':')
		return fail(s, "expected '=' after %s", key);
	s->pos++;
	skip_blanks(s);
	if (peek(s) == '\'' || peek(s) == '"') {
		if ((rc = parse_quoted(s, value)) != 0)
			return rc;
	} else {
		parse_bare(s, value);
	}
	return finish_line(s);
}

int
rs_dotenv_parse(const char *buf, size_t len, rs_dotenv_cb cb, void *ud,
    char *err, size_t errlen)
{
	struct scan s = {buf, len, 0, 1, err, errlen};
	char *key = NULL, *value = NULL;
	int rc = 0;

	if (errlen > 0)
		err[0] = '\0';
	if (memchr(buf, '\0', len) != NULL)
		return fail(&s, "NUL byte in file");
	/* Each decoded key or value is at most as long as the input. */
	if ((key = malloc(len + 1)) == NULL ||
	    (value = malloc(len + 1)) == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	while (s.pos < s.len) {
		unsigned line;

		skip_blanks(&s);
		if (peek(&s) == '#' || is_eol(peek(&s))) {
			skip_line(&s);
			continue;
		}
		line = s.line;
		if ((rc = parse_assignment(&s, key, value)) != 0)
			goto out;
		if ((rc = cb(ud, key, value, line)) < 0)
			goto out;
	}
	rc = 0;
out:
	free(key);
	free(value);
	return rc;
}
