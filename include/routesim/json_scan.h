/*
 * json_scan.h - reading the common shapes of small JSON messages in
 * place, without building a tree.
 *
 * Messages on the topics nearly always have one plain shape (no escapes,
 * no nesting beyond a two-number array).  The parsers (request.c,
 * position_decode.c) read that shape with these helpers and hand anything
 * else to cJSON; each keeps a cJSON-only reference parser that its fuzzer
 * compares against, so the in-place reading can never change an answer.
 *
 * Every function takes the text as [p, end) (not NUL-terminated) and never
 * reads at or past end.  Nothing here allocates or keeps state.
 */
#ifndef ROUTESIM_JSON_SCAN_H
#define ROUTESIM_JSON_SCAN_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "routesim/reject.h"

/* Longest number rs_json_plain_number() reads; longer ones go to cJSON. */
#define RS_JSON_NUMBER_MAX 32

/* Skips JSON whitespace (space, tab, CR, LF); returns the next byte. */
const char *rs_json_blanks(const char *p, const char *end);

/*
 * A string without escapes or control characters at *p: returns its text
 * (not NUL-terminated) and length and moves *p past the closing quote;
 * NULL for anything else (*p unchanged).
 */
const char *rs_json_plain_string(const char **p, const char *end,
    size_t *len);

/*
 * A number in JSON's strict grammar (-?int[.frac][(e|E)[+-]digits]) of at
 * most RS_JSON_NUMBER_MAX bytes at *p: true, its value (strtod's, as
 * cJSON gives) and *p moved past it; false for anything else (*p
 * unchanged).  Values beyond double's range come back infinite.
 */
bool rs_json_plain_number(const char **p, const char *end, double *out);

/* Reads the literal word (e.g. "true") at *p: true and *p moved past it. */
bool rs_json_literal(const char **p, const char *end, const char *word);

/*
 * True when len bytes hold a NUL byte or the escape \u0000: cJSON would
 * silently cut a string there, so parsers refuse such messages.
 */
bool rs_json_has_nul(const void *buf, size_t len);

/*
 * The reference parsers' start: buf as one JSON object, parsed by cJSON,
 * with nothing but blanks after it and no NUL in it (cJSON would end a
 * string there, silently cutting it).  Returns the tree, which the caller
 * cJSON_Delete()s, or NULL with *why and err set (bad_json, or bad_field
 * for a NUL).
 */
cJSON *rs_json_parse_object(const void *buf, size_t len, enum rs_reject *why,
    char *err, size_t errlen);

#endif
