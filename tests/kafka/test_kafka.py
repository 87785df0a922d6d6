#!/usr/bin/python3
"""routesim against real Apache Kafka brokers (ctest -L kafka).

usage: test_kafka.py VERSION [TEST...]   (VERSION: 3.9.1, 4.1.2, ...)

Each test starts its own single-node Kafka (kafka_broker.py), creates the
topics the way the README tells users to (kafka-topics, the progress
topic compacted), runs the real routesim binary against it and judges the
result with Kafka's own console producer and consumer, clients that share
no code with librdkafka.  Skipped (exit 77) when Java or Maven is absent.
"""
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
sys.path.insert(0, HERE)

import harness  # noqa: E402
import kafka_broker  # noqa: E402
import test_faults  # noqa: E402
import test_http  # noqa: E402
from harness import check, Destinations, Routesim  # noqa: E402
from test_tracker import Tracker, frames, vehicles  # noqa: E402

READ, POSITIONS, PROGRESS = (harness.READ_TOPIC, harness.PRODUCE_TOPIC,
                             harness.PROGRESS_TOPIC)
VERSION = None  # set from argv


def readme_topics(broker, requests=3, positions=6):
    """The topics of the README and docker-compose.yaml, made with
    kafka-topics: the progress topic compacted, partitioned like the
    request topic."""
    broker.create_topic(READ, requests)
    broker.create_topic(POSITIONS, positions)
    broker.create_topic(PROGRESS, requests, "cleanup.policy=compact")


def route_points(path):
    with open(path) as f:
        return [tuple(float(x) for x in line.split(","))
                for line in f.read().split("\n") if line.strip()]


def expected(route_id, client_id, points, order):
    """The bytes routesim must send for a delivery, in the given
    --position-order: numbers in their shortest round-trip form."""
    out = []
    for i, (lat, lng) in enumerate(points):
        a, b = (lat, lng) if order == "latlng" else (lng, lat)
        out.append('{"routeId":"%s","clientId":"%s","position":[%r,%r],'
                   '"finished":%s}' % (route_id, client_id, a, b,
                                       "true" if i == len(points) - 1
                                       else "false"))
    return out


def by_client(lines):
    """Console consumer lines "Partition:P<TAB>key<TAB>value" -> clientId
    -> [(partition, key, value)] in the order read (per partition, the
    log's order)."""
    out = {}
    for line in lines:
        part, key, value = line.split("\t", 2)
        out.setdefault(json.loads(value)["clientId"], []).append(
            (part, key, value))
    return out


def wait_finished(rs, n, timeout):
    """Waits until routesim has logged n finished deliveries."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        done = rs.count("delivery finished")
        if done >= n:
            return
        check(rs.proc.poll() is None, "routesim exited early:\n" +
              rs.log()[-3000:])
        time.sleep(0.5)
    raise harness.Failure("%d of %d deliveries finished in %ds" %
                          (rs.count("delivery finished"), n, timeout))


def judge(lines, want):
    """want: clientId -> expected values.  Every delivery exact: bytes,
    count, order, one partition, keyed by its clientId."""
    got = by_client(lines)
    check(sorted(got) == sorted(want), "clients %s, want %s" %
          (sorted(got)[:10], sorted(want)[:10]))
    for cid, values in want.items():
        msgs = got[cid]
        check(len({p for p, _, _ in msgs}) == 1,
              "client %s: positions on more than one partition" % cid)
        check(all(k == cid for _, k, _ in msgs),
              "client %s: key is not the clientId" % cid)
        vals = [v for _, _, v in msgs]
        check(len(vals) == len(values), "client %s: %d positions, want %d"
              % (cid, len(vals), len(values)))
        for i, (g, w) in enumerate(zip(vals, values)):
            check(g == w, "client %s position %d: %s, want %s" %
                  (cid, i, g, w))


def stop_clean(rs):
    rc = rs.stop()
    check(rc == 0, "exit status %d:\n%s" % (rc, rs.log()[-3000:]))


def test_walkthrough():
    """The design's walkthrough at the defaults: Kafka's console producer
    starts routes 1, 2 and 3; Kafka's console consumer reads every
    position, byte for byte, in order, the last one finished."""
    order = "lnglat"
    routes = os.path.join(harness.SOURCE, "destinations")
    with kafka_broker.KafkaBroker(VERSION) as broker:
        readme_topics(broker)
        rs = Routesim(broker, routes, "--position-order", order)
        rs.wait_log("assigned partitions=" + READ, timeout=60)
        broker.produce(['{"clientId":"%d","routeId":"%d"}' % (i, i)
                        for i in (1, 2, 3)])
        want = {str(i): expected(str(i), str(i), route_points(
            os.path.join(routes, "%d.txt" % i)), order) for i in (1, 2, 3)}
        total = sum(len(v) for v in want.values())
        # 98 points at 500 ms: about 49 s.
        wait_finished(rs, 3, 120)
        # One more than expected, so an extra position would be seen.
        lines = broker.consume(POSITIONS, total + 1, timeout_ms=5000,
                               print_key=True)
        check(len(lines) == total, "%d positions, want %d" %
              (len(lines), total))
        judge(lines, want)
        check(rs.count("CONFWARN") == 0, "config warnings:\n" + rs.log())
        stop_clean(rs)


def test_many_deliveries():
    """1,000 concurrent deliveries at the default 500 ms all complete,
    each exact and in order."""
    n, npoints, order = 1000, 10, "latlng"
    dest = Destinations()
    try:
        pts = dest.line_route("r", npoints)
        with kafka_broker.KafkaBroker(VERSION) as broker:
            readme_topics(broker)
            rs = Routesim(broker, dest.path, "--position-order", order)
            rs.wait_log("assigned partitions=" + READ, timeout=60)
            clients = ["c%04d" % i for i in range(n)]
            # Keyed by clientId, so the requests spread over partitions.
            broker.produce(['%s\t{"clientId":"%s","routeId":"r"}' % (c, c)
                            for c in clients], key_separator="\t")
            wait_finished(rs, n, 180)
            lines = broker.consume(POSITIONS, n * npoints + 1,
                                   timeout_ms=5000, print_key=True)
            check(len(lines) == n * npoints, "%d positions, want %d" %
                  (len(lines), n * npoints))
            judge(lines, {c: expected("r", c, pts, order) for c in clients})
            stop_clean(rs)
    finally:
        dest.close()


def errors(rs):
    return [line for line in rs.lines if " error " in line]


def test_startup_checks():
    """Missing topics, a progress topic that is not compacted or has
    fewer partitions than the request topic: one clear error line and
    exit status 1 at startup, before joining the group; asking creates
    no topic.  Right topics: the check passes and routesim serves."""
    dest = Destinations()
    try:
        dest.line_route("r", 3)
        with kafka_broker.KafkaBroker(VERSION) as broker:
            rs = Routesim(broker, dest.path)
            check(rs.wait_exit(30) == 1, "no topics: exit status")
            want = ("error topic check failed: request topic %s does not "
                    "exist; position topic %s does not exist; progress "
                    "topic %s does not exist; stopping" % (READ, POSITIONS,
                                                           PROGRESS))
            check(len(errors(rs)) == 1 and errors(rs)[0].endswith(want),
                  rs.log())
            check(rs.count("assigned partitions") == 0, rs.log())
            listed = broker.topics("--list").split()
            check(not {READ, POSITIONS, PROGRESS} & set(listed),
                  "the check created topics: %s" % listed)

            broker.create_topic(READ, 3)
            broker.create_topic(POSITIONS, 6)
            broker.create_topic(PROGRESS, 2)  # not compacted, too few
            rs = Routesim(broker, dest.path)
            check(rs.wait_exit(30) == 1, "bad progress topic: exit status")
            want = ("error topic check failed: progress topic %s is not "
                    "compacted (cleanup.policy=delete; create it with "
                    "--config cleanup.policy=compact); progress topic %s "
                    "has 2 partitions, fewer than the 3 of request topic "
                    "%s; stopping" % (PROGRESS, PROGRESS, READ))
            check(len(errors(rs)) == 1 and errors(rs)[0].endswith(want),
                  rs.log())

            # Compaction among other policies is fine.
            broker.create_topic("progress2", 3,
                                "cleanup.policy=compact,delete")
            rs = Routesim(broker, dest.path, "--progress-topic", "progress2")
            rs.wait_log("assigned partitions=" + READ, timeout=60)
            check(rs.count("topic check passed request=%s:3 position=%s:6 "
                           "progress=progress2:3 cleanup.policy=compact,"
                           "delete" % (READ, POSITIONS)) == 1, rs.log())
            broker.produce(['{"clientId":"1","routeId":"r"}'])
            wait_finished(rs, 1, 30)
            stop_clean(rs)
            check(errors(rs) == [], rs.log())
    finally:
        dest.close()


# ---- Groups and crashes: judged by point index (--position-metadata) ----

# Fast group membership, so a killed member is noticed in seconds.
GROUP = ["-X", "session.timeout.ms=6000", "-X", "heartbeat.interval.ms=500"]


class Seen:
    """Positions read by the console consumer, shaped for
    test_faults.judge(): clientId -> records with .value, in log order."""

    class Record:
        def __init__(self, value):
            self.value = value.encode()

    def __init__(self, lines):
        self.lines = lines

    def by_client(self):
        out = {}
        for line in self.lines:
            _, _, value = line.split("\t", 2)
            out.setdefault(json.loads(value)["clientId"], []).append(
                Seen.Record(value))
        return out


def test_request_partitions_added():
    """A request partition added while routesim runs, its progress
    partition not: the restore of the new partition finds it missing
    (from the progress topic's metadata), and routesim stops with status
    1 in one line that names it, instead of leaving that partition's
    requests unserved."""
    dest = Destinations()
    try:
        dest.line_route("r", 3)
        with kafka_broker.KafkaBroker(VERSION) as broker:
            readme_topics(broker)
            # The group sees the new partition within a second.
            rs = Routesim(broker, dest.path, "-X",
                          "topic.metadata.refresh.interval.ms=1000")
            rs.wait_log("assigned partitions=" + READ, timeout=60)
            broker.topics("--alter", "--topic", READ, "--partitions", "4")
            rc = rs.wait_exit(60)
            check(rc == 1, "exit status %d:\n%s" % (rc, rs.log()[-3000:]))
            want = ("error progress topic %s has no partition 3: it must "
                    "have as many partitions as %s" % (PROGRESS, READ))
            check(rs.count(want) == 1, rs.log()[-3000:])
            check(rs.count("hand-off not settled") == 0, rs.log())
    finally:
        dest.close()


def metadata_args(interval, *more):
    return ["--position-metadata", "true", "--interval", str(interval),
            *GROUP, *more]


def request_keyed(broker, clients, route="r"):
    broker.produce(['%s\t{"clientId":"%s","routeId":"%s"}' % (c, c, route)
                    for c in clients], key_separator="\t")


def finished(instances):
    return sum(rs.count("delivery finished") for rs in instances)


def wait_all_finished(instances, n, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if finished(instances) >= n:
            return
        time.sleep(0.5)
    raise harness.Failure("%d of %d deliveries finished in %ds" %
                          (finished(instances), n, timeout))


def wait_clients_finished(broker, n, timeout):
    """Polls the position topic (kcat: quick to start) until n distinct
    clients have a finished position."""
    deadline = time.time() + timeout
    done = set()
    while time.time() < deadline:
        out = subprocess.run(["kcat", "-C", "-b", broker.bootstrap, "-t",
                              POSITIONS, "-e", "-q", "-f", "%s\n"],
                             stdout=subprocess.PIPE, timeout=120).stdout
        done = {json.loads(v)["clientId"] for v in out.decode().split("\n")
                if '"finished":true' in v}
        if len(done) >= n:
            return
        time.sleep(2)
    raise harness.Failure("%d of %d deliveries finished in %ds" %
                          (len(done), n, timeout))


def compaction(broker, topic, timeout):
    """Waits until the log cleaner has removed records from topic: fewer
    records left than offsets written.  Returns (records, offsets)."""
    deadline = time.time() + timeout
    while True:
        out = subprocess.run(["kcat", "-C", "-b", broker.bootstrap, "-t",
                              topic, "-e", "-q", "-f", "%p %o\n"],
                             stdout=subprocess.PIPE, timeout=120).stdout
        last = {}
        kept = 0
        for line in out.decode().split("\n"):
            if line:
                p, o = map(int, line.split())
                last[p] = max(last.get(p, -1), o)
                kept += 1
        spanned = sum(o + 1 for o in last.values())
        if kept < spanned:
            return kept, spanned
        check(time.time() < deadline, "the log cleaner did not compact "
              "%s: %d records, none removed" % (topic, kept))
        time.sleep(1)


def read_all(broker, at_least):
    """Every position so far (the consumer stops 5 s after the last)."""
    lines = broker.consume(POSITIONS, 10 ** 7, timeout_ms=5000,
                           print_key=True)
    check(len(lines) >= at_least, "%d positions, want at least %d" %
          (len(lines), at_least))
    return Seen(lines)


def groups(assignor):
    """Instances join and leave, 1 -> 2 -> 3 -> 1, during 500 deliveries:
    every delivery complete, never streamed by two instances at once,
    and no duplicate (every hand-off is graceful)."""
    n, npoints, interval = 500, 400, 100
    clients = ["g%03d" % i for i in range(n)]
    args = metadata_args(interval, "-X",
                         "partition.assignment.strategy=" + assignor)
    dest = Destinations()
    try:
        dest.line_route("r", npoints)
        with kafka_broker.KafkaBroker(VERSION) as broker:
            readme_topics(broker)
            a = Routesim(broker, dest.path, *args)
            a.wait_log("assigned partitions=" + READ, timeout=60)
            request_keyed(broker, clients)
            a.wait_log("restored partition")
            time.sleep(3)
            b = Routesim(broker, dest.path, *args)
            b.wait_log("restored partition", timeout=60)
            time.sleep(3)
            c = Routesim(broker, dest.path, *args)
            c.wait_log("restored partition", timeout=60)
            time.sleep(3)
            check(finished([a, b, c]) == 0,
                  "deliveries ended before the last join")
            check(a.stop() == 0, "first instance: exit status\n" +
                  a.log()[-3000:])
            check(b.stop() == 0, "second instance: exit status\n" +
                  b.log()[-3000:])
            wait_all_finished([a, b, c], n, npoints * interval / 1000 + 90)
            seen = read_all(broker, n * npoints)
            test_faults.judge(seen, npoints, clients, 0, 0)
            moved = sum(rs.count("delivery resumed") for rs in (b, c))
            check(a.count("handing off") >= 1 and moved >= 1,
                  "no delivery moved between instances")
            print("%s: %d deliveries resumed by another instance" %
                  (assignor, moved))
            stop_clean(c)
    finally:
        dest.close()


def test_groups_cooperative():
    groups("cooperative-sticky")


def test_groups_eager():
    groups("range")


def test_kill9_compaction():
    """kill -9 five times at random moments (seeded) during 200
    deliveries, with a log cleaner that really compacts the progress
    topic: every delivery completes, duplicates within the documented
    bound (2 x progress_every + 1 per crash, plus one)."""
    seed = int(os.environ.get("RS_SEED", time.time()))
    rng = random.Random(seed)
    print("seed %d (rerun with RS_SEED=%d)" % (seed, seed))
    rounds, n, npoints, interval, every = 5, 200, 100, 50, 5
    clients = ["k%03d" % i for i in range(n)]
    args = metadata_args(interval, "--progress-every", str(every))
    cleaner = {"log.cleaner.backoff.ms": "500",
               "log.cleaner.min.compaction.lag.ms": "0"}
    dest = Destinations()
    try:
        dest.line_route("r", npoints)
        with kafka_broker.KafkaBroker(VERSION, extra=cleaner) as broker:
            broker.create_topic(READ, 3)
            broker.create_topic(POSITIONS, 6)
            broker.create_topic(PROGRESS, 3, "cleanup.policy=compact",
                                "segment.ms=1000",
                                "min.cleanable.dirty.ratio=0.01",
                                "delete.retention.ms=1000")
            request_keyed(broker, clients)
            lives = []
            for r in range(rounds):
                rs = Routesim(broker, dest.path, *args)
                lives.append(rs)
                rs.wait_log("restored partition", timeout=60)
                delay = rng.uniform(0.5, 3.0)
                time.sleep(delay)
                rs.proc.send_signal(signal.SIGKILL)
                rs.proc.wait()
                print("round %d: killed after %.2f s" % (r + 1, delay))
            # Let the cleaner run over the records of the crashed lives.
            time.sleep(3)
            rs = Routesim(broker, dest.path, *args)
            lives.append(rs)
            wait_clients_finished(broker, n, 180)
            seen = read_all(broker, n * npoints)
            dups, rewinds = test_faults.judge(
                seen, npoints, clients, rounds * (2 * every + 2), rounds)
            print("%d deliveries complete; %d duplicates (%.1f per "
                  "delivery), at most %d rewinds" %
                  (n, dups, dups / n, rewinds))
            check(sum(x.count("delivery resumed") for x in lives) >= 1,
                  "nothing resumed from progress")
            stop_clean(rs)
            kept, spanned = compaction(broker, PROGRESS, 30)
            print("progress topic: %d records kept of %d offsets written" %
                  (kept, spanned))
    finally:
        dest.close()


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def test_broker_outage():
    """The broker freezes (SIGSTOP) for 30 s, then is killed and started
    again on the same data directory, mid-run: every position arrives,
    in order per delivery, routesim's memory stays bounded, and /readyz
    is not ready during the outage and ready after it."""
    n, npoints, interval = 100, 600, 100
    clients = ["o%03d" % i for i in range(n)]
    port = test_http.free_port()
    # Heartbeats fail during the outage; a session longer than it keeps
    # the group's assignment, so this is about the producer's path.
    args = metadata_args(interval, "--http-listen", "127.0.0.1:%d" % port,
                         "-X", "session.timeout.ms=90000")
    dest = Destinations()
    try:
        dest.line_route("r", npoints)
        with kafka_broker.KafkaBroker(VERSION) as broker:
            readme_topics(broker)
            rs = Routesim(broker, dest.path, *args)
            rs.wait_log("restored partition", timeout=60)
            request_keyed(broker, clients)
            time.sleep(5)
            check(test_http.get(port, "/readyz")[0] == 200, "ready before")
            broker.proc.send_signal(signal.SIGSTOP)
            start, states, rss = time.time(), [], []
            while time.time() - start < 30:
                states.append(test_http.get(port, "/readyz"))
                rss.append(rss_kib(rs.proc.pid))
                time.sleep(1)
            frozen = [st for st in states[12:] if st[0] != 503]
            check(not frozen, "/readyz 12-30 s into the freeze: %s" %
                  frozen[:3])
            broker.kill()  # SIGKILL works on a stopped process too
            time.sleep(3)
            down = test_http.get(port, "/readyz")
            states.append(down)
            check(down[0] == 503, "/readyz with the broker gone: %s" %
                  (down,))
            print("during the freeze: %d of %d /readyz answers were 503 "
                  "(%s); peak RSS %d MiB" % (
                      sum(1 for st in states if st[0] == 503), len(states),
                      sorted({st[1].strip() for st in states}),
                      max(rss) // 1024))
            check(max(rss) < 256 * 1024, "RSS %d KiB" % max(rss))
            broker.start()
            deadline = time.time() + 60
            while test_http.get(port, "/readyz")[0] != 200:
                check(time.time() < deadline, "not ready after recovery")
                time.sleep(0.5)
            wait_clients_finished(broker, n, npoints * interval / 1000 + 120)
            seen = read_all(broker, n * npoints)
            dups, rewinds = test_faults.judge(seen, npoints, clients,
                                              10 ** 6, 10 ** 6)
            print("%d duplicates, at most %d rewinds per delivery" %
                  (dups, rewinds))
            check(dups == 0 and rewinds == 0, "duplicates or rewinds")
            stop_clean(rs)
    finally:
        dest.close()


class At:
    """A bootstrap address for harness.Routesim."""

    def __init__(self, bootstrap):
        self.bootstrap = bootstrap


def test_sasl():
    """Authentication as Confluent Cloud uses it: SASL/PLAIN, plain and
    over TLS (a CA and broker certificate made with openssl), routesim
    configured only with the original's names plus -X ssl.ca.location.
    A wrong password: one clear error line, exit status 1.  No password
    appears in any output."""
    password = "Pa55-" + os.urandom(6).hex()
    wrong = "Wr0ng-" + os.urandom(6).hex()
    npoints = 5
    dest = Destinations()
    try:
        pts = dest.line_route("r", npoints)
        with kafka_broker.KafkaBroker(VERSION,
                                      users={"routesim": password}) as broker:
            readme_topics(broker)

            def original(protocol, pw):
                return {"security.protocol": protocol,
                        "sasl.mechanisms": "PLAIN",
                        "sasl.username": "routesim", "sasl.password": pw}

            def secret_free(rs):
                for pw in (password, wrong):
                    check(pw not in rs.log(), "a password was printed")

            tls = At(broker.ssl_bootstrap)
            ca = ["-X", "ssl.ca.location=" + broker.ca_path]
            for client, where, protocol, more in (
                    ("plain", broker, "SASL_PLAINTEXT", []),
                    ("tls", tls, "SASL_SSL", ca)):
                rs = Routesim(where, dest.path, "--interval", "100",
                              "--position-order", "latlng", *more,
                              env=original(protocol, password))
                rs.wait_log("assigned partitions=" + READ, timeout=60)
                broker.produce(['{"clientId":"%s","routeId":"r"}' % client])
                wait_finished(rs, 1, 60)
                stop_clean(rs)
                secret_free(rs)
                check(errors(rs) == [], rs.log())
            lines = broker.consume(POSITIONS, 2 * npoints + 1,
                                   timeout_ms=5000, print_key=True)
            judge(lines, {c: expected("r", c, pts, "latlng")
                          for c in ("plain", "tls")})

            start = time.time()
            rs = Routesim(tls, dest.path, *ca,
                          env=original("SASL_SSL", wrong))
            rc = rs.wait_exit(60)
            print("wrong password: exit status %d after %.1f s" %
                  (rc, time.time() - start))
            check(rc == 1, "wrong password: exit status %d" % rc)
            check(len(errors(rs)) == 1 and
                  "kafka authentication failed" in errors(rs)[0], rs.log())
            secret_free(rs)
            cfg = subprocess.run([harness.BIN, "--print-config",
                                  "--env-file", "/dev/null"],
                                 capture_output=True, text=True, timeout=30,
                                 env=dict(os.environ,
                                          **original("SASL_SSL", password)))
            check(password not in cfg.stdout + cfg.stderr,
                  "--print-config printed the password")
    finally:
        dest.close()


# ---- routesim-tracker: the live map on a real broker ----

def positions_written(broker, partitions=6):
    """How many positions the position topic holds: the sum of its
    partitions' end offsets (kcat -Q, which reads no message; a consumer
    with -e would not stop while routesim keeps writing)."""
    args = ["kcat", "-Q", "-b", broker.bootstrap]
    for p in range(partitions):
        args += ["-t", "%s:%d:-1" % (POSITIONS, p)]
    out = subprocess.run(args, stdout=subprocess.PIPE, check=True,
                         timeout=60).stdout.decode()
    return sum(int(line.split()[-1]) for line in out.splitlines()
               if " offset " in line)


def journey(ws, cid, timeout):
    """Reads ws until cid's vehicle is finished; returns its states in
    the order the frames brought them."""
    got = frames(ws, lambda f: vehicles(f).get(cid, [0] * 7)[6] is True,
                 timeout)
    return [vehicles(f)[cid] for f in got if cid in vehicles(f)]


def judge_journey(states, cid, route_id, pts, first_at_most, name):
    """cid drives route_id from a point <= first_at_most to its end:
    point k of n strictly increasing, each state at route point k, only
    the last one finished."""
    n = len(pts)
    ks = [v[4] for v in states]
    check(ks and ks[0] <= first_at_most, "%s: first seen at point %s, "
          "want at most %d" % (name, ks[:1], first_at_most))
    check(ks == sorted(set(ks)), "%s: points not increasing: %s" %
          (name, ks))
    for v in states:
        check(v[0] == cid and v[1] == route_id and v[5] == n,
              "%s: %r, want %s on route %s of %d points" %
              (name, v, cid, route_id, n))
        check(tuple(v[2:4]) == pts[v[4] - 1], "%s: %r is not at route "
              "point %d %r" % (name, v, v[4], pts[v[4] - 1]))
        check(v[6] is (v[4] == n), "%s: finished=%r at point %d of %d" %
              (name, v[6], v[4], n))


def test_tracker_live():
    """routesim and two trackers on one broker: a delivery started with
    POST /api/deliveries on tracker A moves on both trackers' WebSockets
    (no consumer group: each reads every partition), point k of n
    increasing, to finished at n of n.  The request topic holds exactly
    the course's request; the only consumer group is routesim's."""
    routes = os.path.join(harness.SOURCE, "destinations")
    pts = route_points(os.path.join(routes, "1.txt"))
    n = len(pts)
    with kafka_broker.KafkaBroker(VERSION) as broker:
        readme_topics(broker)
        rs = Routesim(broker, routes, "--interval", "200")
        rs.wait_log("assigned partitions=" + READ, timeout=60)
        trackers = [Tracker(broker, routes), Tracker(broker, routes)]
        for t in trackers:
            t.wait_log("following topics %s:3 %s:6" % (READ, POSITIONS))
            # It checks the two topics it reads, no progress topic.
            check(t.count("topic check passed request=%s:3 position=%s:6 "
                          "metadata_requests=" % (READ, POSITIONS)) == 1,
                  "tracker's topic check:\n" + t.log())
        sockets = [t.ws() for t in trackers]
        for ws in sockets:
            first = json.loads(ws.recv())
            check(first["type"] == "snapshot" and first["vehicles"] == [],
                  "empty snapshot first: %r" % first)
        status, body = trackers[0].post(
            "/api/deliveries", b'{"routeId":"1"}',
            {"Content-Type": "application/json"})
        check(status == 202, "POST: %d %s" % (status, body))
        cid = json.loads(body)["clientId"]
        check(cid.startswith("web-"), "clientId %r" % cid)
        seen, failures = {}, []

        def watch(i):
            try:
                seen[i] = journey(sockets[i], cid, n * 0.2 + 60)
            except Exception as e:  # reported by the main thread
                failures.append("tracker %s: %s" % ("AB"[i], e))
        readers = [threading.Thread(target=watch, args=(i,))
                   for i in range(2)]
        for r in readers:
            r.start()
        for r in readers:
            r.join()
        check(not failures, "; ".join(failures))
        for i, name in enumerate(("tracker A", "tracker B")):
            # Connected before the request: seen from (about) the start.
            judge_journey(seen[i], cid, "1", pts, 5, name)
            # A point every 200 ms, a frame at most every 100 ms: the
            # browser sees it move, not only start and end.
            check(len(seen[i]) >= 10, "%s: %d states of %d points" %
                  (name, len(seen[i]), n))
            # Every position, also those of partitions another member
            # of a group would have been given.
            check(trackers[i].metric("routesim_tracker_positions_total")
                  == n, "%s: positions read" % name)
        # Before any console consumer, which would join a group.
        groups = broker.consumer_groups()
        print("consumer groups: %s" % groups)
        check(groups == ["simulator"], "consumer groups %s, want only "
              "routesim's (none of simulator.tracker)" % groups)
        requests = broker.consume(READ, 2, timeout_ms=5000)
        want = '{"clientId":"%s","routeId":"1"}' % cid
        check(requests == [want], "request topic %r, want [%r]" %
              (requests, want))
        wait_finished(rs, 1, 10)
        for ws in sockets:
            ws.close()
        for t in trackers:
            check(t.stop() == 0, "tracker exit status\n" + t.log()[-3000:])
            check(errors(t) == [], t.log())
        stop_clean(rs)


def test_tracker_history():
    """A tracker started half way through a delivery shows it at once,
    from --history alone: routesim is paused (SIGSTOP) while the tracker
    starts, so nothing new is written, and the tracker reads only the
    newest 10 messages of each partition, not the delivery's first
    positions.  It shows the delivery at its current point, on its
    route, and, routesim resumed, follows it to the end."""
    routes = os.path.join(harness.SOURCE, "destinations")
    pts = route_points(os.path.join(routes, "1.txt"))
    n, history = len(pts), 10
    with kafka_broker.KafkaBroker(VERSION) as broker:
        readme_topics(broker)
        rs = Routesim(broker, routes, "--interval", "200")
        rs.wait_log("assigned partitions=" + READ, timeout=60)
        broker.produce(['h1\t{"clientId":"h1","routeId":"1"}'],
                       key_separator="\t")
        deadline = time.time() + 60
        while positions_written(broker) < n // 2:
            check(time.time() < deadline, "the delivery does not move")
            time.sleep(0.1)
        rs.proc.send_signal(signal.SIGSTOP)
        try:
            # What was on its way lands: the count holds still for 1 s.
            half, now = -1, positions_written(broker)
            while now != half:
                time.sleep(1)
                half, now = now, positions_written(broker)
            check(history < half < n, "%d of %d positions" % (half, n))
            t = Tracker(broker, routes, "--history", str(history))
            t.wait_log("history=%d" % history)
            ws = t.ws()
            got = frames(ws, lambda f: "h1" in vehicles(f), 10)
            first = vehicles(got[-1])["h1"]
            print("after %d positions, the new tracker shows %r" %
                  (half, first))
            check(first[1] == "1" and first[4:6] == [half, n] and
                  tuple(first[2:4]) == pts[half - 1] and
                  first[6] is False, "h1 shown as %r, want it on route 1 "
                  "at point %d of %d %r" % (first, half, n, pts[half - 1]))
            check(t.metric("routesim_tracker_positions_total") == history,
                  "positions read from the history, want %d" % history)
        finally:
            rs.proc.send_signal(signal.SIGCONT)
        states = journey(ws, "h1", n * 0.2 + 30)
        judge_journey([first] + states, "h1", "1", pts, half, "new tracker")
        check(t.metric("routesim_tracker_positions_total") ==
              history + n - half, "positions read: %d from the history, "
              "then the %d others" % (history, n - half))
        ws.close()
        check(t.stop() == 0, "tracker exit status\n" + t.log()[-3000:])
        check(errors(t) == [], t.log())
        wait_finished(rs, 1, 10)
        stop_clean(rs)


TESTS = {name[5:]: fn for name, fn in globals().items()
         if name.startswith("test_")}

if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    VERSION = sys.argv.pop(1)
    try:
        kafka_broker.fetch(VERSION)
    except kafka_broker.Unavailable as e:
        print("skip: %s" % e)
        sys.exit(kafka_broker.SKIP)
    harness.run(TESTS)
