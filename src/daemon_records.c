/*
 * daemon_records.c - progress records, commits and tombstones: what the
 * daemon writes to the progress topic, and what a durable record or a
 * commit lets it do (daemon.h, daemon-int.h).
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "daemon-int.h"
#include "routesim/log.h"
#include "routesim/metrics.h"
#include "routesim/progress.h"

/* Tombstones written per loop turn (about 0.15 ms). */
#define TOMB_SLICE 128

static void on_tombs(uv_idle_t *h);

/* The request at (p, offset) can no longer be lost. */
void
rs__mark_safe(struct rs_daemon *d, struct rs_part *p, int64_t offset)
{
	if (rs_offsets_safe(&p->offsets, offset))
		rs_kafka_store_offset(&d->kafka, p->id,
		    rs_offsets_committable(&p->offsets));
}

void
rs__work_done(struct rs_daemon *d, struct rs_part *p)
{
	/* busy is 0 already only after a forced hand-off (revoke timeout). */
	if (p->busy > 0 && --p->busy == 0 && p->state == RS_PART_REVOKING)
		rs__check_revoked(d);
}

void
rs__write_record(struct rs_daemon *d, struct rs_part *p, enum record_kind kind,
    int64_t offset, const struct rs_progress *rec)
{
	char *value = NULL, key[RS_PROGRESS_KEY_MAX];
	size_t len = 0, klen;
	const char *refusal;
	int rc;

	if (rec != NULL) {
		rs_buf_reset(&d->record);
		if ((value = rs_buf_reserve(&d->record,
		    rs_progress_size(rec))) == NULL) {
			rs__cannot_take(d, p, offset, "progress record",
			    -ENOMEM);
			return;
		}
		len = rs_progress_encode(rec, value);
	}
	klen = rs_progress_key(offset, key);
	/* On failure the request is read again later. */
	rc = rs_kafka_produce_progress(&d->kafka, p->id, key, klen, value,
	    len, (void *)(uintptr_t)kind, &refusal);
	if (rc == 0)
		p->busy++;
	else if (rc == -EPERM)
		rs__refused(d, d->cfg->progress_topic, refusal);
}

static void
write_state(struct rs_daemon *d, struct rs_part *p, enum record_kind kind,
    const struct rs_delivery_state *st)
{
	struct rs_progress rec = {.done = kind == REC_DONE, .next = st->acked,
	    .client_id = (char *)(uintptr_t)st->client_id};

	snprintf(rec.route_id, sizeof(rec.route_id), "%s", st->route_id);
	rs__write_record(d, p, kind, st->offset, &rec);
}

void
rs__on_record_delivered(void *ud, int32_t partition, const void *key,
    size_t keylen, void *opaque, rd_kafka_resp_err_t err)
{
	int64_t offset = rs_progress_key_parse(key, keylen);
	enum record_kind kind = (enum record_kind)(uintptr_t)opaque;
	struct rs_daemon *d = ud;
	struct rs_part *p = rs_parts_get(&d->parts, partition);

	if (rs_kafka_refused(err))
		rs__refused(d, d->cfg->progress_topic, rd_kafka_err2str(err));
	else if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
		log_warnx("progress record failed: %s partition=%d offset=%lld",
		    rd_kafka_err2str(err), partition, (long long)offset);
	if (p == NULL)
		return;
	if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
		/* A durable record lets a restart resume the request, so its
		 * offset may be committed: the first record of a request does
		 * it, later ones find it safe already. */
		if (kind != REC_TOMBSTONE)
			rs__mark_safe(d, p, offset);
		if (kind == REC_DONE && rs_part_done_add(p, offset) != 0)
			log_warnx("done list: out of memory");
	}
	rs__work_done(d, p);
}

/* The group committed up to `next`: finished requests below it can be
 * forgotten.  Their tombstones are written a slice per loop turn (on_tombs),
 * not all at once: a commit can make tens of thousands due. */
void
rs__on_committed(void *ud, int32_t partition, int64_t next)
{
	struct rs_daemon *d = ud;
	struct rs_part *p = rs_parts_get(&d->parts, partition);
	int rc;

	if (p == NULL || rs_part_done_commit(p, next) == 0)
		return;
	/* A no-op when on_tombs() is already due. */
	if ((rc = uv_idle_start(&d->tombs, on_tombs)) != 0)
		log_warnx("tombstones: %s", uv_strerror(rc));
}

static void
on_tombs(uv_idle_t *h)
{
	struct rs_daemon *d = h->data;
	int64_t done[TOMB_SLICE];
	size_t left = TOMB_SLICE;

	for (size_t i = 0; i < d->parts.n && left > 0; i++) {
		struct rs_part *p = d->parts.v[i];
		size_t n;

		if (p == NULL)
			continue;
		n = rs_part_done_take(p, done, left);
		for (size_t j = 0; j < n; j++) {
			rs_part_known_del(p, done[j]);
			rs__write_record(d, p, REC_TOMBSTONE, done[j], NULL);
		}
		left -= n;
	}
	if (left > 0)	/* every partition gave less than asked: none left */
		uv_idle_stop(h);
}

void
rs__on_progress(void *ud, const struct rs_delivery_state *st)
{
	struct rs_daemon *d = ud;
	struct rs_part *p = rs_parts_get(&d->parts, st->partition);

	if (p != NULL)
		write_state(d, p, REC_PROGRESS, st);
}

void
rs__on_refused(void *ud, const char *why)
{
	struct rs_daemon *d = ud;

	rs__refused(d, d->cfg->produce_topic, why);
}

void
rs__on_ended(void *ud, const struct rs_delivery_state *st,
    enum rs_delivery_end how)
{
	struct rs_daemon *d = ud;
	struct rs_part *p = rs_parts_get(&d->parts, st->partition);

	if (p == NULL)
		return;
	/* A failed delivery is not retried: its position failed for good
	 * (logged and counted); it is marked done like a finished one. */
	write_state(d, p, how == RS_END_STOPPED ? REC_FINAL : REC_DONE, st);
	rs__work_done(d, p);
	rs__check_cap(d);
}
