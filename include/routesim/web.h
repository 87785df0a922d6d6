/*
 * web.h - an HTTP/1.1 + WebSocket server on the caller's libuv loop,
 * built on libwebsockets (lws 4.1, its libuv event-lib plugin).
 *
 * Any program of the project serves its endpoints through it: routesim's
 * /metrics, /healthz and /readyz (http.h), the tracker's page, API and
 * WebSocket stream.  One server listens on one address and port:
 *
 *   - HTTP GET, HEAD and POST go to one request handler.  GET/HEAD need
 *     no body; a POST body is collected first, up to max_body bytes
 *     (Content-Length required: 411 without it or when chunked, 413 when
 *     larger).  Other methods get 405.  Connections stay open (HTTP/1.1
 *     keep-alive) until idle for keepalive_s.
 *   - One WebSocket endpoint at ws_path (upgrades on other paths are
 *     refused), at most ws_max_conns connections, client messages of at
 *     most ws_max_msg bytes (1009 over it), text only (1003 for binary),
 *     idle connections pinged after ws_ping_s and dropped after
 *     ws_hangup_s without an answer.
 *   - Broadcast with latest state wins: the owner publishes generations
 *     (rs_web_publish, seq 1, 2, ...); when a connection can take a frame,
 *     the owner's frame callback gives one for it, knowing which
 *     generation that connection last got.  A slow reader skips
 *     generations (counted as dropped) instead of queueing them; a
 *     connection holds a reference to at most one frame (rs_web_frame),
 *     shared with the others that send the same.
 *
 * Ownership and lifetime (one thread: the loop's):
 *   rs_web_start() allocates the server and returns it in *out.  Even
 *   when it fails, *out may be non-NULL (libwebsockets already put
 *   handles on the loop; step 1 below is then done): call rs_web_free()
 *   after uv_run() in any case.  Shutdown is two calls, because lws 4.1
 *   can free its context only once the loop has closed its handles:
 *     1. rs_web_close(w) on the loop (e.g. in the SIGTERM path): closes
 *        every connection (their close callbacks run in there) and starts
 *        closing lws' handles.  Nothing but rs_web_free() and the stats
 *        may be called afterwards.
 *     2. rs_web_free(w) after uv_run() has returned: frees the context and
 *        the server.  Without it about 28 KB stay allocated (invisible to
 *        LeakSanitizer, visible to valgrind).  NULL is a no-op.
 *   Never uv_stop() the loop between the two: lws' handles live inside
 *   its context, and freeing it while they close is a use-after-free.
 *
 *   A request (struct rs_web_req) is owned by the server until the
 *   handler is called; from then the handler owns it and must call
 *   rs_web_respond() exactly once, now or later (e.g. after a Kafka
 *   delivery report).  If the client goes away in between, the request
 *   stays valid and rs_web_respond() just frees it (returning
 *   -ENOTCONN); so a held request is never a dangling pointer.  A held
 *   request may be answered even after rs_web_close()/rs_web_free().
 *
 *   A WebSocket connection (struct rs_web_ws) is owned by the server; the
 *   owner may keep its pointer from on_open until on_close returns.
 */
#ifndef ROUTESIM_WEB_H
#define ROUTESIM_WEB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "routesim/buf.h"

struct rs_web;
struct rs_web_req;
struct rs_web_ws;

enum rs_web_method {
	RS_WEB_GET,
	RS_WEB_HEAD,	/* answered like GET; the body is not sent */
	RS_WEB_POST,
};

/* The handler gets the request and must rs_web_respond() to it once. */
typedef void (*rs_web_handler)(void *ud, struct rs_web_req *req);

struct rs_web_ws_ops {
	/* A new connection; it gets a snapshot frame (have == 0) first,
	 * once a generation is published.
	 * May be NULL, as on_close. */
	void (*on_open)(void *ud, struct rs_web_ws *c);
	/*
	 * A complete text message (msg is NUL-terminated, len excludes the
	 * NUL).  Returns 0, or a close code (1000..4999) with *reason set
	 * to a static string: the connection is closed with them.
	 */
	int (*on_text)(void *ud, struct rs_web_ws *c, const char *msg,
	    size_t len, const char **reason);
	/*
	 * c can take a frame.  have is the generation c last received, 0
	 * when it needs a snapshot (new, or rs_web_ws_snapshot()); now is
	 * the latest published one (have != now, or have == 0).  Returns
	 * the frame (the owner's: the server takes a reference of its own
	 * while it sends it), or NULL to send nothing; c then has
	 * generation now either way.  Nothing is sent before the first
	 * publish: a connection waits for it.
	 */
	struct rs_web_frame *(*frame)(void *ud, struct rs_web_ws *c,
	    uint64_t have, uint64_t now);
	/* The connection is gone; c is invalid after this returns. */
	void (*on_close)(void *ud, struct rs_web_ws *c);
};

struct rs_web_config {
	const char *listen;	/* "HOST:PORT", "[V6]:PORT", ":PORT" */
	rs_web_handler handler;
	void *ud;		/* passed to handler and ws callbacks */
	size_t max_body;	/* largest POST body; 0: POST gets 405 */
	unsigned keepalive_s;	/* idle keep-alive connection (0: 5) */
	unsigned timeout_s;	/* a silent client, unfinished request (0: 5) */
	unsigned answer_s;	/* a held request's client waits (0: 30) */
	/* WebSocket: ws_path NULL for none. */
	const char *ws_path;
	const struct rs_web_ws_ops *ws;
	unsigned ws_max_conns;	/* 0: 100 */
	size_t ws_max_msg;	/* 0: 1024 */
	unsigned ws_ping_s;	/* 0: 20 */
	unsigned ws_hangup_s;	/* 0: 30 */
};

/* Counters for /metrics; reset never. */
struct rs_web_stats {
	uint64_t ws_open;	/* gauge: connections now */
	uint64_t ws_accepted;	/* upgrades accepted */
	uint64_t ws_refused;	/* upgrades refused: cap or path */
	uint64_t frames_sent;
	uint64_t frames_dropped; /* generations a connection skipped */
	uint64_t requests[6];	/* [status / 100]: 1xx .. 5xx answered */
};

/*
 * Starts listening.  Host names in listen are resolved now (blocking:
 * before the loop runs).  An IPv4 address binds that address only (no
 * IPv6); an IPv6 address binds that address only; "[::]" binds every
 * IPv6 (and, per the system's default, IPv4-mapped) address; ":PORT"
 * every IPv4 one.  Port 0 takes an ephemeral port (rs_web_port()).
 * Returns 0 or a negative errno with a message in err: -EINVAL (listen),
 * -ENOENT (name), -ELIBACC (libwebsockets or its libuv plugin missing),
 * -EADDRNOTAVAIL (cannot bind).  See the header comment about *out.
 */
int rs_web_start(struct rs_web **out, uv_loop_t *loop,
    const struct rs_web_config *cfg, char *err, size_t errlen);

int rs_web_port(const struct rs_web *w);
/* The counters (NULL for a NULL server); valid until rs_web_free(). */
const struct rs_web_stats *rs_web_stats(const struct rs_web *w);

/* Step 1 of the shutdown (see above); idempotent. */
void rs_web_close(struct rs_web *w);
/* Step 2, after uv_run() returned; NULL is fine. */
void rs_web_free(struct rs_web *w);

/* ---- Requests ---------------------------------------------------------- */

enum rs_web_method rs_web_req_method(const struct rs_web_req *req);
/* The path without the query string. */
const char *rs_web_req_path(const struct rs_web_req *req);
/* The POST body, NUL-terminated (len excludes the NUL); "" otherwise. */
const char *rs_web_req_body(const struct rs_web_req *req, size_t *len);

#define RS_WEB_MAX_HEADERS 4

struct rs_web_response {
	int status;
	const char *content_type;	/* NULL: text/plain; charset=utf-8 */
	struct rs_buf body;		/* taken over: freed by the server */
	struct {
		const char *name;	/* e.g. "Content-Encoding" */
		const char *value;
	} headers[RS_WEB_MAX_HEADERS];	/* unused ones NULL */
};

/*
 * Answers req and releases it (and resp->body, which is left empty),
 * whatever happens.  Returns 0, -ENOTCONN (the client went away), or
 * -ENOMEM (the body failed to build: 500 was sent instead).
 */
int rs_web_respond(struct rs_web_req *req, struct rs_web_response *resp);

/* Shorthand: a text body (a printf format) with a status. */
int rs_web_respond_text(struct rs_web_req *req, int status,
    const char *fmt, ...) RS_PRINTF(3, 4);

/* ---- WebSocket --------------------------------------------------------- */

/*
 * A frame: the text of one WebSocket message, made once and sent to any
 * number of connections, each from where it got to (a large one goes out
 * in fragments of RS_WEB_FRAGMENT bytes as each socket takes them).
 * References counted: the owner's, and one per connection sending it.
 */
struct rs_web_frame {
	unsigned refs;
	struct rs_buf buf;	/* RS_WEB_FRAME_PRE bytes of room, the text */
};

/* Room before the text for a fragment's header (lws' LWS_PRE). */
#define RS_WEB_FRAME_PRE 16
#define RS_WEB_FRAGMENT 65536

/*
 * Starts a new frame in *slot, the owner's reference: the frame there is
 * emptied and reused when no connection still sends it, else released and
 * replaced.  Returns the buffer to append the text to, or NULL (out of
 * memory; *slot is then NULL).
 */
struct rs_buf *rs_web_frame_begin(struct rs_web_frame **slot);
/* Drops a reference; the last frees the frame.  NULL is fine. */
void rs_web_frame_unref(struct rs_web_frame *f);

/* Generation seq (increasing, > 0) is the latest: every connection that
 * has an older one gets a frame when it can take one.  Publish at most
 * once per batch of changes (the tracker: every 100 ms). */
void rs_web_publish(struct rs_web *w, uint64_t seq);

/* c gets a snapshot (have == 0) when it can take a frame. */
void rs_web_ws_snapshot(struct rs_web_ws *c);
/* Closes c with code and reason (at most 123 bytes, kept as given). */
void rs_web_ws_close(struct rs_web_ws *c, int code, const char *reason);
/* The owner's per-connection pointer (NULL at first). */
void rs_web_ws_set_data(struct rs_web_ws *c, void *data);
void *rs_web_ws_data(const struct rs_web_ws *c);

#endif
