/* test_config.c - settings, sources and precedence (src/config.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "routesim/config.h"
#include "routesim/kafka.h"

static char envfile[64];

static int
setup(void **state)
{
	(void)state;
	strcpy(envfile, "/tmp/routesim-test-env-XXXXXX");
	return mkstemp(envfile) < 0 ? -1 : 0;
}

static int
teardown(void **state)
{
	(void)state;
	unlink(envfile);
	return 0;
}

static void
write_env(const char *text)
{
	FILE *f = fopen(envfile, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* Loads with argv (NULL-terminated list after the program name). */
static int
load(struct rs_config *cfg, char *const *env, char *err, size_t errlen, ...)
{
	char *argv[32] = {"routesim"};
	int argc = 1;
	va_list ap;

	va_start(ap, errlen);
	while ((argv[argc] = va_arg(ap, char *)) != NULL)
		argc++;
	va_end(ap);
	return rs_config_load(cfg, argc, argv, env, err, errlen);
}

static const char *
prop(const struct rs_config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->nkafka_props; i++)
		if (strcmp(cfg->kafka_props[i].name, name) == 0)
			return cfg->kafka_props[i].value;
	return NULL;
}

static void
test_defaults(void **state)
{
	char *env[] = {NULL};
	struct rs_config cfg;
	char err[256];

	(void)state;
	assert_int_equal(load(&cfg, env, err, sizeof(err), "--env-file",
	    "/dev/null", (char *)NULL), 0);
	assert_string_equal(cfg.bootstrap_servers, "localhost:9092");
	assert_string_equal(cfg.read_topic, "route.new-direction");
	assert_string_equal(cfg.produce_topic, "route.new-position");
	assert_string_equal(cfg.group_id, "simulator");
	assert_string_equal(cfg.destinations, "./destinations");
	assert_int_equal(cfg.interval_ms, 500);
	assert_int_equal(cfg.position_order, RS_ORDER_LNGLAT);
	assert_int_equal(cfg.mode, RS_MODE_RUN);
	assert_int_equal(cfg.nkafka_props, 0);
	rs_config_free(&cfg);
}

static void
test_precedence(void **state)
{
	char *env[] = {"KafkaReadTopic=from-env", "KafkaProduceTopic=from-env",
	    "ROUTESIM_INTERVAL_MS=250", "sasl.username=env-user",
	    "UNRELATED=1", NULL};
	struct rs_config cfg;
	char err[256];

	(void)state;
	write_env("KafkaReadTopic=from-dotenv\n"
	    "KafkaConsumerGroupId=from-dotenv\n"
	    "KafkaProduceTopic=from-dotenv\n"
	    "sasl.username=dotenv-user\n"
	    "sasl.password=dotenv-secret\n"
	    "SomethingElse=ignored\n");
	assert_int_equal(load(&cfg, env, err, sizeof(err), "--env-file",
	    envfile, "--produce-topic", "from-flag", (char *)NULL), 0);
	assert_string_equal(cfg.produce_topic, "from-flag");	/* flag */
	assert_string_equal(cfg.read_topic, "from-env");	/* env */
	assert_string_equal(cfg.group_id, "from-dotenv");	/* .env */
	assert_string_equal(cfg.bootstrap_servers, "localhost:9092");
	assert_int_equal(cfg.interval_ms, 250);
	assert_int_equal(cfg.nkafka_props, 2);
	assert_string_equal(prop(&cfg, "sasl.username"), "env-user");
	assert_string_equal(prop(&cfg, "sasl.password"), "dotenv-secret");
	rs_config_free(&cfg);
}

static void
test_empty_values_are_unset(void **state)
{
	char *env[] = {"KafkaBootstrapServers=", NULL};
	struct rs_config cfg;
	char err[256];

	(void)state;
	/* The original's .env leaves SASL settings as "". */
	write_env("security.protocol=\"\"\nsasl.mechanisms=\"\"\n"
	    "sasl.username=\"\"\nsasl.password=\"\"\nKafkaReadTopic=\n");
	assert_int_equal(load(&cfg, env, err, sizeof(err), "--env-file",
	    envfile, (char *)NULL), 0);
	assert_int_equal(cfg.nkafka_props, 0);
	assert_string_equal(cfg.bootstrap_servers, "localhost:9092");
	assert_string_equal(cfg.read_topic, "route.new-direction");
	assert_int_equal(rs_kafka_check_config(&cfg, err, sizeof(err)), 0);
	rs_config_free(&cfg);
}

static void
test_x_passthrough(void **state)
{
	char *env[] = {"security.protocol=SASL_SSL", NULL};
	struct rs_config cfg;
	char err[256];

	(void)state;
	assert_int_equal(load(&cfg, env, err, sizeof(err), "--env-file",
	    "/dev/null", "-X", "linger.ms=20", "-X", "linger.ms=30",
	    "-X", "security.protocol=plaintext",
	    "-X", "auto.offset.reset=latest", (char *)NULL), 0);
	assert_int_equal(cfg.nkafka_props, 3);
	/* -X beats the environment; the last -X of a name wins. */
	assert_string_equal(prop(&cfg, "security.protocol"), "plaintext");
	assert_string_equal(prop(&cfg, "linger.ms"), "30");
	assert_string_equal(prop(&cfg, "auto.offset.reset"), "latest");
	/* A producer property and a consumer property both validate. */
	assert_int_equal(rs_kafka_check_config(&cfg, err, sizeof(err)), 0);
	rs_config_free(&cfg);

	assert_int_equal(load(&cfg, env, err, sizeof(err), "--env-file",
	    "/dev/null", "-X", "no.such.property=1", (char *)NULL), 0);
	assert_int_equal(rs_kafka_check_config(&cfg, err, sizeof(err)),
	    -EINVAL);
	assert_non_null(strstr(err, "no.such.property"));
	rs_config_free(&cfg);

	assert_int_equal(load(&cfg, env, err, sizeof(err), "--env-file",
	    "/dev/null", "-X", "linger.ms=banana", (char *)NULL), 0);
	assert_int_equal(rs_kafka_check_config(&cfg, err, sizeof(err)),
	    -EINVAL);
	assert_non_null(strstr(err, "linger.ms"));
	rs_config_free(&cfg);
}

static void
expect_usage_error(const char *want, ...)
{
	char *argv[16] = {"routesim"}, *env[] = {NULL}, err[256] = "";
	struct rs_config cfg;
	int argc = 1;
	va_list ap;

	va_start(ap, want);
	while ((argv[argc] = va_arg(ap, char *)) != NULL)
		argc++;
	va_end(ap);
	assert_int_equal(rs_config_load(&cfg, argc, argv, env, err,
	    sizeof(err)), -EINVAL);
	if (strstr(err, want) == NULL)
		fail_msg("error '%s' does not contain '%s'", err, want);
	rs_config_free(&cfg);
}

static void
test_invalid_values_name_the_setting(void **state)
{
	(void)state;
	expect_usage_error("--interval", "--interval", "0", (char *)NULL);
	expect_usage_error("--interval", "--interval", "12x", (char *)NULL);
	expect_usage_error("--interval", "-i", "-5", (char *)NULL);
	expect_usage_error("--position-order", "--position-order", "xy",
	    (char *)NULL);
	expect_usage_error("--log-level", "--log-level", "loud", (char *)NULL);
	expect_usage_error("unknown flag --nope", "--nope", (char *)NULL);
	expect_usage_error("missing value", "--interval", (char *)NULL);
	expect_usage_error("-X foo", "-X", "foo", (char *)NULL);
	expect_usage_error("unexpected argument", "stray", (char *)NULL);
	expect_usage_error("--serve is only valid", "--serve", (char *)NULL);
	expect_usage_error("/nonexistent/.env", "--env-file",
	    "/nonexistent/.env", (char *)NULL);
}

static void
test_invalid_env_and_dotenv(void **state)
{
	char *env[] = {"ROUTESIM_INTERVAL_MS=soon", NULL};
	char *ok_env[] = {NULL};
	struct rs_config cfg;
	char err[256];

	(void)state;
	assert_int_equal(load(&cfg, env, err, sizeof(err), "--env-file",
	    "/dev/null", (char *)NULL), -EINVAL);
	assert_non_null(strstr(err, "ROUTESIM_INTERVAL_MS (environment)"));
	rs_config_free(&cfg);

	write_env("A=1\nROUTESIM_POSITION_ORDER=sideways\n");
	assert_int_equal(load(&cfg, ok_env, err, sizeof(err), "--env-file",
	    envfile, (char *)NULL), -EINVAL);
	assert_non_null(strstr(err, ":2: ROUTESIM_POSITION_ORDER (.env)"));
	rs_config_free(&cfg);

	write_env("A=1\nbroken line\n");
	assert_int_equal(load(&cfg, ok_env, err, sizeof(err), "--env-file",
	    envfile, (char *)NULL), -EINVAL);
	assert_non_null(strstr(err, "line 2"));
	rs_config_free(&cfg);
}

static void
test_modes_and_print(void **state)
{
	char *env[] = {NULL}, *buf = NULL;
	struct rs_config cfg;
	char err[256];
	size_t len = 0;
	FILE *out;

	(void)state;
	assert_int_equal(load(&cfg, env, err, sizeof(err), "--env-file",
	    "/dev/null", "--demo", "--serve", "2", "3", (char *)NULL), 0);
	assert_int_equal(cfg.mode, RS_MODE_DEMO);
	assert_true(cfg.serve);
	assert_int_equal(cfg.ndemo_routes, 2);
	assert_string_equal(cfg.demo_routes[1], "3");
	rs_config_free(&cfg);

	assert_int_equal(load(&cfg, env, err, sizeof(err), "--env-file",
	    "/dev/null", "--print-config", "-X", "sasl.password=hunter2",
	    "-X", "ssl.key.password=k", "-b", "broker:1", (char *)NULL), 0);
	out = open_memstream(&buf, &len);
	rs_config_print(&cfg, out);
	fclose(out);
	assert_null(strstr(buf, "hunter2"));
	assert_non_null(strstr(buf, "sasl.password"));
	assert_non_null(strstr(buf, "********"));
	assert_non_null(strstr(buf, "broker:1"));
	assert_non_null(strstr(buf, "KafkaBootstrapServers"));
	free(buf);
	rs_config_free(&cfg);

	/* --help lists every flag from the one table. */
	out = open_memstream(&buf, &len);
	rs_config_usage(out, "routesim");
	fclose(out);
	assert_non_null(strstr(buf, "--position-order"));
	assert_non_null(strstr(buf, "KafkaConsumerGroupId"));
	assert_non_null(strstr(buf, "sasl.password"));
	free(buf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_precedence),
		cmocka_unit_test(test_empty_values_are_unset),
		cmocka_unit_test(test_x_passthrough),
		cmocka_unit_test(test_invalid_values_name_the_setting),
		cmocka_unit_test(test_invalid_env_and_dotenv),
		cmocka_unit_test(test_modes_and_print),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
