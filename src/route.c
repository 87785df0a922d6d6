/*
 * route.c - route file parsing and route lifetime.
 *
 * Parsing is two passes over the buffer: the first counts lines so that
 * the point and pair arrays are allocated once at their final size, the
 * second parses.  Numbers are checked against a strict decimal grammar
 * before strtod() converts them, so "1e3", "0x10", "nan" or "inf" are
 * errors, not silently accepted values.
 */
#include "routesim/route.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "routesim/log.h"
#include "routesim/position.h"

static bool
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/*
 * Parses [+-]digits[.digits] at s[0..len) surrounded by blanks.  Returns
 * true and the value; false if the text is anything else.
 */
static bool
parse_decimal(const char *s, size_t len, double *out)
{
	char tmp[64], *end;
	size_t i = 0, j, digits = 0;

	while (len > 0 && is_blank(s[len - 1]))
		len--;
	while (i < len && is_blank(s[i]))
		i++;
	j = i;
	if (j < len && (s[j] == '+' || s[j] == '-'))
		j++;
	for (; j < len && s[j] >= '0' && s[j] <= '9'; j++)
		digits++;
	if (digits == 0)
		return false;
	if (j < len && s[j] == '.') {
		size_t frac = 0;

		for (j++; j < len && s[j] >= '0' && s[j] <= '9'; j++)
			frac++;
		if (frac == 0)
			return false;
	}
	if (j != len || len - i >= sizeof(tmp))
		return false;
	memcpy(tmp, s + i, len - i);
	tmp[len - i] = '\0';
	*out = strtod(tmp, &end);
	return *end == '\0';
}

static int
parse_line(const char *s, size_t len, struct rs_point *p, const char *name,
    unsigned line, char *err, size_t errlen)
{
	const char *comma = memchr(s, ',', len);
	size_t a;

	if (comma == NULL)
		return rs_errf(err, errlen, -EINVAL,
		    "%s:%u: expected \"lat,lng\"", name, line);
	a = (size_t)(comma - s);
	if (memchr(comma + 1, ',', len - a - 1) != NULL)
		return rs_errf(err, errlen, -EINVAL,
		    "%s:%u: more than two fields", name, line);
	if (!parse_decimal(s, a, &p->lat))
		return rs_errf(err, errlen, -EINVAL,
		    "%s:%u: latitude is not a decimal number", name, line);
	if (!parse_decimal(comma + 1, len - a - 1, &p->lng))
		return rs_errf(err, errlen, -EINVAL,
		    "%s:%u: longitude is not a decimal number", name, line);
	if (p->lat < -90 || p->lat > 90)
		return rs_errf(err, errlen, -EINVAL,
		    "%s:%u: latitude outside [-90, 90]", name, line);
	if (p->lng < -180 || p->lng > 180)
		return rs_errf(err, errlen, -EINVAL,
		    "%s:%u: longitude outside [-180, 180]", name, line);
	return 0;
}

static bool
line_is_blank(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!is_blank(s[i]))
			return false;
	return true;
}

static void
route_free(struct rs_route *r)
{
	if (r == NULL)
		return;
	free(r->id);
	free(r->points);
	free(r->pairs);
	free(r->pair_off);
	free(r);
}

/* A route of id with room for maxlines points; NULL when out of
 * memory. */
static struct rs_route *
route_new(const char *id, size_t maxlines)
{
	struct rs_route *r;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	if ((r->id = strdup(id)) == NULL ||
	    (r->points = calloc(maxlines, sizeof(*r->points))) == NULL ||
	    (r->pair_off = malloc((maxlines + 1) * sizeof(uint32_t))) ==
	    NULL ||
	    (r->pairs = malloc(maxlines * RS_PAIR_MAX)) == NULL) {
		route_free(r);
		return NULL;
	}
	r->refs = 1;
	return r;
}

/* The lines of buf, the last one unterminated or empty: no route has
 * more points. */
static size_t
count_lines(const char *buf, size_t len)
{
	size_t n = 1;

	for (size_t i = 0; i < len; i++)
		if (buf[i] == '\n')
			n++;
	return n;
}

/* Reads the points of file name (buf, len) into r, with their pairs
 * formatted in order. */
static int
read_points(struct rs_route *r, const char *buf, size_t len,
    const char *name, enum rs_position_order order, char *err,
    size_t errlen)
{
	size_t pos = 0, off = 0;
	unsigned line = 0, blank_at = 0;
	int rc;

	while (pos < len) {
		const char *s = buf + pos, *nl = memchr(s, '\n', len - pos);
		size_t l = nl ? (size_t)(nl - s) : len - pos;

		pos += l + (nl != NULL);
		line++;
		if (l > 0 && s[l - 1] == '\r')
			l--;
		if (line_is_blank(s, l)) {
			if (blank_at == 0)
				blank_at = line;
			continue;
		}
		if (blank_at != 0)
			return rs_errf(err, errlen, -EINVAL,
			    "%s:%u: blank line inside the route", name,
			    blank_at);
		if ((rc = parse_line(s, l, &r->points[r->npoints], name,
		    line, err, errlen)) != 0)
			return rc;
		r->pair_off[r->npoints] = (uint32_t)off;
		off += rs_pair_format(r->points[r->npoints].lat,
		    r->points[r->npoints].lng, order, r->pairs + off);
		r->npoints++;
	}
	if (r->npoints == 0)
		return rs_errf(err, errlen, -EINVAL, "%s: no points", name);
	r->pair_off[r->npoints] = (uint32_t)off;
	return 0;
}

int
rs_route_parse(const char *buf, size_t len, const char *id,
    const char *name, enum rs_position_order order, struct rs_route **out,
    char *err, size_t errlen)
{
	struct rs_route *r;
	int rc;

	*out = NULL;
	if (memchr(buf, '\0', len) != NULL)
		return rs_errf(err, errlen, -EINVAL, "%s: NUL byte in file",
		    name);
	if ((r = route_new(id, count_lines(buf, len))) == NULL)
		return -ENOMEM;
	if ((rc = read_points(r, buf, len, name, order, err, errlen)) != 0) {
		route_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

int
rs_route_open(const char *path, struct stat *st, char *err, size_t errlen)
{
	int fd, rc;

	memset(st, 0, sizeof(*st));
	/* O_NONBLOCK: a FIFO must not block the open; the type is checked
	 * after it, so symlinks (a ConfigMap's) still work. */
	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) < 0) {
		rc = -errno;
		return rs_errf(err, errlen, rc, "%s: %s", path, strerror(-rc));
	}
	if (fstat(fd, st) != 0) {
		rc = -errno;
		rs_errf(err, errlen, rc, "%s: %s", path, strerror(-rc));
	} else if (!S_ISREG(st->st_mode)) {
		rc = rs_errf(err, errlen, -EINVAL, "%s: not a regular file",
		    path);
	} else {
		return fd;
	}
	close(fd);
	return rc;
}

int
rs_route_read(int fd, char *buf, size_t cap, const char *path, char *err,
    size_t errlen)
{
	size_t len = 0;
	int rc;

	while (len < cap) {
		ssize_t n = read(fd, buf + len, cap - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			return rs_errf(err, errlen, rc, "%s: %s", path,
			    strerror(-rc));
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	return (int)len;
}

int
rs_route_load(const char *dir, const char *id, enum rs_position_order order,
    struct rs_route **out, char *err, size_t errlen)
{
	char path[4096], *buf = NULL;
	struct stat st;
	size_t len = 0;
	int fd, rc;

	*out = NULL;
	if ((size_t)snprintf(path, sizeof(path), "%s/%s.txt", dir, id) >=
	    sizeof(path))
		return rs_errf(err, errlen, -ENAMETOOLONG,
		    "%s/%s.txt: path too long", dir, id);
	if ((fd = rs_route_open(path, &st, err, errlen)) < 0)
		return fd;
	if (st.st_size > RS_ROUTE_FILE_MAX) {
		rc = rs_errf(err, errlen, -EINVAL, "%s: larger than %d bytes",
		    path, RS_ROUTE_FILE_MAX);
		goto out;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	/* A file truncated while it is read: parse what was read. */
	if ((rc = rs_route_read(fd, buf, (size_t)st.st_size, path, err,
	    errlen)) < 0)
		goto out;
	len = (size_t)rc;
	rc = rs_route_parse(buf, len, id, path, order, out, err, errlen);
out:
	free(buf);
	close(fd);
	return rc;
}

struct rs_route *
rs_route_ref(struct rs_route *r)
{
	r->refs++;
	return r;
}

void
rs_route_unref(struct rs_route *r)
{
	if (r != NULL && --r->refs == 0)
		route_free(r);
}
