/*
 * web_http.c - HTTP requests of a web server (web.h): one callback,
 * protocols[0]'s, for every request.
 *
 * LWS_CALLBACK_HTTP builds a struct rs_web_req; a POST body is collected
 * (HTTP_BODY, then HTTP_BODY_COMPLETION) before the owner's handler gets
 * it.  The answer is written in LWS_CALLBACK_HTTP_WRITEABLE: the headers
 * first, then the body in chunks, one lws_write() per callback, as lws
 * requires.  The connection then waits for its next request (keep-alive).
 *
 * A request the owner holds (an asynchronous answer) may outlive its
 * connection: on close the request is detached (wsi = NULL) and freed by
 * rs_web_respond().  The per-connection data lws keeps for protocols[0]
 * only points at the current request.
 */
#include "web_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "routesim/log.h"

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
	const char *methods = req->w->cfg.max_body > 0 ? "GET, HEAD, POST" :
	    "GET, HEAD";

	if (lws_add_http_common_headers(wsi, (unsigned)status, ctype,
	    req->out.len, &p, end) != 0)
		return -1;
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

	if (!req->held) {	/* (only while it is being written) */
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
		char path[RS_LOG_VALUE_MAX];

		log_warnx("web: response headers too large path=%s status=%d",
		    rs_log_value(path, sizeof(path), req->path), status);
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

/* The handler gets req; the client waits for at most answer_s. */
static void
dispatch(struct rs_web *w, struct rs_web_req *req)
{
	req->held = true;
	lws_set_timeout(req->wsi, PENDING_TIMEOUT_USER_OK,
	    (int)w->cfg.answer_s);
	w->cfg.handler(w->cfg.ud, req);
}

/* The connection is going: a held request is detached, kept for the
 * owner's rs_web_respond(); any other is freed. */
static void
on_gone(struct rs_web_http_pss *pss)
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

/* LWS_CALLBACK_HTTP: the headers are in. */
static int
on_http(struct rs_web *w, struct lws *wsi, struct rs_web_http_pss *pss,
    const char *path)
{
	struct rs_web_req *req;
	char *uri, cl[32];
	int ulen, meth = lws_http_get_uri_and_method(wsi, &uri, &ulen);
	long long want;

	on_gone(pss);	/* none: lws reads one request at a time */
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
on_body(struct rs_web *w, struct rs_web_http_pss *pss, const void *in,
    size_t len)
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
on_body_done(struct rs_web *w, struct rs_web_http_pss *pss)
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
on_writable(struct lws *wsi, struct rs_web_http_pss *pss)
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

int
rs_web_http_callback(struct lws *wsi, enum lws_callback_reasons reason,
    void *user, void *in, size_t len)
{
	struct rs_web_http_pss *pss = user;
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
