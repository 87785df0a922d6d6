/*
 * array.h - the one way to count the elements of an array.
 */
#ifndef ROUTESIM_ARRAY_H
#define ROUTESIM_ARRAY_H

/* Elements of an array (not a pointer: the sizes would not divide). */
#define RS_NELEM(a) (sizeof(a) / sizeof((a)[0]))

#endif
