/*
 * daemon-int.h - what the parts of the daemon share; not for callers,
 * who use routesim/daemon.h.  Names are rs__, as libuv names its
 * internals uv__.
 *
 *   daemon.c           start and stop, the startup topic check
 *   daemon_requests.c  request intake, route waits, reading paused
 *   daemon_records.c   progress records, commits, tombstones
 *   daemon_restore.c   restore and resume of an assigned partition
 *   daemon_handoff.c   hand-off of revoked partitions
 *   daemon_http.c      /metrics, /healthz, /readyz, the loop lag probe
 *
 * Every function runs on the loop thread.
 */
#ifndef ROUTESIM_DAEMON_INT_H
#define ROUTESIM_DAEMON_INT_H

#include "routesim/daemon.h"
#include "routesim/request.h"

/*
 * A request whose route is being loaded (new or resumed delivery), made
 * by rs__pending_new() and freed by rs__pending_free().
 */
struct rs__pending {
	struct rs_route_wait wait;
	struct rs__pending *next;	/* in the daemon's resume queue */
	struct rs_daemon *d;
	struct rs_request req;
	int32_t partition;
	int64_t offset;
	uint32_t first;		/* resume point; 0 for a new request */
	bool resumed;
};

/*
 * What a progress record is for.  A record costs no allocation: its kind
 * rides to the delivery report as the message's opaque, and the report
 * brings back the partition and key (the request's offset) it was
 * written with.
 */
enum record_kind {
	REC_PROGRESS,		/* every progress_every positions */
	REC_FINAL,		/* exact resume point at a hand-off */
	REC_DONE,		/* finished */
	REC_TOMBSTONE,		/* forgotten after the commit */
};

/* daemon.c */
void rs__cannot_take(struct rs_daemon *d, struct rs_part *p,
    int64_t offset, const char *what, int rc);
void rs__refused(struct rs_daemon *d, const char *topic, const char *why);

/* daemon_requests.c */
struct rs__pending *rs__pending_new(struct rs_daemon *d,
    struct rs_part *p, int64_t offset);
void rs__pending_free(struct rs__pending *pr);
void rs__sync_pause(struct rs_daemon *d, struct rs_part *p);
void rs__check_cap(struct rs_daemon *d);
void rs__route_and_start(struct rs_daemon *d, struct rs_part *p,
    struct rs__pending *pr);
void rs__handle_request(struct rs_daemon *d, struct rs_part *p,
    int64_t offset, int64_t timestamp, const void *payload, size_t len);
void rs__on_request(void *ud, const rd_kafka_message_t *m);

/* daemon_records.c */
void rs__mark_safe(struct rs_daemon *d, struct rs_part *p,
    int64_t offset);
void rs__work_done(struct rs_daemon *d, struct rs_part *p);
void rs__write_record(struct rs_daemon *d, struct rs_part *p,
    enum record_kind kind, int64_t offset, const struct rs_progress *rec);
void rs__on_record_delivered(void *ud, int32_t partition,
    const void *key, size_t keylen, void *opaque, rd_kafka_resp_err_t err);
void rs__on_committed(void *ud, int32_t partition, int64_t next);
void rs__on_progress(void *ud, const struct rs_delivery_state *st);
void rs__on_refused(void *ud, const char *why);
void rs__on_ended(void *ud, const struct rs_delivery_state *st,
    enum rs_delivery_end how);

/* daemon_restore.c */
void rs__on_assign(void *ud, int32_t partition);
void rs__on_restore_record(void *ud, int32_t partition,
    const rd_kafka_message_t *m);
void rs__on_restore_end(void *ud, int32_t partition, int err);
void rs__drop_resumes(struct rs_daemon *d, int32_t id);

/* daemon_handoff.c */
void rs__check_revoked(struct rs_daemon *d);
void rs__on_revoke(void *ud,
    const rd_kafka_topic_partition_list_t *parts);

/* daemon_http.c: starts the lag probe and, when configured, the HTTP
 * listener.  Returns 0 or a negative code with err set. */
int rs__probes_start(struct rs_daemon *d, char *err, size_t errlen);

#endif
