/* test_http.c - the --healthcheck client, rs_http_probe() (src/http.c).
 * The server side is tested by tests/integration/test_http.py. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "routesim/http.h"

/* A listener on a loopback port; its "127.0.0.1:PORT" goes to addr. */
static int
listener(char *addr, size_t len)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	socklen_t slen = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(fd, 4), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &slen), 0);
	snprintf(addr, len, "127.0.0.1:%u", ntohs(sin.sin_port));
	return fd;
}

/* A child that answers one connection with "HTTP/1.0 204" and writes what
 * it read to the pipe out. */
static pid_t
answer_once(int lfd, int out)
{
	static const char resp[] = "HTTP/1.0 204 No Content\r\n\r\n";
	char buf[1024];
	size_t got = 0;
	pid_t pid = fork();
	int c;

	assert_true(pid >= 0);
	if (pid > 0)
		return pid;
	if ((c = accept(lfd, NULL, NULL)) < 0)
		_exit(1);
	while (got < sizeof(buf) && (got < 4 ||
	    memcmp(buf + got - 4, "\r\n\r\n", 4) != 0)) {
		ssize_t n = read(c, buf + got, sizeof(buf) - got);

		if (n <= 0)
			break;
		got += (size_t)n;
	}
	if (write(out, buf, got) != (ssize_t)got ||
	    write(c, resp, sizeof(resp) - 1) != (ssize_t)sizeof(resp) - 1)
		_exit(1);
	close(c);
	_exit(0);
}

static void
test_probe(void **state)
{
	char addr[64], seen[1024];
	int lfd, p[2], status;
	ssize_t n;
	pid_t pid;

	(void)state;
	lfd = listener(addr, sizeof(addr));
	assert_int_equal(pipe(p), 0);
	pid = answer_once(lfd, p[1]);
	assert_int_equal(rs_http_probe(addr, "/healthz", 5000), 204);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	n = read(p[0], seen, sizeof(seen) - 1);
	assert_true(n > 0);
	seen[n] = '\0';
	assert_string_equal(seen, "GET /healthz HTTP/1.0\r\n\r\n");
	close(p[0]);
	close(p[1]);
	close(lfd);
}

/* A request that does not fit the probe's buffer is refused before
 * anything is sent (02722da sent past the buffer, then waited). */
static void
test_probe_refuses_long_or_bad_paths(void **state)
{
	static const char *const bad[] = {"healthz", "/a b", "/a\r\nX: 1", ""};
	char addr[64], path[1024];
	int lfd;

	(void)state;
	lfd = listener(addr, sizeof(addr));
	/* "GET " + path + " HTTP/1.0\r\n\r\n" + NUL: 238 bytes fit; that
	 * one is sent and, unanswered, times out. */
	memset(path, 'a', 238);
	path[0] = '/';
	path[238] = '\0';
	assert_int_equal(rs_http_probe(addr, path, 200), -ETIMEDOUT);
	for (size_t len = 239; len < sizeof(path); len += 97) {
		memset(path, 'a', len);
		path[0] = '/';
		path[len] = '\0';
		if (rs_http_probe(addr, path, 300) != -EINVAL)
			fail_msg("a path of %zu bytes was not refused", len);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (rs_http_probe(addr, bad[i], 300) != -EINVAL)
			fail_msg("path '%s' was not refused", bad[i]);
	close(lfd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_probe),
		cmocka_unit_test(test_probe_refuses_long_or_bad_paths),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
