/*
 * mockcluster.c - a Kafka broker for tests: librdkafka's mock cluster in
 * a process of its own.
 *
 * usage: rs-mockcluster [-b BROKERS] [-p PARTITIONS] TOPIC[:PARTITIONS]...
 *
 * Prints "bootstrap HOST:PORT,..." on stdout once the topics exist, then
 * reads commands, one per line, answering each with "ok" or "error ...":
 *   down ID          take broker ID down (connections refused)
 *   up ID            bring it back
 *   err APIKEY CODE N  fail the next N requests of APIKEY with CODE
 *   quit             exit (so does end of input, and SIGTERM)
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "routesim/mock.h"

static int
command(struct rs_mock *m, char *line)
{
	int id, key, code, n;

	if (sscanf(line, "down %d", &id) == 1)
		return rd_kafka_mock_broker_set_down(m->cluster, id) ? -1 : 0;
	if (sscanf(line, "up %d", &id) == 1)
		return rd_kafka_mock_broker_set_up(m->cluster, id) ? -1 : 0;
	if (sscanf(line, "err %d %d %d", &key, &code, &n) == 3) {
		for (int i = 0; i < n; i++)
			rd_kafka_mock_push_request_errors(m->cluster,
			    (int16_t)key, 1, (rd_kafka_resp_err_t)code);
		return 0;
	}
	return -1;
}

int
main(int argc, char *argv[])
{
	struct rs_mock m;
	char err[512], line[256];
	int brokers = 1, partitions = 4, c;

	while ((c = getopt(argc, argv, "b:p:")) != -1) {
		switch (c) {
		case 'b':
			brokers = atoi(optarg);
			break;
		case 'p':
			partitions = atoi(optarg);
			break;
		default:
			fprintf(stderr, "usage: %s [-b BROKERS] [-p PARTITIONS] "
			    "TOPIC[:PARTITIONS]...\n", argv[0]);
			return 2;
		}
	}
	signal(SIGPIPE, SIG_IGN);
	if (rs_mock_start(&m, brokers, err, sizeof(err)) != 0) {
		fprintf(stderr, "mock cluster: %s\n", err);
		return 1;
	}
	for (int i = optind; i < argc; i++) {
		char *colon = strchr(argv[i], ':');
		int p = partitions;

		if (colon != NULL) {
			*colon = '\0';
			p = atoi(colon + 1);
		}
		if (rs_mock_topic(&m, argv[i], p) != 0) {
			fprintf(stderr, "mock cluster: cannot create %s\n",
			    argv[i]);
			rs_mock_stop(&m);
			return 1;
		}
	}
	printf("bootstrap %s\n", rs_mock_bootstraps(&m));
	fflush(stdout);
	while (fgets(line, sizeof(line), stdin) != NULL) {
		if (strncmp(line, "quit", 4) == 0)
			break;
		if (command(&m, line) == 0)
			printf("ok\n");
		else
			printf("error: %s", line);
		fflush(stdout);
	}
	rs_mock_stop(&m);
	return 0;
}
