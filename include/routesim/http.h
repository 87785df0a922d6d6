/*
 * http.h - routesim's /metrics, /healthz and /readyz server, the
 * --http-listen address, and the client side of `routesim --healthcheck`.
 *
 * The server is web.h (libwebsockets on the loop) answering GET and HEAD
 * through one handler; other methods get 405.  Connections are kept
 * alive (HTTP/1.1) until idle for RS_HTTP_TIMEOUT_MS; a client that does
 * not finish its request within that time is disconnected.
 *
 * Ownership: struct rs_http is embedded by its owner.  Shutdown is two
 * steps (see web.h): rs_http_close() on the loop, then rs_http_free()
 * after uv_run() has returned, whatever rs_http_start() returned (a
 * zeroed struct rs_http is fine too).  Loop thread.
 */
#ifndef ROUTESIM_HTTP_H
#define ROUTESIM_HTTP_H

#include <stdbool.h>
#include <sys/socket.h>
#include <uv.h>

#include "routesim/buf.h"
#include "routesim/web.h"

#define RS_HTTP_TIMEOUT_MS 5000

/*
 * Fills body for path (query string removed) and returns the status;
 * sets *content_type (a static string; left NULL: text/plain).  Return
 * 404 for unknown paths.
 */
typedef int (*rs_http_handler)(void *ud, const char *path,
    struct rs_buf *body, const char **content_type);

struct rs_http {
	struct rs_web *web;
	rs_http_handler handler;
	void *ud;
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

/* Step 1: closes the listener and every connection; cb (may be NULL)
 * is called before this returns. */
void rs_http_close(struct rs_http *h, void (*cb)(struct rs_http *));

/* Step 2, after uv_run() returned: frees what lws still holds. */
void rs_http_free(struct rs_http *h);

/*
 * Client: GET path from the server listening at listen (a wildcard
 * address is reached on loopback), blocking, at most timeout_ms.
 * Returns the HTTP status, or a negative errno: -EINVAL, with nothing
 * sent, when path does not start with '/', holds a space or line break,
 * or makes a request longer than the probe's 256-byte buffer.
 */
int rs_http_probe(const char *listen, const char *path, int timeout_ms);

/*
 * --healthcheck (a container's HEALTHCHECK): 0 when the server at listen
 * answers /healthz with 200, else 1 with one line on stderr, prefixed
 * with prog.  listen NULL: no --http-listen, which is an error too.
 */
int rs_http_healthcheck(const char *prog, const char *listen);

#endif
