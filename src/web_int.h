/*
 * web_int.h - what web.c (context, listener), web_http.c (requests) and
 * web_ws.c (WebSocket endpoint) share.  Not for callers: they use web.h.
 */
#ifndef ROUTESIM_WEB_INT_H
#define ROUTESIM_WEB_INT_H

#include <libwebsockets.h>

#include "routesim/web.h"

/* The order of the protocols table: [0] HTTP, [1] WebSocket. */
enum { RS_WEB_PROTO_HTTP, RS_WEB_PROTO_WS, RS_WEB_NPROTO };

struct rs_web {
	uv_loop_t *loop;
	struct lws_context *ctx;	/* NULLed by lws' final destroy */
	struct lws_vhost *vh;
	struct rs_web_config cfg;	/* ws_path points at ws_path below */
	char *ws_path;
	struct lws_protocols protocols[RS_WEB_NPROTO + 1];
	struct lws_protocol_vhost_options pvo_default, pvo_ws;
	lws_retry_bo_t idle;
	struct rs_web_stats stats;
	uint64_t seq;			/* latest published generation */
	int port;
	bool closing;
};

struct rs_web_ws {
	struct rs_web *w;
	struct lws *wsi;
	void *data;
	uint64_t have;		/* generation last sent (or being sent) */
	struct rs_web_frame *out;	/* the frame being sent, a reference */
	size_t off;		/* where its next fragment starts */
	bool snapshot;		/* send a snapshot next */
	bool counted;		/* in stats.ws_open */
	int close_code;		/* nonzero: close at the next writable */
	const char *close_reason;
	struct rs_buf rx;	/* the message being received */
};

/* protocols[0]'s per-connection data (lws allocates it). */
struct rs_web_http_pss {
	struct rs_web_req *req;	/* the request in progress */
};

/* The server of a connection. */
static inline struct rs_web *
rs_web_of(struct lws *wsi)
{
	return lws_context_user(lws_get_context(wsi));
}

/* protocols[RS_WEB_PROTO_HTTP].callback (web_http.c) */
int rs_web_http_callback(struct lws *wsi, enum lws_callback_reasons reason,
    void *user, void *in, size_t len);
/* protocols[RS_WEB_PROTO_WS].callback (web_ws.c) */
int rs_web_ws_callback(struct lws *wsi, enum lws_callback_reasons reason,
    void *user, void *in, size_t len);

#endif
