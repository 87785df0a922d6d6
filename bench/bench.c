/*
 * bench.c - routesim's benchmark: N concurrent deliveries, measured from
 * the outside.
 *
 * Starts librdkafka's mock cluster in this process, writes a straight
 * route of P points, runs the real routesim binary as a child (with
 * --position-metadata, so every position carries its point index and
 * scheduled time), waits until it is ready, fires N requests at once,
 * consumes every position and reports:
 *
 *   deliveries finished / N, positions received / expected, duplicates,
 *   interval p50/p99/max between consecutive positions of a delivery,
 *   drift p50/p99/max - how far position k of a delivery has moved from
 *   its own first position's time plus k intervals, i.e. accumulated
 *   lateness, which a drift-free scheduler keeps near 0 - and lateness
 *   (CreateTime - the scheduled "timestamp" field), start latency
 *   (request CreateTime -> first position CreateTime), the child's CPU
 *   time per position (from /proc), its peak RSS and thread count, and
 *   positions per second.
 *
 * One readable table on stdout, then one machine-readable line starting
 * with "BENCH ".  Blocking calls are fine here: this is not the daemon.
 *
 * usage: rs-bench [-n N] [-p POINTS] [-i INTERVAL_MS] [-P PARTITIONS]
 *                 [-t TIMEOUT_S] [-r] [-X PROP=VALUE]... ROUTESIM
 *
 * -r adds lateness per point index: round k is every delivery's position
 * k, so a round that routesim makes heavier (progress records every
 * --progress-every points, done records at the last) stands out from
 * rounds delayed by whatever else ran then.
 *
 * -X passes a librdkafka property to routesim.  By default the benchmark
 * passes fetch.wait.max.ms=5: the mock broker holds a fetch for that long
 * even when data arrives (a real broker answers at once), which would
 * otherwise show up as start latency.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "routesim/http.h"
#include "routesim/log.h"
#include "routesim/mock.h"
#include "util.h"

#define READ_TOPIC "route.new-direction"
#define POS_TOPIC "route.new-position"
#define PROGRESS_TOPIC "routesim.progress"

struct delivery {
	int64_t request_ts;	/* CreateTime of its request */
	int64_t ack_ts;		/* when the broker acknowledged it */
	int64_t first_ts;	/* CreateTime of its first position */
	int64_t last_ts;	/* of the previous position received */
	int32_t last_seq;
	uint32_t received;
	uint8_t *seen;		/* one byte per point */
	int finished;
};

/* What the benchmark reads from a position (--position-metadata). */
struct position {
	int index;		/* N in clientId "bN"; -1 for the warm-up */
	int seq;		/* point index */
	int64_t scheduled;	/* the "timestamp" field */
};

/* The number after `field` in s (NUL-terminated), or -1. */
static int64_t
number_after(const char *s, const char *field)
{
	const char *p = strstr(s, field);
	int64_t v = 0;

	if (p == NULL)
		return -1;
	p += strlen(field);
	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++)
		v = v * 10 + (*p - '0');
	return v;
}

/*
 * Reads a position without a JSON parser: the benchmark shares the
 * machine with what it measures, so its own work per message must stay
 * small.  Returns 0, or -1 if the message is not a routesim position.
 */
static int
parse_position(const void *payload, size_t len, struct position *pos)
{
	char s[512];
	const char *c;
	int64_t seq, ts;

	if (len >= sizeof(s))
		return -1;
	memcpy(s, payload, len);
	s[len] = '\0';
	if ((c = strstr(s, "\"clientId\":\"")) == NULL)
		return -1;
	c += strlen("\"clientId\":\"");
	if ((seq = number_after(s, "\"seq\":")) < 0 || seq > INT32_MAX ||
	    (ts = number_after(s, "\"timestamp\":")) < 0)
		return -1;
	pos->seq = (int)seq;
	pos->scheduled = ts;
	if (strncmp(c, "warmup\"", 7) == 0)
		pos->index = -1;
	else if (sscanf(c, "b%d\"", &pos->index) != 1 || pos->index < 0)
		return -1;
	return 0;
}

static int
write_route(const char *dir, int points)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/bench.txt", dir);
	if ((f = fopen(path, "w")) == NULL)
		return -1;
	for (int i = 0; i < points; i++)
		fprintf(f, "%.5f,%.5f\n", -15.8 - i * 0.00005,
		    -47.9 + i * 0.00005);
	return fclose(f);
}

#define MAX_X 32
#define IDLE_S 3

static pid_t
spawn(const char *bin, const char *bootstrap, const char *dir,
    const char *interval, const char *listen, const char *max, char **xs,
    int nx)
{
	char *args[32 + 2 * MAX_X];
	int a = 0;
	pid_t pid;

	args[a++] = (char *)bin;
	args[a++] = "-b";
	args[a++] = (char *)bootstrap;
	args[a++] = "-d";
	args[a++] = (char *)dir;
	args[a++] = "-i";
	args[a++] = (char *)interval;
	args[a++] = "--env-file";
	args[a++] = "/dev/null";
	args[a++] = "--position-metadata";
	args[a++] = "true";
	args[a++] = "--http-listen";
	args[a++] = (char *)listen;
	args[a++] = "--log-level";
	args[a++] = "warn";
	args[a++] = "--max-request-age";
	args[a++] = "0";
	args[a++] = "--max-deliveries";	/* all N at once, warm-up too */
	args[a++] = (char *)max;
	for (int i = 0; i < nx; i++) {
		args[a++] = "-X";
		args[a++] = xs[i];
	}
	args[a] = NULL;
	if ((pid = fork()) == 0) {
		int devnull = open("/dev/null", O_WRONLY);

		if (devnull >= 0)
			dup2(devnull, STDOUT_FILENO);
		execv(bin, args);
		perror(bin);
		_exit(127);
	}
	return pid;
}

/*
 * Lowers this process's priority (nice 10).  Linux keeps a nice value
 * per thread, so every thread already running (the mock cluster's) is
 * set; threads created later inherit it from this one.
 */
static void
yield_cores(void)
{
	DIR *dir = opendir("/proc/self/task");
	struct dirent *e;

	if (dir == NULL) {
		perror("/proc/self/task");
		return;
	}
	while ((e = readdir(dir)) != NULL)
		if (e->d_name[0] != '.' &&
		    setpriority(PRIO_PROCESS, (id_t)atoi(e->d_name), 10) != 0)
			perror("setpriority");
	closedir(dir);
}

/* Records when the broker acknowledged a request: from then on it is
 * readable, which is where start latency begins. */
static void
request_acked(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	int64_t *ack = m->_private;

	(void)rk;
	(void)opaque;
	if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
		fprintf(stderr, "request failed: %s\n", rd_kafka_err2str(m->err));
		exit(1);
	}
	if (ack != NULL)
		*ack = rs_now_ms();
}

static rd_kafka_t *
request_producer(const char *bootstrap)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	char err[512];
	rd_kafka_t *rk;

	rd_kafka_conf_set_dr_msg_cb(conf, request_acked);
	/* No lingering: a request is sent as soon as it is written, so the
	 * time from its CreateTime counts routesim, not this producer. */
	if (rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, err,
	    sizeof(err)) != RD_KAFKA_CONF_OK ||
	    rd_kafka_conf_set(conf, "linger.ms", "0", err, sizeof(err)) !=
	    RD_KAFKA_CONF_OK ||
	    (rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err))) ==
	    NULL) {
		fprintf(stderr, "producer: %s\n", err);
		exit(1);
	}
	return rk;
}

static void
warm_up_request(rd_kafka_t *producer)
{
	static const char req[] = "{\"clientId\":\"warmup\",\"routeId\":\"bench\"}";

	if (rd_kafka_producev(producer, RD_KAFKA_V_TOPIC(READ_TOPIC),
	    RD_KAFKA_V_VALUE((void *)req, sizeof(req) - 1),
	    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END) !=
	    RD_KAFKA_RESP_ERR_NO_ERROR || rd_kafka_flush(producer, 10000) !=
	    RD_KAFKA_RESP_ERR_NO_ERROR) {
		fprintf(stderr, "warm-up request failed\n");
		exit(1);
	}
}

/*
 * The backend (rs-bench -B BOOTSTRAP N): on stdin, 'w' writes the
 * warm-up request; 'g' writes N requests at once, waits for every
 * acknowledgement, and writes each request's CreateTime and
 * acknowledgement time (two int64_t per request) to stdout.
 */
static int
backend(const char *bootstrap, int n)
{
	rd_kafka_t *rk = request_producer(bootstrap);
	int64_t *times = xcalloc((size_t)n * 2, sizeof(*times));
	char go = 0;
	int rc = 1;

	/* 'w': the warm-up request, which also loads the topic's metadata;
	 * 'g': the burst. */
	while (read(STDIN_FILENO, &go, 1) == 1 && go == 'w')
		warm_up_request(rk);
	if (go != 'g')
		goto out;
	for (int i = 0; i < n; i++) {
		char json[96], key[16];
		int len = snprintf(json, sizeof(json),
		    "{\"clientId\":\"b%d\",\"routeId\":\"bench\"}", i);

		snprintf(key, sizeof(key), "b%d", i);
		times[2 * i] = rs_now_ms();
		while (rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(READ_TOPIC),
		    RD_KAFKA_V_KEY(key, strlen(key)),
		    RD_KAFKA_V_VALUE(json, (size_t)len),
		    RD_KAFKA_V_TIMESTAMP(times[2 * i]),
		    RD_KAFKA_V_OPAQUE(&times[2 * i + 1]),
		    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END) ==
		    RD_KAFKA_RESP_ERR__QUEUE_FULL)
			rd_kafka_poll(rk, 10);
	}
	if (rd_kafka_flush(rk, 30000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
		fprintf(stderr, "backend: requests not acknowledged\n");
		goto out;
	}
	for (size_t off = 0, len = (size_t)n * 2 * sizeof(*times);
	    off < len;) {
		ssize_t w = write(STDOUT_FILENO, (char *)times + off, len - off);

		if (w <= 0)
			goto out;
		off += (size_t)w;
	}
	rc = 0;
out:
	rd_kafka_destroy(rk);
	free(times);
	return rc;
}

/*
 * Starts the backend as a process of its own, before this one lowers
 * its priority: requests are written, and their acknowledgements seen,
 * at normal priority, so start latency counts from an acknowledgement
 * noted when it arrived rather than when a nice-10 thread got to it.
 */
static pid_t
spawn_backend(const char *bootstrap, int n, int *go, int *results)
{
	int in[2], out[2];
	char count[16];
	pid_t pid;

	if (pipe(in) != 0 || pipe(out) != 0)
		return -1;
	snprintf(count, sizeof(count), "%d", n);
	if ((pid = fork()) == 0) {
		dup2(in[0], STDIN_FILENO);
		dup2(out[1], STDOUT_FILENO);
		close(in[1]);
		close(out[0]);
		execl("/proc/self/exe", "rs-bench", "-B", bootstrap, count,
		    (char *)NULL);
		perror("/proc/self/exe");
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	*go = in[1];
	*results = out[0];
	return pid;
}

/* Reads the backend's times into ds; 0 or -1. */
static int
read_backend(int fd, struct delivery *ds, int n)
{
	int64_t t[2];

	for (int i = 0; i < n; i++) {
		size_t got = 0;

		while (got < sizeof(t)) {
			ssize_t r = read(fd, (char *)t + got, sizeof(t) - got);

			if (r <= 0)
				return -1;
			got += (size_t)r;
		}
		ds[i].request_ts = t[0];
		ds[i].ack_ts = t[1];
	}
	return 0;
}

static rd_kafka_t *
position_consumer(const char *bootstrap, int partitions)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	rd_kafka_topic_partition_list_t *l;
	char err[512];
	rd_kafka_t *rk;

	if (rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, err,
	    sizeof(err)) != RD_KAFKA_CONF_OK ||
	    rd_kafka_conf_set(conf, "group.id", "rs-bench", err, sizeof(err)) !=
	    RD_KAFKA_CONF_OK ||
	    rd_kafka_conf_set(conf, "enable.auto.commit", "false", err,
	    sizeof(err)) != RD_KAFKA_CONF_OK ||
	    rd_kafka_conf_set(conf, "fetch.wait.max.ms", "20", err,
	    sizeof(err)) != RD_KAFKA_CONF_OK ||
	    (rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err))) ==
	    NULL) {
		fprintf(stderr, "consumer: %s\n", err);
		exit(1);
	}
	rd_kafka_poll_set_consumer(rk);
	l = rd_kafka_topic_partition_list_new(partitions);
	for (int i = 0; i < partitions; i++)
		rd_kafka_topic_partition_list_add(l, POS_TOPIC, i)->offset =
		    RD_KAFKA_OFFSET_BEGINNING;
	if (rd_kafka_assign(rk, l) != RD_KAFKA_RESP_ERR_NO_ERROR) {
		fprintf(stderr, "consumer: assign failed\n");
		exit(1);
	}
	rd_kafka_topic_partition_list_destroy(l);
	return rk;
}

/*
 * One delivery first, so that what follows measures routesim at work,
 * not a consumer still looking up where to start reading.
 */
static void
warm_up(int backend, rd_kafka_t *cons)
{
	double start = mono_s();

	if (write(backend, "w", 1) != 1) {
		perror("backend");
		exit(1);
	}
	while (mono_s() - start < 60) {
		rd_kafka_message_t *m = rd_kafka_consumer_poll(cons, 100);
		int got = m != NULL && m->err == RD_KAFKA_RESP_ERR_NO_ERROR;

		if (m != NULL)
			rd_kafka_message_destroy(m);
		if (got)
			return;
	}
	fprintf(stderr, "warm-up delivery never arrived\n");
	exit(1);
}

static void
usage(const char *prog)
{
	fprintf(stderr, "usage: %s [-n N] [-p POINTS] [-i INTERVAL_MS] "
	    "[-P PARTITIONS] [-t TIMEOUT_S] [-r] [-X PROP=VALUE]... "
	    "ROUTESIM\n", prog);
	exit(2);
}

int
main(int argc, char *argv[])
{
	int n = 1000, points = 20, interval = 500, partitions = 16;
	int timeout_s = 600, c, nfinished = 0, rparts;
	struct samples intervals = {0}, drifts = {0}, starts = {0}, late = {0};
	struct samples written = {0};
	struct samples *rounds = NULL;	/* -r: lateness per point index */
	int by_round = 0;
	uint64_t received = 0, dups = 0, expected;
	char dir[] = "/tmp/rs-bench-XXXXXX", listen[32], ivs[16], maxs[16];
	char err[512];
	struct delivery *ds;
	struct rs_mock mock;
	double t0, cpu = -1, cpu0, idle, steal, elapsed;
	int64_t first_pos = -1, last_pos = -1;
	int64_t write0 = INT64_MAX, write1 = 0, start1 = 0;	/* the burst */
	long rss_kb = -1, threads = -1;
	char *xs[MAX_X] = {"fetch.wait.max.ms=5"};
	int nx = 1;
	rd_kafka_t *cons;
	pid_t pid, backend_pid;
	int go, results;
	int status;

	if (argc == 4 && strcmp(argv[1], "-B") == 0)
		return backend(argv[2], atoi(argv[3]));
	while ((c = getopt(argc, argv, "n:p:i:P:t:rX:")) != -1) {
		switch (c) {
		case 'n': n = atoi(optarg); break;
		case 'p': points = atoi(optarg); break;
		case 'i': interval = atoi(optarg); break;
		case 'P': partitions = atoi(optarg); break;
		case 't': timeout_s = atoi(optarg); break;
		case 'r': by_round = 1; break;
		case 'X':
			if (nx == MAX_X)
				usage(argv[0]);
			xs[nx++] = optarg;
			break;
		default: usage(argv[0]);
		}
	}
	if (optind != argc - 1 || n < 1 || points < 1 || points > 100000 ||
	    interval < 1 || partitions < 1)
		usage(argv[0]);
	expected = (uint64_t)n * (uint64_t)points;
	if (by_round)
		rounds = xcalloc((size_t)points, sizeof(*rounds));
	ds = xcalloc((size_t)n, sizeof(*ds));
	for (int i = 0; i < n; i++) {
		ds[i].last_seq = -1;
		ds[i].seen = xcalloc((size_t)points, 1);
	}
	if (mkdtemp(dir) == NULL || write_route(dir, points) != 0) {
		perror("route folder");
		exit(1);
	}
	/* The mock keeps at most 5 MB per partition and drops the oldest
	 * data beyond that: N requests must fit before they are read. */
	rparts = n / 25000 > 4 ? n / 25000 : 4;
	if (rs_mock_start(&mock, 1, err, sizeof(err)) != 0 ||
	    rs_mock_topic(&mock, READ_TOPIC, rparts) != 0 ||
	    rs_mock_topic(&mock, PROGRESS_TOPIC, rparts) != 0 ||
	    rs_mock_topic(&mock, POS_TOPIC, partitions) != 0) {
		fprintf(stderr, "mock cluster: %s\n", err);
		exit(1);
	}
	snprintf(listen, sizeof(listen), "127.0.0.1:%d",
	    20000 + (int)(getpid() % 20000));
	snprintf(ivs, sizeof(ivs), "%d", interval);
	snprintf(maxs, sizeof(maxs), "%d", n + 1);
	pid = spawn(argv[optind], rs_mock_bootstraps(&mock), dir, ivs, listen,
	    maxs, xs, nx);
	for (int tries = 0; rs_http_probe(listen, "/readyz", 500) != 200;
	    tries++) {
		if (tries > 300 || waitpid(pid, &status, WNOHANG) == pid) {
			fprintf(stderr, "routesim did not become ready\n");
			kill(pid, SIGKILL);
			exit(1);
		}
		usleep(100000);
	}
	/* The backend starts first, at normal priority; then the measuring
	 * side (this process: the mock broker and the consumer) yields the
	 * cores to the measured one.  Timestamps are set by routesim's
	 * producer, so they do not depend on how soon they are read here. */
	if ((backend_pid = spawn_backend(rs_mock_bootstraps(&mock), n, &go,
	    &results)) < 0) {
		perror("backend");
		kill(pid, SIGKILL);
		exit(1);
	}
	yield_cores();
	cons = position_consumer(rs_mock_bootstraps(&mock), partitions);
	warm_up(go, cons);
	/* What routesim costs while idle (librdkafka's timers and fetches),
	 * then where the measured CPU time starts. */
	idle = cpu_seconds(pid);
	sleep(IDLE_S);	/* /proc counts in 10 ms ticks */
	cpu0 = cpu_seconds(pid);
	idle = (cpu0 - idle) / IDLE_S;
	steal = steal_seconds();

	/* The backend fires every request at once and reports when each
	 * was written (its CreateTime) and acknowledged. */
	if (write(go, "g", 1) != 1 || read_backend(results, ds, n) != 0 ||
	    waitpid(backend_pid, &status, 0) != backend_pid ||
	    !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "backend failed\n");
		kill(pid, SIGKILL);
		exit(1);
	}
	t0 = mono_s();

	while (nfinished < n && mono_s() - t0 < timeout_s) {
		rd_kafka_message_t *m = rd_kafka_consumer_poll(cons, 100);
		struct position pos;
		struct delivery *d;
		int64_t create;

		if (m == NULL)
			continue;
		if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR ||
		    parse_position(m->payload, m->len, &pos) != 0) {
			if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR)
				fprintf(stderr, "unexpected message: %.*s\n",
				    (int)m->len, (const char *)m->payload);
			rd_kafka_message_destroy(m);
			continue;
		}
		create = rd_kafka_message_timestamp(m, NULL);
		rd_kafka_message_destroy(m);
		if (pos.index < 0)
			continue;	/* the warm-up delivery */
		if (pos.index >= n || pos.seq >= points) {
			fprintf(stderr, "unexpected position: client %d seq "
			    "%d\n", pos.index, pos.seq);
			continue;
		}
		d = &ds[pos.index];
		received++;
		if (first_pos < 0 || create < first_pos)
			first_pos = create;
		if (create > last_pos)
			last_pos = create;
		if (d->seen[pos.seq]) {
			dups++;
			continue;
		}
		d->seen[pos.seq] = 1;
		add(&late, create - pos.scheduled);
		if (rounds != NULL)
			add(&rounds[pos.seq], create - pos.scheduled);
		if (pos.seq == 0)
			d->first_ts = create;
		else if (d->seen[0])
			add(&drifts, create - d->first_ts -
			    (int64_t)pos.seq * interval);
		if (d->last_seq >= 0 && pos.seq == d->last_seq + 1)
			add(&intervals, create - d->last_ts);
		d->last_seq = pos.seq;
		d->last_ts = create;
		if (++d->received == (uint32_t)points) {
			d->finished = 1;
			nfinished++;
		}
	}
	elapsed = mono_s() - t0;
	for (int i = 0; i < n; i++) {
		if (ds[i].request_ts < write0)
			write0 = ds[i].request_ts;
		if (ds[i].request_ts > write1)
			write1 = ds[i].request_ts;
		if (ds[i].seen[0]) {
			add(&starts, ds[i].first_ts - ds[i].ack_ts);
			add(&written, ds[i].first_ts - ds[i].request_ts);
			if (ds[i].first_ts > start1)
				start1 = ds[i].first_ts;
		}
	}
	cpu = cpu_seconds(pid) - cpu0;
	steal = steal_seconds() - steal;
	rss_kb = status_field(pid, "VmHWM");
	threads = status_field(pid, "Threads");
	kill(pid, SIGTERM);
	waitpid(pid, &status, 0);

	sort(&intervals);
	sort(&drifts);
	sort(&starts);
	sort(&late);
	sort(&written);
	{
		double span = last_pos > first_pos ?
		    (double)(last_pos - first_pos) / 1000.0 : 0;
		double us = received ? cpu * 1e6 / (double)received : 0;
		/* Net of what routesim spends idle over the same time: the
		 * cost of the positions themselves. */
		double net = received ? (cpu - idle * elapsed) * 1e6 /
		    (double)received : 0;

		printf("routesim benchmark: %d deliveries x %d points, every "
		    "%d ms, %d position partitions\n", n, points, interval,
		    partitions);
		printf("  deliveries finished   %d / %d\n", nfinished, n);
		printf("  positions received    %llu / %llu (duplicates %llu)\n",
		    (unsigned long long)(received - dups),
		    (unsigned long long)expected, (unsigned long long)dups);
		printf("  interval ms           p50 %lld  p99 %lld  max %lld\n",
		    (long long)pct(&intervals, .5),
		    (long long)pct(&intervals, .99),
		    (long long)pct(&intervals, 1));
		printf("  drift ms              p50 %lld  p99 %lld  max %lld\n",
		    (long long)pct(&drifts, .5), (long long)pct(&drifts, .99),
		    (long long)pct(&drifts, 1));
		printf("  lateness ms           p50 %lld  p99 %lld  max %lld\n",
		    (long long)pct(&late, .5), (long long)pct(&late, .99),
		    (long long)pct(&late, 1));
		printf("  start latency ms      p50 %lld  p99 %lld  max %lld  "
		    "(request acknowledged -> first position)\n",
		    (long long)pct(&starts, .5), (long long)pct(&starts, .99),
		    (long long)pct(&starts, 1));
		printf("  from write ms         p50 %lld  p99 %lld  max %lld  "
		    "(request CreateTime -> first position)\n",
		    (long long)pct(&written, .5), (long long)pct(&written, .99),
		    (long long)pct(&written, 1));
		/* What bounds start latency: a burst is started one request
		 * after another on one loop. */
		printf("  burst ms              requests written in %lld, all "
		    "started %lld after the first was written\n",
		    (long long)(write1 - write0), (long long)(start1 - write0));
		printf("  routesim CPU          %.2f s, %.2f us per position; "
		    "idle %.0f ms/s, net of idle %.2f us per position\n", cpu,
		    us, idle * 1000, net);
		printf("  routesim peak RSS     %.1f MB, %ld threads\n",
		    (double)rss_kb / 1024.0, threads);
		printf("  positions per second  %.0f (over %.1f s)\n",
		    span > 0 ? (double)received / span : 0, elapsed);
		printf("  CPU stolen by the VM  %.0f ms per second of the run\n",
		    elapsed > 0 ? steal * 1000 / elapsed : 0);
		for (int k = 0; rounds != NULL && k < points; k++) {
			struct samples *r = &rounds[k];

			sort(r);
			printf("  round %-5d late ms   p50 %lld  p99 %lld  max "
			    "%lld\n", k, (long long)pct(r, .5),
			    (long long)pct(r, .99), (long long)pct(r, 1));
			free(r->v);
		}
		printf("BENCH n=%d points=%d interval_ms=%d finished=%d "
		    "positions=%llu expected=%llu duplicates=%llu "
		    "interval_p50=%lld interval_p99=%lld interval_max=%lld "
		    "drift_p50=%lld drift_p99=%lld drift_max=%lld "
		    "late_p99=%lld start_p99=%lld written_p99=%lld "
		    "burst_write_ms=%lld burst_start_ms=%lld cpu_s=%.3f "
		    "cpu_us_per_position=%.3f idle_cpu_ms_per_s=%.0f "
		    "net_cpu_us_per_position=%.3f "
		    "rss_mb=%.1f threads=%ld positions_per_s=%.0f steal_ms_per_s=%.0f\n", n, points,
		    interval, nfinished, (unsigned long long)(received - dups),
		    (unsigned long long)expected, (unsigned long long)dups,
		    (long long)pct(&intervals, .5),
		    (long long)pct(&intervals, .99),
		    (long long)pct(&intervals, 1), (long long)pct(&drifts, .5),
		    (long long)pct(&drifts, .99), (long long)pct(&drifts, 1),
		    (long long)pct(&late, .99), (long long)pct(&starts, .99),
		    (long long)pct(&written, .99), (long long)(write1 - write0),
		    (long long)(start1 - write0), cpu, us, idle * 1000, net,
		    (double)rss_kb / 1024.0, threads,
		    span > 0 ? (double)received / span : 0,
		    elapsed > 0 ? steal * 1000 / elapsed : 0);
	}
	rd_kafka_consumer_close(cons);
	rd_kafka_destroy(cons);
	rs_mock_stop(&mock);
	for (int i = 0; i < n; i++)
		free(ds[i].seen);
	free(ds);
	free(intervals.v);
	free(drifts.v);
	free(starts.v);
	free(late.v);
	free(written.v);
	free(rounds);
	{
		char path[600];

		snprintf(path, sizeof(path), "%s/bench.txt", dir);
		unlink(path);
		rmdir(dir);
	}
	return nfinished == n && received - dups == expected ? 0 : 1;
}
