/* test_topics.c - judging the startup check of the topics (src/topics.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "routesim/array.h"
#include "routesim/topics.h"

static struct rs_topic_facts
good(void)
{
	struct rs_topic_facts f = {
		.name = {"req", "pos", "prog"},
		.partitions = {3, 6, 3},
		.policy = "compact",
	};

	return f;
}

static void
test_compacted(void **state)
{
	(void)state;
	assert_true(rs_topics_compacted("compact"));
	assert_true(rs_topics_compacted("compact,delete"));
	assert_true(rs_topics_compacted("delete, compact"));
	assert_false(rs_topics_compacted("delete"));
	assert_false(rs_topics_compacted("compaction"));
	assert_false(rs_topics_compacted(""));
	assert_false(rs_topics_compacted(NULL));
}

static void
test_all_well(void **state)
{
	struct rs_topic_facts f = good();
	char msg[512], warn[256];

	(void)state;
	assert_int_equal(rs_topics_judge(&f, msg, sizeof(msg), warn,
	    sizeof(warn)), 0);
	assert_string_equal(msg, "");
	assert_string_equal(warn, "");
	/* More progress partitions than request partitions: unused, fine. */
	f.partitions[RS_TOPIC_PROGRESS] = 5;
	assert_int_equal(rs_topics_judge(&f, msg, sizeof(msg), warn,
	    sizeof(warn)), 0);
}

static void
test_every_problem_in_one_line(void **state)
{
	struct rs_topic_facts f = good();
	char msg[512], warn[256];

	(void)state;
	f.partitions[RS_TOPIC_POSITION] = RS_TOPIC_MISSING;
	f.partitions[RS_TOPIC_PROGRESS] = 2;
	f.policy = "delete";
	assert_int_equal(rs_topics_judge(&f, msg, sizeof(msg), warn,
	    sizeof(warn)), -EINVAL);
	assert_string_equal(msg, "position topic pos does not exist; "
	    "progress topic prog is not compacted (cleanup.policy=delete; "
	    "create it with --config cleanup.policy=compact); progress topic "
	    "prog has 2 partitions, fewer than the 3 of request topic req");
	assert_null(strchr(msg, '\n'));
}

static void
test_missing_progress(void **state)
{
	struct rs_topic_facts f = good();
	char msg[512], warn[256];

	(void)state;
	f.partitions[RS_TOPIC_PROGRESS] = RS_TOPIC_MISSING;
	f.policy = NULL;
	assert_int_equal(rs_topics_judge(&f, msg, sizeof(msg), warn,
	    sizeof(warn)), -EINVAL);
	assert_string_equal(msg, "progress topic prog does not exist");
	assert_string_equal(warn, "");
}

static void
test_unknown_is_a_warning(void **state)
{
	struct rs_topic_facts f = good();
	char msg[512], warn[256];

	(void)state;
	f.policy = NULL;
	f.policy_error = "not supported";
	f.partitions[RS_TOPIC_REQUEST] = RS_TOPIC_UNKNOWN;
	assert_int_equal(rs_topics_judge(&f, msg, sizeof(msg), warn,
	    sizeof(warn)), 0);
	assert_string_equal(warn, "request topic req not checked: not "
	    "authorised to describe it; cleanup.policy of progress topic prog "
	    "not checked: not supported");
}

static void
test_short_buffer(void **state)
{
	struct rs_topic_facts f = good();
	char msg[16], warn[8];

	(void)state;
	f.partitions[RS_TOPIC_REQUEST] = RS_TOPIC_MISSING;
	f.partitions[RS_TOPIC_POSITION] = RS_TOPIC_MISSING;
	f.policy = "delete";
	assert_int_equal(rs_topics_judge(&f, msg, sizeof(msg), warn,
	    sizeof(warn)), -EINVAL);
	assert_int_equal(strlen(msg), sizeof(msg) - 1);
}

/* Partition counts read from metadata as librdkafka returns it. */
static void
test_partitions_from_metadata(void **state)
{
	rd_kafka_metadata_topic_t topics[] = {
		{.topic = "req", .partition_cnt = 3},
		{.topic = "gone", .err = RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART},
		{.topic = "secret", .partition_cnt = 0,
		    .err = RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED},
		/* Another error still reports the partitions. */
		{.topic = "prog", .partition_cnt = 2,
		    .err = RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE},
	};
	struct rd_kafka_metadata md = {
		.topic_cnt = (int)RS_NELEM(topics),
		.topics = topics,
	};

	(void)state;
	assert_int_equal(rs_topics_partitions(&md, "req"), 3);
	assert_int_equal(rs_topics_partitions(&md, "prog"), 2);
	assert_int_equal(rs_topics_partitions(&md, "gone"), RS_TOPIC_MISSING);
	assert_int_equal(rs_topics_partitions(&md, "nope"), RS_TOPIC_MISSING);
	assert_int_equal(rs_topics_partitions(&md, "secret"),
	    RS_TOPIC_UNKNOWN);
	md.topic_cnt = 0;
	assert_int_equal(rs_topics_partitions(&md, "req"), RS_TOPIC_MISSING);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_compacted),
		cmocka_unit_test(test_all_well),
		cmocka_unit_test(test_every_problem_in_one_line),
		cmocka_unit_test(test_missing_progress),
		cmocka_unit_test(test_unknown_is_a_warning),
		cmocka_unit_test(test_short_buffer),
		cmocka_unit_test(test_partitions_from_metadata),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
