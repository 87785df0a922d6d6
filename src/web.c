/*
 * web.c - the libwebsockets context on the caller's loop, the listener,
 * logging, shutdown and broadcast (web_http.c has the requests, web_ws.c
 * the WebSocket endpoint).
 *
 * libwebsockets runs on the application's loop as a "foreign loop"
 * (LWS_SERVER_OPTION_LIBUV, info.foreign_loops); lws_service() is never
 * called: the owner's uv_run() drives it.  HTTP requests go to
 * protocols[0] (web_http.c), WebSocket upgrades to protocols[1]
 * (web_ws.c).  The context can be freed only after the loop has closed
 * lws' handles, hence rs_web_close() and rs_web_free().
 */
#include "web_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "routesim/http.h"
#include "routesim/log.h"

/* lws indexes connections by fd number: the highest fd it can serve. */
#define MAX_FDS 4096

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

/* ---- Server ------------------------------------------------------------ */

static void
set_defaults(struct rs_web_config *c)
{
	if (c->keepalive_s == 0)
		c->keepalive_s = 5;
	if (c->timeout_s == 0)
		c->timeout_s = 5;
	if (c->answer_s == 0)
		c->answer_s = 30;
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
	p[RS_WEB_PROTO_HTTP].callback = rs_web_http_callback;
	p[RS_WEB_PROTO_HTTP].per_session_data_size =
	    sizeof(struct rs_web_http_pss);
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
	return w != NULL ? &w->stats : NULL;
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
