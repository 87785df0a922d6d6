/*
 * daemon_http.c - /metrics, /healthz and /readyz, and the probe that
 * measures the loop's own lag (daemon.h, daemon-int.h).
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "daemon-int.h"
#include "routesim/log.h"
#include "routesim/metrics.h"

#define LAG_PROBE_MS 500

/* Ready: brokers reachable, partitions assigned and restored. */
static bool
ready(struct rs_daemon *d, const char **why)
{
	if (d->stopping) {
		*why = "shutting down";
		return false;
	}
	if (!rs_kafka_ready(&d->kafka, why))
		return false;
	for (size_t i = 0; i < d->parts.n; i++)
		if (d->parts.v[i] != NULL &&
		    d->parts.v[i]->state == RS_PART_RESTORING) {
			*why = "restoring delivery progress";
			return false;
		}
	return true;
}

static int
on_http(void *ud, const char *path, struct rs_buf *body,
    const char **content_type)
{
	struct rs_daemon *d = ud;
	const char *why = NULL;
	bool is_ready = ready(d, &why);
	if (strcmp(path, "/metrics") == 0) {
		struct rs_metrics_state st = {
			.producer_queue = rs_kafka_outq_len(&d->kafka),
			.ready = is_ready,
			.read_topic = d->cfg->read_topic,
			.http = rs_web_stats(d->http.web),
		};

		st.nlags = rs_kafka_lags(&d->kafka, &st.lags);
		*content_type = "text/plain; version=0.0.4; charset=utf-8";
		rs_metrics_render(body, &st);
		return 200;
	}
	if (strcmp(path, "/healthz") == 0) {
		/* Answering at all proves the loop turns. */
		rs_buf_printf(body, "ok\n");
		return 200;
	}
	if (strcmp(path, "/readyz") == 0) {
		if (is_ready) {
			rs_buf_printf(body, "ready\n");
			return 200;
		}
		rs_buf_printf(body, "not ready: %s\n", why);
		return 503;
	}
	rs_buf_printf(body, "not found; try /metrics, /healthz, /readyz\n");
	return 404;
}

static void
on_lag_probe(uv_timer_t *t)
{
	struct rs_daemon *d = t->data;
	uint64_t now = uv_hrtime(), expect = LAG_PROBE_MS * 1000000ull;

	if (d->lag_last_ns != 0)
		rs_metrics.loop_lag_seconds = now - d->lag_last_ns > expect ?
		    (double)(now - d->lag_last_ns - expect) / 1e9 : 0;
	d->lag_last_ns = now;
}

int
rs__probes_start(struct rs_daemon *d, char *err, size_t errlen)
{
	int rc;

	if ((rc = uv_timer_start(&d->lag_timer, on_lag_probe, LAG_PROBE_MS,
	    LAG_PROBE_MS)) != 0)
		return rs_errf(err, errlen, rc, "lag timer: %s",
		    uv_strerror(rc));
	if (d->cfg->http_listen == NULL)
		return 0;
	/* On failure rs_http_start() has closed what it opened. */
	return rs_http_start(&d->http, d->loop, d->cfg->http_listen, on_http,
	    d, err, errlen);
}
