/*
 * catalogue.c - the tracker's route catalogue: a folder scan, sidecar
 * titles, and the /api/routes body rendered once.
 */
#include "routesim/catalogue.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "routesim/log.h"
#include "routesim/position.h"
#include "routesim/request.h"

/* A title's first line must end within this many bytes of the file. */
#define TITLE_READ_MAX 4096

static bool
all_digits(const char *s)
{
	for (; *s != '\0'; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

int
rs_route_id_compare(const char *a, const char *b)
{
	const char *a0 = a, *b0 = b;
	bool na = a[0] != '\0' && all_digits(a);
	bool nb = b[0] != '\0' && all_digits(b);
	size_t la, lb;

	if (na != nb)
		return na ? -1 : 1;
	if (na) {
		/* Numeric: without leading zeros the longer is larger; equal
		 * values ("01", "1") fall back to strcmp. */
		while (a[0] == '0' && a[1] != '\0')
			a++;
		while (b[0] == '0' && b[1] != '\0')
			b++;
		la = strlen(a);
		lb = strlen(b);
		if (la != lb)
			return la < lb ? -1 : 1;
		if (strcmp(a, b) != 0)
			return strcmp(a, b);
	}
	return strcmp(a0, b0);
}

static int
compare_entries(const void *x, const void *y)
{
	const struct rs_catalogue_entry *a = x, *b = y;

	return rs_route_id_compare(a->route->id, b->route->id);
}

/* ---- Titles ----------------------------------------------------------- */

static bool
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Checks and trims the first line at s[0..len) into title. */
static int
title_from_line(const char *s, size_t len, char title[RS_TITLE_MAX + 1],
    const char *path, char *err, size_t errlen)
{
	if (len >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0) {
		s += 3;		/* a byte order mark */
		len -= 3;
	}
	while (len > 0 && (is_blank(s[len - 1]) || s[len - 1] == '\r'))
		len--;
	while (len > 0 && is_blank(*s)) {
		s++;
		len--;
	}
	if (len > RS_TITLE_MAX)
		return rs_errf(err, errlen, -EINVAL, "%s: title longer than "
		    "%d bytes", path, RS_TITLE_MAX);
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return rs_errf(err, errlen, -EINVAL, "%s: control "
			    "character in the title", path);
	memcpy(title, s, len);
	title[len] = '\0';
	if (!rs_utf8_valid(title)) {
		title[0] = '\0';
		return rs_errf(err, errlen, -EINVAL, "%s: title is not valid "
		    "UTF-8", path);
	}
	return 0;
}

int
rs_title_read(const char *path, char title[RS_TITLE_MAX + 1], char *err,
    size_t errlen)
{
	char buf[TITLE_READ_MAX];
	struct stat st;
	size_t len = 0;
	const char *nl;
	int fd, rc;

	title[0] = '\0';
	/* As route files: non-blocking open, then the type, then reads. */
	if ((fd = rs_route_open(path, &st, err, errlen)) < 0)
		return fd;
	if ((rc = rs_route_read(fd, buf, sizeof(buf), path, err, errlen)) < 0)
		goto out;
	len = (size_t)rc;
	if ((nl = memchr(buf, '\n', len)) != NULL) {
		len = (size_t)(nl - buf);
	} else if (len == sizeof(buf)) {
		rc = rs_errf(err, errlen, -EINVAL, "%s: first line longer "
		    "than %zu bytes", path, sizeof(buf));
		goto out;
	}
	if (memchr(buf, '\0', len) != NULL) {
		rc = rs_errf(err, errlen, -EINVAL, "%s: NUL byte in the title",
		    path);
		goto out;
	}
	rc = title_from_line(buf, len, title, path, err, errlen);
out:
	close(fd);
	return rc;
}

/* ---- Loading ---------------------------------------------------------- */

/* The route id of a file name "<id>.txt", copied into id: 1; 0 for a
 * name that does not end in .txt; -1 (with a warning) for a .txt whose
 * id is not a plain name. */
static int
route_file_id(const char *name, char id[RS_ROUTE_ID_MAX + 1])
{
	size_t len = strlen(name);
	char shown[RS_LOG_VALUE_MAX];

	if (len < 4 || strcmp(name + len - 4, ".txt") != 0)
		return 0;
	len -= 4;
	if (len >= 1 && len <= RS_ROUTE_ID_MAX) {
		memcpy(id, name, len);
		id[len] = '\0';
		if (rs_route_id_valid(id))
			return 1;
	}
	log_warnx("route file skipped: not a plain route name "
	    "[A-Za-z0-9_-], 1 to %d characters file=%s", RS_ROUTE_ID_MAX,
	    rs_log_value(shown, sizeof(shown), name));
	return -1;
}

/* Loads dir/<id>.txt and its title into e; -EINVAL/-ENOENT when the
 * route is skipped (logged), -ENOMEM. */
static int
load_entry(const char *dir, const char *id, struct rs_catalogue_entry *e)
{
	char err[512], path[4096], title[RS_TITLE_MAX + 1];
	int rc;

	rc = rs_route_load(dir, id, RS_ORDER_LATLNG, &e->route, err,
	    sizeof(err));
	if (rc == -ENOMEM)
		return rc;
	if (rc != 0) {
		log_warnx("route file skipped: %s", err);
		return rc;
	}
	if ((size_t)snprintf(path, sizeof(path), "%s/%s.title", dir, id) >=
	    sizeof(path)) {
		title[0] = '\0';
	} else if ((rc = rs_title_read(path, title, err, sizeof(err))) ==
	    -ENOENT) {
		title[0] = '\0';
	} else if (rc != 0) {
		log_warnx("route title ignored: %s", err);
		title[0] = '\0';
	}
	if ((e->title = strdup(title)) == NULL) {
		rs_route_unref(e->route);
		e->route = NULL;
		return -ENOMEM;
	}
	return 0;
}

static void
append_pair(struct rs_buf *b, const struct rs_route *r, size_t i)
{
	size_t len;
	const char *pair = rs_route_pair(r, i, &len);

	rs_buf_append(b, pair, len);
}

static int
render(struct rs_catalogue *cat)
{
	struct rs_buf *b = &cat->json;

	rs_buf_append(b, "[", 1);
	for (size_t i = 0; i < cat->count; i++) {
		const struct rs_route *r = cat->entries[i].route;

		rs_buf_append(b, i ? ",{\"id\":" : "{\"id\":", i ? 7 : 6);
		rs_buf_json_string(b, r->id);
		rs_buf_append(b, ",\"title\":", 9);
		rs_buf_json_string(b, cat->entries[i].title);
		rs_buf_append(b, ",\"start\":", 9);
		append_pair(b, r, 0);
		rs_buf_append(b, ",\"end\":", 7);
		append_pair(b, r, r->npoints - 1);
		rs_buf_append(b, ",\"points\":[", 11);
		for (size_t k = 0; k < r->npoints; k++) {
			if (k > 0)
				rs_buf_append(b, ",", 1);
			append_pair(b, r, k);
		}
		rs_buf_append(b, "]}", 2);
	}
	rs_buf_append(b, "]", 1);
	return rs_buf_failed(b) ? -ENOMEM : 0;
}

int
rs_catalogue_load(const char *dir, struct rs_catalogue **out, char *err,
    size_t errlen)
{
	struct rs_catalogue *cat;
	const struct dirent *de;
	char id[RS_ROUTE_ID_MAX + 1];
	DIR *d;
	int rc = 0;

	*out = NULL;
	if ((d = opendir(dir)) == NULL) {
		rc = -errno;
		return rs_errf(err, errlen, rc, "%s: %s", dir, strerror(-rc));
	}
	if ((cat = calloc(1, sizeof(*cat))) == NULL ||
	    (cat->entries = calloc(RS_CATALOGUE_MAX,
	    sizeof(*cat->entries))) == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	while ((de = readdir(d)) != NULL) {
		int named = route_file_id(de->d_name, id);

		if (named <= 0) {
			cat->skipped += named < 0;
			continue;
		}
		if (cat->count == RS_CATALOGUE_MAX) {
			log_warnx("route file skipped: more than %d routes "
			    "id=%s", RS_CATALOGUE_MAX, id);
			cat->skipped++;
			continue;
		}
		switch (load_entry(dir, id, &cat->entries[cat->count])) {
		case 0:
			cat->count++;
			break;
		case -ENOMEM:
			rc = -ENOMEM;
			goto out;
		default:
			cat->skipped++;
			break;
		}
	}
	qsort(cat->entries, cat->count, sizeof(*cat->entries),
	    compare_entries);
	rc = render(cat);
out:
	closedir(d);
	if (rc != 0) {
		rs_catalogue_free(cat);
		if (rc == -ENOMEM)
			rs_errf(err, errlen, rc, "out of memory");
		return rc;
	}
	*out = cat;
	return 0;
}

const struct rs_catalogue_entry *
rs_catalogue_find(const struct rs_catalogue *cat, const char *id)
{
	size_t lo = 0, hi = cat->count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = rs_route_id_compare(id, cat->entries[mid].route->id);

		if (c == 0)
			return &cat->entries[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

void
rs_catalogue_free(struct rs_catalogue *cat)
{
	if (cat == NULL)
		return;
	for (size_t i = 0; i < cat->count; i++) {
		rs_route_unref(cat->entries[i].route);
		free(cat->entries[i].title);
	}
	free(cat->entries);
	rs_buf_free(&cat->json);
	free(cat);
}
