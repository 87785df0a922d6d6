/*
 * tracker-int.h - what tracker.c and tracker_web.c share, and nobody
 * else: the web side's start and end, and the way back from Kafka to a
 * held POST.
 */
#ifndef ROUTESIM_TRACKER_INT_H
#define ROUTESIM_TRACKER_INT_H

#include "routesim/tracker.h"

/* Starts the web server on cfg->http_listen.  0 or a negative errno. */
int rs_tracker_web_start(struct rs_tracker *t, char *err, size_t errlen);
/* After uv_run() returned. */
void rs_tracker_web_free(struct rs_tracker *t);

/* Writes a request to the request topic; its delivery report comes back
 * through rs_tracker_web_delivered() with opaque.  0, -ENOBUFS (queue
 * full), -ESHUTDOWN (stopping) or -EIO (logged). */
int rs_tracker_produce(struct rs_tracker *t, const char *json, size_t len,
    void *opaque);
void rs_tracker_web_delivered(struct rs_tracker *t, void *opaque,
    rd_kafka_resp_err_t err);

#endif
