/*
 * order.h - the order of the two numbers in a position message (see
 * README): set in the configuration, used where positions are written.
 */
#ifndef ROUTESIM_ORDER_H
#define ROUTESIM_ORDER_H

enum rs_position_order {
	RS_ORDER_LATLNG = 0,
	RS_ORDER_LNGLAT,
};

#endif
