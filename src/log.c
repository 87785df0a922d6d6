/*
 * log.c - formatting of log lines.
 *
 * Text lines look like
 *   2026-11-21T15:30:00.123Z warn request rejected: bad JSON partition=0
 * and JSON lines like
 *   {"time":"2026-11-21T15:30:00.123Z","level":"warn","msg":"..."}
 * A line is built in a fixed buffer and written with a single write(2);
 * an over-long message is cut, never split.  In text lines control
 * characters are escaped (\x1b), so no log line can move a terminal's
 * cursor or fake a line; values from outside go through rs_log_value()
 * so that they cannot fake fields either.
 */
#include "routesim/log.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "routesim/array.h"
#include "routesim/json.h"

#define LINE_MAX_BYTES 2048

static enum rs_log_level cur_level = RS_LOG_INFO;
static enum rs_log_format cur_format = RS_LOG_TEXT;

static const char *const level_names[] = {"error", "warn", "info", "debug"};

int64_t
rs_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
rs_log_init(enum rs_log_level level, enum rs_log_format format)
{
	cur_level = level;
	cur_format = format;
}

enum rs_log_level
rs_log_level(void)
{
	return cur_level;
}

const char *
rs_log_level_name(enum rs_log_level level)
{
	if ((unsigned)level >= RS_NELEM(level_names))
		return "?";
	return level_names[level];
}

int
rs_log_level_parse(const char *s, enum rs_log_level *out)
{
	for (unsigned i = 0; i < RS_NELEM(level_names);
	     i++) {
		if (strcmp(s, level_names[i]) == 0) {
			*out = (enum rs_log_level)i;
			return 0;
		}
	}
	return -EINVAL;
}

int
rs_log_format_parse(const char *s, enum rs_log_format *out)
{
	if (strcmp(s, "text") == 0)
		*out = RS_LOG_TEXT;
	else if (strcmp(s, "json") == 0)
		*out = RS_LOG_JSON;
	else
		return -EINVAL;
	return 0;
}

static size_t
format_time(char *buf, size_t len)
{
	struct timespec ts;
	struct tm tm;
	size_t n;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	n += (size_t)snprintf(buf + n, len - n, ".%03ldZ",
	    ts.tv_nsec / 1000000);
	return n;
}

/* True for a byte of s at i that a terminal could take for a control:
 * C0, DEL, and C1 as UTF-8 encodes it (0xc2 0x80-0x9f).  *len is how
 * many bytes it spans. */
static bool
is_control(const unsigned char *s, size_t *len)
{
	*len = 1;
	if (s[0] < 0x20 || s[0] == 0x7f)
		return true;
	if (s[0] == 0xc2 && s[1] >= 0x80 && s[1] <= 0x9f) {
		*len = 2;
		return true;
	}
	return false;
}

/* Writes the escape of the control at s (C0 or DEL: one byte; C1: the
 * second byte of two) into out; returns its length. */
static size_t
escape_control(const unsigned char *s, size_t len, char out[8])
{
	static const char hex[] = "0123456789abcdef";
	unsigned c = len == 2 ? s[1] : s[0];

	switch (c) {
	case '\n':
		return (size_t)snprintf(out, 8, "\\n");
	case '\r':
		return (size_t)snprintf(out, 8, "\\r");
	case '\t':
		return (size_t)snprintf(out, 8, "\\t");
	default:
		return (size_t)snprintf(out, 8, "\\%s%c%c",
		    len == 2 ? "u00" : "x", hex[c >> 4], hex[c & 15]);
	}
}

static bool
needs_quotes(const char *s)
{
	size_t len;

	if (*s == '\0')
		return true;
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0';
	    p++)
		if (*p == ' ' || *p == '=' || *p == '"' || *p == '\\' ||
		    is_control(p, &len))
			return true;
	return false;
}

const char *
rs_log_value(char *buf, size_t len, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t n = 0, clen;
	char esc[8];

	if (len < RS_LOG_VALUE_MIN) {
		if (len > 0)
			buf[0] = '\0';
		return buf;
	}
	if (!needs_quotes((const char *)p) && strlen((const char *)p) < len) {
		memcpy(buf, p, strlen((const char *)p) + 1);
		return buf;
	}
	buf[n++] = '"';
	while (*p != '\0') {
		size_t elen;

		if (is_control(p, &clen)) {
			elen = escape_control(p, clen, esc);
		} else if (*p == '"' || *p == '\\') {
			esc[0] = '\\';
			esc[1] = (char)*p;
			elen = 2;
		} else {
			esc[0] = (char)*p;
			elen = 1;
		}
		/* Room for this, then '..."' and the NUL should it be cut. */
		if (n + elen + 5 > len) {
			memcpy(buf + n, "...", 3);
			n += 3;
			break;
		}
		memcpy(buf + n, esc, elen);
		n += elen;
		p += clen;
	}
	buf[n++] = '"';
	buf[n] = '\0';
	return buf;
}

/* Copies msg into a text line: control characters escaped (ESC
 * sequences never reach a terminal), line breaks as spaces.  Returns the
 * new length. */
static size_t
text_append(char *buf, size_t n, size_t cap, const char *msg)
{
	const unsigned char *p = (const unsigned char *)msg;
	size_t clen, elen;
	char esc[8];

	while (*p != '\0' && n + 8 < cap) {
		if (*p == '\n' || *p == '\r') {
			buf[n++] = ' ';
			p++;
		} else if (is_control(p, &clen)) {
			elen = escape_control(p, clen, esc);
			memcpy(buf + n, esc, elen);
			n += elen;
			p += clen;
		} else {
			buf[n++] = (char)*p++;
		}
	}
	return n;
}

static void RS_PRINTF(2, 0)
vlog(enum rs_log_level level, const char *fmt, va_list ap)
{
	char msg[LINE_MAX_BYTES], line[LINE_MAX_BYTES * 2], ts[40];
	size_t n;
	int saved = errno;

	if (level > cur_level)
		return;
	if (vsnprintf(msg, sizeof(msg), fmt, ap) < 0)
		msg[0] = '\0';
	/* Never let a message span lines. */
	for (char *p = msg; *p != '\0'; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	format_time(ts, sizeof(ts));

	if (cur_format == RS_LOG_JSON) {
		n = (size_t)snprintf(line, sizeof(line),
		    "{\"time\":\"%s\",\"level\":\"%s\",\"msg\":\"", ts,
		    rs_log_level_name(level));
		n += rs_json_escape(line + n, sizeof(line) - 3 - n, msg);
		line[n++] = '"';
		line[n++] = '}';
	} else {
		n = (size_t)snprintf(line, sizeof(line), "%s %s ", ts,
		    rs_log_level_name(level));
		n = text_append(line, n, sizeof(line) - 1, msg);
	}
	line[n++] = '\n';
	/* A failed write to stderr has nowhere left to be reported. */
	if (write(STDERR_FILENO, line, n) < 0)
		errno = saved;
	errno = saved;
}

void
rs_log(enum rs_log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(level, fmt, ap);
	va_end(ap);
}

int
rs_errf(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;

	if (errlen == 0)
		return rc;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return rc;
}

static void
vlog_errno(enum rs_log_level level, const char *fmt, va_list ap)
{
	char buf[LINE_MAX_BYTES];
	int saved = errno;

	if (vsnprintf(buf, sizeof(buf), fmt, ap) < 0)
		buf[0] = '\0';
	rs_log(level, "%s: %s", buf, strerror(saved));
}

void
log_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog_errno(RS_LOG_WARN, fmt, ap);
	va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(RS_LOG_WARN, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(RS_LOG_INFO, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(RS_LOG_DEBUG, fmt, ap);
	va_end(ap);
}
