/* test_dotenv.c - the godotenv parser (src/dotenv.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "routesim/dotenv.h"

struct seen {
	char text[1024];
	size_t n;
};

static int
collect(void *ud, const char *key, const char *value, unsigned line)
{
	struct seen *s = ud;

	s->n += (size_t)snprintf(s->text + s->n, sizeof(s->text) - s->n,
	    "%u:%s=[%s]\n", line, key, value);
	return 0;
}

static void
expect_parse(const char *in, const char *want)
{
	struct seen s = {"", 0};
	char err[128];

	if (rs_dotenv_parse(in, strlen(in), collect, &s, err, sizeof(err)) !=
	    0)
		fail_msg("unexpected error: %s", err);
	assert_string_equal(s.text, want);
}

static void
expect_error(const char *in, const char *want)
{
	struct seen s = {"", 0};
	char err[128] = "";

	assert_int_equal(rs_dotenv_parse(in, strlen(in), collect, &s, err,
	    sizeof(err)), -EINVAL);
	if (strstr(err, want) == NULL)
		fail_msg("error '%s' does not contain '%s'", err, want);
}

static void
test_original_env_file(void **state)
{
	(void)state;
	/* The original simulator's .env, as the course ships it. */
	expect_parse(
	    "KafkaReadTopic=route.new-direction\n"
	    "KafkaProduceTopic=route.new-position\n"
	    "KafkaBootstrapServers=host.docker.internal:9094\n"
	    "KafkaConsumerGroupId=simulator\n"
	    "security.protocol=\"\"\n"
	    "sasl.mechanisms=\"\"\n"
	    "sasl.username=\"\"\n"
	    "sasl.password=\"\"",
	    "1:KafkaReadTopic=[route.new-direction]\n"
	    "2:KafkaProduceTopic=[route.new-position]\n"
	    "3:KafkaBootstrapServers=[host.docker.internal:9094]\n"
	    "4:KafkaConsumerGroupId=[simulator]\n"
	    "5:security.protocol=[]\n"
	    "6:sasl.mechanisms=[]\n"
	    "7:sasl.username=[]\n"
	    "8:sasl.password=[]\n");
}

static void
test_godotenv_forms(void **state)
{
	(void)state;
	expect_parse(
	    "# comment\n"
	    "\n"
	    "export A=1\n"
	    "B = two words  # trailing comment\n"
	    "C='single $X \\n kept'\n"
	    "D=\"double \\\"q\\\" \\n \\\\ \\$\"\n"
	    "E: yaml style\r\n"
	    "F=a#b\n"
	    "G=\n"
	    "  H=indented\n"
	    "I=\"multi\nline\"\n"
	    "J=last",
	    "3:A=[1]\n"
	    "4:B=[two words]\n"
	    "5:C=[single $X \\n kept]\n"
	    "6:D=[double \"q\" \n \\ $]\n"
	    "7:E=[yaml style]\n"
	    "8:F=[a#b]\n"
	    "9:G=[]\n"
	    "10:H=[indented]\n"
	    "11:I=[multi\nline]\n"
	    "13:J=[last]\n");
	/* "export" alone is a variable named export. */
	expect_parse("export=1", "1:export=[1]\n");
}

static void
test_errors(void **state)
{
	(void)state;
	expect_error("A=1\nnot an assignment\n", "line 2: expected '='");
	expect_error("=1\n", "line 1: expected a variable name");
	expect_error("A=1\nB=\"open\n", "line 2: unterminated double quote");
	expect_error("A='open", "line 1: unterminated single quote");
	expect_error("A=\"x\" junk\n", "line 1: unexpected text");
	expect_error("9A=1\n", "line 1: expected a variable name");
}

static void
test_nul_and_callback_stop(void **state)
{
	static const char nul[] = "A=1\0\nB=2";
	struct seen s = {"", 0};
	char err[64];

	(void)state;
	assert_int_equal(rs_dotenv_parse(nul, sizeof(nul) - 1, collect, &s,
	    err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "NUL"));
	assert_int_equal(s.n, 0);
}

static int
stop_at_b(void *ud, const char *key, const char *value, unsigned line)
{
	(void)ud;
	(void)value;
	(void)line;
	return strcmp(key, "B") == 0 ? -E2BIG : 0;
}

static void
test_callback_error_returned(void **state)
{
	char err[64];

	(void)state;
	assert_int_equal(rs_dotenv_parse("A=1\nB=2\nC=3", 11, stop_at_b, NULL,
	    err, sizeof(err)), -E2BIG);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_original_env_file),
		cmocka_unit_test(test_godotenv_forms),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_nul_and_callback_stop),
		cmocka_unit_test(test_callback_error_returned),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
