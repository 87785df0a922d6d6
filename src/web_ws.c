/*
 * web_ws.c - the WebSocket endpoint of a web server (web.h).
 *
 * lws hands each connection a struct rs_web_ws (its per-session data).
 * Upgrades are checked in LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION: lws
 * does not route WebSocket upgrades by path, so the path and the
 * connection cap are enforced there.
 *
 * Sending: a connection remembers the generation it last got (have).
 * rs_web_publish() asks for a writable callback on every connection;
 * there, one whose have is older than the latest gets one frame, given by
 * the owner in a buffer with LWS_PRE bytes of room for the header: the
 * same buffer may go to many connections, written from where it is.
 * lws keeps what the socket does not take and sends no writable callback
 * until it is gone, so a slow reader holds at most one frame and simply
 * skips the generations published meanwhile (counted as dropped).
 *
 * Receiving: messages are collected across fragments up to ws_max_msg
 * bytes (lws delivers large frames in rx_buffer_size pieces).
 */
#include "web_int.h"

#include <assert.h>
#include <string.h>

#include "routesim/log.h"

static_assert(RS_WEB_FRAME_PRE >= LWS_PRE, "RS_WEB_FRAME_PRE < LWS_PRE");

void
rs_web_frame_begin(struct rs_buf *b)
{
	rs_buf_reset(b);
	if (rs_buf_reserve(b, RS_WEB_FRAME_PRE) != NULL)
		b->len = RS_WEB_FRAME_PRE;
}

void
rs_web_ws_snapshot(struct rs_web_ws *c)
{
	c->snapshot = true;
	lws_callback_on_writable(c->wsi);
}

void
rs_web_ws_close(struct rs_web_ws *c, int code, const char *reason)
{
	c->close_code = code;
	c->close_reason = reason;
	lws_callback_on_writable(c->wsi);
}

void
rs_web_ws_set_data(struct rs_web_ws *c, void *data)
{
	c->data = data;
}

void *
rs_web_ws_data(const struct rs_web_ws *c)
{
	return c->data;
}

/* Closes the connection with code and reason: return the result. */
static int
close_with(struct lws *wsi, int code, const char *reason)
{
	size_t n = strlen(reason);

	lws_close_reason(wsi, (enum lws_close_status)code,
	    (unsigned char *)(uintptr_t)reason, n > 123 ? 123 : n);
	return -1;
}

static int
on_filter(struct rs_web *w, struct lws *wsi)
{
	char uri[256];

	if (lws_hdr_copy(wsi, uri, sizeof(uri), WSI_TOKEN_GET_URI) < 0 ||
	    strcmp(uri, w->cfg.ws_path) != 0) {
		w->stats.ws_refused++;
		log_debug("web: websocket upgrade refused: not %s",
		    w->cfg.ws_path);
		return 1;
	}
	if (w->stats.ws_open >= w->cfg.ws_max_conns) {
		w->stats.ws_refused++;
		log_info("web: websocket upgrade refused: %u connections "
		    "(the cap)", w->cfg.ws_max_conns);
		return 1;
	}
	return 0;
}

static int
on_established(struct rs_web *w, struct lws *wsi, struct rs_web_ws *c)
{
	memset(c, 0, sizeof(*c));
	c->w = w;
	c->wsi = wsi;
	c->snapshot = true;
	c->counted = true;
	w->stats.ws_open++;
	w->stats.ws_accepted++;
	if (w->cfg.ws->on_open != NULL)
		w->cfg.ws->on_open(w->cfg.ud, c);
	lws_callback_on_writable(wsi);
	return 0;
}

static int
on_writable(struct rs_web *w, struct lws *wsi, struct rs_web_ws *c)
{
	uint64_t have = c->snapshot ? 0 : c->have;
	const struct rs_buf *out;
	size_t len;

	if (c->close_code != 0)
		return close_with(wsi, c->close_code, c->close_reason);
	if (w->closing || (!c->snapshot && c->have == w->seq))
		return 0;
	if (have != 0 && w->seq > have + 1)
		w->stats.frames_dropped += w->seq - have - 1;
	out = w->cfg.ws->frame(w->cfg.ud, c, have, w->seq);
	if (out != NULL && rs_buf_failed(out))
		return close_with(wsi, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION,
		    "out of memory");
	c->have = w->seq;
	c->snapshot = false;
	if (out == NULL || out->len <= RS_WEB_FRAME_PRE)
		return 0;
	len = out->len - RS_WEB_FRAME_PRE;
	/* lws writes the header just before the text, in the room. */
	if (lws_write(wsi, (unsigned char *)out->data + RS_WEB_FRAME_PRE, len,
	    LWS_WRITE_TEXT) < (int)len)
		return -1;
	w->stats.frames_sent++;
	return 0;
}

static int
on_receive(struct rs_web *w, struct lws *wsi, struct rs_web_ws *c,
    const void *in, size_t len)
{
	const char *reason = NULL;
	int code;

	if (lws_frame_is_binary(wsi)) {
		log_debug("web: websocket closed: binary message");
		return close_with(wsi, LWS_CLOSE_STATUS_UNACCEPTABLE_OPCODE,
		    "binary messages are not accepted");
	}
	if (c->rx.len + len + lws_remaining_packet_payload(wsi) >
	    w->cfg.ws_max_msg) {
		log_debug("web: websocket closed: message over %zu bytes",
		    w->cfg.ws_max_msg);
		return close_with(wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE,
		    "message too large");
	}
	rs_buf_append(&c->rx, in, len);
	if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi))
		return 0;
	rs_buf_append(&c->rx, "", 1);
	if (rs_buf_failed(&c->rx))
		return close_with(wsi, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION,
		    "out of memory");
	c->rx.len--;
	code = w->cfg.ws->on_text != NULL ? w->cfg.ws->on_text(w->cfg.ud, c,
	    c->rx.data, c->rx.len, &reason) : 0;
	rs_buf_reset(&c->rx);
	if (code != 0)
		return close_with(wsi, code, reason != NULL ? reason : "");
	return 0;
}

static void
on_closed(struct rs_web *w, struct rs_web_ws *c)
{
	if (c->counted) {
		c->counted = false;
		w->stats.ws_open--;
		if (w->cfg.ws->on_close != NULL)
			w->cfg.ws->on_close(w->cfg.ud, c);
	}
	rs_buf_free(&c->rx);
}

int
rs_web_ws_callback(struct lws *wsi, enum lws_callback_reasons reason,
    void *user, void *in, size_t len)
{
	struct rs_web_ws *c = user;

	switch (reason) {
	case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
		return on_filter(rs_web_of(wsi), wsi);
	case LWS_CALLBACK_ESTABLISHED:
		return on_established(rs_web_of(wsi), wsi, c);
	case LWS_CALLBACK_SERVER_WRITEABLE:
		return c != NULL && c->counted ?
		    on_writable(rs_web_of(wsi), wsi, c) : 0;
	case LWS_CALLBACK_RECEIVE:
		return c != NULL && c->counted ?
		    on_receive(rs_web_of(wsi), wsi, c, in, len) : -1;
	case LWS_CALLBACK_CLOSED:
		if (c != NULL)
			on_closed(rs_web_of(wsi), c);
		return 0;
	default:
		return 0;
	}
}
