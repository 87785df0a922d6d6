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
 * there, one whose have is older than the latest takes a reference to the
 * owner's frame for it, and sends it one fragment (RS_WEB_FRAGMENT bytes)
 * per writable callback, written from the shared frame itself: lws writes
 * a fragment's header into the bytes just before it, which are saved and
 * put back around the write.  A fragment the socket does not take whole
 * is kept by lws, which sends it before the next writable callback; so a
 * slow reader holds one frame, and skips the generations published
 * meanwhile (counted as dropped).
 *
 * Receiving: messages are collected across fragments up to ws_max_msg
 * bytes (lws delivers large frames in rx_buffer_size pieces).
 */
#include "web_int.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "routesim/log.h"

static_assert(RS_WEB_FRAME_PRE >= LWS_PRE, "RS_WEB_FRAME_PRE < LWS_PRE");
static_assert(RS_WEB_FRAGMENT >= RS_WEB_FRAME_PRE, "fragment too small");

struct rs_buf *
rs_web_frame_begin(struct rs_web_frame **slot)
{
	struct rs_web_frame *f = *slot;

	if (f != NULL && f->refs > 1) {
		rs_web_frame_unref(f);
		f = NULL;
	}
	if (f == NULL && (f = calloc(1, sizeof(*f))) != NULL)
		f->refs = 1;
	if ((*slot = f) == NULL)
		return NULL;
	rs_buf_reset(&f->buf);
	if (rs_buf_reserve(&f->buf, RS_WEB_FRAME_PRE) != NULL)
		f->buf.len = RS_WEB_FRAME_PRE;
	return &f->buf;
}

void
rs_web_frame_unref(struct rs_web_frame *f)
{
	if (f == NULL || --f->refs > 0)
		return;
	rs_buf_free(&f->buf);
	free(f);
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

/* The frame that brings c to the latest generation, or NULL. */
static struct rs_web_frame *
next_frame(struct rs_web *w, struct rs_web_ws *c)
{
	uint64_t have = c->snapshot ? 0 : c->have;
	struct rs_web_frame *f;

	if (have != 0 && w->seq > have + 1)
		w->stats.frames_dropped += w->seq - have - 1;
	f = w->cfg.ws->frame(w->cfg.ud, c, have, w->seq);
	c->have = w->seq;
	c->snapshot = false;
	if (f == NULL ||
	    (!rs_buf_failed(&f->buf) && f->buf.len <= RS_WEB_FRAME_PRE))
		return NULL;
	f->refs++;
	c->off = RS_WEB_FRAME_PRE;
	return f;
}

/* Sends c's frame's next fragment from where it is in the shared frame. */
static int
send_fragment(struct rs_web *w, struct lws *wsi, struct rs_web_ws *c)
{
	struct rs_web_frame *f = c->out;
	unsigned char *p = (unsigned char *)f->buf.data + c->off;
	unsigned char saved[LWS_PRE];
	size_t left = f->buf.len - c->off;
	size_t n = left < RS_WEB_FRAGMENT ? left : RS_WEB_FRAGMENT;
	int flags = lws_write_ws_flags(LWS_WRITE_TEXT,
	    c->off == RS_WEB_FRAME_PRE, n == left);
	int sent;

	memcpy(saved, p - LWS_PRE, LWS_PRE);
	sent = lws_write(wsi, p, n, (enum lws_write_protocol)flags);
	memcpy(p - LWS_PRE, saved, LWS_PRE);
	if (sent < (int)n)
		return -1;
	c->off += n;
	if (n == left) {
		c->out = NULL;
		rs_web_frame_unref(f);
		w->stats.frames_sent++;
	}
	return 0;
}

static int
on_writable(struct rs_web *w, struct lws *wsi, struct rs_web_ws *c)
{
	if (c->close_code != 0)
		return close_with(wsi, c->close_code, c->close_reason);
	if (w->closing || w->seq == 0)	/* nothing published yet */
		return 0;
	if (c->out == NULL) {
		if (!c->snapshot && c->have == w->seq)
			return 0;
		if ((c->out = next_frame(w, c)) == NULL)
			return 0;
	}
	if (rs_buf_failed(&c->out->buf))
		return close_with(wsi, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION,
		    "out of memory");
	if (send_fragment(w, wsi, c) != 0)
		return -1;
	/* The rest of the frame, or a generation published meanwhile. */
	if (c->out != NULL || c->snapshot || c->have != w->seq)
		lws_callback_on_writable(wsi);
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
	rs_web_frame_unref(c->out);
	c->out = NULL;
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
