/*
 * frame.h - the tracker's WebSocket frames, rendered from the fleet
 * (fleet.h) as compact JSON text (see the README's protocol section):
 *
 *   {"type":"snapshot","seq":41,"vehicles":[V,...]}
 *   {"type":"update","seq":42,"since":41,"vehicles":[V or M,...],
 *    "removed":["id",...]}
 *
 * where a vehicle V is [clientId, routeId, lat, lng, point, points,
 * finished], e.g. ["1","1",-15.82594,-47.92923,1,87,false], and a move M
 * is [clientId, lat, lng, point], e.g. ["1",-15.82598,-47.92922,2]: a
 * vehicle whose route, points and finished have not changed since the
 * generation the browser has (fleet.h's shape_seq).  Numbers are
 * in their shortest round-trip form (position.h); strings are escaped as
 * position.h escapes them.
 *
 * Both carry rs_fleet_seq().  A snapshot holds every located vehicle; an
 * update, for a browser that has generation since (rs_fleet_knows_since()
 * must be true), the vehicles changed after it and the clientIds
 * forgotten after it (fleet.h).
 *
 * Ownership: everything is appended to a caller's struct rs_buf (not
 * reset first); nothing is kept.
 */
#ifndef ROUTESIM_FRAME_H
#define ROUTESIM_FRAME_H

#include "routesim/buf.h"
#include "routesim/fleet.h"

/* Appends V, or M. */
void rs_frame_vehicle(struct rs_buf *b, const struct rs_vehicle *v);
void rs_frame_move(struct rs_buf *b, const struct rs_vehicle *v);

/* Append a whole frame; 0 or -ENOMEM (the buffer failed). */
int rs_frame_snapshot(struct rs_buf *b, const struct rs_fleet *f);
int rs_frame_update(struct rs_buf *b, const struct rs_fleet *f,
    uint64_t since);

#endif
