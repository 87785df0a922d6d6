#!/usr/bin/python3
"""Integration tests: the routesim binary against a Kafka-protocol broker.

usage: test_daemon.py [TEST...]   (run through ctest; see CMakeLists.txt)
"""
import contextlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import time

import harness
from kafka import KafkaConsumer, TopicPartition
from harness import check, Cluster, Destinations, Positions, Routesim


@contextlib.contextmanager
def system(*args, routes=None, env=None):
    """A cluster, a route folder, routesim and a position consumer."""
    cluster = Cluster()
    dest = Destinations()
    for route_id, text in (routes or {}).items():
        dest.write(route_id, text)
    rs = Routesim(cluster, dest.path, *args, env=env)
    pos = Positions(cluster)
    try:
        rs.wait_log("assigned partitions=route.new-direction")
        yield cluster, dest, rs, pos
        # A clean exit also means no sanitizer report in ASan builds.
        rc = rs.stop()
        check(rc == 0, "exit status %d:\n%s" % (rc, rs.log()[-3000:]))
    finally:
        pos.close()
        rs.stop()
        cluster.close()
        dest.close()


def expected(route_id, client_id, points, order="lnglat"):
    """The original's bytes; lnglat is routesim's default, as the
    original's."""
    out = []
    for i, (lat, lng) in enumerate(points):
        a, b = (lat, lng) if order == "latlng" else (lng, lat)
        out.append(('{"routeId":"%s","clientId":"%s","position":[%r,%r],'
                    '"finished":%s}' % (route_id, client_id, a, b,
                                        "true" if i == len(points) - 1
                                        else "false")).encode())
    return out


def test_one_delivery():
    # A producer-only and a consumer-only property: each reaches only the
    # client that knows it, so librdkafka warns about neither.
    with system("--interval", "20", "-X", "linger.ms=1", "-X",
                "fetch.wait.max.ms=50") as (cluster, dest, rs, pos):
        pts = dest.line_route("five", 5)
        harness.send_requests(cluster, [{"clientId": "c1",
                                         "routeId": "five"}])
        pos.wait_finished(1)
        time.sleep(0.3)  # nothing may follow the finished position
        pos.poll()
        msgs = sorted(pos.messages, key=lambda m: m.offset)
        check(len(msgs) == 5, "want 5 positions, got %d" % len(msgs))
        check(len({m.partition for m in msgs}) == 1,
              "a delivery must stay on one partition")
        check([m.value for m in msgs] == expected("five", "c1", pts),
              "bytes differ: %r" % [m.value for m in msgs])
        check(all(m.key == b"c1" for m in msgs), "key must be clientId")
        rs.wait_log("delivery finished route=five client=c1 positions=5")
        check(rs.count("CONFWARN") == 0, "config warnings:\n" + rs.log())


def test_tombstones():
    """Once the group commits past finished requests, each one's progress
    record gets a tombstone - more than one slice's worth at a time."""
    n = 300
    with system("--interval", "5", "-X", "auto.commit.interval.ms=100",
                "-X", "linger.ms=1") as (cluster, dest, rs, pos):
        dest.line_route("two", 2)
        # One key: all of them in one partition.
        harness.send_requests(cluster, [{"clientId": "t%d" % i,
                                         "routeId": "two"}
                                        for i in range(n)])
        pos.wait_finished(n)
        consumer = KafkaConsumer(bootstrap_servers=cluster.bootstrap,
                                 enable_auto_commit=False,
                                 consumer_timeout_ms=200)
        parts = [TopicPartition(harness.PROGRESS_TOPIC, p)
                 for p in range(harness.REQUEST_PARTITIONS)]
        consumer.assign(parts)
        consumer.seek_to_beginning(*parts)
        last = {}
        deadline = time.time() + 30
        try:
            while time.time() < deadline:
                for m in consumer:
                    last[m.key] = m.value
                if len(last) == n and all(v is None for v in last.values()):
                    break
        finally:
            consumer.close()
        done = sum(v is None for v in last.values())
        check(len(last) == n and done == n,
              "%d requests with records, %d tombstoned; want %d" %
              (len(last), done, n))


def test_restore_backlog():
    """Requests already waiting when routesim starts are read while it
    restores: all are delivered, once, past the point where the partition
    is paused (1,000 waiting)."""
    n = 1500
    cluster = Cluster()
    dest = Destinations()
    dest.line_route("one", 1)
    # One key: all of them in one partition.
    harness.send_requests(cluster, [{"clientId": "w%d" % i,
                                     "routeId": "one"} for i in range(n)])
    rs = Routesim(cluster, dest.path, "--interval", "5")
    pos = Positions(cluster)
    try:
        pos.wait_finished(n, timeout=90)
        clients = pos.by_client()
        check(len(clients) == n and all(len(m) == 1
                                        for m in clients.values()),
              "%d clients, some more than once" % len(clients))
        # The partition was paused at 1,000 waiting, once, and resumed
        # (every request was delivered) once its restore was done.
        paused = [line for line in rs.lines
                  if "paused while restoring" in line]
        check(len(paused) == 1 and
              "paused while restoring: 1000 requests waiting" in paused[0],
              "the partition was not paused at 1,000 waiting:\n" +
              "\n".join(rs.lines[:60]))
        part = paused[0].split("partition=")[1].split()[0]
        check(rs.count("restored partition=%s resumed=0 finished=0 "
                       "queued=yes" % part) == 1,
              "restore of partition %s:\n%s" % (part, rs.log()[:5000]))
        check(rs.stop() == 0, "exit status")
    finally:
        pos.close()
        rs.stop()
        cluster.close()
        dest.close()


def test_shipped_routes():
    """Routes 1-3 of destinations/ at once, with latlng order."""
    cluster = Cluster()
    rs = Routesim(cluster, os.path.join(harness.SOURCE, "destinations"),
                  "--interval", "5", "--position-order", "latlng")
    pos = Positions(cluster)
    try:
        rs.wait_log("assigned partitions")
        harness.send_requests(cluster, [{"clientId": "c%d" % i,
                                         "routeId": str(i)}
                                        for i in (1, 2, 3)])
        pos.wait_finished(3)
        clients = pos.by_client()
        for i in (1, 2, 3):
            with open(os.path.join(harness.SOURCE, "destinations",
                                   "%d.txt" % i)) as f:
                pts = [tuple(float(x) for x in line.split(","))
                       for line in f.read().split("\n") if line.strip()]
            got = [m.value for m in clients["c%d" % i]]
            check(got == expected(str(i), "c%d" % i, pts, "latlng"),
                  "route %d differs" % i)
    finally:
        pos.close()
        check(rs.stop() == 0, "exit status")
        cluster.close()


def test_many_deliveries():
    """1,000 concurrent deliveries all complete, each in order."""
    n, length = 1000, 10
    with system("--interval", "50") as (cluster, dest, rs, pos):
        pts = dest.line_route("short", length)
        harness.send_requests(cluster, [{"clientId": "c%d" % i,
                                         "routeId": "short"}
                                        for i in range(n)])
        pos.wait_finished(n, timeout=120)
        clients = pos.by_client()
        check(len(clients) == n, "%d clients seen" % len(clients))
        for cid, msgs in clients.items():
            check(len(msgs) == length, "%s: %d positions" % (cid, len(msgs)))
            check([m.value for m in msgs] == expected("short", cid, pts),
                  "%s out of order" % cid)
        check(len(pos.messages) == n * length, "duplicates or losses")


def test_original_routes():
    """The course's own route files, default settings but the interval:
    the original's exact bytes ([longitude, latitude])."""
    ref = os.path.join(os.environ.get("RS_REFERENCE_DIR", ""),
                       "destinations")
    if not os.path.isfile(os.path.join(ref, "1.txt")):
        raise harness.Skip("the original's route files are not in %r "
                           "(set -DROUTESIM_REFERENCE_DIR)" % ref)
    # First and last message of each route, as the original sends them.
    want = {"1": (219, "[-47.92923,-15.82594]", "[-47.92765,-15.82942]"),
            "2": (40, "[-47.92756,-15.82449]", "[-47.92621,-15.8276]"),
            "3": (265, "[-47.92588,-15.82331]", "[-47.92532,-15.82758]")}
    cluster = Cluster()
    rs = Routesim(cluster, ref, "--interval", "5")
    pos = Positions(cluster)
    try:
        rs.wait_log("assigned partitions")
        harness.send_requests(cluster, [{"clientId": "1", "routeId": r}
                                        for r in want])
        pos.wait_finished(3)
        by_route = {}
        for m in sorted(pos.messages, key=lambda m: (m.partition, m.offset)):
            by_route.setdefault(json.loads(m.value)["routeId"], []).append(
                m.value.decode())
        for route, (n, first, last) in want.items():
            got = by_route.get(route, [])
            head = '{"routeId":"%s","clientId":"1","position":' % route
            check(len(got) == n, "route %s: %d positions, want %d"
                  % (route, len(got), n))
            check(got[0] == head + first + ',"finished":false}',
                  "route %s first: %s" % (route, got[0]))
            check(got[-1] == head + last + ',"finished":true}',
                  "route %s last: %s" % (route, got[-1]))
    finally:
        pos.close()
        check(rs.stop() == 0, "exit status")
        cluster.close()


def test_drift_free():
    """Position k is due at t0 + k * interval: lateness never adds up."""
    interval, n = 20, 100
    with system("--interval", str(interval)) as (cluster, dest, rs, pos):
        dest.line_route("long", n)
        harness.send_requests(cluster, [{"clientId": "t", "routeId": "long"}])
        pos.wait_finished(1)
        ts = [m.timestamp for m in sorted(pos.messages,
                                          key=lambda m: m.offset)]
        check(len(ts) == n, "%d positions" % len(ts))
        late = [ts[k] - ts[0] - k * interval for k in range(n)]
        gaps = sorted(b - a for a, b in zip(ts, ts[1:]))
        print("lateness ms: max %d, last %d; gaps ms: p50 %d, max %d" %
              (max(late), late[-1], gaps[len(gaps) // 2], gaps[-1]))
        check(min(late) >= -2, "position early by %d ms" % -min(late))
        check(max(late) <= 30, "position late by %d ms" % max(late))
        check(abs(gaps[len(gaps) // 2] - interval) <= 2, "median gap")


def test_bad_requests():
    """Every kind of bad request is logged, counted, skipped; what the
    original serves despite its shape is served."""
    routes = {"good": "1,2\n3,4\n5,6", "empty": "", "broken": "1,2\n3;4\n"}
    with system("--interval", "10", routes=routes) as (cluster, dest, rs,
                                                        pos):
        with open(os.path.join(dest.path, "..", "secret.txt"), "w") as f:
            f.write("9,9\n")
        os.mkfifo(os.path.join(dest.path, "fifo.txt"))
        good = {"clientId": "g", "routeId": "good"}
        bad = [b"not json", b'{"clientId":"1"', b'["a"]',
               b'{"clientId":"1"}', b'{"clientId":"1","routeId":7}',
               b'{"clientId":"1","routeId":"good","ROUTEID":"../x"}',
               b'{"clientId":"1","routeId":"../secret"}',
               b'{"clientId":"1","routeId":"/etc/passwd"}',
               b'{"clientId":"1","routeId":"nope"}',
               b'{"clientId":"1","routeId":"empty"}',
               b'{"clientId":"1","routeId":"broken"}',
               b'{"clientId":"1","routeId":"fifo"}',
               b'{"clientId":"' + b"x" * 5000 + b'","routeId":"good"}',
               b'{"clientId":"' + b"y" * 200000 + b'","routeId":"good"}',
               b""]
        # Served as the original serves them (Go's encoding/json): no
        # string clientId means "", names in any case, the last one wins.
        lenient = {b'{"routeId":"good"}': "",
                   b'{"clientId":1,"routeId":"good"}': "",
                   b'{"ClientId":"G","RouteId":"good"}': "G",
                   b'{"clientId":"a","routeId":"nope","routeid":"good"}':
                   "a"}
        # A clientId made to forge log fields and drive a terminal is
        # served, and logged quoted and escaped.
        evil = 'g0 route=999 level=error \x1b[31m"x"'
        names = [evil] + ["g%d" % i for i in range(1, len(bad))]
        stream = []
        for i, b in enumerate(bad):
            stream.append(b)
            stream.append(dict(good, clientId=names[i]))
        stream.extend(lenient)
        harness.send_requests(cluster, stream)
        pos.wait_finished(len(bad) + len(lenient))
        time.sleep(0.5)
        pos.poll()
        clients = pos.by_client()
        want = names + ["", "G", "a"]
        check(sorted(clients) == sorted(want),
              "unexpected clients: %s" % sorted(clients))
        check(len(clients[""]) == 6, "clientId \"\": %d positions"
              % len(clients[""]))
        check(len(pos.messages) == 3 * (len(bad) + len(lenient)),
              "positions of bad requests")
        check(rs.count("request without a string clientId") == 2,
              "defaulted clientIds logged")
        check("\x1b" not in rs.log(), "raw ESC in the log")
        check(rs.count('client="g0 route=999 level=error \\x1b[31m'
                       '\\"x\\"" positions=3') == 1,
              "clientId not quoted and escaped:\n" + rs.log())
        check(rs.count("route=999") == 1, "forged field")
        for reason, count in (("bad_json", 4), ("bad_field", 2),
                              ("bad_route_id", 3), ("unknown_route", 1),
                              ("bad_route_file", 3), ("too_large", 2)):
            got = rs.count("request rejected reason=%s " % reason)
            check(got == count, "%s: %d rejections logged, want %d\n%s" %
                  (reason, got, count, rs.log()))
        check(rs.count("broken.txt:2: expected") == 1, "file:line in log")
        check(rs.count("fifo.txt: not a regular file") == 1, "FIFO in log")
        check(rs.proc.poll() is None, "daemon died")


def test_sigterm():
    """SIGTERM mid-delivery: positions queued so far are delivered, exit 0."""
    with system("--interval", "50") as (cluster, dest, rs, pos):
        dest.line_route("long", 200)
        harness.send_requests(cluster, [{"clientId": "s", "routeId": "long"}])
        pos.wait_count(5)
        rc = rs.stop()  # one SIGTERM; a second one means "exit now"
        check(rc == 0, "exit status %d\n%s" % (rc, rs.log()))
        check(rs.count("stopping active=1") == 1, "stop logged")
        check(rs.count("stopped started=1 resumed=0 finished=0 failed=0 "
                       "stopped=1") ==
              1, "summary:\n" + rs.log())
        time.sleep(0.3)
        pos.poll()
        produced = [line for line in rs.lines if "stopped started" in line]
        n = int(produced[0].split("positions=")[1].split()[0])
        check(len(pos.messages) == n, "%d produced, %d on the topic" %
              (n, len(pos.messages)))
        check(n < 200, "delivery should have been cut short")


def test_broker_late():
    """A broker unreachable at startup is retried, not fatal."""
    cluster = Cluster()
    dest = Destinations()
    try:
        cluster.command("down 1")
        pts = dest.line_route("r", 3)
        rs = Routesim(cluster, dest.path, "--interval", "10")
        time.sleep(2)
        check(rs.proc.poll() is None, "exited while the broker was down")
        cluster.command("up 1")
        rs.wait_log("assigned partitions", timeout=30)
        pos = Positions(cluster)
        harness.send_requests(cluster, [{"clientId": "l", "routeId": "r"}])
        pos.wait_finished(1)
        check([m.value for m in pos.messages] == expected("r", "l", pts),
              "positions after the broker came up")
        pos.close()
        check(rs.stop() == 0, "exit status")
    finally:
        cluster.close()
        dest.close()


def test_fatal_error():
    """A fatal librdkafka error stops routesim with status 1 and why."""
    cluster = Cluster()
    dest = Destinations()
    try:
        dest.line_route("r", 200)
        rs = Routesim(cluster, dest.path, "--interval", "20")
        rs.wait_log("assigned partitions")
        pos = Positions(cluster)
        harness.send_requests(cluster, [{"clientId": "f", "routeId": "r"}])
        pos.wait_count(3)
        pos.close()
        # OUT_OF_ORDER_SEQUENCE_NUMBER on Produce (ApiKey 0): fatal for an
        # idempotent producer.
        cluster.command("err 0 45 3")
        rc = rs.wait_exit(30)
        check(rc == 1, "exit status %d" % rc)
        check(rs.count("error kafka fatal error") == 1, rs.log())
        check(rs.count("failed=1") == 1, "delivery reported failed")
    finally:
        cluster.close()
        dest.close()


def test_progress_partitions():
    """A progress topic with fewer partitions than the request topic
    stops routesim at startup with status 1, in one line that says so,
    before it joins the group."""
    cluster = Cluster(progress_partitions=harness.REQUEST_PARTITIONS - 1)
    dest = Destinations()
    try:
        dest.line_route("r", 5)
        rs = Routesim(cluster, dest.path, "--interval", "20")
        rc = rs.wait_exit(30)
        check(rc == 1, "exit status %d:\n%s" % (rc, rs.log()))
        want = ("error topic check failed: progress topic %s has 1 "
                "partition, fewer than the %d of request topic %s; "
                "stopping" % (harness.PROGRESS_TOPIC,
                              harness.REQUEST_PARTITIONS, harness.READ_TOPIC))
        check(rs.count(want) == 1, rs.log())
        check(rs.count("assigned partitions") == 0, rs.log())
        check(rs.count("hand-off not settled") == 0, rs.log())
    finally:
        cluster.close()
        dest.close()


def test_kcat_clients():
    """kcat plays kafka-console-producer and kafka-console-consumer."""
    with system("--interval", "10") as (cluster, dest, rs, pos):
        pts = dest.line_route("k", 4)
        subprocess.run(["kcat", "-P", "-b", cluster.bootstrap, "-t",
                        harness.READ_TOPIC],
                       input=b'{"clientId":"kc","routeId":"k"}\n',
                       check=True, timeout=30)
        out = subprocess.run(["kcat", "-C", "-b", cluster.bootstrap, "-t",
                              harness.PRODUCE_TOPIC, "-o", "beginning",
                              "-c", "4", "-f", "%k %s\\n"],
                             capture_output=True, check=True, timeout=60)
        lines = out.stdout.decode().splitlines()
        want = ["kc " + m.decode() for m in expected("k", "kc", pts)]
        check(lines == want, "kcat saw %r" % lines)


def test_demo():
    """routesim --demo runs with no broker and exits 0 when done."""
    out = subprocess.run([harness.BIN, "--demo", "--once", "--interval", "5",
                          "--env-file", "/dev/null", "-d",
                          os.path.join(harness.SOURCE, "destinations"),
                          "1", "3"],
                         capture_output=True, timeout=120, text=True)
    check(out.returncode == 0, "exit %d:\n%s" % (out.returncode, out.stderr))
    lines = out.stdout.splitlines()
    check(lines[0].startswith("mock Kafka broker at 127.0.0.1:"), lines[0])
    check(sum("finished after" in line for line in lines) == 2,
          "two deliveries finish")
    check(any(re.match(r"route 1 +client demo-1 +87/87 +position "
                       r"\[-47\.92765,-15\.82942\] +finished", line)
              for line in lines), "progress of route 1:\n" + out.stdout)
    bad = subprocess.run([harness.BIN, "--demo", "--env-file", "/dev/null",
                          "-d", os.path.join(harness.SOURCE, "destinations"),
                          "nope"], capture_output=True, timeout=30, text=True)
    check(bad.returncode == 1 and "nope.txt" in bad.stderr,
          "unknown demo route: %d %s" % (bad.returncode, bad.stderr))


def test_check_mode():
    """--check validates routes and configuration; bad flags exit 2."""
    dest = Destinations()
    try:
        dest.write("ok", "1,2\n")
        dest.write("bad", "1,2,3\n")
        # Not a file: reported at once, never read (a FIFO would block).
        os.mkfifo(os.path.join(dest.path, "fifo.txt"))
        # A name that is no routeId is reported escaped.
        with open(os.path.join(dest.path, "x y\x1b[2J.txt"), "w") as f:
            f.write("1,2\n")
        out = subprocess.run([harness.BIN, "--check", "-d", dest.path,
                              "--env-file", "/dev/null"],
                             capture_output=True, text=True, timeout=30)
        check(out.returncode == 1, "bad route must fail --check")
        check("bad.txt:1: more than two fields" in out.stderr, out.stderr)
        check("fifo.txt: not a regular file" in out.stderr, out.stderr)
        check('/"x y\\x1b[2J.txt": name is not a valid routeId' in
              out.stderr and "\x1b" not in out.stderr, out.stderr)
        check("route ok: 1 points" in out.stdout, out.stdout)
        for args in (["--interval", "fast"], ["-X", "no.such=1"],
                     ["--frobnicate"]):
            r = subprocess.run([harness.BIN, "--env-file", "/dev/null"] +
                               args, capture_output=True, text=True,
                               timeout=30)
            check(r.returncode == 2, "%s: exit %d" % (args, r.returncode))
    finally:
        dest.close()


def test_secrets():
    """No output of routesim ever shows a secret property's value: not a
    malformed -X, not --print-config, --check or --help, not a run with
    every librdkafka debug context on, wherever the secret came from."""
    secret = "hunter2-Zq9"
    props = ["sasl.password", "ssl.key.password", "ssl.keystore.password"]
    dest = Destinations()
    cluster = Cluster()
    envdir = tempfile.mkdtemp(prefix="routesim-env-")
    outputs = []

    def run(args, want_rc, env=None, cwd=None):
        full_env = {k: v for k, v in os.environ.items()
                    if not k.startswith("Kafka")}
        full_env.update(env or {})
        r = subprocess.run([harness.BIN, "-d", dest.path] + args,
                           capture_output=True, text=True, timeout=30,
                           env=full_env, cwd=cwd)
        outputs.append((args, r.stdout + r.stderr))
        check(r.returncode == want_rc, "%s: exit %d, want %d\n%s" %
              (args, r.returncode, want_rc, r.stderr))
        return r

    try:
        dest.write("1", "1,2\n")
        envfile = os.path.join(envdir, "secrets.env")
        with open(envfile, "w") as f:
            f.write("".join("%s=%s\n" % (p, secret) for p in props))
        xs = sum((["-X", "%s=%s" % (p, secret)] for p in props), [])
        nofile = ["--env-file", "/dev/null"]
        # Malformed -X: ':' or a space for '=', nothing before '='.
        for arg in ("sasl.password:" + secret, "sasl.password " + secret,
                    "=" + secret, ":" + secret, "sasl.password\n" + secret):
            r = run(nofile + ["-X", arg], 2)
            check("-X" in r.stderr, r.stderr)
        run(nofile + ["--print-config"] + xs, 0)
        run(["--env-file", envfile, "--print-config"], 0)
        run(nofile + ["--print-config"], 0,
            env={p: secret for p in props})
        run(nofile + ["--check"] + xs, 0)
        run(nofile + ["--help"] + xs, 0)
        run(nofile + xs + ["--interval", "0"], 2)
        run(["--env-file", envfile, "--interval", "0"], 2)
        # A bad line after the secrets in a .env, and a bad value.
        with open(os.path.join(envdir, ".env"), "w") as f:
            f.write("sasl.password=%s\nbroken line %s\n" % (secret, secret))
        run([], 2, cwd=envdir)
        with open(os.path.join(envdir, ".env"), "w") as f:
            f.write("sasl.password=%s\nROUTESIM_INTERVAL_MS=%s\n" %
                    (secret, "x"))
        run([], 2, cwd=envdir)
        # Properties librdkafka refuses, next to the secrets.
        run(nofile + ["--check", "-X", "no.such.password=" + secret] + xs,
            2)
        run(nofile + ["--check", "-X", "linger.ms=banana"] + xs, 2)
        # A daemon run with librdkafka's configuration dump and all debug
        # contexts: the secrets are set, never used, never printed.
        rs = Routesim(cluster, dest.path, "-X", "debug=all", *xs)
        try:
            rs.wait_log("assigned partitions=route.new-direction")
            check(rs.stop() == 0, "exit status")
        finally:
            rs.stop()
        outputs.append((["daemon"], rs.log()))
        for args, out in outputs:
            check(secret not in out, "%s shows the secret:\n%s" %
                  (args, out))
    finally:
        shutil.rmtree(envdir, ignore_errors=True)
        cluster.close()
        dest.close()


TESTS = {name[5:]: fn for name, fn in globals().items()
         if name.startswith("test_")}

if __name__ == "__main__":
    harness.run(TESTS)
