/*
 * config.c - the three places settings come from: flags, the
 * environment and the .env file (the settings table is in
 * config_table.c, --help and --print-config in config_help.c).
 *
 * Every value is applied with its source; a value from a lower source never
 * overwrites one from a higher source, so flags, the environment and the
 * .env file can be read in any order (flags first, since --env-file names
 * the file).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config-int.h"
#include "routesim/array.h"
#include "routesim/dotenv.h"
#include "routesim/version.h"

#define ENV_FILE_MAX (1024 * 1024)

/* Options that select a mode rather than set a value. */
enum {
	OPT_X = 'X',
	OPT_HELP = 'h',
	OPT_VERSION = 'V',
	OPT_CHECK = 'n',
	OPT_PRINT = 1000,
	OPT_DEMO,
	OPT_ONCE,
	OPT_HEALTHCHECK,
	OPT_SETTING_BASE = 2000,
};

const char *const rs__source_names[] = {"default", ".env",
    "environment", "flag"};

/* How to name setting s in a message about a value from src. */
static void
setting_label(const struct rs__setting *s, enum rs_source src, char *buf,
    size_t len)
{
	if (src == RS_SRC_FLAG && s->flag != NULL)
		snprintf(buf, len, "--%s", s->flag);
	else
		snprintf(buf, len, "%s (%s)", s->env, rs__source_names[src]);
}

const char *
rs_position_order_name(enum rs_position_order order)
{
	return order == RS_ORDER_LNGLAT ? "lnglat" : "latlng";
}

static int
set_kafka_prop(struct rs_config *cfg, const char *name, const char *value,
    enum rs_source src)
{
	struct rs_kafka_prop *p, *grown;
	char *v;

	for (size_t i = 0; i < cfg->nkafka_props; i++) {
		p = &cfg->kafka_props[i];
		if (strcmp(p->name, name) != 0)
			continue;
		if (src < p->source)
			return 0;
		if ((v = strdup(value)) == NULL)
			return -ENOMEM;
		free(p->value);
		p->value = v;
		p->source = src;
		return 0;
	}
	grown = realloc(cfg->kafka_props,
	    (cfg->nkafka_props + 1) * sizeof(*grown));
	if (grown == NULL)
		return -ENOMEM;
	cfg->kafka_props = grown;
	p = &grown[cfg->nkafka_props];
	p->name = strdup(name);
	p->value = strdup(value);
	p->source = src;
	if (p->name == NULL || p->value == NULL) {
		free(p->name);
		free(p->value);
		return -ENOMEM;
	}
	cfg->nkafka_props++;
	return 0;
}

int
rs_config_kafka_default(struct rs_config *cfg, const char *name,
    const char *value)
{
	return set_kafka_prop(cfg, name, value, RS_SRC_DEFAULT);
}

static int
parse_uint(const char *v, unsigned min, unsigned max, unsigned *out)
{
	unsigned long n;
	char *end;

	if (*v < '0' || *v > '9')
		return -EINVAL;
	errno = 0;
	n = strtoul(v, &end, 10);
	if (errno != 0 || *end != '\0' || n < min || n > max)
		return -EINVAL;
	*out = (unsigned)n;
	return 0;
}

/* Sets an unsigned setting (T_MS, T_UINT) within its bounds. */
static int
set_uint(struct rs_config *cfg, const struct rs__setting *s,
    const char *label, const char *value, char *err, size_t errlen)
{
	unsigned *field = (unsigned *)(void *)((char *)cfg + s->off);

	if (parse_uint(value, s->min, s->max, field) == 0)
		return 0;
	return rs_errf(err, errlen, -EINVAL, "%s: invalid value '%s': "
	    "expected %s from %u to %u", label, value,
	    s->type == T_MS ? "milliseconds" : "a whole number", s->min,
	    s->max);
}

/* Sets a setting that takes one of a few words (T_BOOL, T_ORDER,
 * T_LOGLEVEL, T_LOGFORMAT).  Returns 0, or -EINVAL with the words it
 * takes in *expected. */
static int
set_word(struct rs_config *cfg, const struct rs__setting *s,
    const char *value, const char **expected)
{
	bool *flag = (bool *)(void *)((char *)cfg + s->off);

	switch (s->type) {
	case T_BOOL:
		*expected = "true or false";
		if (strcmp(value, "true") == 0 || strcmp(value, "1") == 0)
			*flag = true;
		else if (strcmp(value, "false") == 0 || strcmp(value, "0") == 0)
			*flag = false;
		else
			return -EINVAL;
		return 0;
	case T_ORDER:
		*expected = "latlng or lnglat";
		if (strcmp(value, "latlng") == 0)
			cfg->position_order = RS_ORDER_LATLNG;
		else if (strcmp(value, "lnglat") == 0)
			cfg->position_order = RS_ORDER_LNGLAT;
		else
			return -EINVAL;
		return 0;
	case T_LOGLEVEL:
		*expected = "error, warn, info or debug";
		return rs_log_level_parse(value, &cfg->log_level);
	case T_LOGFORMAT:
		*expected = "text or json";
		return rs_log_format_parse(value, &cfg->log_format);
	default:
		*expected = "a value";
		return -EINVAL;
	}
}

static int
apply(struct rs_config *cfg, size_t idx, const char *value,
    enum rs_source src, char *err, size_t errlen)
{
	const struct rs__setting *s = &rs__settings[idx];
	const char *expected;
	char label[96];
	char **str;
	int rc = 0;

	if (src < cfg->sources[idx])
		return 0;
	setting_label(s, src, label, sizeof(label));
	if (*value == '\0')
		return rs_errf(err, errlen, -EINVAL, "%s: empty value", label);

	switch (s->type) {
	case T_STR:
		str = (char **)(void *)((char *)cfg + s->off);
		free(*str);
		if ((*str = strdup(value)) == NULL)
			return -ENOMEM;
		break;
	case T_MS:
	case T_UINT:
		rc = set_uint(cfg, s, label, value, err, errlen);
		break;
	case T_KAFKA:
		rc = set_kafka_prop(cfg, s->env, value, src);
		break;
	default:
		if (set_word(cfg, s, value, &expected) != 0)
			return rs_errf(err, errlen, -EINVAL, "%s: invalid "
			    "value '%s': expected %s", label, value,
			    expected);
		break;
	}
	if (rc == 0)
		cfg->sources[idx] = src;
	return rc;
}

static int
find_env(const struct rs_config *cfg, const char *name, size_t len)
{
	for (size_t i = 0; i < rs__nsettings; i++)
		if (rs__config_takes(cfg, i) &&
		    strlen(rs__settings[i].env) == len &&
		    strncmp(rs__settings[i].env, name, len) == 0)
			return (int)i;
	return -1;
}

static int
load_environment(struct rs_config *cfg, char *const envp[], char *err,
    size_t errlen)
{
	for (; envp != NULL && *envp != NULL; envp++) {
		const char *eq = strchr(*envp, '=');
		int idx, rc;

		if (eq == NULL || eq[1] == '\0')
			continue;
		if ((idx = find_env(cfg, *envp, (size_t)(eq - *envp))) < 0)
			continue;
		if ((rc = apply(cfg, (size_t)idx, eq + 1, RS_SRC_ENV, err,
		    errlen)) != 0)
			return rc;
	}
	return 0;
}

struct dotenv_ctx {
	struct rs_config *cfg;
	const char *path;
	char *err;
	size_t errlen;
};

static int
dotenv_cb(void *ud, const char *key, const char *value, unsigned line)
{
	struct dotenv_ctx *ctx = ud;
	char inner[256];
	int idx, rc;

	if (*value == '\0')
		return 0;
	if ((idx = find_env(ctx->cfg, key, strlen(key))) < 0) {
		log_debug("%s:%u: ignoring unknown name %s", ctx->path, line,
		    key);
		return 0;
	}
	/* The file being read cannot name another one: it is chosen by
	 * --env-file or the environment before it is opened. */
	if (rs__settings[idx].type == T_STR &&
	    rs__settings[idx].off == offsetof(struct rs_config, env_file)) {
		log_warnx("%s:%u: %s ignored: only --env-file or the "
		    "environment names the file to read", ctx->path, line, key);
		return 0;
	}
	rc = apply(ctx->cfg, (size_t)idx, value, RS_SRC_DOTENV, inner,
	    sizeof(inner));
	if (rc == -EINVAL)
		rs_errf(ctx->err, ctx->errlen, -EINVAL, "%s:%u: %s", ctx->path,
		    line, inner);
	return rc;
}

/*
 * Opens the .env file without blocking: a FIFO or socket in its place
 * must not hang startup.  Regular files are read, and character devices
 * too (--env-file /dev/null).  NULL with *rc set to 0 (a missing default
 * file) or to an error.
 */
static FILE *
open_env_file(const char *path, bool explicit, char *err, size_t errlen,
    int *rc)
{
	struct stat st;
	FILE *f;
	int fd;

	*rc = 0;
	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) < 0) {
		if (errno != ENOENT || explicit)
			*rc = rs_errf(err, errlen, -EINVAL, "%s: %s", path,
			    strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) != 0 || !(S_ISREG(st.st_mode) ||
	    S_ISCHR(st.st_mode))) {
		*rc = rs_errf(err, errlen, -EINVAL, "%s: not a regular file",
		    path);
		close(fd);
		return NULL;
	}
	if ((f = fdopen(fd, "rb")) == NULL) {
		*rc = -errno;
		close(fd);
	}
	return f;
}

static int
load_dotenv(struct rs_config *cfg, bool explicit, char *err, size_t errlen)
{
	struct dotenv_ctx ctx = {cfg, cfg->env_file, err, errlen};
	char *buf = NULL, perr[200];
	size_t len;
	FILE *f;
	int rc;

	if ((f = open_env_file(cfg->env_file, explicit, err, errlen,
	    &rc)) == NULL)
		return rc;
	if ((buf = malloc(ENV_FILE_MAX + 1)) == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	len = fread(buf, 1, ENV_FILE_MAX + 1, f);
	if (ferror(f)) {
		rc = rs_errf(err, errlen, -EINVAL, "%s: read error",
		    cfg->env_file);
		goto out;
	}
	if (len > ENV_FILE_MAX) {
		rc = rs_errf(err, errlen, -EINVAL, "%s: larger than %d bytes",
		    cfg->env_file, ENV_FILE_MAX);
		goto out;
	}
	rc = rs_dotenv_parse(buf, len, dotenv_cb, &ctx, perr, sizeof(perr));
	if (rc == -EINVAL && perr[0] != '\0')
		rs_errf(err, errlen, -EINVAL, "%s: %s", cfg->env_file, perr);
out:
	free(buf);
	fclose(f);
	return rc;
}

/*
 * Applies "-X name=value".  A malformed argument is reported by the name
 * it starts with, never in full: what follows may be a password typed
 * with ':' for '='.
 */
static int
apply_x(struct rs_config *cfg, const char *arg, char *err, size_t errlen)
{
	const char *eq = strchr(arg, '=');
	size_t n = strspn(arg, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-");
	char name[256];

	if (eq == NULL || eq != arg + n || n == 0 || n >= sizeof(name)) {
		if (n == 0 || n >= sizeof(name))
			return rs_errf(err, errlen, -EINVAL, "-X: expected "
			    "property=value (argument not shown)");
		if (arg[n] == '\0')
			return rs_errf(err, errlen, -EINVAL, "-X %s: expected "
			    "property=value", arg);
		return rs_errf(err, errlen, -EINVAL, "-X %.*s...: expected "
		    "property=value (the rest is not shown)", (int)n, arg);
	}
	memcpy(name, arg, n);
	name[n] = '\0';
	if (eq[1] == '\0')
		return rs_errf(err, errlen, -EINVAL, "-X %s: empty value",
		    name);
	return set_kafka_prop(cfg, name, eq + 1, RS_SRC_FLAG);
}

/* The long options that select a mode (with -h, -V and -n). */
static const struct option mode_options[] = {
	{"help", no_argument, NULL, OPT_HELP},
	{"version", no_argument, NULL, OPT_VERSION},
	{"check", no_argument, NULL, OPT_CHECK},
	{"print-config", no_argument, NULL, OPT_PRINT},
	{"demo", no_argument, NULL, OPT_DEMO},
	{"once", no_argument, NULL, OPT_ONCE},
	{"healthcheck", no_argument, NULL, OPT_HEALTHCHECK},
};

/* getopt_long()'s long options (ending with a zero entry) and short
 * options, from the settings the program takes and the mode options. */
static void
build_options(const struct rs_config *cfg, struct option *opts,
    char *shorts)
{
	size_t n = 0, ns = strlen(shorts);

	for (size_t i = 0; i < rs__nsettings; i++) {
		if (rs__settings[i].flag == NULL || !rs__config_takes(cfg, i))
			continue;
		opts[n++] = (struct option){rs__settings[i].flag,
		    required_argument, NULL, OPT_SETTING_BASE + (int)i};
		if (rs__settings[i].shortopt != 0) {
			shorts[ns++] = (char)rs__settings[i].shortopt;
			shorts[ns++] = ':';
		}
	}
	shorts[ns] = '\0';
	memcpy(&opts[n], mode_options, sizeof(mode_options));
	n += RS_NELEM(mode_options);
	opts[n] = (struct option){NULL, 0, NULL, 0};
}

/* Takes option c when it selects a mode; false for any other. */
static bool
take_mode(struct rs_config *cfg, int c)
{
	static const struct {
		int opt;
		enum rs_mode mode;
	} modes[] = {
		{OPT_HELP, RS_MODE_HELP},
		{OPT_VERSION, RS_MODE_VERSION},
		{OPT_CHECK, RS_MODE_CHECK},
		{OPT_PRINT, RS_MODE_PRINT_CONFIG},
		{OPT_DEMO, RS_MODE_DEMO},
		{OPT_HEALTHCHECK, RS_MODE_HEALTHCHECK},
	};

	if (c == OPT_ONCE) {
		cfg->once = true;
		return true;
	}
	for (size_t i = 0; i < RS_NELEM(modes); i++)
		if (modes[i].opt == c) {
			cfg->mode = modes[i].mode;
			return true;
		}
	return false;
}

/* The setting getopt_long() returned c for; rs__nsettings for none. */
static size_t
setting_of(int c)
{
	size_t idx;

	if (c >= OPT_SETTING_BASE)
		return (size_t)(c - OPT_SETTING_BASE);
	for (idx = 0; idx < rs__nsettings; idx++)
		if (rs__settings[idx].shortopt == c)
			break;
	return idx;
}

/* What follows the flags: route names with --demo, nothing otherwise;
 * and the flags that only go with a mode. */
static int
check_operands(struct rs_config *cfg, int argc, char *const argv[],
    char *err, size_t errlen)
{
	if (optind < argc) {
		if (cfg->mode != RS_MODE_DEMO)
			return rs_errf(err, errlen, -EINVAL,
			    "unexpected argument '%s' "
			    "(route names are only taken with --demo)",
			    argv[optind]);
		cfg->demo_routes = (const char *const *)&argv[optind];
		cfg->ndemo_routes = (size_t)(argc - optind);
	}
	if (cfg->once && cfg->mode != RS_MODE_DEMO)
		return rs_errf(err, errlen, -EINVAL,
		    "--once is only valid with --demo");
	if (cfg->program != RS_PROG_SIMULATOR && cfg->mode == RS_MODE_DEMO)
		return rs_errf(err, errlen, -EINVAL, "unknown flag --demo");
	return 0;
}

static int
parse_flags(struct rs_config *cfg, int argc, char *const argv[], char *err,
    size_t errlen)
{
	struct option opts[RS_NSETTINGS_MAX + RS_NELEM(mode_options) + 1];
	char shorts[64] = ":X:hVn";
	size_t idx;
	int c, rc;

	build_options(cfg, opts, shorts);
	optind = 0;	/* glibc: full reinitialisation, for tests */
	opterr = 0;
	while ((c = getopt_long(argc, argv, shorts, opts, NULL)) != -1) {
		if (take_mode(cfg, c))
			continue;
		if (c == OPT_X) {
			if ((rc = apply_x(cfg, optarg, err, errlen)) != 0)
				return rc;
			continue;
		}
		if (c == ':')
			return rs_errf(err, errlen, -EINVAL,
			    "%s: missing value", argv[optind - 1]);
		if (c == '?' && optopt != 0)
			return rs_errf(err, errlen, -EINVAL,
			    "unknown flag -%c", optopt);
		if (c == '?')
			return rs_errf(err, errlen, -EINVAL, "unknown flag %s",
			    argv[optind - 1]);
		if ((idx = setting_of(c)) >= rs__nsettings)
			return rs_errf(err, errlen, -EINVAL, "unknown flag -%c",
			    c);
		if ((rc = apply(cfg, idx, optarg, RS_SRC_FLAG, err,
		    errlen)) != 0)
			return rc;
	}
	return check_operands(cfg, argc, argv, err, errlen);
}

static enum rs_source
env_file_source(const struct rs_config *cfg)
{
	for (size_t i = 0; i < rs__nsettings; i++)
		if (rs__settings[i].type == T_STR &&
		    rs__settings[i].off == offsetof(struct rs_config, env_file))
			return cfg->sources[i];
	return RS_SRC_DEFAULT;
}

int
rs_config_load(struct rs_config *cfg, enum rs_program program, int argc,
    char *const argv[], char *const envp[], char *err, size_t errlen)
{
	int rc;

	memset(cfg, 0, sizeof(*cfg));
	cfg->program = program;
	for (size_t i = 0; i < rs__nsettings; i++) {
		if (rs__settings[i].def == NULL || !rs__config_takes(cfg, i))
			continue;
		if ((rc = apply(cfg, i, rs__settings[i].def, RS_SRC_DEFAULT,
		    err,
		    errlen)) != 0)
			return rc;
	}
	if ((rc = parse_flags(cfg, argc, argv, err, errlen)) != 0)
		return rc;
	if ((rc = load_environment(cfg, envp, err, errlen)) != 0)
		return rc;
	if (cfg->mode == RS_MODE_HELP || cfg->mode == RS_MODE_VERSION)
		return 0;
	/* A file named by flag or environment must exist; ./.env need not. */
	return load_dotenv(cfg, env_file_source(cfg) >= RS_SRC_ENV, err,
	    errlen);
}

void
rs_config_free(struct rs_config *cfg)
{
	char *base = (char *)cfg;

	for (size_t i = 0; i < rs__nsettings; i++) {
		if (rs__settings[i].type != T_STR)
			continue;
		free(*(char **)(void *)(base + rs__settings[i].off));
	}
	for (size_t i = 0; i < cfg->nkafka_props; i++) {
		free(cfg->kafka_props[i].name);
		free(cfg->kafka_props[i].value);
	}
	free(cfg->kafka_props);
	memset(cfg, 0, sizeof(*cfg));
}
