/*
 * progress.h - progress records: how far each delivery has got, kept in
 * Kafka so that another process can carry on after a crash or a hand-off.
 *
 * The progress topic is compacted and partitioned like the request topic:
 * the record of the request at (partition p, offset o) is written to
 * partition p with key "o".  Its value is one of
 *
 *   {"routeId":"1","clientId":"x","next":12}   positions 0..11 are
 *                                              acknowledged; carry on at 12
 *   {"done":true}                              finished; skip the request
 *                                              if it is read again
 *   (null, a tombstone)                        forgotten: the request's
 *                                              offset is committed
 *
 * A record's clientId obeys a request's limit (RS_REQUEST_MAX_BYTES once
 * decoded), so restoring never holds more than reading requests does.
 *
 * Nothing here talks to Kafka; daemon_records.c writes the records and
 * daemon_restore.c reads them back.
 * rs_progress_encode() writes into the caller's buffer (no allocation,
 * no printf: every delivery writes records); rs_progress_decode() fills
 * a caller struct whose client_id is heap memory released by
 * rs_progress_free().
 */
#ifndef ROUTESIM_PROGRESS_H
#define ROUTESIM_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "routesim/request.h"

struct rs_progress {
	bool done;
	uint32_t next;			/* when !done */
	char route_id[RS_ROUTE_ID_MAX + 1];
	char *client_id;
};

/* How many bytes rs_progress_encode() may write for p. */
size_t rs_progress_size(const struct rs_progress *p);
/* Writes the value "{...}" for p at buf, which holds at least
 * rs_progress_size(p) bytes; returns its length (not NUL-terminated). */
size_t rs_progress_encode(const struct rs_progress *p, char *buf);

/*
 * Parses a record value.  Returns 0, or -EINVAL for anything that is not
 * a valid record (logged and skipped by the caller).
 */
int rs_progress_decode(const void *buf, size_t len, struct rs_progress *p);
void rs_progress_free(struct rs_progress *p);

/* Key of the request at offset: its decimal offset.  Returns the length;
 * buf holds at least RS_PROGRESS_KEY_MAX bytes. */
#define RS_PROGRESS_KEY_MAX 21
size_t rs_progress_key(int64_t offset, char buf[RS_PROGRESS_KEY_MAX]);
/* Parses a key: the decimal offset 0..INT64_MAX exactly as
 * rs_progress_key() writes it (no sign, no leading zero); -1 for
 * anything else. */
int64_t rs_progress_key_parse(const void *key, size_t len);

#endif
