/*
 * http.c - the HTTP server and the probe client.
 *
 * A connection reads into a fixed buffer until the blank line that ends
 * the headers; then it writes one response and closes.  The request body
 * (GET has none) is never read.
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

struct rs_http_conn {
	uv_tcp_t tcp;		/* tcp.data = this */
	uv_timer_t timer;	/* timer.data = this */
	uv_write_t wreq;
	struct rs_http *h;
	struct rs_http_conn *prev, *next;
	struct rs_buf out;
	unsigned open_handles;
	bool responded;
	size_t inlen;
	char in[RS_HTTP_MAX_REQUEST];
};

static const char *
reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 413: return "Content Too Large";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	default: return "Unknown";
	}
}

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

/* ---- Connections ------------------------------------------------------ */

static void maybe_closed(struct rs_http *h);

static void
conn_handle_closed(uv_handle_t *handle)
{
	struct rs_http_conn *c = handle->data;
	struct rs_http *h = c->h;

	if (--c->open_handles > 0)
		return;
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		h->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	h->nconns--;
	h->nclosing--;
	rs_buf_free(&c->out);
	free(c);
	maybe_closed(h);
}

static void
conn_close(struct rs_http_conn *c)
{
	if (uv_is_closing((uv_handle_t *)&c->tcp))
		return;
	c->h->nclosing++;
	uv_close((uv_handle_t *)&c->tcp, conn_handle_closed);
	uv_close((uv_handle_t *)&c->timer, conn_handle_closed);
}

static void
on_written(uv_write_t *req, int status)
{
	struct rs_http_conn *c = req->data;

	if (status < 0)
		log_debug("http write: %s", uv_strerror(status));
	conn_close(c);
}

static void
respond(struct rs_http_conn *c, int status, const char *ctype,
    const struct rs_buf *body, bool head)
{
	uv_buf_t buf;
	int rc;

	c->responded = true;
	if (uv_read_stop((uv_stream_t *)&c->tcp) != 0)
		log_debug("http: uv_read_stop failed");
	rs_buf_printf(&c->out, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\n"
	    "Content-Length: %zu\r\nConnection: close\r\n%s\r\n", status,
	    reason(status), ctype, body ? body->len : 0,
	    status == 405 ? "Allow: GET, HEAD\r\n" : "");
	if (body != NULL && !head)
		rs_buf_append(&c->out, body->data, body->len);
	if (rs_buf_failed(&c->out)) {
		conn_close(c);
		return;
	}
	buf = uv_buf_init(c->out.data, (unsigned)c->out.len);
	c->wreq.data = c;
	if ((rc = uv_write(&c->wreq, (uv_stream_t *)&c->tcp, &buf, 1,
	    on_written)) != 0) {
		log_debug("http write: %s", uv_strerror(rc));
		conn_close(c);
	}
}

static void
respond_text(struct rs_http_conn *c, int status, const char *text)
{
	struct rs_buf body = {0};

	rs_buf_printf(&body, "%s\n", text);
	respond(c, status, "text/plain; charset=utf-8", &body, false);
	rs_buf_free(&body);
}

static bool
is_token_char(char ch)
{
	return ch >= 'A' && ch <= 'Z';
}

/* Parses the request line in c->in and answers. */
static void
handle(struct rs_http_conn *c)
{
	char *line_end = memchr(c->in, '\r', c->inlen), *sp1, *sp2, *q;
	const char *ctype = "text/plain; charset=utf-8";
	struct rs_buf body = {0};
	bool head;
	int status;

	if (line_end == NULL)
		goto bad;
	*line_end = '\0';
	if ((sp1 = strchr(c->in, ' ')) == NULL ||
	    (sp2 = strchr(sp1 + 1, ' ')) == NULL || strchr(sp2 + 1, ' '))
		goto bad;
	*sp1 = *sp2 = '\0';
	for (const char *p = c->in; *p != '\0'; p++)
		if (!is_token_char(*p))
			goto bad;
	if (sp1[1] != '/' || (strcmp(sp2 + 1, "HTTP/1.1") != 0 &&
	    strcmp(sp2 + 1, "HTTP/1.0") != 0))
		goto bad;
	head = strcmp(c->in, "HEAD") == 0;
	if (!head && strcmp(c->in, "GET") != 0) {
		respond_text(c, 405, "only GET and HEAD");
		return;
	}
	if ((q = strchr(sp1 + 1, '?')) != NULL)
		*q = '\0';
	status = c->h->handler(c->h->ud, sp1 + 1, &body, &ctype);
	if (rs_buf_failed(&body))
		respond_text(c, 500, "out of memory");
	else
		respond(c, status, ctype, &body, head);
	rs_buf_free(&body);
	return;
bad:
	respond_text(c, 400, "malformed request");
}

static void
on_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
	struct rs_http_conn *c = handle->data;

	(void)suggested;
	*buf = uv_buf_init(c->in + c->inlen,
	    (unsigned)(sizeof(c->in) - c->inlen));
}

static void
on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
	struct rs_http_conn *c = stream->data;

	(void)buf;
	if (c->responded)
		return;
	if (nread < 0) {
		conn_close(c);	/* EOF or error before a full request */
		return;
	}
	c->inlen += (size_t)nread;
	if (memmem(c->in, c->inlen, "\r\n\r\n", 4) != NULL)
		handle(c);
	else if (c->inlen == sizeof(c->in))
		respond_text(c, 413, "request too large");
}

static void
on_timeout(uv_timer_t *t)
{
	struct rs_http_conn *c = t->data;

	log_debug("http: client too slow, disconnected");
	conn_close(c);
}

static void
on_refused_closed(uv_handle_t *handle)
{
	free(handle);
}

/*
 * At the connection cap, the oldest connection still waiting for its
 * request makes room: idle clients cannot lock out a health probe.
 */
static void
evict_oldest(struct rs_http *h)
{
	struct rs_http_conn *c, *oldest = NULL;

	for (c = h->conns; c != NULL; c = c->next)
		if (!c->responded && !uv_is_closing((uv_handle_t *)&c->tcp))
			oldest = c;	/* the list is newest first */
	if (oldest != NULL) {
		log_debug("http: %u connections, closing the oldest idle one",
		    h->nconns);
		conn_close(oldest);
	}
}

static void
on_connection(uv_stream_t *server, int status)
{
	struct rs_http *h = server->data;
	struct rs_http_conn *c;
	int rc;

	if (status < 0) {
		log_warnx("http accept: %s", uv_strerror(status));
		return;
	}
	if (h->closing || (c = calloc(1, sizeof(*c))) == NULL) {
		uv_tcp_t *t = malloc(sizeof(*t));

		/* Accept and close at once, so the backlog cannot fill. */
		if (t == NULL)
			return;
		uv_tcp_init(h->loop, t);
		if (uv_accept(server, (uv_stream_t *)t) != 0)
			log_debug("http: accept of an extra client failed");
		uv_close((uv_handle_t *)t, on_refused_closed);
		return;
	}
	if (h->nconns - h->nclosing >= RS_HTTP_MAX_CONNS)
		evict_oldest(h);
	c->h = h;
	uv_tcp_init(h->loop, &c->tcp);
	uv_timer_init(h->loop, &c->timer);
	c->tcp.data = c->timer.data = c;
	c->open_handles = 2;
	c->next = h->conns;
	if (h->conns != NULL)
		h->conns->prev = c;
	h->conns = c;
	h->nconns++;
	if ((rc = uv_accept(server, (uv_stream_t *)&c->tcp)) != 0 ||
	    (rc = uv_timer_start(&c->timer, on_timeout, RS_HTTP_TIMEOUT_MS,
	    0)) != 0 ||
	    (rc = uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read)) !=
	    0) {
		log_debug("http connection: %s", uv_strerror(rc));
		conn_close(c);
	}
}

int
rs_http_start(struct rs_http *h, uv_loop_t *loop, const char *listen,
    rs_http_handler handler, void *ud, char *err, size_t errlen)
{
	struct sockaddr_storage addr;
	int rc;

	memset(h, 0, sizeof(*h));
	h->loop = loop;
	h->handler = handler;
	h->ud = ud;
	if ((rc = rs_http_parse_listen(listen, &addr, err, errlen)) != 0)
		return rc;
	uv_tcp_init(loop, &h->server);
	h->server.data = h;
	h->server_open = true;
	if ((rc = uv_tcp_bind(&h->server, (struct sockaddr *)&addr, 0)) != 0 ||
	    (rc = uv_listen((uv_stream_t *)&h->server, 128, on_connection)) !=
	    0) {
		rs_http_close(h, NULL);	/* the caller runs the loop */
		return rs_errf(err, errlen, rc, "http listen %s: %s", listen,
		    uv_strerror(rc));
	}
	log_info("http listening addr=%s", listen);
	return 0;
}

static void
maybe_closed(struct rs_http *h)
{
	if (!h->closing || h->server_open || h->nconns > 0)
		return;
	if (h->close_cb != NULL)
		h->close_cb(h);
}

static void
on_server_closed(uv_handle_t *handle)
{
	struct rs_http *h = handle->data;

	h->server_open = false;
	maybe_closed(h);
}

void
rs_http_close(struct rs_http *h, void (*cb)(struct rs_http *))
{
	h->closing = true;
	h->close_cb = cb;
	for (struct rs_http_conn *c = h->conns; c != NULL; c = c->next)
		conn_close(c);
	uv_close((uv_handle_t *)&h->server, on_server_closed);
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

int
rs_http_probe(const char *listen, const char *path, int timeout_ms)
{
	struct sockaddr_storage addr;
	struct sockaddr_in *v4 = (struct sockaddr_in *)&addr;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&addr;
	struct timespec deadline;
	char req[256], resp[64];
	size_t got = 0;
	int fd, rc, status = 0, n;

	if ((rc = rs_http_parse_listen(listen, &addr, NULL, 0)) != 0)
		return rc;
	/* The whole request fits req, or nothing is sent. */
	n = snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\n\r\n", path);
	if (n < 0 || (size_t)n >= sizeof(req) || path[0] != '/' ||
	    strpbrk(path, " \r\n") != NULL)
		return -EINVAL;
	/* A wildcard listener is reached on loopback. */
	if (addr.ss_family == AF_INET && v4->sin_addr.s_addr == INADDR_ANY)
		v4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (addr.ss_family == AF_INET6 &&
	    IN6_IS_ADDR_UNSPECIFIED(&v6->sin6_addr))
		v6->sin6_addr = in6addr_loopback;
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += timeout_ms / 1000;
	deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
	if (deadline.tv_nsec >= 1000000000) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000;
	}
	if ((fd = socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&addr, addr.ss_family == AF_INET ?
	    sizeof(*v4) : sizeof(*v6)) != 0 && errno != EINPROGRESS) {
		rc = -errno;
		goto out;
	}
	if ((rc = wait_fd(fd, POLLOUT, &deadline)) != 0)
		goto out;
	if (send(fd, req, (size_t)n, MSG_NOSIGNAL) != n) {
		rc = -EIO;	/* a short send of a tiny request: give up */
		goto out;
	}
	while (got < sizeof(resp) - 1) {
		ssize_t r;

		if ((rc = wait_fd(fd, POLLIN, &deadline)) != 0)
			goto out;
		if ((r = recv(fd, resp + got, sizeof(resp) - 1 - got, 0)) < 0) {
			rc = -errno;
			goto out;
		}
		if (r == 0)
			break;
		got += (size_t)r;
		resp[got] = '\0';
		if (strstr(resp, "\r\n") != NULL)
			break;
	}
	resp[got] = '\0';
	rc = sscanf(resp, "HTTP/1.%*d %d", &status) == 1 ? status : -EPROTO;
out:
	close(fd);
	return rc;
}
