/*
 * webd.c - a small server on web.h for tests/integration/test_web.py.
 *
 * usage: rs-webd [-l LISTEN] [-c WS_CAP] [-m WS_MAX_MSG] [-b MAX_BODY]
 *                [-t TICK_MS] [-p PAD] [-i PING_S,HANGUP_S]
 * Prints "port N" on stdout once listening.  Endpoints:
 *   GET /stats        the server's counters, JSON
 *   GET /big          100,000 bytes of text (several writes)
 *   POST /echo        200 with the body
 *   POST /later       answered 300 ms later (an asynchronous answer)
 *   WebSocket /ws     a generation every TICK_MS ms; frames
 *     {"type":"snapshot"|"update","seq":N,"have":H,"pad":"..."}; client
 *     messages "snapshot" (a snapshot now), "close" (closes 4000), else
 *     1008.
 * SIGTERM/SIGINT: the two-step shutdown of web.h; exit 0 when the loop
 * closed clean.
 */
#include <signal.h>
#include <stdio.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "routesim/log.h"
#include "routesim/web.h"

#define LATER_MAX 16

struct later {
	uv_timer_t timer;
	struct rs_web_req *req;
	struct app *app;
};

struct app {
	uv_loop_t loop;
	uv_timer_t tick;
	uv_signal_t sigint, sigterm;
	struct rs_web *web;
	uint64_t seq;
	size_t pad;
	struct rs_web_frame *frame;	/* made anew for each connection */
	unsigned late_gone, late_sent, nlater;
};


/* A test server that cannot set itself up has nothing to test. */
static void die(const char *fmt, ...) RS_PRINTF(1, 2);

static void
die(const char *fmt, ...)
{
	va_list ap;

	fputs("rs-webd: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void
stats_json(struct app *app, struct rs_buf *b)
{
	const struct rs_web_stats *s = rs_web_stats(app->web);

	rs_buf_printf(b, "{\"ws_open\":%llu,\"ws_accepted\":%llu,"
	    "\"ws_refused\":%llu,\"frames_sent\":%llu,\"frames_dropped\":%llu,"
	    "\"seq\":%llu,\"late_gone\":%u,\"late_sent\":%u,\"requests\":[",
	    (unsigned long long)s->ws_open,
	    (unsigned long long)s->ws_accepted,
	    (unsigned long long)s->ws_refused,
	    (unsigned long long)s->frames_sent,
	    (unsigned long long)s->frames_dropped,
	    (unsigned long long)app->seq, app->late_gone, app->late_sent);
	for (int i = 0; i < 6; i++)
		rs_buf_printf(b, "%s%llu", i ? "," : "",
		    (unsigned long long)s->requests[i]);
	rs_buf_printf(b, "]}\n");
}

static void
on_later_closed(uv_handle_t *h)
{
	struct later *l = h->data;

	l->app->nlater--;
	free(l);
}

static void
on_later(uv_timer_t *t)
{
	struct later *l = t->data;

	if (rs_web_respond_text(l->req, 200, "later\n") == 0)
		l->app->late_sent++;
	else
		l->app->late_gone++;
	uv_close((uv_handle_t *)t, on_later_closed);
}

static void
on_request(void *ud, struct rs_web_req *req)
{
	struct app *app = ud;
	struct rs_web_response resp = {.status = 200};
	const char *path = rs_web_req_path(req), *body;
	struct later *l;
	size_t len;

	if (rs_web_req_method(req) == RS_WEB_POST) {
		body = rs_web_req_body(req, &len);
		if (strcmp(path, "/echo") == 0) {
			rs_buf_append(&resp.body, body, len);
			rs_web_respond(req, &resp);
			return;
		}
		if (strcmp(path, "/later") == 0 && app->nlater < LATER_MAX &&
		    (l = calloc(1, sizeof(*l))) != NULL) {
			l->req = req;
			l->app = app;
			l->timer.data = l;
			app->nlater++;
			uv_timer_init(&app->loop, &l->timer);
			if (uv_timer_start(&l->timer, on_later, 300, 0) != 0)
				die("uv_timer_start");
			return;
		}
		rs_web_respond_text(req, 405, "no POST here\n");
		return;
	}
	if (strcmp(path, "/stats") == 0) {
		resp.content_type = "application/json";
		stats_json(app, &resp.body);
	} else if (strcmp(path, "/big") == 0) {
		for (int i = 0; i < 10000; i++)
			rs_buf_printf(&resp.body, "%09d\n", i);
		resp.headers[0].name = "X-Test";
		resp.headers[0].value = "big";
	} else {
		resp.status = 404;
		rs_buf_printf(&resp.body, "not found\n");
	}
	rs_web_respond(req, &resp);
}

static int
on_text(void *ud, struct rs_web_ws *c, const char *msg, size_t len,
    const char **reason)
{
	(void)ud;
	(void)len;
	if (strcmp(msg, "snapshot") == 0) {
		rs_web_ws_snapshot(c);
		return 0;
	}
	if (strcmp(msg, "close") == 0) {
		*reason = "asked to";
		return 4000;
	}
	*reason = "unknown message";
	return 1008;
}

static struct rs_web_frame *
frame(void *ud, struct rs_web_ws *c, uint64_t have, uint64_t now)
{
	struct app *app = ud;
	struct rs_buf *out = rs_web_frame_begin(&app->frame);
	char *p;

	(void)c;
	if (out == NULL)
		return NULL;
	rs_buf_printf(out, "{\"type\":\"%s\",\"seq\":%llu,\"have\":%llu,"
	    "\"pad\":\"", have != 0 && have + 1 == now ? "update" :
	    "snapshot", (unsigned long long)now, (unsigned long long)have);
	if ((p = rs_buf_reserve(out, app->pad)) != NULL) {
		memset(p, 'x', app->pad);
		out->len += app->pad;
	}
	rs_buf_printf(out, "\"}");
	return app->frame;
}

static void
on_tick(uv_timer_t *t)
{
	struct app *app = t->data;

	rs_web_publish(app->web, ++app->seq);
}

static void
on_signal(uv_signal_t *s, int signum)
{
	struct app *app = s->data;

	(void)signum;
	uv_close((uv_handle_t *)&app->tick, NULL);
	uv_close((uv_handle_t *)&app->sigint, NULL);
	uv_close((uv_handle_t *)&app->sigterm, NULL);
	rs_web_close(app->web);		/* step 1; pending /later timers
					 * still answer (and free) theirs */
}

int
main(int argc, char *argv[])
{
	static const struct rs_web_ws_ops ops = {
		.on_text = on_text,
		.frame = frame,
	};
	struct rs_web_config cfg = {
		.listen = "127.0.0.1:0",
		.handler = on_request,
		.max_body = 1024,
		.ws_path = "/ws",
		.ws = &ops,
		.ws_max_conns = 3,
		.ws_max_msg = 1024,
	};
	static struct app app;
	unsigned tick_ms = 100;
	char err[256];
	int opt, rc, status = 0;

	while ((opt = getopt(argc, argv, "l:c:m:b:t:p:i:")) != -1) {
		switch (opt) {
		case 'l': cfg.listen = optarg; break;
		case 'c': cfg.ws_max_conns = (unsigned)atoi(optarg); break;
		case 'm': cfg.ws_max_msg = (size_t)atol(optarg); break;
		case 'b': cfg.max_body = (size_t)atol(optarg); break;
		case 't': tick_ms = (unsigned)atoi(optarg); break;
		case 'p': app.pad = (size_t)atol(optarg); break;
		case 'i':
			if (sscanf(optarg, "%u,%u", &cfg.ws_ping_s,
			    &cfg.ws_hangup_s) != 2)
				return 2;
			break;
		default:
			fprintf(stderr, "usage: rs-webd [-l LISTEN] [-c CAP] "
			    "[-m MAX_MSG] [-b MAX_BODY] [-t TICK_MS] [-p PAD] "
			    "[-i PING_S,HANGUP_S]\n");
			return 2;
		}
	}
	rs_log_init(RS_LOG_DEBUG, RS_LOG_TEXT);
	cfg.ud = &app;
	if ((rc = uv_loop_init(&app.loop)) != 0)
		die("uv_loop_init: %s", uv_strerror(rc));
	uv_timer_init(&app.loop, &app.tick);
	uv_signal_init(&app.loop, &app.sigint);
	uv_signal_init(&app.loop, &app.sigterm);
	app.tick.data = app.sigint.data = app.sigterm.data = &app;
	if (rs_web_start(&app.web, &app.loop, &cfg, err, sizeof(err)) != 0) {
		log_warnx("%s", err);
		uv_close((uv_handle_t *)&app.tick, NULL);
		uv_close((uv_handle_t *)&app.sigint, NULL);
		uv_close((uv_handle_t *)&app.sigterm, NULL);
		status = 1;
		goto out;
	}
	/* Generation 1 at once: a client gets a snapshot when it connects
	 * (nothing is sent before a first publish). */
	rs_web_publish(app.web, ++app.seq);
	if (uv_timer_start(&app.tick, on_tick, tick_ms, tick_ms) != 0 ||
	    uv_signal_start(&app.sigint, on_signal, SIGINT) != 0 ||
	    uv_signal_start(&app.sigterm, on_signal, SIGTERM) != 0)
		die("uv handles");
	printf("port %d\n", rs_web_port(app.web));
	fflush(stdout);
out:
	uv_run(&app.loop, UV_RUN_DEFAULT);
	rs_web_free(app.web);			/* step 2 */
	rs_web_frame_unref(app.frame);
	if ((rc = uv_loop_close(&app.loop)) != 0) {
		log_warnx("loop closed with handles open: %s",
		    uv_strerror(rc));
		status = 1;
	}
	return status;
}
