/*
 * json_scan.c - in-place reading of plain JSON shapes (see json_scan.h).
 */
#include "routesim/json_scan.h"

#include <stdlib.h>
#include <string.h>

const char *
rs_json_blanks(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' ||
	    *p == '\r'))
		p++;
	return p;
}

const char *
rs_json_plain_string(const char **p, const char *end, size_t *len)
{
	const char *s, *q = *p;

	if (q == end || *q != '"')
		return NULL;
	for (s = ++q; q < end && *q != '"'; q++)
		if (*q == '\\' || (unsigned char)*q < 0x20)
			return NULL;
	if (q == end)
		return NULL;
	*len = (size_t)(q - s);
	*p = q + 1;
	return s;
}

/* Skips decimal digits; *n says how many. */
static const char *
digits(const char *q, const char *end, size_t *n)
{
	*n = 0;
	while (q < end && *q >= '0' && *q <= '9') {
		q++;
		(*n)++;
	}
	return q;
}

bool
rs_json_plain_number(const char **p, const char *end, double *out)
{
	char tmp[RS_JSON_NUMBER_MAX + 1], *tail;
	const char *q = *p;
	size_t n, len;

	if (q < end && *q == '-')
		q++;
	if (q < end && *q == '0') {
		q++;		/* a leading zero stands alone */
	} else {
		q = digits(q, end, &n);
		if (n == 0)
			return false;
	}
	if (q < end && *q == '.') {
		q = digits(q + 1, end, &n);
		if (n == 0)
			return false;
	}
	if (q < end && (*q == 'e' || *q == 'E')) {
		q++;
		if (q < end && (*q == '+' || *q == '-'))
			q++;
		q = digits(q, end, &n);
		if (n == 0)
			return false;
	}
	/* What follows must end the number: "01" or "1.2.3" is not one. */
	if (q < end && ((*q >= '0' && *q <= '9') || *q == '.' || *q == 'e' ||
	    *q == 'E' || *q == '+' || *q == '-'))
		return false;
	len = (size_t)(q - *p);
	if (len > RS_JSON_NUMBER_MAX)
		return false;
	memcpy(tmp, *p, len);
	tmp[len] = '\0';
	*out = strtod(tmp, &tail);
	if (*tail != '\0')
		return false;
	*p = q;
	return true;
}

bool
rs_json_literal(const char **p, const char *end, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(end - *p) < n || memcmp(*p, word, n) != 0)
		return false;
	*p += n;
	return true;
}

bool
rs_json_has_nul(const void *buf, size_t len)
{
	return memchr(buf, '\0', len) != NULL ||
	    memmem(buf, len, "\\u0000", 6) != NULL;
}

cJSON *
rs_json_parse_object(const void *buf, size_t len, enum rs_reject *why,
    char *err, size_t errlen)
{
	const char *end = NULL;
	cJSON *root = cJSON_ParseWithLengthOpts(buf, len, &end, false);

	if (root == NULL || !cJSON_IsObject(root))
		rs_reject_errf(why, RS_REJECT_BAD_JSON, err, errlen,
		    "not a JSON object");
	/* cJSON stops after the value; anything but blanks after it is an
	 * error here (a NUL byte included). */
	else if (rs_json_blanks(end, (const char *)buf + len) !=
	    (const char *)buf + len)
		rs_reject_errf(why, RS_REJECT_BAD_JSON, err, errlen,
		    "unexpected data after the object");
	else if (rs_json_has_nul(buf, len))
		rs_reject_errf(why, RS_REJECT_BAD_FIELD, err, errlen,
		    "NUL character (\\u0000) in a string");
	else
		return root;
	cJSON_Delete(root);
	return NULL;
}
