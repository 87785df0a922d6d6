/*
 * position.c - Go-compatible JSON for position messages.
 *
 * Shortest round-trip digits are found by asking printf for 1, 2, ... 17
 * significant digits until strtod() gives the same double back; 17 always
 * does.  This runs once per route point when a route is loaded, never per
 * tick, so its cost does not matter.
 */
#include "routesim/position.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Shortest significant digits of |v| (> 0) and its decimal exponent. */
static size_t
shortest_digits(double v, char digits[20], int *exp10)
{
	char tmp[40], *e;
	size_t n = 0;

	for (int prec = 1; prec <= 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*e", prec - 1, v);
		if (strtod(tmp, NULL) == v || prec == 17)
			break;
	}
	/* tmp is "d.ddde[+-]XX" (or "de[+-]XX" for one digit). */
	for (const char *p = tmp; *p != 'e'; p++)
		if (*p != '.')
			digits[n++] = *p;
	while (n > 1 && digits[n - 1] == '0')
		n--;
	digits[n] = '\0';
	e = strchr(tmp, 'e');
	*exp10 = (int)strtol(e + 1, NULL, 10);
	return n;
}

size_t
rs_number_format(double v, char buf[RS_NUMBER_MAX])
{
	char digits[20];
	size_t n = 0, nd;
	double a = fabs(v);
	int e;

	if (signbit(v))
		buf[n++] = '-';
	if (a == 0) {
		buf[n++] = '0';
		buf[n] = '\0';
		return n;
	}
	nd = shortest_digits(a, digits, &e);
	if (a < 1e-6 || a >= 1e21) {
		/* Go: d[.ddd]e-7, e+21 (no leading zero in the exponent for
		 * negative one-digit exponents, two digits otherwise). */
		buf[n++] = digits[0];
		if (nd > 1) {
			buf[n++] = '.';
			memcpy(buf + n, digits + 1, nd - 1);
			n += nd - 1;
		}
		if (e < 0 && e > -10)
			n += (size_t)sprintf(buf + n, "e-%d", -e);
		else
			n += (size_t)sprintf(buf + n, "e%c%02d",
			    e < 0 ? '-' : '+', abs(e));
		return n;
	}
	if (e < 0) {
		buf[n++] = '0';
		buf[n++] = '.';
		for (int i = -1; i > e; i--)
			buf[n++] = '0';
		memcpy(buf + n, digits, nd);
		n += nd;
	} else {
		for (int i = 0; i <= e; i++)
			buf[n++] = (size_t)i < nd ? digits[i] : '0';
		if (nd > (size_t)e + 1) {
			buf[n++] = '.';
			memcpy(buf + n, digits + e + 1, nd - (size_t)e - 1);
			n += nd - (size_t)e - 1;
		}
	}
	buf[n] = '\0';
	return n;
}

size_t
rs_pair_format(double lat, double lng, enum rs_position_order order,
    char buf[RS_PAIR_MAX])
{
	size_t n = 0;

	buf[n++] = '[';
	n += rs_number_format(order == RS_ORDER_LNGLAT ? lng : lat, buf + n);
	buf[n++] = ',';
	n += rs_number_format(order == RS_ORDER_LNGLAT ? lat : lng, buf + n);
	buf[n++] = ']';
	buf[n] = '\0';
	return n;
}

#define IDS_ROUTE "{\"routeId\":\""
#define IDS_CLIENT "\",\"clientId\":\""
#define PREFIX_POSITION ",\"position\":"

size_t
rs_json_ids_size(const char *route_id, const char *client_id)
{
	return sizeof(IDS_ROUTE) - 1 + sizeof(IDS_CLIENT) - 1 + 1 +
	    rs_json_escape_max(strlen(route_id)) +
	    rs_json_escape_max(strlen(client_id));
}

size_t
rs_json_ids(char *buf, const char *route_id, const char *client_id)
{
	size_t n;

	memcpy(buf, IDS_ROUTE, sizeof(IDS_ROUTE) - 1);
	n = sizeof(IDS_ROUTE) - 1;
	n += rs_json_escape(buf + n, rs_json_escape_max(strlen(route_id)),
	    route_id);
	memcpy(buf + n, IDS_CLIENT, sizeof(IDS_CLIENT) - 1);
	n += sizeof(IDS_CLIENT) - 1;
	n += rs_json_escape(buf + n, rs_json_escape_max(strlen(client_id)),
	    client_id);
	buf[n++] = '"';
	return n;
}

size_t
rs_position_prefix_size(const char *route_id, const char *client_id)
{
	return rs_json_ids_size(route_id, client_id) + sizeof(PREFIX_POSITION);
}

size_t
rs_position_prefix(char *buf, const char *route_id, const char *client_id)
{
	size_t n = rs_json_ids(buf, route_id, client_id);

	memcpy(buf + n, PREFIX_POSITION, sizeof(PREFIX_POSITION));
	return n + sizeof(PREFIX_POSITION) - 1;
}

size_t
rs_put_u64(char *p, uint64_t v)
{
	char tmp[20];
	size_t n = 0, i = 0;

	do
		tmp[n++] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	while (n > 0)
		p[i++] = tmp[--n];
	return i;
}

/* ,"finished":X,"seq":N,"timestamp":T} */
static size_t
meta_suffix(char *p, bool finished, const struct rs_position_meta *meta)
{
	static const char f[] = ",\"finished\":", s[] = ",\"seq\":",
	    t[] = ",\"timestamp\":";
	size_t n = 0;

	memcpy(p, f, sizeof(f) - 1);
	n += sizeof(f) - 1;
	memcpy(p + n, finished ? "true" : "false", finished ? 4 : 5);
	n += finished ? 4 : 5;
	memcpy(p + n, s, sizeof(s) - 1);
	n += sizeof(s) - 1;
	n += rs_put_u64(p + n, meta->seq);
	memcpy(p + n, t, sizeof(t) - 1);
	n += sizeof(t) - 1;
	if (meta->timestamp < 0)
		p[n++] = '-';
	n += rs_put_u64(p + n, meta->timestamp < 0 ?
	    (uint64_t)-(meta->timestamp + 1) + 1 : (uint64_t)meta->timestamp);
	p[n++] = '}';
	return n;
}

size_t
rs_position_encode(char *buf, size_t cap, const char *prefix,
    size_t prefix_len, const char *pair, size_t pair_len, bool finished,
    const struct rs_position_meta *meta)
{
	static const char fin[] = ",\"finished\":true}",
	    unfin[] = ",\"finished\":false}";
	char metabuf[RS_SUFFIX_MAX];
	const char *suffix = finished ? fin : unfin;
	size_t slen = finished ? sizeof(fin) - 1 : sizeof(unfin) - 1, n;

	if (meta != NULL) {
		suffix = metabuf;
		slen = meta_suffix(metabuf, finished, meta);
	}
	n = prefix_len + pair_len + slen;
	if (n > cap)
		return 0;
	memcpy(buf, prefix, prefix_len);
	memcpy(buf + prefix_len, pair, pair_len);
	memcpy(buf + prefix_len + pair_len, suffix, slen);
	return n;
}
