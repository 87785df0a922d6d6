/*
 * dotenv.h - parser for the godotenv ".env" format used by the original
 * simulator.
 *
 * Accepted, line by line:
 *   # comment                    blank lines
 *   KEY=value                    KEY: value (godotenv's YAML-ish form)
 *   export KEY=value             KEY="double quoted \n escapes"
 *   KEY='single quoted, literal' KEY=value # trailing comment
 * Keys are [A-Za-z_][A-Za-z0-9_.-]* so that librdkafka names such as
 * "sasl.username" work.  Double-quoted values may span lines and know the
 * escapes \n \r \t \" \\ \$.  Variable expansion ($VAR) is not performed.
 *
 * Ownership: the parser allocates one scratch buffer per call and frees it
 * before returning; the key and value passed to the callback are valid only
 * during the callback.
 */
#ifndef ROUTESIM_DOTENV_H
#define ROUTESIM_DOTENV_H

#include <stddef.h>

/* Called once per assignment; a negative return stops parsing and is
 * returned by rs_dotenv_parse(). */
typedef int (*rs_dotenv_cb)(void *ud, const char *key, const char *value,
    unsigned line);

/*
 * Parses len bytes of buf.  Returns 0, -EINVAL on a syntax error (err then
 * holds "line N: reason"), -ENOMEM, or the callback's negative value.
 */
int rs_dotenv_parse(const char *buf, size_t len, rs_dotenv_cb cb, void *ud,
    char *err, size_t errlen);

#endif
