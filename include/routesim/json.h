/*
 * json.h - JSON strings as Go's encoding/json writes them, and UTF-8
 * validation: the one escaper of positions, progress records and JSON
 * log lines.
 *
 * Escapes: \" \\ \n \r \t; other controls and Go's HTML escapes (< > &)
 * as \u00XX; U+2028 and U+2029 as \u2028 and \u2029; a byte that is not
 * valid UTF-8 as \ufffd.  Nothing here allocates.
 */
#ifndef ROUTESIM_JSON_H
#define ROUTESIM_JSON_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Writes the body of s as a JSON string (no quotes, no NUL) at out, at
 * most cap bytes: an escape that would not fit ends the output there.
 * Returns the length written.
 */
size_t rs_json_escape(char *out, size_t cap, const char *s);

/* A cap for rs_json_escape() that always holds n input bytes. */
static inline size_t
rs_json_escape_max(size_t n)
{
	return n * 6;
}

/* True when the NUL-terminated s is entirely valid UTF-8. */
bool rs_utf8_valid(const char *s);

#endif
