/*
 * tracker_bench.c - the live map's benchmark: can routesim-tracker follow
 * N deliveries moving at once and feed B browsers?
 *
 * Starts librdkafka's mock cluster in this process, runs the real
 * routesim-tracker binary as a child, connects B WebSocket readers (a
 * thread of plain sockets that counts frames and bytes and answers
 * pings, nothing more: a browser's rendering is measured by
 * bench/page-bench.mjs), writes N requests, then plays N deliveries
 * itself: every interval, one position per delivery, spread over the
 * interval in 10 ms steps, for R rounds.  It reports:
 *
 *   positions per second written and consumed by the tracker (from its
 *   /metrics) and how far it was behind at the end, the tracker's CPU
 *   time per position and peak RSS, frames and megabytes per second
 *   received per browser (slowest and mean), and frames the tracker
 *   dropped for browsers that fell behind (latest state wins).
 *
 * One readable table on stdout, then one line starting with
 * "TRACKERBENCH ".  Blocking calls are fine here.
 *
 * usage: rs-tracker-bench [-n N] [-b BROWSERS] [-r ROUNDS] [-i INTERVAL_MS]
 *                         [-P PARTITIONS] TRACKER
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "routesim/http.h"
#include "routesim/mock.h"
#include "util.h"

#define READ_TOPIC "route.new-direction"
#define POS_TOPIC "route.new-position"
#define POINTS 200

/* One browser: a socket and where its frame parser stands. */
struct browser {
	int fd;
	unsigned char hdr[14];
	size_t hlen;
	uint64_t remaining;	/* payload bytes of the current frame */
	unsigned char op;	/* its opcode */
	unsigned char ping[125];
	size_t pinglen;
	uint64_t frames, bytes;
};

struct browsers {
	struct browser *b;
	int n;
	pthread_t thread;
	atomic_bool stop;
};

static int
tcp_connect(int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET,
	    .sin_port = htons((uint16_t)port),
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		perror("connect");
		exit(1);
	}
	return fd;
}

/* Blocking HTTP GET of path; returns the body (malloc'd) or exits. */
static char *
http_get(int port, const char *path)
{
	int fd = tcp_connect(port);
	char req[256];
	size_t len = 0, cap = 1 << 16;
	char *buf = xcalloc(cap, 1), *body;
	ssize_t r;

	snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: x\r\n"
	    "Connection: close\r\n\r\n", path);
	if (write(fd, req, strlen(req)) < 0) {
		perror("write");
		exit(1);
	}
	while ((r = read(fd, buf + len, cap - len - 1)) > 0) {
		char *grown;

		len += (size_t)r;
		if (len + 1 < cap)
			continue;
		if ((grown = realloc(buf, cap *= 2)) == NULL) {
			perror("realloc");
			exit(1);
		}
		buf = grown;
	}
	close(fd);
	buf[len] = '\0';
	if ((body = strstr(buf, "\r\n\r\n")) == NULL) {
		fprintf(stderr, "GET %s: no answer\n", path);
		exit(1);
	}
	memmove(buf, body + 4, strlen(body + 4) + 1);
	return buf;
}

/* The value of an unlabelled metric, or -1. */
static double
metric(const char *text, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = text; p != NULL && *p != '\0';
	    p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (strncmp(p, name, n) == 0 && p[n] == ' ')
			return strtod(p + n + 1, NULL);
	return -1;
}

static void
send_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t w = write(fd, p, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;		/* counted as a slow browser anyway */
		p += w;
		len -= (size_t)w;
	}
}

/* Answers a ping with a pong (client frames are masked; mask 0). */
static void
pong(struct browser *b)
{
	unsigned char f[6 + 125] = {0x8a, (unsigned char)(0x80 | b->pinglen)};

	memcpy(f + 6, b->ping, b->pinglen);
	send_all(b->fd, f, 6 + b->pinglen);
}

/* Feeds received bytes to the frame parser. */
static void
consume(struct browser *b, const unsigned char *p, size_t len)
{
	b->bytes += len;
	while (len > 0) {
		if (b->remaining > 0) {
			size_t take = len < b->remaining ? len :
			    (size_t)b->remaining;

			if (b->op == 0x9 && b->pinglen + take <= 125) {
				memcpy(b->ping + b->pinglen, p, take);
				b->pinglen += take;
			}
			b->remaining -= take;
			p += take;
			len -= take;
		} else {
			size_t need;

			b->hdr[b->hlen++] = *p++;
			len--;
			if (b->hlen < 2)
				continue;
			need = 2 + ((b->hdr[1] & 0x7f) == 126 ? 2 :
			    (b->hdr[1] & 0x7f) == 127 ? 8 : 0);
			if (b->hlen < need)
				continue;
			b->op = b->hdr[0] & 0x0f;
			b->remaining = b->hdr[1] & 0x7f;
			if (need == 4)
				b->remaining = (uint64_t)b->hdr[2] << 8 | b->hdr[3];
			else if (need == 10)
				for (int i = 2; i < 10; i++)
					b->remaining = b->remaining << 8 |
					    b->hdr[i];
			b->hlen = 0;
			b->pinglen = 0;
		}
		if (b->remaining == 0 && b->hlen == 0) {
			if (b->op == 0x9)
				pong(b);
			else if (b->op < 0x8 && (b->hdr[0] & 0x80))
				b->frames++;
			b->op = 0xff;	/* counted */
		}
	}
}

static void
handshake(struct browser *b, int port)
{
	char req[512], buf[4096];
	size_t len = 0;
	char *end = NULL;

	b->fd = tcp_connect(port);
	snprintf(req, sizeof(req), "GET /ws HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
	    "Upgrade: websocket\r\nConnection: Upgrade\r\n"
	    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
	    "Sec-WebSocket-Version: 13\r\n\r\n", port);
	send_all(b->fd, req, strlen(req));
	while (end == NULL && len < sizeof(buf) - 1) {
		ssize_t r = read(b->fd, buf + len, sizeof(buf) - 1 - len);

		if (r <= 0)
			break;
		len += (size_t)r;
		buf[len] = '\0';
		end = strstr(buf, "\r\n\r\n");
	}
	if (end == NULL || strncmp(buf, "HTTP/1.1 101", 12) != 0) {
		fprintf(stderr, "WebSocket handshake refused: %.40s\n", buf);
		exit(1);
	}
	b->op = 0xff;
	consume(b, (unsigned char *)end + 4, len - (size_t)(end + 4 - buf));
	if (fcntl(b->fd, F_SETFL, O_NONBLOCK) != 0)
		perror("fcntl");
}

static void *
read_browsers(void *arg)
{
	struct browsers *bs = arg;
	struct pollfd *pfd = xcalloc((size_t)bs->n, sizeof(*pfd));
	static unsigned char buf[1 << 16];

	for (int i = 0; i < bs->n; i++) {
		pfd[i].fd = bs->b[i].fd;
		pfd[i].events = POLLIN;
	}
	while (!atomic_load(&bs->stop)) {
		if (poll(pfd, (nfds_t)bs->n, 100) <= 0)
			continue;
		for (int i = 0; i < bs->n; i++) {
			ssize_t r;

			if (!(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			while ((r = read(pfd[i].fd, buf, sizeof(buf))) > 0)
				consume(&bs->b[i], buf, (size_t)r);
			if (r == 0)
				pfd[i].fd = -1;		/* closed by the tracker */
		}
	}
	free(pfd);
	return NULL;
}

static pid_t
spawn_tracker(const char *bin, const char *bootstrap, const char *dir,
    const char *listen, const char *interval, const char *browsers)
{
	char *args[] = {(char *)bin, "-b", (char *)bootstrap, "-d", (char *)dir,
	    "-i", (char *)interval, "--env-file", "/dev/null",
	    "--http-listen", (char *)listen, "--log-level", "warn",
	    "--history", "0", "--max-browsers", (char *)browsers,
	    "-X", "fetch.wait.max.ms=5", NULL};
	pid_t pid;

	if ((pid = fork()) == 0) {
		execv(bin, args);
		perror(bin);
		_exit(127);
	}
	return pid;
}

static void
write_route(const char *dir)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/1.txt", dir);
	if ((f = fopen(path, "w")) == NULL) {
		perror(path);
		exit(1);
	}
	for (int i = 0; i < POINTS; i++)
		fprintf(f, "%.5f,%.5f\n", -15.8 - i * 0.00005,
		    -47.9 + i * 0.00005);
	fclose(f);
}

static void
produce(rd_kafka_t *rk, const char *topic, const char *json, int len)
{
	while (rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic),
	    RD_KAFKA_V_VALUE((void *)json, (size_t)len),
	    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END) ==
	    RD_KAFKA_RESP_ERR__QUEUE_FULL)
		rd_kafka_poll(rk, 5);
}

/*
 * The writer of requests and positions: a producer of its own that
 * lingers 50 ms, so each partition gets large batches.  librdkafka's mock
 * broker answers a fetch with about one batch per partition and holds it
 * for fetch.wait.max.ms, so small batches would cap what any consumer
 * reads from it, whatever the consumer.
 */
static rd_kafka_t *
writer(const char *bootstrap)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	char err[512];
	rd_kafka_t *rk;

	if (rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, err,
	    sizeof(err)) != RD_KAFKA_CONF_OK ||
	    rd_kafka_conf_set(conf, "linger.ms", "50", err, sizeof(err)) !=
	    RD_KAFKA_CONF_OK ||
	    rd_kafka_conf_set(conf, "queue.buffering.max.messages", "1000000",
	    err, sizeof(err)) != RD_KAFKA_CONF_OK ||
	    (rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err))) ==
	    NULL) {
		fprintf(stderr, "writer: %s\n", err);
		exit(1);
	}
	return rk;
}

static void
usage(const char *prog)
{
	fprintf(stderr, "usage: %s [-n N] [-b BROWSERS] [-r ROUNDS] "
	    "[-i INTERVAL_MS] [-P PARTITIONS] TRACKER\n", prog);
	exit(2);
}

int
main(int argc, char *argv[])
{
	int n = 10000, nb = 100, rounds = 60, interval = 500, partitions = 16;
	char dir[] = "/tmp/rs-tracker-bench-XXXXXX", listen[32], ivs[16];
	char maxb[16], err[512], json[128], *text;
	struct browsers bs = {0};
	struct rs_mock mock;
	rd_kafka_t *w;
	double t0, elapsed, cpu0, cpu, consumed0, consumed, sent, dropped;
	double self0, self;
	uint64_t written = 0, fmin = UINT64_MAX, ftotal = 0, btotal = 0;
	long rss_kb;
	int c, port, status;
	pid_t pid;

	while ((c = getopt(argc, argv, "n:b:r:i:P:")) != -1) {
		switch (c) {
		case 'n': n = atoi(optarg); break;
		case 'b': nb = atoi(optarg); break;
		case 'r': rounds = atoi(optarg); break;
		case 'i': interval = atoi(optarg); break;
		case 'P': partitions = atoi(optarg); break;
		default: usage(argv[0]);
		}
	}
	if (optind != argc - 1 || n < 1 || nb < 1 || rounds < 1 ||
	    rounds > POINTS || interval < 10 || partitions < 1)
		usage(argv[0]);
	signal(SIGPIPE, SIG_IGN);
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		exit(1);
	}
	write_route(dir);
	if (rs_mock_start(&mock, 1, err, sizeof(err)) != 0 ||
	    rs_mock_topic(&mock, READ_TOPIC, 4) != 0 ||
	    rs_mock_topic(&mock, POS_TOPIC, partitions) != 0) {
		fprintf(stderr, "mock cluster: %s\n", err);
		exit(1);
	}
	port = 20000 + (int)(getpid() % 20000);
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
	snprintf(ivs, sizeof(ivs), "%d", interval);
	snprintf(maxb, sizeof(maxb), "%d", nb + 10);
	pid = spawn_tracker(argv[optind], rs_mock_bootstraps(&mock), dir,
	    listen, ivs, maxb);
	for (int tries = 0; rs_http_probe(listen, "/readyz", 500) != 200;
	    tries++) {
		if (tries > 300 || waitpid(pid, &status, WNOHANG) == pid) {
			fprintf(stderr, "the tracker did not become ready\n");
			kill(pid, SIGKILL);
			exit(1);
		}
		usleep(100000);
	}
	w = writer(rs_mock_bootstraps(&mock));
	bs.n = nb;
	bs.b = xcalloc((size_t)nb, sizeof(*bs.b));
	for (int i = 0; i < nb; i++)
		handshake(&bs.b[i], port);
	atomic_init(&bs.stop, false);
	if (pthread_create(&bs.thread, NULL, read_browsers, &bs) != 0) {
		perror("pthread_create");
		exit(1);
	}
	for (int i = 0; i < n; i++) {
		int len = snprintf(json, sizeof(json),
		    "{\"clientId\":\"b%d\",\"routeId\":\"1\"}", i);

		produce(w, READ_TOPIC, json, len);
	}
	rd_kafka_flush(w, 30000);

	text = http_get(port, "/metrics");
	consumed0 = metric(text, "routesim_tracker_positions_total");
	free(text);
	cpu0 = cpu_seconds(pid);
	self0 = cpu_seconds(getpid());
	t0 = mono_s();
	/* Round k: every delivery's point k, spread over the interval. */
	for (int k = 0; k < rounds; k++) {
		double round0 = t0 + (double)k * interval / 1000.0;
		int steps = interval / 10;

		for (int s = 0; s < steps; s++) {
			int from = (int)((int64_t)n * s / steps);
			int to = (int)((int64_t)n * (s + 1) / steps);
			double due = round0 + s * 0.010, now = mono_s();

			if (due > now)
				usleep((useconds_t)((due - now) * 1e6));
			for (int i = from; i < to; i++) {
				int len = snprintf(json, sizeof(json),
				    "{\"clientId\":\"b%d\",\"position\":"
				    "[%.5f,%.5f],\"finished\":%s}", i,
				    -47.9 + k * 0.00005, -15.8 - k * 0.00005,
				    k == rounds - 1 ? "true" : "false");

				produce(w, POS_TOPIC, json, len);
				written++;
			}
			rd_kafka_poll(w, 0);
		}
	}
	elapsed = mono_s() - t0;
	/* Give the tracker one interval to catch up, then read it. */
	usleep((useconds_t)interval * 1000);
	text = http_get(port, "/metrics");
	consumed = metric(text, "routesim_tracker_positions_total") - consumed0;
	sent = metric(text, "routesim_tracker_frames_sent_total");
	dropped = metric(text, "routesim_tracker_frames_dropped_total");
	free(text);
	cpu = cpu_seconds(pid) - cpu0;
	self = cpu_seconds(getpid()) - self0;
	rss_kb = status_field(pid, "VmHWM");
	atomic_store(&bs.stop, true);
	pthread_join(bs.thread, NULL);
	for (int i = 0; i < nb; i++) {
		if (bs.b[i].frames < fmin)
			fmin = bs.b[i].frames;
		ftotal += bs.b[i].frames;
		btotal += bs.b[i].bytes;
		close(bs.b[i].fd);
	}
	kill(pid, SIGTERM);
	waitpid(pid, &status, 0);
	rd_kafka_destroy(w);
	rs_mock_stop(&mock);

	printf("routesim-tracker benchmark: %d deliveries, a position each "
	    "every %d ms for %d rounds, %d browsers\n", n, interval, rounds,
	    nb);
	printf("  positions written     %.0f per second\n",
	    (double)written / elapsed);
	printf("  positions consumed    %.0f per second, %.0f behind at the "
	    "end\n", consumed / elapsed, (double)written - consumed);
	printf("  tracker CPU           %.2f s (%.0f %% of a core), %.2f us "
	    "per position\n", cpu, 100 * cpu / elapsed,
	    consumed > 0 ? cpu * 1e6 / consumed : 0);
	printf("  tracker peak RSS      %.1f MB\n", (double)rss_kb / 1024.0);
	printf("  this program's CPU    %.0f %% of a core (the mock broker, the "
	    "writer, the browsers)\n", 100 * self / elapsed);
	printf("  frames per browser    %.1f per second (slowest %.1f), "
	    "%.2f MB/s each\n", (double)ftotal / nb / elapsed,
	    (double)fmin / elapsed, (double)btotal / nb / elapsed / 1e6);
	printf("  frames sent, dropped  %.0f, %.0f (latest state wins)\n",
	    sent, dropped);
	printf("TRACKERBENCH n=%d browsers=%d rounds=%d interval_ms=%d "
	    "written_per_s=%.0f consumed_per_s=%.0f behind=%.0f cpu_s=%.3f "
	    "cpu_us_per_position=%.3f rss_mb=%.1f frames_per_s=%.2f "
	    "frames_per_s_min=%.2f mb_per_s=%.3f frames_sent=%.0f "
	    "frames_dropped=%.0f bench_cpu_pct=%.0f\n", n, nb, rounds, interval,
	    (double)written / elapsed, consumed / elapsed,
	    (double)written - consumed, cpu,
	    consumed > 0 ? cpu * 1e6 / consumed : 0, (double)rss_kb / 1024.0,
	    (double)ftotal / nb / elapsed, (double)fmin / elapsed,
	    (double)btotal / nb / elapsed / 1e6, sent, dropped,
	    100 * self / elapsed);
	{
		char path[600];

		snprintf(path, sizeof(path), "%s/1.txt", dir);
		unlink(path);
		rmdir(dir);
	}
	free(bs.b);
	return consumed >= (double)written ? 0 : 1;
}
