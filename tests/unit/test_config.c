/* test_config.c - settings, sources and precedence (src/config.c). */
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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
	return rs_config_load(cfg, RS_PROG_SIMULATOR, argc, argv, env, err,
	    errlen);
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

/* Loads the NULL-terminated flags in ap with an empty environment; the
 * load must fail as a usage error, whose message is left in err. */
static void
load_must_fail(char *err, size_t errlen, va_list ap)
{
	char *argv[16] = {"routesim"}, *env[] = {NULL};
	struct rs_config cfg;
	int argc = 1;

	while ((argv[argc] = va_arg(ap, char *)) != NULL)
		argc++;
	assert_int_equal(rs_config_load(&cfg, RS_PROG_SIMULATOR, argc, argv,
	    env, err, errlen),
	    -EINVAL);
	rs_config_free(&cfg);
}

static void
expect_usage_error(const char *want, ...)
{
	char err[256] = "";
	va_list ap;

	va_start(ap, want);
	load_must_fail(err, sizeof(err), ap);
	va_end(ap);
	if (strstr(err, want) == NULL)
		fail_msg("error '%s' does not contain '%s'", err, want);
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
	expect_usage_error("--once is only valid", "--once", (char *)NULL);
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

/* A .env that names another .env: the name is ignored (with a warning),
 * and an error after it still names the file being read.  Under ASan this
 * was a use after free of the file's name: only the default ./.env could
 * be replaced by a lower source, so the test reads ./.env. */
static void
test_env_file_inside_dotenv(void **state)
{
	char *env[] = {NULL}, dir[] = "/tmp/routesim-test-dir-XXXXXX";
	char cwd[4096], err[256] = "";
	struct rs_config cfg;
	FILE *f;

	(void)state;
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_non_null(mkdtemp(dir));
	assert_int_equal(chdir(dir), 0);
	assert_non_null(f = fopen(".env", "w"));
	fputs("ROUTESIM_ENV_FILE=/elsewhere/.env\nROUTESIM_INTERVAL_MS=abc\n",
	    f);
	fclose(f);
	assert_int_equal(load(&cfg, env, err, sizeof(err), (char *)NULL),
	    -EINVAL);
	if (strstr(err, ".env:2: ROUTESIM_INTERVAL_MS (.env)") != err)
		fail_msg("error does not name .env line 2: %s", err);
	assert_string_equal(cfg.env_file, ".env");
	rs_config_free(&cfg);

	assert_non_null(f = fopen(".env", "w"));
	fputs("ROUTESIM_ENV_FILE=/elsewhere/.env\nKafkaReadTopic=t\n", f);
	fclose(f);
	assert_int_equal(load(&cfg, env, err, sizeof(err), (char *)NULL), 0);
	assert_string_equal(cfg.env_file, ".env");
	assert_string_equal(cfg.read_topic, "t");
	rs_config_free(&cfg);
	unlink(".env");
	assert_int_equal(chdir(cwd), 0);
	rmdir(dir);
}

/* Only a regular file (or a device such as /dev/null) is read as .env;
 * a FIFO is refused at once instead of blocking startup. */
static void
test_env_file_fifo(void **state)
{
	char *env[] = {NULL}, path[96], err[256] = "";
	struct rs_config cfg;

	(void)state;
	snprintf(path, sizeof(path), "%s.fifo", envfile);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(load(&cfg, env, err, sizeof(err), "--env-file", path,
	    (char *)NULL), -EINVAL);
	assert_non_null(strstr(err, "not a regular file"));
	rs_config_free(&cfg);
	unlink(path);
}

/* A secret is never echoed: not by a malformed -X, not by a bad value
 * from the environment or .env, not by --print-config. */
static void
expect_no_secret(const char *want, ...)
{
	char err[512] = "";
	va_list ap;

	va_start(ap, want);
	load_must_fail(err, sizeof(err), ap);
	va_end(ap);
	if (strstr(err, "hunter2") != NULL || strstr(err, want) == NULL)
		fail_msg("error '%s': shows the secret or lacks '%s'", err,
		    want);
}

static void
test_secrets_never_shown(void **state)
{
	char *env[] = {"ssl.key.password=hunter2", NULL}, *buf = NULL;
	struct rs_config cfg;
	char err[256];
	size_t len = 0;
	FILE *out;

	(void)state;
	expect_no_secret("-X sasl.password", "--env-file", "/dev/null", "-X",
	    "sasl.password:hunter2", (char *)NULL);
	expect_no_secret("-X sasl.password", "--env-file", "/dev/null", "-X",
	    "sasl.password hunter2", (char *)NULL);
	expect_no_secret("-X: expected", "--env-file", "/dev/null", "-X",
	    "=hunter2", (char *)NULL);
	expect_no_secret("-X: expected", "--env-file", "/dev/null", "-X",
	    ":hunter2", (char *)NULL);
	expect_no_secret("-X", "--env-file", "/dev/null", "-X",
	    "sasl.password\nhunter2", (char *)NULL);

	/* Secret properties other than sasl.password can come from the
	 * environment or .env too, so they need not be on the command line. */
	write_env("ssl.keystore.password=hunter2\n");
	assert_int_equal(load(&cfg, env, err, sizeof(err), "--env-file",
	    envfile, (char *)NULL), 0);
	assert_string_equal(prop(&cfg, "ssl.key.password"), "hunter2");
	assert_string_equal(prop(&cfg, "ssl.keystore.password"), "hunter2");
	out = open_memstream(&buf, &len);
	rs_config_print(&cfg, out);
	fclose(out);
	if (strstr(buf, "hunter2") != NULL)
		fail_msg("--print-config shows a secret:\n%s", buf);
	free(buf);
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
	    "/dev/null", "--demo", "--once", "2", "3", (char *)NULL), 0);
	assert_int_equal(cfg.mode, RS_MODE_DEMO);
	assert_true(cfg.once);
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
	rs_config_usage(out, RS_PROG_SIMULATOR);
	fclose(out);
	assert_non_null(strstr(buf, "--position-order"));
	assert_non_null(strstr(buf, "KafkaConsumerGroupId"));
	assert_non_null(strstr(buf, "sasl.password"));
	free(buf);
}

/* Reads the file at $RS_SOURCE_DIR/name into a heap string; NULL when
 * there is no such file (the image's build context has no README). */
static char *
read_source(const char *name)
{
	const char *dir = getenv("RS_SOURCE_DIR");
	char path[4096], *buf = NULL;
	size_t len = 0, n;
	char chunk[4096];
	FILE *f, *out;

	assert_non_null(dir);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "r")) == NULL)
		return NULL;
	out = open_memstream(&buf, &len);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		fwrite(chunk, 1, n, out);
	fclose(out);
	fclose(f);
	return buf;
}

/* Copies the i-th `...` span of cell (i from 0) into out; false if none. */
static bool
code_span(const char *cell, size_t cell_len, unsigned i, char *out,
    size_t outlen)
{
	const char *p = cell, *end = cell + cell_len;

	for (;;) {
		const char *open = memchr(p, '`', (size_t)(end - p)), *close;

		if (open == NULL)
			return false;
		close = memchr(open + 1, '`', (size_t)(end - open - 1));
		if (close == NULL)
			return false;
		if (i-- == 0) {
			snprintf(out, outlen, "%.*s", (int)(close - open - 1),
			    open + 1);
			return true;
		}
		p = close + 1;
	}
}

/* Checks one row of the README's settings table (flags, environment
 * name, default: the cells c1..c3 end) against --help; returns false when
 * it does not match, with a message. */
static bool
help_has_row(const char *help, const char *row, const char *c1,
    const char *c2, const char *c3)
{
	char flags[64] = "", env[64] = "", def[64] = "", want[256];
	const char *at, *flag;

	if (!code_span(row, (size_t)(c1 - row), 0, flags, sizeof(flags)) ||
	    !code_span(c1, (size_t)(c2 - c1), 0, env, sizeof(env)) ||
	    (flag = strstr(flags, "--")) == NULL) {
		print_error("README row not understood: %.*s\n",
		    (int)(c3 - row), row);
		return false;
	}
	if (!code_span(c2, (size_t)(c3 - c2), 0, def, sizeof(def)))
		strcpy(def, "(none)");	/* "off" */
	/* "  -b, --bootstrap-servers HOSTS ..." then the env line. */
	snprintf(want, sizeof(want), "%s ", flag);
	if ((at = strstr(help, want)) == NULL) {
		print_error("--help lacks %s\n", flag);
		return false;
	}
	if (flags[1] != '-' && (at < help + 4 ||
	    strncmp(at - 4, flags, 4) != 0)) {
		print_error("--help: %s lacks its short form\n", flags);
		return false;
	}
	snprintf(want, sizeof(want), "\n  %*s   env %s, default %s\n", 40, "",
	    env, def);
	if ((at = strchr(at, '\n')) == NULL ||
	    strncmp(at, want, strlen(want)) != 0) {
		print_error("--help: %s should be followed by '%s'\n", flag,
		    want + 1);
		return false;
	}
	return true;
}

/* Every row of the README's settings table is in --help with the same
 * flag, environment name and default, and --help has no setting the
 * table lacks. */
/* The tracker takes the shared settings and its own, not routesim's. */
static void
test_tracker_settings(void **state)
{
	char *env[] = {"ROUTESIM_PROGRESS_TOPIC=p", "ROUTESIM_MAX_VEHICLES=5",
	    "KafkaReadTopic=r", NULL};
	char *argv[] = {"routesim-tracker", "--tiles", "https://t/{z}/{x}/{y}",
	    NULL, NULL};
	struct rs_config cfg;
	char err[256], *help = NULL;
	size_t len = 0;
	FILE *out;

	(void)state;
	assert_int_equal(rs_config_load(&cfg, RS_PROG_TRACKER, 3, argv, env,
	    err, sizeof(err)), 0);
	assert_null(cfg.progress_topic);	/* not the tracker's: unread */
	assert_int_equal(cfg.max_vehicles, 5);
	assert_int_equal(cfg.history, 1000);
	assert_string_equal(cfg.read_topic, "r");
	assert_string_equal(cfg.tiles, "https://t/{z}/{x}/{y}");
	rs_config_free(&cfg);

	argv[1] = "--progress-every";
	argv[2] = "3";
	assert_int_equal(rs_config_load(&cfg, RS_PROG_TRACKER, 3, argv, env,
	    err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "unknown flag --progress-every"));
	rs_config_free(&cfg);
	argv[1] = "--demo";
	assert_int_equal(rs_config_load(&cfg, RS_PROG_TRACKER, 2, argv, env,
	    err, sizeof(err)), -EINVAL);
	rs_config_free(&cfg);

	out = open_memstream(&help, &len);
	rs_config_usage(out, RS_PROG_TRACKER);
	fclose(out);
	assert_non_null(strstr(help, "--max-browsers"));
	assert_null(strstr(help, "--progress-topic"));
	assert_null(strstr(help, "--demo"));
	free(help);
}

static void
test_help_matches_readme(void **state)
{
	char *readme = read_source("README.md"), *help = NULL;
	const char *row;
	size_t len = 0;
	unsigned rows = 0, help_rows = 0, props = 0, help_props = 0;
	bool ok = true;
	FILE *out;

	(void)state;
	if (readme == NULL) {
		skip();	/* a source tree without the README */
		return;
	}
	out = open_memstream(&help, &len);
	rs_config_usage(out, RS_PROG_SIMULATOR);
	fclose(out);
	row = strstr(readme, "| flag | environment / .env | default |");
	if (row != NULL && (row = strchr(row, '\n')) != NULL)
		row = strchr(row + 1, '\n');	/* the | --- | line */
	if (row == NULL)
		fail_msg("README.md: no settings table");
	for (row = row ? row + 1 : ""; ok && *row == '|'; ) {
		const char *c1 = strchr(row + 1, '|'), *c2, *c3, *eol;
		char env[64], want[96];

		if (c1 == NULL || (c2 = strchr(c1 + 1, '|')) == NULL ||
		    (c3 = strchr(c2 + 1, '|')) == NULL ||
		    (eol = strchr(row, '\n')) == NULL || c3 > eol) {
			ok = false;
			break;
		}
		if (strncmp(row, "| `-X", 5) == 0) {
			/* librdkafka properties read from env / .env */
			for (unsigned i = 0; code_span(c1, (size_t)(c2 - c1), i,
			    env, sizeof(env)); i++, props++) {
				snprintf(want, sizeof(want), "\n  %s ", env);
				if (strstr(help, want) == NULL) {
					print_error("--help lacks property %s\n",
					    env);
					ok = false;
				}
			}
		} else {
			rows++;
			ok = help_has_row(help, row, c1, c2, c3);
		}
		row = eol + 1;
	}
	assert_true(ok);
	for (const char *p = help; (p = strstr(p, "   env ")) != NULL; p++)
		help_rows++;
	assert_int_equal(rows, help_rows);
	for (const char *p = strstr(help, "also read from the environment");
	    p != NULL && (p = strchr(p, '\n')) != NULL && p[1] == ' ';
	    p++)
		help_props++;
	assert_int_equal(props, help_props);
	free(help);
	free(readme);
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
		cmocka_unit_test(test_env_file_inside_dotenv),
		cmocka_unit_test(test_env_file_fifo),
		cmocka_unit_test(test_secrets_never_shown),
		cmocka_unit_test(test_tracker_settings),
		cmocka_unit_test(test_help_matches_readme),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
