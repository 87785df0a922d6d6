/*
 * http.c - routesim's endpoints server (a GET/HEAD-only use of web.h),
 * the --http-listen address, and the --healthcheck probe client.
 */
#include "routesim/http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "routesim/log.h"

/* The address of a host name: its first IPv4 address, else its first
 * IPv6 one (so "localhost" is 127.0.0.1, where clients look first). */
static int
resolve(const char *host, int port, struct sockaddr_storage *out)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res, *ai;
	int rc;

	if ((rc = getaddrinfo(host, NULL, &hints, &res)) != 0)
		return rc;
	for (ai = res; ai != NULL && ai->ai_family != AF_INET; ai = ai->ai_next)
		;
	for (ai = ai ? ai : res; ai != NULL; ai = ai->ai_next) {
		if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6)
			continue;
		memcpy(out, ai->ai_addr, ai->ai_addrlen);
		if (ai->ai_family == AF_INET)
			((struct sockaddr_in *)out)->sin_port =
			    htons((uint16_t)port);
		else
			((struct sockaddr_in6 *)out)->sin6_port =
			    htons((uint16_t)port);
		break;
	}
	freeaddrinfo(res);
	return ai != NULL ? 0 : EAI_NONAME;
}

int
rs_http_parse_listen(const char *s, struct sockaddr_storage *out, char *err,
    size_t errlen)
{
	char host[256];
	const char *colon;
	char *end;
	long port;
	int rc;

	memset(out, 0, sizeof(*out));
	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (close == NULL || close[1] != ':' ||
		    (size_t)(close - s - 1) >= sizeof(host))
			goto syntax;
		memcpy(host, s + 1, (size_t)(close - s - 1));
		host[close - s - 1] = '\0';
		colon = close + 1;
	} else {
		if ((colon = strrchr(s, ':')) == NULL ||
		    (size_t)(colon - s) >= sizeof(host))
			goto syntax;
		memcpy(host, s, (size_t)(colon - s));
		host[colon - s] = '\0';
		if (host[0] == '\0')
			strcpy(host, "0.0.0.0");
	}
	port = strtol(colon + 1, &end, 10);
	if (colon[1] == '\0' || *end != '\0' || port < 0 || port > 65535)
		goto syntax;
	if (uv_ip4_addr(host, (int)port, (struct sockaddr_in *)out) == 0)
		return 0;
	if (uv_ip6_addr(host, (int)port, (struct sockaddr_in6 *)out) == 0)
		return 0;
	if (s[0] == '[')
		goto syntax;	/* brackets hold an IPv6 address */
	if ((rc = resolve(host, (int)port, out)) != 0)
		return rs_errf(err, errlen, -ENOENT, "--http-listen %s: cannot "
		    "resolve %s: %s", s, host, gai_strerror(rc));
	return 0;
syntax:
	return rs_errf(err, errlen, -EINVAL, "--http-listen %s: expected "
	    "HOST:PORT (e.g. 0.0.0.0:8080 or localhost:8080)", s);
}

/* ---- Server ----------------------------------------------------------- */

static void
on_request(void *ud, struct rs_web_req *req)
{
	struct rs_http *h = ud;
	struct rs_web_response resp = {0};

	resp.status = h->handler(h->ud, rs_web_req_path(req), &resp.body,
	    &resp.content_type);
	rs_web_respond(req, &resp);
}

int
rs_http_start(struct rs_http *h, uv_loop_t *loop, const char *listen,
    rs_http_handler handler, void *ud, char *err, size_t errlen)
{
	struct rs_web_config cfg = {
		.listen = listen,
		.handler = on_request,
		.ud = h,
		.keepalive_s = RS_HTTP_TIMEOUT_MS / 1000,
		.timeout_s = RS_HTTP_TIMEOUT_MS / 1000,
	};

	memset(h, 0, sizeof(*h));
	h->handler = handler;
	h->ud = ud;
	return rs_web_start(&h->web, loop, &cfg, err, errlen);
}

void
rs_http_close(struct rs_http *h, void (*cb)(struct rs_http *))
{
	rs_web_close(h->web);
	if (cb != NULL)
		cb(h);
}

void
rs_http_free(struct rs_http *h)
{
	rs_web_free(h->web);
	h->web = NULL;
}

/* ---- Probe ------------------------------------------------------------ */

static int
remaining_ms(const struct timespec *deadline)
{
	struct timespec now;
	long ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (deadline->tv_sec - now.tv_sec) * 1000 +
	    (deadline->tv_nsec - now.tv_nsec) / 1000000;
	return ms > 0 ? (int)ms : 0;
}

/* Waits for fd to be ready for events; 0, or -ETIMEDOUT. */
static int
wait_fd(int fd, short events, const struct timespec *deadline)
{
	struct pollfd p = {fd, events, 0};
	int n = poll(&p, 1, remaining_ms(deadline));

	if (n < 0)
		return -errno;
	return n == 0 ? -ETIMEDOUT : 0;
}

/* The address to probe a listener on: a wildcard one is reached on
 * loopback. */
static int
probe_address(const char *listen, struct sockaddr_storage *addr)
{
	struct sockaddr_in *v4 = (struct sockaddr_in *)addr;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)addr;
	int rc;

	if ((rc = rs_http_parse_listen(listen, addr, NULL, 0)) != 0)
		return rc;
	if (addr->ss_family == AF_INET && v4->sin_addr.s_addr == INADDR_ANY)
		v4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (addr->ss_family == AF_INET6 &&
	    IN6_IS_ADDR_UNSPECIFIED(&v6->sin6_addr))
		v6->sin6_addr = in6addr_loopback;
	return 0;
}

/* The monotonic time ms milliseconds from now. */
static void
deadline_in(struct timespec *deadline, int ms)
{
	clock_gettime(CLOCK_MONOTONIC, deadline);
	deadline->tv_sec += ms / 1000;
	deadline->tv_nsec += (long)(ms % 1000) * 1000000;
	if (deadline->tv_nsec >= 1000000000) {
		deadline->tv_sec++;
		deadline->tv_nsec -= 1000000000;
	}
}

/* Reads the status line of the answer on fd: the status, or a negative
 * code. */
static int
read_status(int fd, const struct timespec *deadline)
{
	char resp[64];
	size_t got = 0;
	int rc, status = 0;

	while (got < sizeof(resp) - 1) {
		ssize_t r;

		if ((rc = wait_fd(fd, POLLIN, deadline)) != 0)
			return rc;
		if ((r = recv(fd, resp + got, sizeof(resp) - 1 - got, 0)) < 0)
			return -errno;
		if (r == 0)
			break;
		got += (size_t)r;
		resp[got] = '\0';
		if (strstr(resp, "\r\n") != NULL)
			break;
	}
	resp[got] = '\0';
	return sscanf(resp, "HTTP/1.%*d %d", &status) == 1 ? status : -EPROTO;
}

int
rs_http_probe(const char *listen, const char *path, int timeout_ms)
{
	struct sockaddr_storage addr;
	struct timespec deadline;
	char req[256];
	int fd, rc, n;

	if ((rc = probe_address(listen, &addr)) != 0)
		return rc;
	/* The whole request fits req, or nothing is sent. */
	n = snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\n\r\n", path);
	if (n < 0 || (size_t)n >= sizeof(req) || path[0] != '/' ||
	    strpbrk(path, " \r\n") != NULL)
		return -EINVAL;
	deadline_in(&deadline, timeout_ms);
	if ((fd = socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&addr, addr.ss_family == AF_INET ?
	    sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6)) != 0 &&
	    errno != EINPROGRESS) {
		rc = -errno;
		goto out;
	}
	if ((rc = wait_fd(fd, POLLOUT, &deadline)) != 0)
		goto out;
	if (send(fd, req, (size_t)n, MSG_NOSIGNAL) != n) {
		rc = -EIO;	/* a short send of a tiny request: give up */
		goto out;
	}
	rc = read_status(fd, &deadline);
out:
	close(fd);
	return rc;
}

int
rs_http_healthcheck(const char *prog, const char *listen)
{
	int status;

	if (listen == NULL) {
		fprintf(stderr, "%s: --healthcheck needs --http-listen or "
		    "ROUTESIM_HTTP_LISTEN\n", prog);
		return 1;
	}
	status = rs_http_probe(listen, "/healthz", 2000);
	if (status == 200)
		return 0;
	if (status < 0)
		fprintf(stderr, "%s: healthcheck %s: %s\n", prog, listen,
		    strerror(-status));
	else
		fprintf(stderr, "%s: healthcheck %s: HTTP %d\n", prog, listen,
		    status);
	return 1;
}
