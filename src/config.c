/*
 * config.c - the settings table and the three places settings come from
 * (--help and --print-config are in config_help.c).
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

#define F(field) offsetof(struct rs_config, field)

const struct rs__setting rs__settings[] = {
	{"bootstrap-servers", 'b', "KafkaBootstrapServers", "HOSTS", T_STR,
	    F(bootstrap_servers), "localhost:9092", 0, 0,
	    "Kafka brokers, host:port[,host:port...]", 0},
	{"read-topic", 0, "KafkaReadTopic", "TOPIC", T_STR, F(read_topic),
	    "route.new-direction", 0, 0, "topic of delivery requests", 0},
	{"produce-topic", 0, "KafkaProduceTopic", "TOPIC", T_STR,
	    F(produce_topic), "route.new-position", 0, 0,
	    "topic of positions", 0},
	{"group-id", 'G', "KafkaConsumerGroupId", "GROUP", T_STR, F(group_id),
	    "simulator", 0, 0, "consumer group of the request topic", 0},
	{"destinations", 'd', "ROUTESIM_DESTINATIONS", "DIR", T_STR,
	    F(destinations), "./destinations", 0, 0,
	    "folder of route files <routeId>.txt", 0},
	{"interval", 'i', "ROUTESIM_INTERVAL_MS", "MS", T_MS, F(interval_ms),
	    "500", 1, 3600000, "time between two positions of a delivery", 0},
	{"position-order", 0, "ROUTESIM_POSITION_ORDER", "latlng|lnglat",
	    T_ORDER, F(position_order), "lnglat", 0, 0,
	    "order of the pair in \"position\" (see README)", 0},
	{"shutdown-timeout", 0, "ROUTESIM_SHUTDOWN_TIMEOUT_MS", "MS", T_MS,
	    F(shutdown_timeout_ms), "10000", 0, 3600000,
	    "on SIGTERM, how long to wait for queued positions", 0},
	{"http-listen", 0, "ROUTESIM_HTTP_LISTEN", "HOST:PORT", T_STR,
	    F(http_listen), NULL, 0, 0,
	    "serve /metrics, /healthz and /readyz (off by default)", 0},
	{"progress-topic", 0, "ROUTESIM_PROGRESS_TOPIC", "TOPIC", T_STR,
	    F(progress_topic), "routesim.progress", 0, 0,
	    "compacted topic of delivery progress, partitioned like the "
	    "request topic", RS_PROG_SIMULATOR},
	{"progress-every", 0, "ROUTESIM_PROGRESS_EVERY", "N", T_UINT,
	    F(progress_every), "10", 1, 1000000,
	    "record a delivery's progress every N acknowledged positions",
	    RS_PROG_SIMULATOR},
	{"max-deliveries", 0, "ROUTESIM_MAX_DELIVERIES", "N", T_UINT,
	    F(max_deliveries), "200000", 1, 100000000,
	    "at N deliveries at once, stop reading requests until some end",
	    RS_PROG_SIMULATOR},
	{"max-request-age", 0, "ROUTESIM_MAX_REQUEST_AGE_MS", "MS", T_MS,
	    F(max_request_age_ms), "3600000", 0, 2000000000,
	    "skip requests older than this (0: never)", RS_PROG_SIMULATOR},
	{"position-metadata", 0, "ROUTESIM_POSITION_METADATA", "true|false",
	    T_BOOL, F(position_metadata), "false", 0, 0,
	    "add \"seq\" and \"timestamp\" to each position",
	    RS_PROG_SIMULATOR},
	{"tiles", 0, "ROUTESIM_TILES", "URL", T_STR, F(tiles), NULL, 0, 0,
	    "map tiles, a {z}/{x}/{y} URL template (none: plain background)",
	    RS_PROG_TRACKER},
	{"tiles-attribution", 0, "ROUTESIM_TILES_ATTRIBUTION", "TEXT", T_STR,
	    F(tiles_attribution), NULL, 0, 0,
	    "attribution shown with the tiles (their licence requires it)",
	    RS_PROG_TRACKER},
	{"history", 0, "ROUTESIM_TRACKER_HISTORY", "N", T_UINT, F(history),
	    "1000", 0, 10000000,
	    "at start, read the newest N messages of each partition",
	    RS_PROG_TRACKER},
	{"max-vehicles", 0, "ROUTESIM_MAX_VEHICLES", "N", T_UINT,
	    F(max_vehicles), "200000", 1, 100000000,
	    "vehicles tracked at once (the least recently moved go first)",
	    RS_PROG_TRACKER},
	{"max-browsers", 0, "ROUTESIM_MAX_BROWSERS", "N", T_UINT,
	    F(max_browsers), "256", 1, 100000,
	    "browsers connected at once (more are refused)", RS_PROG_TRACKER},
	{"log-level", 0, "ROUTESIM_LOG_LEVEL", "error|warn|info|debug",
	    T_LOGLEVEL, F(log_level), "info", 0, 0,
	    "least severe level logged", 0},
	{"log-format", 0, "ROUTESIM_LOG_FORMAT", "text|json", T_LOGFORMAT,
	    F(log_format), "text", 0, 0, "log line format", 0},
	{"env-file", 0, "ROUTESIM_ENV_FILE", "FILE", T_STR, F(env_file),
	    ".env", 0, 0, "godotenv file read at startup (missing is fine)", 0},
	{NULL, 0, "security.protocol", NULL, T_KAFKA, 0, NULL, 0, 0,
	    "librdkafka security.protocol (e.g. SASL_SSL)", 0},
	{NULL, 0, "sasl.mechanisms", NULL, T_KAFKA, 0, NULL, 0, 0,
	    "librdkafka sasl.mechanisms (e.g. PLAIN)", 0},
	{NULL, 0, "sasl.username", NULL, T_KAFKA, 0, NULL, 0, 0,
	    "librdkafka sasl.username", 0},
	{NULL, 0, "sasl.password", NULL, T_KAFKA, 0, NULL, 0, 0,
	    "librdkafka sasl.password", 0},
	{NULL, 0, "ssl.key.password", NULL, T_KAFKA, 0, NULL, 0, 0,
	    "librdkafka ssl.key.password", 0},
	{NULL, 0, "ssl.keystore.password", NULL, T_KAFKA, 0, NULL, 0, 0,
	    "librdkafka ssl.keystore.password", 0},
};

#define NSETTINGS RS_NELEM(rs__settings)
const size_t rs__nsettings = NSETTINGS;
_Static_assert(NSETTINGS <= RS_NSETTINGS_MAX, "raise RS_NSETTINGS_MAX");

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

static int
apply(struct rs_config *cfg, size_t idx, const char *value,
    enum rs_source src, char *err, size_t errlen)
{
	const struct rs__setting *s = &rs__settings[idx];
	char *base = (char *)cfg, label[96];
	char **str;
	int rc = 0;

	if (src < cfg->sources[idx])
		return 0;
	setting_label(s, src, label, sizeof(label));
	if (*value == '\0')
		return rs_errf(err, errlen, -EINVAL, "%s: empty value", label);

	switch (s->type) {
	case T_STR:
		str = (char **)(void *)(base + s->off);
		free(*str);
		if ((*str = strdup(value)) == NULL)
			return -ENOMEM;
		break;
	case T_MS:
		if (parse_uint(value, s->min, s->max,
		    (unsigned *)(void *)(base + s->off)) != 0)
			return rs_errf(err, errlen, -EINVAL,
			    "%s: invalid value '%s': expected milliseconds "
			    "from %u to %u", label, value, s->min, s->max);
		break;
	case T_UINT:
		if (parse_uint(value, s->min, s->max,
		    (unsigned *)(void *)(base + s->off)) != 0)
			return rs_errf(err, errlen, -EINVAL,
			    "%s: invalid value '%s': expected a whole number "
			    "from %u to %u", label, value, s->min, s->max);
		break;
	case T_BOOL:
		if (strcmp(value, "true") == 0 || strcmp(value, "1") == 0)
			*(bool *)(void *)(base + s->off) = true;
		else if (strcmp(value, "false") == 0 || strcmp(value, "0") == 0)
			*(bool *)(void *)(base + s->off) = false;
		else
			return rs_errf(err, errlen, -EINVAL,
			    "%s: invalid value '%s': expected true or false",
			    label, value);
		break;
	case T_ORDER:
		if (strcmp(value, "latlng") == 0)
			cfg->position_order = RS_ORDER_LATLNG;
		else if (strcmp(value, "lnglat") == 0)
			cfg->position_order = RS_ORDER_LNGLAT;
		else
			return rs_errf(err, errlen, -EINVAL,
			    "%s: invalid value '%s': "
			    "expected latlng or lnglat", label, value);
		break;
	case T_LOGLEVEL:
		if (rs_log_level_parse(value, &cfg->log_level) != 0)
			return rs_errf(err, errlen, -EINVAL,
			    "%s: invalid value '%s': "
			    "expected error, warn, info or debug", label,
			    value);
		break;
	case T_LOGFORMAT:
		if (rs_log_format_parse(value, &cfg->log_format) != 0)
			return rs_errf(err, errlen, -EINVAL,
			    "%s: invalid value '%s': "
			    "expected text or json", label, value);
		break;
	case T_KAFKA:
		rc = set_kafka_prop(cfg, s->env, value, src);
		break;
	}
	if (rc == 0)
		cfg->sources[idx] = src;
	return rc;
}

bool
rs__config_takes(const struct rs_config *cfg, size_t i)
{
	return rs__settings[i].only == 0 ||
	    rs__settings[i].only == cfg->program ||
	    cfg->program == RS_PROG_SIMULATOR;
}

static int
find_env(const struct rs_config *cfg, const char *name, size_t len)
{
	for (size_t i = 0; i < NSETTINGS; i++)
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
	    rs__settings[idx].off == F(env_file)) {
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

static int
parse_flags(struct rs_config *cfg, int argc, char *const argv[], char *err,
    size_t errlen)
{
	static const struct option fixed[] = {
		{"help", no_argument, NULL, OPT_HELP},
		{"version", no_argument, NULL, OPT_VERSION},
		{"check", no_argument, NULL, OPT_CHECK},
		{"print-config", no_argument, NULL, OPT_PRINT},
		{"demo", no_argument, NULL, OPT_DEMO},
		{"once", no_argument, NULL, OPT_ONCE},
		{"healthcheck", no_argument, NULL, OPT_HEALTHCHECK},
	};
	struct option opts[NSETTINGS + RS_NELEM(fixed) + 1];
	char shorts[64] = ":X:hVn";
	size_t n = 0, ns = strlen(shorts);
	int c, rc;

	for (size_t i = 0; i < NSETTINGS; i++) {
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
	memcpy(&opts[n], fixed, sizeof(fixed));
	n += RS_NELEM(fixed);
	opts[n] = (struct option){NULL, 0, NULL, 0};

	optind = 0;	/* glibc: full reinitialisation, for tests */
	opterr = 0;
	while ((c = getopt_long(argc, argv, shorts, opts, NULL)) != -1) {
		size_t idx = NSETTINGS;

		switch (c) {
		case OPT_X:
			if ((rc = apply_x(cfg, optarg, err, errlen)) != 0)
				return rc;
			continue;
		case OPT_HELP:
			cfg->mode = RS_MODE_HELP;
			continue;
		case OPT_VERSION:
			cfg->mode = RS_MODE_VERSION;
			continue;
		case OPT_CHECK:
			cfg->mode = RS_MODE_CHECK;
			continue;
		case OPT_PRINT:
			cfg->mode = RS_MODE_PRINT_CONFIG;
			continue;
		case OPT_DEMO:
			cfg->mode = RS_MODE_DEMO;
			continue;
		case OPT_ONCE:
			cfg->once = true;
			continue;
		case OPT_HEALTHCHECK:
			cfg->mode = RS_MODE_HEALTHCHECK;
			continue;
		case ':':
			return rs_errf(err, errlen, -EINVAL,
			    "%s: missing value", argv[optind - 1]);
		case '?':
			if (optopt != 0)
				return rs_errf(err, errlen, -EINVAL,
				    "unknown flag -%c", optopt);
			return rs_errf(err, errlen, -EINVAL, "unknown flag %s",
			    argv[optind - 1]);
		default:
			if (c >= OPT_SETTING_BASE)
				idx = (size_t)(c - OPT_SETTING_BASE);
			else
				for (idx = 0; idx < NSETTINGS; idx++)
					if (rs__settings[idx].shortopt == c)
						break;
			break;
		}
		if (idx >= NSETTINGS)
			return rs_errf(err, errlen, -EINVAL, "unknown flag -%c",
			    c);
		if ((rc = apply(cfg, idx, optarg, RS_SRC_FLAG, err,
		    errlen)) != 0)
			return rc;
	}
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

static enum rs_source
env_file_source(const struct rs_config *cfg)
{
	for (size_t i = 0; i < NSETTINGS; i++)
		if (rs__settings[i].type == T_STR &&
		    rs__settings[i].off == F(env_file))
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
	for (size_t i = 0; i < NSETTINGS; i++) {
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

	for (size_t i = 0; i < NSETTINGS; i++) {
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
