/* test_log.c - log lines and logfmt values (src/log.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "routesim/log.h"

static void
check_value(const char *in, const char *want)
{
	char buf[RS_LOG_VALUE_MAX];

	if (strcmp(rs_log_value(buf, sizeof(buf), in), want) != 0)
		fail_msg("value of '%s': got %s, want %s", in ? in : "(null)",
		    buf, want);
}

static void
test_values(void **state)
{
	(void)state;
	check_value("c1", "c1");
	check_value("x8Fq2-AbCdEf_09.:/", "x8Fq2-AbCdEf_09.:/");
	check_value("\xc3\xa9t\xc3\xa9", "\xc3\xa9t\xc3\xa9");	/* UTF-8 */
	check_value("", "\"\"");
	check_value(NULL, "\"\"");
	/* A fake field cannot be made. */
	check_value("x route=999 level=error",
	    "\"x route=999 level=error\"");
	check_value("a=b", "\"a=b\"");
	check_value("say \"hi\"", "\"say \\\"hi\\\"\"");
	check_value("back\\slash", "\"back\\\\slash\"");
	check_value("\"", "\"\\\"\"");
	/* Control characters are escaped, ESC and C1 included. */
	check_value("a\nlevel=error b", "\"a\\nlevel=error b\"");
	check_value("\r\t", "\"\\r\\t\"");
	check_value("\x1b[31mred", "\"\\x1b[31mred\"");
	check_value("del\x7f", "\"del\\x7f\"");
	check_value("csi\xc2\x9b" "31m", "\"csi\\u009b31m\"");
}

static void
test_long_values_are_cut_and_quoted(void **state)
{
	char in[1000], buf[RS_LOG_VALUE_MAX], small[RS_LOG_VALUE_MIN];
	size_t n;

	(void)state;
	memset(in, 'a', sizeof(in) - 1);
	in[sizeof(in) - 1] = '\0';
	rs_log_value(buf, sizeof(buf), in);
	n = strlen(buf);
	assert_true(n < sizeof(buf));
	assert_int_equal(buf[0], '"');
	assert_string_equal(buf + n - 4, "...\"");
	/* An escape is never cut in half. */
	memset(in, '\x1b', sizeof(in) - 1);
	rs_log_value(buf, sizeof(buf), in);
	n = strlen(buf);
	assert_true(n < sizeof(buf));
	assert_string_equal(buf + n - 8, "\\x1b...\"");
	/* A value that fits exactly stays as it is. */
	memset(in, 'b', sizeof(buf) - 1);
	in[sizeof(buf) - 1] = '\0';
	assert_string_equal(rs_log_value(buf, sizeof(buf), in), in);
	rs_log_value(small, sizeof(small), "x y z w v u t s r q");
	assert_true(strlen(small) < sizeof(small));
	assert_string_equal(small + strlen(small) - 4, "...\"");
}

/* Runs fn with stderr going to a file; returns what it wrote. */
static char *
capture_stderr(void (*fn)(void))
{
	char path[] = "/tmp/routesim-test-log-XXXXXX", *buf;
	int fd = mkstemp(path), saved = dup(STDERR_FILENO);
	long len;
	FILE *f;

	assert_true(fd >= 0 && saved >= 0);
	assert_true(dup2(fd, STDERR_FILENO) >= 0);
	fn();
	assert_true(dup2(saved, STDERR_FILENO) >= 0);
	close(saved);
	close(fd);
	assert_non_null(f = fopen(path, "rb"));
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	assert_non_null(buf = calloc(1, (size_t)len + 1));
	assert_int_equal(fread(buf, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	unlink(path);
	return buf;
}

static void
log_hostile(void)
{
	char c[RS_LOG_VALUE_MAX];

	/* Whatever reaches a message - a librdkafka error string, say -
	 * cannot move the cursor or start a line of its own. */
	log_info("raw \x1b[2J\x1b[H text\r\nlevel=error fake\x07");
	log_info("delivery finished route=1 client=%s positions=1",
	    rs_log_value(c, sizeof(c), "x route=999 level=error \x1b[31m"));
}

static void
test_text_lines(void **state)
{
	size_t n;
	char *out;

	(void)state;
	rs_log_init(RS_LOG_DEBUG, RS_LOG_TEXT);
	out = capture_stderr(log_hostile);
	if (strchr(out, '\x1b') != NULL || strchr(out, '\a') != NULL ||
	    strchr(out, '\r') != NULL)
		fail_msg("a control character reached the log:\n%s", out);
	assert_non_null(strstr(out, " info raw \\x1b[2J\\x1b[H text  "
	    "level=error fake\\x07\n"));
	assert_non_null(strstr(out, " client=\"x route=999 level=error "
	    "\\x1b[31m\" positions=1\n"));
	/* Two calls, two lines. */
	n = 0;
	for (const char *p = out; (p = strchr(p, '\n')) != NULL; p++)
		n++;
	assert_int_equal(n, 2);
	free(out);
}

static void
test_json_lines(void **state)
{
	char *out;

	(void)state;
	rs_log_init(RS_LOG_DEBUG, RS_LOG_JSON);
	out = capture_stderr(log_hostile);
	assert_null(strchr(out, '\x1b'));
	assert_non_null(strstr(out, "\"msg\":\"raw \\u001b[2J"));
	assert_non_null(strstr(out, "client=\\\"x route=999 level=error "
	    "\\\\x1b[31m\\\" positions=1\"}\n"));
	free(out);
	rs_log_init(RS_LOG_INFO, RS_LOG_TEXT);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_long_values_are_cut_and_quoted),
		cmocka_unit_test(test_text_lines),
		cmocka_unit_test(test_json_lines),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
