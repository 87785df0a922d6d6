/*
 * web.c - the libwebsockets context on the caller's loop, the listener,
 * and HTTP requests (web_ws.c has the WebSocket endpoint).
 *
 * libwebsockets runs on the application's loop as a "foreign loop"
 * (LWS_SERVER_OPTION_LIBUV, info.foreign_loops); lws_service() is never
 * called.  Every request goes to protocols[0], whose callback builds a
 * struct rs_web_req, collects a POST body, and hands the request to the
 * owner.  The answer is written in LWS_CALLBACK_HTTP_WRITEABLE: the
 * headers first, then the body in chunks, one lws_write() per callback,
 * as lws requires.  The connection then waits for its next request.
 *
 * A request the owner holds (an asynchronous answer) may outlive its
 * connection: on close the request is detached (wsi = NULL) and freed by
 * rs_web_respond().  The per-connection data lws keeps for protocols[0]
 * only points at the current request.
 */
#include "web_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "routesim/http.h"
#include "routesim/log.h"

/* lws indexes connections by fd number: the highest fd it can serve. */
#define MAX_FDS 4096
/* Bytes of body written per writable callback. */
#define CHUNK 16384
#define HEADERS_MAX 1024

struct rs_web_req {
	struct rs_web *w;	/* valid while wsi != NULL */
	struct lws *wsi;	/* NULL: the client went away */
	enum rs_web_method method;
	bool held;		/* the handler owns it, no answer yet:
				 * on close it is detached, not freed */
	bool posting;		/* collecting the body */
	bool answered;		/* headers and body ready to write */
	bool headers_sent;
	bool close_after;	/* the body was not read: close when done */
	char *path;
	struct rs_buf in;	/* the POST body */
	struct rs_buf out;	/* the response body */
	size_t sent;
	size_t hdrlen;
	unsigned char hdr[LWS_PRE + HEADERS_MAX];
};

struct http_pss {
	struct rs_web_req *req;	/* the request in progress */
};

/* ---- Logging ----------------------------------------------------------- */

/* lws' lines end in '\n' and carry no timestamp. */
static void
log_lws(int level, const char *line)
{
	char msg[512], val[RS_LOG_VALUE_MAX];
	size_t n = strlen(line);
	enum rs_log_level lv = RS_LOG_DEBUG;

	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r' ||
	    line[n - 1] == ' '))
		n--;
	if (n >= sizeof(msg))
		n = sizeof(msg) - 1;
	memcpy(msg, line, n);
	msg[n] = '\0';
	/* Clients cause most of lws' errors (e.g. "Ran out of header data
	 * space") and warnings (each refused upgrade): one level down. */
	if (level & LLL_ERR)
		lv = RS_LOG_WARN;
	else if (level & LLL_WARN)
		lv = RS_LOG_INFO;
	rs_log(lv, "lws msg=%s", rs_log_value(val, sizeof(val), msg));
}

/* ---- Requests ---------------------------------------------------------- */

static void
req_free(struct rs_web_req *req)
{
	if (req == NULL)
		return;
	free(req->path);
	rs_buf_free(&req->in);
	rs_buf_free(&req->out);
	free(req);
}

enum rs_web_method
rs_web_req_method(const struct rs_web_req *req)
{
	return req->method;
}

const char *
rs_web_req_path(const struct rs_web_req *req)
{
	return req->path;
}

const char *
rs_web_req_body(const struct rs_web_req *req, size_t *len)
{
	*len = req->in.len;
	return req->in.len > 0 ? req->in.data : "";
}

/* Builds the status line and headers into req->hdr; 0 or -1. */
static int
build_headers(struct rs_web_req *req, int status, const char *ctype,
    const struct rs_web_response *resp, bool allow)
{
	unsigned char *start = &req->hdr[LWS_PRE], *p = start,
	    *end = &req->hdr[sizeof(req->hdr) - 1];
	struct lws *wsi = req->wsi;

	if (lws_add_http_common_headers(wsi, (unsigned)status, ctype,
	    req->out.len, &p, end) != 0)
		return -1;
	const char *methods = req->w->cfg.max_body > 0 ? "GET, HEAD, POST" :
	    "GET, HEAD";

	if (allow && lws_add_http_header_by_name(wsi,
	    (const unsigned char *)"allow:", (const unsigned char *)methods,
	    (int)strlen(methods), &p, end) != 0)
		return -1;
	for (size_t i = 0; resp != NULL && i < RS_WEB_MAX_HEADERS &&
	    resp->headers[i].name != NULL; i++) {
		char name[64];
		int n = snprintf(name, sizeof(name), "%s:",
		    resp->headers[i].name);

		if (n < 0 || (size_t)n >= sizeof(name) ||
		    lws_add_http_header_by_name(wsi, (unsigned char *)name,
		    (const unsigned char *)resp->headers[i].value,
		    (int)strlen(resp->headers[i].value), &p, end) != 0)
			return -1;
	}
	if (req->close_after && lws_add_http_header_by_token(wsi,
	    WSI_TOKEN_CONNECTION, (const unsigned char *)"close", 5, &p,
	    end) != 0)
		return -1;
	if (lws_finalize_http_header(wsi, &p, end) != 0)
		return -1;
	req->hdrlen = (size_t)(p - start);
	return 0;
}

static int
respond(struct rs_web_req *req, struct rs_web_response *resp, bool allow)
{
	int status = resp->status, rc = 0;
	const char *ctype = resp->content_type != NULL ?
	    resp->content_type : "text/plain; charset=utf-8";

	if (!req->held) {
		log_warnx("web: a request was answered twice");
		rs_buf_free(&resp->body);
		return -EINVAL;
	}
	req->held = false;
	if (req->wsi == NULL) {
		rs_buf_free(&resp->body);
		req_free(req);
		return -ENOTCONN;
	}
	lws_set_timeout(req->wsi, NO_PENDING_TIMEOUT, 0);
	req->out = resp->body;
	memset(&resp->body, 0, sizeof(resp->body));
	if (rs_buf_failed(&req->out)) {
		rs_buf_reset(&req->out);
		rs_buf_printf(&req->out, "out of memory\n");
		status = 500;
		ctype = "text/plain; charset=utf-8";
		resp = NULL;
		rc = -ENOMEM;
	}
	if (build_headers(req, status, ctype, resp, allow) != 0) {
		log_warnx("web: response headers too large path=%s status=%d",
		    req->path, status);
		req->close_after = true;
		req->hdrlen = 0;
	}
	if (status >= 100 && status < 600)
		req->w->stats.requests[status / 100]++;
	req->answered = true;
	lws_callback_on_writable(req->wsi);
	return rc;
}

int
rs_web_respond(struct rs_web_req *req, struct rs_web_response *resp)
{
	return respond(req, resp, resp->status == 405);
}

int
rs_web_respond_text(struct rs_web_req *req, int status, const char *fmt,
    ...)
{
	struct rs_web_response resp = {.status = status};
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n >= 0 && rs_buf_reserve(&resp.body, (size_t)n + 1) != NULL) {
		va_start(ap, fmt);
		vsnprintf(resp.body.data + resp.body.len, (size_t)n + 1, fmt,
		    ap);
		va_end(ap);
		resp.body.len += (size_t)n;
	}
	return rs_web_respond(req, &resp);
}

/* Refuses before reading any body; the connection closes afterwards. */
static void
refuse(struct rs_web_req *req, int status, const char *why)
{
	req->close_after = true;
	req->posting = false;
	req->held = true;
	rs_web_respond_text(req, status, "%s\n", why);
}

/* The handler gets req; it stays connected for timeout_s meanwhile. */
static void
dispatch(struct rs_web *w, struct rs_web_req *req)
{
	req->held = true;
	lws_set_timeout(req->wsi, PENDING_TIMEOUT_USER_OK,
	    (int)w->cfg.timeout_s);
	w->cfg.handler(w->cfg.ud, req);
}

/* LWS_CALLBACK_HTTP: the headers are in. */
static int
on_http(struct rs_web *w, struct lws *wsi, struct http_pss *pss,
    const char *path)
{
	struct rs_web_req *req;
	char *uri, cl[32];
	int ulen, meth = lws_http_get_uri_and_method(wsi, &uri, &ulen);
	long long want;

	req_free(pss->req);	/* none: a connection has one at a time */
	pss->req = NULL;
	if ((req = calloc(1, sizeof(*req))) == NULL ||
	    (req->path = strdup(path)) == NULL) {
		req_free(req);
		return -1;
	}
	req->w = w;
	req->wsi = wsi;
	pss->req = req;
	switch (meth) {
	case LWSHUMETH_GET:
		req->method = RS_WEB_GET;
		break;
	case LWSHUMETH_HEAD:
		req->method = RS_WEB_HEAD;
		break;
	case LWSHUMETH_POST:
		req->method = RS_WEB_POST;
		if (w->cfg.max_body == 0) {
			refuse(req, 405, "method not allowed here");
			return 0;
		}
		if (lws_hdr_total_length(wsi,
		    WSI_TOKEN_HTTP_TRANSFER_ENCODING) > 0 ||
		    lws_hdr_copy(wsi, cl, sizeof(cl),
		    WSI_TOKEN_HTTP_CONTENT_LENGTH) <= 0) {
			refuse(req, 411, "Content-Length required (chunked "
			    "bodies are not accepted)");
			return 0;
		}
		want = strtoll(cl, NULL, 10);
		if (want < 0 || (unsigned long long)want > w->cfg.max_body) {
			refuse(req, 413, "body too large");
			return 0;
		}
		req->posting = true;	/* BODY..., BODY_COMPLETION follow */
		return 0;
	default:
		refuse(req, 405, "method not allowed");
		return 0;
	}
	dispatch(w, req);
	return 0;
}

static int
on_body(struct rs_web *w, struct http_pss *pss, const void *in, size_t len)
{
	struct rs_web_req *req = pss->req;

	if (req == NULL || !req->posting || len == 0)
		return 0;	/* (lws may call with no data) */
	if (req->in.len + len > w->cfg.max_body) {
		refuse(req, 413, "body too large");
		return 0;
	}
	rs_buf_append(&req->in, in, len);
	return rs_buf_failed(&req->in) ? -1 : 0;
}

static int
on_body_done(struct rs_web *w, struct http_pss *pss)
{
	struct rs_web_req *req = pss->req;

	if (req == NULL || !req->posting)
		return 0;
	req->posting = false;
	rs_buf_append(&req->in, "", 1);	/* the NUL, not counted */
	if (rs_buf_failed(&req->in))
		return -1;
	req->in.len--;
	dispatch(w, req);
	return 0;
}

/* One lws_write() of the answer; -1 closes the connection. */
static int
on_writable(struct lws *wsi, struct http_pss *pss)
{
	unsigned char buf[LWS_PRE + CHUNK];
	struct rs_web_req *req = pss->req;
	size_t n;
	bool last;

	if (req == NULL || !req->answered)
		return 0;
	if (!req->headers_sent) {
		if (req->hdrlen == 0 || lws_write(wsi, &req->hdr[LWS_PRE],
		    req->hdrlen, LWS_WRITE_HTTP_HEADERS) != (int)req->hdrlen)
			return -1;
		req->headers_sent = true;
		if (req->method != RS_WEB_HEAD && req->out.len > 0) {
			lws_callback_on_writable(wsi);
			return 0;
		}
	} else {
		n = req->out.len - req->sent;
		if (n > CHUNK)
			n = CHUNK;
		last = req->sent + n == req->out.len;
		memcpy(&buf[LWS_PRE], req->out.data + req->sent, n);
		if (lws_write(wsi, &buf[LWS_PRE], n, last ?
		    LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) != (int)n)
			return -1;
		req->sent += n;
		if (!last) {
			lws_callback_on_writable(wsi);
			return 0;
		}
	}
	pss->req = NULL;
	if (req->close_after) {
		req_free(req);
		return -1;
	}
	req_free(req);
	return lws_http_transaction_completed(wsi) ? -1 : 0;
}

/* The connection is going: a held request is detached, kept for the
 * owner's rs_web_respond(); any other is freed. */
static void
on_gone(struct http_pss *pss)
{
	struct rs_web_req *req = pss->req;

	if (req == NULL)
		return;
	pss->req = NULL;
	if (req->held) {
		req->wsi = NULL;
		req->w = NULL;
		req->posting = false;
	} else {
		req_free(req);
	}
}

static int
http_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
    void *in, size_t len)
{
	struct http_pss *pss = user;
	struct rs_web *w;

	switch (reason) {
	case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
		/* An upgrade naming the subprotocol "http", or any upgrade
		 * when there is no WebSocket endpoint. */
		rs_web_of(wsi)->stats.ws_refused++;
		log_debug("web: websocket upgrade refused: no such endpoint");
		return 1;
	case LWS_CALLBACK_HTTP:
		w = rs_web_of(wsi);
		return on_http(w, wsi, pss, in != NULL ? in : "/");
	case LWS_CALLBACK_HTTP_BODY:
		return on_body(rs_web_of(wsi), pss, in, len);
	case LWS_CALLBACK_HTTP_BODY_COMPLETION:
		return on_body_done(rs_web_of(wsi), pss);
	case LWS_CALLBACK_HTTP_WRITEABLE:
		return pss != NULL ? on_writable(wsi, pss) : 0;
	case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
	case LWS_CALLBACK_CLOSED_HTTP:
		if (pss != NULL)
			on_gone(pss);
		return 0;
	default:
		break;
	}
	return lws_callback_http_dummy(wsi, reason, user, in, len);
}

/* ---- Server ------------------------------------------------------------ */

static void
set_defaults(struct rs_web_config *c)
{
	if (c->keepalive_s == 0)
		c->keepalive_s = 5;
	if (c->timeout_s == 0)
		c->timeout_s = 5;
	if (c->ws_max_conns == 0)
		c->ws_max_conns = 100;
	if (c->ws_max_msg == 0)
		c->ws_max_msg = 1024;
	if (c->ws_ping_s == 0)
		c->ws_ping_s = 20;
	if (c->ws_hangup_s == 0)
		c->ws_hangup_s = 30;
}

static void
set_protocols(struct rs_web *w)
{
	struct lws_protocols *p = w->protocols;

	p[RS_WEB_PROTO_HTTP].name = "http";
	p[RS_WEB_PROTO_HTTP].callback = http_callback;
	p[RS_WEB_PROTO_HTTP].per_session_data_size = sizeof(struct http_pss);
	if (w->cfg.ws_path == NULL)
		return;
	p[RS_WEB_PROTO_WS].name = "rs-web";
	p[RS_WEB_PROTO_WS].callback = rs_web_ws_callback;
	p[RS_WEB_PROTO_WS].per_session_data_size = sizeof(struct rs_web_ws);
	p[RS_WEB_PROTO_WS].rx_buffer_size = 4096;	/* a chunk, not a cap */
	/* Upgrades without Sec-WebSocket-Protocol (browsers') bind to the
	 * vhost's default protocol: make it this one, not protocols[0]. */
	w->pvo_default.name = "default";
	w->pvo_default.value = "1";
	w->pvo_ws.name = p[RS_WEB_PROTO_WS].name;
	w->pvo_ws.options = &w->pvo_default;
	w->pvo_ws.value = "";
}

static unsigned
max_fds(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < MAX_FDS)
		return (unsigned)rl.rlim_cur;
	return MAX_FDS;
}

/*
 * The numeric interface for lws, and its options.  lws binds [::] when
 * IPv6 is on and the interface is an IPv4 address, and 0.0.0.0 when IPv6
 * is off and it is an IPv6 one: so IPv6 is on exactly for IPv6 addresses.
 */
static const char *
iface_of(const struct sockaddr_storage *a, char *buf, size_t len,
    uint64_t *options)
{
	const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)a;

	if (a->ss_family == AF_INET) {
		*options |= LWS_SERVER_OPTION_DISABLE_IPV6;
		return inet_ntop(AF_INET,
		    &((const struct sockaddr_in *)a)->sin_addr, buf,
		    (socklen_t)len);
	}
	if (IN6_IS_ADDR_UNSPECIFIED(&v6->sin6_addr))
		return NULL;	/* every address */
	return inet_ntop(AF_INET6, &v6->sin6_addr, buf, (socklen_t)len);
}

static int
listen_port(const struct sockaddr_storage *a)
{
	return ntohs(a->ss_family == AF_INET ?
	    ((const struct sockaddr_in *)a)->sin_port :
	    ((const struct sockaddr_in6 *)a)->sin6_port);
}

static int
create_vhost(struct rs_web *w, const struct sockaddr_storage *addr,
    char *err, size_t errlen)
{
	struct lws_context_creation_info info;
	char iface[INET6_ADDRSTRLEN];
	uint64_t options = LWS_SERVER_OPTION_FAIL_UPON_UNABLE_TO_BIND;

	memset(&info, 0, sizeof(info));
	info.vhost_name = "default";
	info.iface = iface_of(addr, iface, sizeof(iface), &options);
	info.port = listen_port(addr);
	info.options = options;
	info.protocols = w->protocols;
	if (w->cfg.ws_path != NULL)
		info.pvo = &w->pvo_ws;
	info.keepalive_timeout = (int)w->cfg.keepalive_s;
	info.timeout_secs = w->cfg.timeout_s;
	info.timeout_secs_ah_idle = w->cfg.timeout_s;	/* a silent client */
	w->idle.secs_since_valid_ping = (uint16_t)w->cfg.ws_ping_s;
	w->idle.secs_since_valid_hangup = (uint16_t)w->cfg.ws_hangup_s;
	info.retry_and_idle_policy = &w->idle;
	if ((w->vh = lws_create_vhost(w->ctx, &info)) == NULL)
		return rs_errf(err, errlen, -EADDRNOTAVAIL, "http listen %s: "
		    "cannot listen (address in use, or not local)",
		    w->cfg.listen);
	w->port = lws_get_vhost_listen_port(w->vh);
	return 0;
}

int
rs_web_start(struct rs_web **out, uv_loop_t *loop,
    const struct rs_web_config *cfg, char *err, size_t errlen)
{
	struct lws_context_creation_info info;
	struct sockaddr_storage addr;
	void *loops[1] = {loop};
	struct rs_web *w;
	int rc;

	*out = NULL;
	if ((rc = rs_http_parse_listen(cfg->listen, &addr, err, errlen)) != 0)
		return rc;
	if ((w = calloc(1, sizeof(*w))) == NULL ||
	    (cfg->ws_path != NULL &&
	    (w->ws_path = strdup(cfg->ws_path)) == NULL)) {
		free(w);
		return rs_errf(err, errlen, -ENOMEM, "http: out of memory");
	}
	w->loop = loop;
	w->cfg = *cfg;
	w->cfg.ws_path = w->ws_path;
	set_defaults(&w->cfg);
	set_protocols(w);
	lws_set_log_level(LLL_ERR | LLL_WARN | LLL_NOTICE, log_lws);
	memset(&info, 0, sizeof(info));
	info.options = LWS_SERVER_OPTION_LIBUV |
	    LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
	info.foreign_loops = loops;	/* read during the call only */
	info.pcontext = &w->ctx;
	info.fd_limit_per_thread = max_fds();
	info.user = w;
	info.timeout_secs = w->cfg.timeout_s;	/* an unfinished request */
	if ((w->ctx = lws_create_context(&info)) == NULL) {
		free(w->ws_path);
		free(w);
		return rs_errf(err, errlen, -ELIBACC, "http: libwebsockets "
		    "cannot run on the libuv loop (is its plugin, package "
		    "libwebsockets-evlib-uv, installed?)");
	}
	*out = w;
	if ((rc = create_vhost(w, &addr, err, errlen)) != 0) {
		rs_web_close(w);
		return rc;
	}
	log_info("http listening addr=%s port=%d", cfg->listen, w->port);
	return 0;
}

int
rs_web_port(const struct rs_web *w)
{
	return w->port;
}

const struct rs_web_stats *
rs_web_stats(const struct rs_web *w)
{
	return &w->stats;
}

void
rs_web_close(struct rs_web *w)
{
	if (w == NULL || w->closing)
		return;
	w->closing = true;
	lws_context_destroy(w->ctx);	/* closes; frees in rs_web_free() */
}

void
rs_web_free(struct rs_web *w)
{
	if (w == NULL)
		return;
	rs_web_close(w);
	if (w->ctx != NULL)
		lws_context_destroy(w->ctx);	/* frees; NULLs w->ctx */
	rs_buf_free(&w->frame);
	free(w->ws_path);
	free(w);
}

void
rs_web_publish(struct rs_web *w, uint64_t seq)
{
	if (w->closing || w->cfg.ws_path == NULL)
		return;
	w->seq = seq;
	lws_callback_on_writable_all_protocol(w->ctx,
	    &w->protocols[RS_WEB_PROTO_WS]);
}
