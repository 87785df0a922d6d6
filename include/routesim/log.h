/*
 * log.h - one line per event on stderr.
 *
 * Owns: the process-wide log level and format.  Nothing here allocates;
 * every call formats into a stack buffer and writes it with one write(2),
 * so lines from librdkafka's threads (should any log outside the loop)
 * never interleave inside a line.
 *
 * Style follows OpenBSD daemons: log_warn() appends strerror(errno),
 * log_warnx() does not.  These log_* functions are the one exception to
 * the rs_ prefix of exported names: they are called everywhere, and the
 * OpenBSD names say at a glance what they do.  Messages are terse and put
 * variable parts as key=value fields, e.g.
 *   log_warnx("request rejected: %s partition=%d offset=%lld", ...).
 */
#ifndef ROUTESIM_LOG_H
#define ROUTESIM_LOG_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

enum rs_log_level {
	RS_LOG_ERROR = 0,
	RS_LOG_WARN,
	RS_LOG_INFO,
	RS_LOG_DEBUG,
};

enum rs_log_format {
	RS_LOG_TEXT = 0,
	RS_LOG_JSON,
};

#define RS_PRINTF(f, a) __attribute__((format(printf, f, a)))

/* Wall-clock time in milliseconds since the epoch (log lines, Kafka
 * timestamps, request ages). */
int64_t rs_now_ms(void);

void rs_log_init(enum rs_log_level level, enum rs_log_format format);
enum rs_log_level rs_log_level(void);

/* Parses "error", "warn", "info", "debug"; returns 0 or -EINVAL. */
int rs_log_level_parse(const char *s, enum rs_log_level *out);
int rs_log_format_parse(const char *s, enum rs_log_format *out);
const char *rs_log_level_name(enum rs_log_level level);

void rs_log(enum rs_log_level level, const char *fmt, ...) RS_PRINTF(2, 3);

void log_warn(const char *fmt, ...) RS_PRINTF(1, 2);
void log_warnx(const char *fmt, ...) RS_PRINTF(1, 2);
void log_info(const char *fmt, ...) RS_PRINTF(1, 2);
void log_debug(const char *fmt, ...) RS_PRINTF(1, 2);
/*
 * Renders s (NULL counts as "") as the value of a key=value field,
 * logfmt style: as is when it is non-empty and holds no space, '=', '"',
 * '\\' or control character; otherwise in double quotes, with \" \\
 * \n \r \t and \xHH (\u00HH for C1 controls) escapes.  A value that
 * does not fit buf is cut and ends in "...\"", still quoted.  Returns buf
 * (len >= RS_LOG_VALUE_MIN; RS_LOG_VALUE_MAX is a good size), e.g.
 *   char c[RS_LOG_VALUE_MAX];
 *   log_info("... client=%s", rs_log_value(c, sizeof(c), client_id));
 * Every value that comes from outside (clientIds) is logged this way.
 */
#define RS_LOG_VALUE_MIN 16
#define RS_LOG_VALUE_MAX 256
const char *rs_log_value(char *buf, size_t len, const char *s);

/*
 * Formats an error message into err (for the caller to report where the
 * error is handled) and returns rc, so "return rs_errf(...)" reads well.
 */
int rs_errf(char *err, size_t errlen, int rc, const char *fmt, ...)
    RS_PRINTF(4, 5);

#endif
