"""Helpers for routesim's integration tests.

Starts the mock cluster helper (rs-mockcluster) and the real routesim
binary as child processes, and talks to the cluster with kafka-python, a
Kafka client that shares no code with librdkafka.
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

from kafka import KafkaConsumer, KafkaProducer, TopicPartition

READ_TOPIC = "route.new-direction"
PRODUCE_TOPIC = "route.new-position"
PROGRESS_TOPIC = "routesim.progress"
POSITION_PARTITIONS = 4
REQUEST_PARTITIONS = 2

BIN = os.environ.get("RS_BIN", "build/routesim")
MOCK = os.environ.get("RS_MOCK", "build/tests/rs-mockcluster")
SOURCE = os.environ.get("RS_SOURCE_DIR", ".")


class Failure(Exception):
    pass


class Skip(Exception):
    """Raised by a test that cannot run here; reported as a skip."""


def check(cond, what):
    if not cond:
        raise Failure(what)


class Cluster:
    """rs-mockcluster in a child process."""

    def __init__(self, brokers=1, progress_partitions=None,
                 request_partitions=REQUEST_PARTITIONS):
        if progress_partitions is None:
            progress_partitions = request_partitions
        self.proc = subprocess.Popen(
            [MOCK, "-b", str(brokers),
             "%s:%d" % (READ_TOPIC, request_partitions),
             "%s:%d" % (PROGRESS_TOPIC, progress_partitions),
             "%s:%d" % (PRODUCE_TOPIC, POSITION_PARTITIONS)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline().split()
        check(len(line) == 2 and line[0] == "bootstrap",
              "mock cluster did not start: %r" % line)
        self.bootstrap = line[1]

    def command(self, cmd):
        self.proc.stdin.write(cmd + "\n")
        self.proc.stdin.flush()
        answer = self.proc.stdout.readline().strip()
        check(answer == "ok", "mock cluster: %s -> %s" % (cmd, answer))

    def close(self):
        if self.proc.poll() is None:
            self.proc.stdin.close()
            self.proc.wait(timeout=10)


class Routesim:
    """The routesim binary, its stderr collected in the background."""

    started = []  # every instance, so run() can clean up after a failure

    def __init__(self, cluster, destinations, *args, env=None, cwd=None,
                 binary=None):
        full_env = {k: v for k, v in os.environ.items()
                    if not k.startswith("Kafka")}
        full_env.update(env or {})
        cmd = [binary or BIN, "-b", cluster.bootstrap, "-d", destinations,
               "--env-file", "/dev/null", "--shutdown-timeout", "5000",
               "--log-level", "debug"] + list(args)
        self.proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True,
                                     env=full_env, cwd=cwd)
        self.lines = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        Routesim.started.append(self)

    def _read(self):
        for line in self.proc.stderr:
            self.lines.append(line.rstrip("\n"))

    def log(self):
        return "\n".join(self.lines)

    def count(self, text):
        return sum(1 for line in self.lines if text in line)

    def wait_log(self, text, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.count(text):
                return
            check(self.proc.poll() is None,
                  "routesim exited early:\n" + self.log())
            time.sleep(0.05)
        raise Failure("no log line with %r:\n%s" % (text, self.log()))

    def stop(self, sig=signal.SIGTERM, timeout=20):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        return self.wait_exit(timeout)

    def wait_exit(self, timeout):
        """Waits for routesim to exit (killing it after timeout seconds);
        returns its status once its log is all read."""
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise Failure("routesim did not stop within %ds:\n%s" %
                          (timeout, self.log()))
        self.reader.join(timeout=5)
        return rc


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(port, path):
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path),
                                    timeout=5) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def producer(cluster):
    return KafkaProducer(bootstrap_servers=cluster.bootstrap, acks="all",
                         linger_ms=0)


def send_requests(cluster, values, key_by_client=False):
    """values: bytes or dicts; sent with the backend's key (the topic
    name), or with the clientId as key to spread them over partitions."""
    p = producer(cluster)
    for v in values:
        key = READ_TOPIC.encode()
        if isinstance(v, dict):
            if key_by_client:
                key = v["clientId"].encode()
            v = json.dumps(v, separators=(",", ":")).encode()
        p.send(READ_TOPIC, key=key, value=v)
    p.flush()
    p.close()


class Positions:
    """Consumes the position topic from the beginning, in a thread."""

    def __init__(self, cluster):
        self.consumer = KafkaConsumer(bootstrap_servers=cluster.bootstrap,
                                      enable_auto_commit=False,
                                      consumer_timeout_ms=200)
        parts = [TopicPartition(PRODUCE_TOPIC, p)
                 for p in range(POSITION_PARTITIONS)]
        self.consumer.assign(parts)
        self.consumer.seek_to_beginning(*parts)
        self.messages = []

    def poll(self):
        for m in self.consumer:
            self.messages.append(m)

    def wait_finished(self, n, timeout=60):
        """Waits until n messages with finished:true have been seen."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            self.poll()
            if self.finished() >= n:
                return
        raise Failure("only %d of %d deliveries finished in %ds (%d "
                      "positions)" % (self.finished(), n, timeout,
                                      len(self.messages)))

    def wait_count(self, n, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline and len(self.messages) < n:
            self.poll()
        check(len(self.messages) >= n, "only %d of %d positions"
              % (len(self.messages), n))

    def finished(self):
        return sum(1 for m in self.messages
                   if b'"finished":true' in m.value)

    def by_client(self):
        """clientId -> that client's messages in partition/offset order."""
        out = {}
        for m in sorted(self.messages, key=lambda m: (m.partition,
                                                      m.offset)):
            out.setdefault(json.loads(m.value)["clientId"], []).append(m)
        return out

    def close(self):
        self.consumer.close()


class Destinations:
    """A temporary route folder, inside a temporary folder of its own (so
    a test can put a file beside it, to be reached with "../")."""

    def __init__(self):
        self.base = tempfile.mkdtemp(prefix="routesim-dest-")
        self.path = os.path.join(self.base, "destinations")
        os.mkdir(self.path)

    def write(self, route_id, text):
        with open(os.path.join(self.path, route_id + ".txt"), "w") as f:
            f.write(text)

    def line_route(self, route_id, n):
        """n points on a line; returns the points."""
        pts = [(-15.8 - i * 0.0001, -47.9 + i * 0.0001) for i in range(n)]
        self.write(route_id, "\n".join("%.4f,%.4f" % p for p in pts))
        return [(round(a, 4), round(b, 4)) for a, b in pts]

    def close(self):
        shutil.rmtree(self.base, ignore_errors=True)


SKIP_STATUS = 77  # the tests' SKIP_RETURN_CODE in ctest


def run(tests):
    """Runs tests[name] for the name in argv[1], or all of them.  Exits 1
    if one failed, SKIP_STATUS if all were skipped, else 0."""
    names = sys.argv[1:] or list(tests)
    passed = failed = skipped = 0
    for name in names:
        start = time.time()
        try:
            tests[name]()
            passed += 1
            print("ok - %s (%.1f s)" % (name, time.time() - start))
        except Skip as e:
            skipped += 1
            print("skip - %s: %s" % (name, e))
        except Exception as e:  # report every kind of failure the same way
            failed += 1
            print("not ok - %s: %s: %s" % (name, type(e).__name__, e))
            if os.environ.get("RS_TRACEBACK"):
                import traceback
                traceback.print_exc()
        for rs in Routesim.started:  # none may outlive its test
            if rs.proc.poll() is None:
                rs.proc.kill()
                rs.proc.wait()
        Routesim.started.clear()
        sys.stdout.flush()
    print("%d passed, %d failed, %d skipped" % (passed, failed, skipped))
    if failed:
        sys.exit(1)
    sys.exit(SKIP_STATUS if skipped and not passed else 0)
