/*
 * config_table.c - the settings table: for each setting its flag, its
 * environment and .env name, its type, default, bounds and help text,
 * and which program takes it.  config.c reads values into struct
 * rs_config by it, config_help.c prints --help and --print-config from
 * it.
 */
#include <stddef.h>

#include "config-int.h"
#include "routesim/array.h"

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
	    "how long a stop (SIGTERM) waits for queued messages "
	    "(routesim: and a hand-off)", 0},
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
	{"vehicle-timeout", 0, "ROUTESIM_VEHICLE_TIMEOUT_MS", "MS", T_MS,
	    F(vehicle_timeout_ms), "60000", 0, 86400000,
	    "a vehicle with no position for MS leaves the map (0: never)",
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

const size_t rs__nsettings = RS_NELEM(rs__settings);
_Static_assert(RS_NELEM(rs__settings) <= RS_NSETTINGS_MAX,
    "raise RS_NSETTINGS_MAX");


bool
rs__config_takes(const struct rs_config *cfg, size_t i)
{
	return rs__settings[i].only == 0 ||
	    rs__settings[i].only == cfg->program ||
	    cfg->program == RS_PROG_SIMULATOR;
}
