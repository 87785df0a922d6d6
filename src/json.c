/*
 * json.c - JSON strings as Go writes them, UTF-8 validation (json.h).
 */
#include "routesim/json.h"

#include <string.h>

/* Length of the valid UTF-8 sequence at s (NUL-terminated), 0 if the bytes
 * there are not valid UTF-8 (overlong, surrogate, truncated...). */
static size_t
utf8_seq_len(const unsigned char *s)
{
	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		return (s[1] & 0xc0) == 0x80 ? 2 : 0;
	if (s[0] >= 0xe0 && s[0] <= 0xef) {
		if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80)
			return 0;
		if (s[0] == 0xe0 && s[1] < 0xa0)
			return 0;	/* overlong */
		if (s[0] == 0xed && s[1] >= 0xa0)
			return 0;	/* surrogate */
		return 3;
	}
	if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 ||
		    (s[3] & 0xc0) != 0x80)
			return 0;
		if ((s[0] == 0xf0 && s[1] < 0x90) ||
		    (s[0] == 0xf4 && s[1] >= 0x90))
			return 0;
		return 4;
	}
	return 0;
}

bool
rs_utf8_valid(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t l;

	for (; *p != '\0'; p += l)
		if ((l = utf8_seq_len(p)) == 0)
			return false;
	return true;
}

/*
 * The escape of the character at p into esc (at most 6 bytes); returns
 * its length and sets *used to the input bytes it stands for.
 */
static size_t
escape_one(const unsigned char *p, char esc[6], size_t *used)
{
	static const char hex[] = "0123456789abcdef";
	unsigned c = *p;
	size_t l;

	*used = 1;
	switch (c) {
	case '"': case '\\':
		esc[0] = '\\';
		esc[1] = (char)c;
		return 2;
	case '\n':
		memcpy(esc, "\\n", 2);
		return 2;
	case '\r':
		memcpy(esc, "\\r", 2);
		return 2;
	case '\t':
		memcpy(esc, "\\t", 2);
		return 2;
	default:
		break;
	}
	if (c < 0x80 && (c < 0x20 || c == '<' || c == '>' || c == '&')) {
		/* Control characters and Go's HTML escapes. */
		memcpy(esc, "\\u00", 4);
		esc[4] = hex[c >> 4];
		esc[5] = hex[c & 15];
		return 6;
	}
	if ((l = utf8_seq_len(p)) == 0) {
		memcpy(esc, "\\ufffd", 6);
		return 6;
	}
	*used = l;
	if (l == 3 && p[0] == 0xe2 && p[1] == 0x80 &&
	    (p[2] == 0xa8 || p[2] == 0xa9)) {
		memcpy(esc, p[2] == 0xa8 ? "\\u2028" : "\\u2029", 6);
		return 6;
	}
	memcpy(esc, p, l);
	return l;
}

size_t
rs_json_escape(char *out, size_t cap, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = 0, elen, used;
	char esc[6];

	while (*p != '\0') {
		elen = escape_one(p, esc, &used);
		if (n + elen > cap)
			break;
		memcpy(out + n, esc, elen);
		n += elen;
		p += used;
	}
	return n;
}
