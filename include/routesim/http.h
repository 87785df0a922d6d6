/*
 * http.h - a small HTTP/1.x server on the loop, for /metrics, /healthz and
 * /readyz, and the client side of `routesim --healthcheck`.
 *
 * It answers GET and HEAD only, one request per connection (the response
 * carries "Connection: close").  Nothing a client does can hurt the loop:
 * a request larger than RS_HTTP_MAX_REQUEST bytes gets 413, a malformed
 * one 400, another method 405; a client that sends nothing complete within
 * RS_HTTP_TIMEOUT_MS is disconnected; at most RS_HTTP_MAX_CONNS
 * connections are open at once (more are closed on accept).
 *
 * Ownership: struct rs_http is embedded by its owner; rs_http_close() must
 * be called and its callback awaited before the memory goes.  Connections
 * are allocated here and freed in their close callbacks.  Loop thread.
 */
#ifndef ROUTESIM_HTTP_H
#define ROUTESIM_HTTP_H

#include <stdbool.h>
#include <sys/socket.h>
#include <uv.h>

#include "routesim/buf.h"

#define RS_HTTP_MAX_REQUEST 4096
#define RS_HTTP_TIMEOUT_MS 5000
#define RS_HTTP_MAX_CONNS 64

/*
 * Fills body for path (query string removed) and returns the status;
 * sets *content_type (a static string).  Return 404 for unknown paths.
 */
typedef int (*rs_http_handler)(void *ud, const char *path,
    struct rs_buf *body, const char **content_type);

struct rs_http_conn;

struct rs_http {
	uv_loop_t *loop;
	uv_tcp_t server;
	rs_http_handler handler;
	void *ud;
	struct rs_http_conn *conns;
	unsigned nconns;	/* open, including nclosing */
	unsigned nclosing;
	bool closing, server_open;
	void (*close_cb)(struct rs_http *);
};

/*
 * Parses "HOST:PORT", "[V6]:PORT" or ":PORT" (all addresses).  HOST is an
 * address or a name, resolved now (blocking: call it before the loop
 * runs) to its first IPv4 address, else its first IPv6 one.  Returns 0,
 * -EINVAL (not HOST:PORT) or -ENOENT (the name does not resolve), with a
 * message naming the setting in err (which may be NULL).
 */
int rs_http_parse_listen(const char *s, struct sockaddr_storage *out,
    char *err, size_t errlen);

int rs_http_start(struct rs_http *h, uv_loop_t *loop, const char *listen,
    rs_http_handler handler, void *ud, char *err, size_t errlen);

/* Closes the listener and every connection; cb runs when all are gone. */
void rs_http_close(struct rs_http *h, void (*cb)(struct rs_http *));

/*
 * Client: GET path from the server listening at listen (a wildcard
 * address is reached on loopback), blocking, at most timeout_ms.
 * Returns the HTTP status, or a negative errno: -EINVAL, with nothing
 * sent, when path does not start with '/', holds a space or line break,
 * or makes a request longer than the probe's 256-byte buffer.
 */
int rs_http_probe(const char *listen, const char *path, int timeout_ms);

#endif
