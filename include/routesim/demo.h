/*
 * demo.h - routesim --demo: the whole path with no Kafka installed.
 *
 * Starts librdkafka's mock cluster in this process, runs the daemon
 * against it, sends one request per route named on the command line
 * (default 1 2 3; none with --serve), and prints every position as a
 * separate consumer receives it.  Without --serve it exits 0 once every
 * delivery has sent its finished position; with --serve it keeps running
 * (until SIGINT or SIGTERM) and prints how other clients reach the
 * broker.
 */
#ifndef ROUTESIM_DEMO_H
#define ROUTESIM_DEMO_H

#include "routesim/config.h"

/* Returns the process exit status.  May replace cfg->bootstrap_servers. */
int rs_demo_run(struct rs_config *cfg);

#endif
