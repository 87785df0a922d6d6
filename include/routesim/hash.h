/*
 * hash.h - the one hash table of routesim: Debian's header-only uthash
 * (uthash-dev), set up so that running out of memory is not fatal.
 *
 * An element whose HASH_ADD* ran out of memory is simply not added (the
 * table is as before); rs_hash_added() tells the caller, who still owns
 * the element.  Everything else is plain uthash: a struct with a
 * UT_hash_handle named hh, a head pointer that starts NULL, HASH_FIND*,
 * HASH_ADD*, HASH_DEL, HASH_COUNT.  The table's memory belongs to the
 * head and is freed with the last HASH_DEL or by HASH_CLEAR.  To empty a
 * table, HASH_CLEAR it, then free the elements, still linked through
 * hh.next (clang's analyzer misreads HASH_DEL inside HASH_ITER).
 */
#ifndef ROUTESIM_HASH_H
#define ROUTESIM_HASH_H

#include <stdbool.h>

#define HASH_NONFATAL_OOM 1
#include <uthash.h>

/* After a HASH_ADD*: false when it ran out of memory. */
static inline bool
rs_hash_added(const UT_hash_handle *hh)
{
	return hh->tbl != NULL;
}

#endif
