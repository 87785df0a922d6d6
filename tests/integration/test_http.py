#!/usr/bin/python3
"""Integration tests of /metrics, /healthz, /readyz, --healthcheck and logs.

usage: test_http.py [TEST...]   (run through ctest)
"""
import json
import os
import re
import socket
import subprocess
import time

import harness
from harness import check, Cluster, Destinations, Positions, Routesim
from harness import free_port, get

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[a-zA-Z_][a-zA-Z0-9_]*="'
                    r'[^"\\]*"(,[a-zA-Z_][a-zA-Z0-9_]*="[^"\\]*")*\})? '
                    r'(-?[0-9.e+-]+|\+Inf|NaN)$')


def parse_metrics(text):
    """Checks the exposition format; returns {sample name+labels: value}."""
    families, samples, typed = {}, {}, None
    for line in text.splitlines():
        if line.startswith("# HELP "):
            families[line.split()[2]] = {"help": True}
        elif line.startswith("# TYPE "):
            _, _, name, kind = line.split()
            check(name in families, "TYPE before HELP for " + name)
            check(kind in ("counter", "gauge", "histogram"), kind)
            families[name]["type"] = kind
            typed = name
        else:
            m = SAMPLE.match(line)
            check(m, "malformed sample line: %r" % line)
            name = m.group(1)
            base = re.sub("_(bucket|sum|count)$", "", name) \
                if typed and families[typed]["type"] == "histogram" else name
            check(base == typed, "%s without its HELP/TYPE" % name)
            if families[typed]["type"] == "counter":
                check(name.endswith("_total"), name + " lacks _total")
            check(name.startswith("routesim_"), name)
            samples[name + (m.group(2) or "")] = float(m.group(4))
    return samples


class System:
    """Cluster + routesim with an HTTP listener."""

    def __init__(self, *args):
        self.cluster = Cluster()
        self.dest = Destinations()
        self.port = free_port()
        self.rs = Routesim(self.cluster, self.dest.path, "--http-listen",
                           "127.0.0.1:%d" % self.port, *args)

    def wait_ready(self, want=200, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                status, body = get(self.port, "/readyz")
                if status == want:
                    return body
            except OSError:
                pass
            time.sleep(0.1)
        raise harness.Failure("/readyz never answered %d" % want)

    def close(self):
        rc = self.rs.stop()
        self.cluster.close()
        self.dest.close()
        return rc


def test_metrics():
    s = System("--interval", "10")
    try:
        s.wait_ready()
        before = parse_metrics(get(s.port, "/metrics")[1])
        check(before["routesim_ready"] == 1, "ready gauge")
        check(before["routesim_deliveries_started_total"] == 0, "started")
        s.dest.line_route("m", 7)
        pos = Positions(s.cluster)
        harness.send_requests(s.cluster, [{"clientId": "a", "routeId": "m"},
                                          b"garbage", b'{"routeId":"m"}'])
        pos.wait_finished(2)
        pos.close()
        deadline = time.time() + 10
        while time.time() < deadline:
            after = parse_metrics(get(s.port, "/metrics")[1])
            if after["routesim_deliveries_finished_total"] == 2:
                break
            time.sleep(0.1)
        for name, want in (("routesim_requests_received_total", 3),
                           ("routesim_deliveries_started_total", 2),
                           ("routesim_deliveries_finished_total", 2),
                           ("routesim_deliveries_active", 0),
                           ("routesim_positions_produced_total", 14),
                           ("routesim_positions_delivered_total", 14),
                           ('routesim_requests_rejected_total'
                            '{reason="bad_json"}', 1),
                           ('routesim_requests_defaulted_total'
                            '{field="clientId"}', 1),
                           ("routesim_tick_lateness_seconds_count", 14),
                           ('routesim_tick_lateness_seconds_bucket'
                            '{le="+Inf"}', 14)):
            check(after.get(name) == want, "%s = %s, want %s" %
                  (name, after.get(name), want))
        info = [k for k in after if k.startswith("routesim_build_info{")]
        check(info and 'version="' in info[0], "build info")
        check(not any(re.search(r"[{,](clientId|client|routeId|route)=", k)
                      for k in after), "no per-route or per-client labels")
        status, body = get(s.port, "/metrics")
        check(status == 200, "status")
        m = parse_metrics(body)
        check(m['routesim_http_responses_total{code="2xx"}'] > 2,
              "2xx responses counted")
        get(s.port, "/nope")
        m = parse_metrics(get(s.port, "/metrics")[1])
        check(m['routesim_http_responses_total{code="4xx"}'] == 1,
              "4xx responses counted")
        check(s.close() == 0, "exit status")
    finally:
        s.close()


def test_max_deliveries():
    """At --max-deliveries, requests wait in Kafka: none starts before a
    running delivery ends, none is dropped, the time is counted."""
    s = System("--interval", "10", "--max-deliveries", "5")
    try:
        s.wait_ready()
        s.dest.line_route("r", 300)  # 3 s a delivery
        pos = Positions(s.cluster)
        first = ["a%d" % i for i in range(5)]
        later = ["b%d" % i for i in range(20)]
        harness.send_requests(s.cluster, [{"clientId": c, "routeId": "r"}
                                          for c in first])
        s.rs.wait_log("at --max-deliveries=5: requests wait in Kafka")
        m = parse_metrics(get(s.port, "/metrics")[1])
        check(m["routesim_deliveries_capped"] == 1 and
              m["routesim_deliveries_max"] == 5, "capped gauges")
        harness.send_requests(s.cluster, [{"clientId": c, "routeId": "r"}
                                          for c in later])
        pos.wait_finished(len(first) + len(later), timeout=120)
        pos.close()
        starts, ends = {}, {}
        for msg in pos.messages:
            v = json.loads(msg.value)
            starts.setdefault(v["clientId"], msg.timestamp)
            starts[v["clientId"]] = min(starts[v["clientId"]], msg.timestamp)
            if v["finished"]:
                ends[v["clientId"]] = msg.timestamp
        check(sorted(ends) == sorted(first + later), "every delivery ends")
        first_end = min(ends[c] for c in first)
        early = [c for c in later if starts[c] < first_end]
        check(not early, "started while 5 ran: %s" % early)
        check(len(pos.messages) == 300 * 25, "%d positions" %
              len(pos.messages))
        s.rs.wait_log("below --max-deliveries=5: reading requests again")
        m = parse_metrics(get(s.port, "/metrics")[1])
        check(m["routesim_deliveries_capped_seconds_total"] > 0,
              "time at the cap counted")
        check(s.close() == 0, "exit status")
    finally:
        s.close()


def test_listen_names():
    """--http-listen takes a host name; one that does not resolve is a
    usage error (exit 2) naming the setting."""
    cluster, dest = Cluster(), Destinations()
    port = free_port()
    try:
        rs = Routesim(cluster, dest.path, "--http-listen",
                      "localhost:%d" % port)
        deadline = time.time() + 20
        status = None
        while time.time() < deadline and status != 200:
            try:
                status = get(port, "/healthz")[0]
            except OSError:
                time.sleep(0.1)
        check(status == 200, "/healthz on 127.0.0.1 for localhost")
        check(rs.stop() == 0, "exit status")
        bad = subprocess.run([harness.BIN, "--env-file", "/dev/null",
                              "--check", "--http-listen",
                              "no-such-host.invalid:8080"],
                             capture_output=True, text=True, timeout=30)
        check(bad.returncode == 2, "exit %d" % bad.returncode)
        check("--http-listen no-such-host.invalid:8080: cannot resolve"
              in bad.stderr, bad.stderr)
    finally:
        cluster.close()
        dest.close()


def test_dashboard():
    """The Grafana dashboard queries only metrics routesim exports."""
    path = os.path.join(harness.SOURCE, "deploy", "monitoring", "grafana",
                        "dashboards", "routesim.json")
    exprs = [t["expr"] for p in json.load(open(path))["panels"]
             for t in p["targets"]]
    used = {re.sub("_(bucket|sum|count)$", "", m) for m in
            re.findall(r"routesim_[a-z_]+", " ".join(exprs))}
    s = System()
    try:
        s.wait_ready()
        text = get(s.port, "/metrics")[1]
        parse_metrics(text)
        exported = set(re.findall(r"^# HELP (\S+)", text, re.M))
    finally:
        s.close()
    check(used and used <= exported, "dashboard uses unknown metrics %s" %
          (used - exported))


def test_health_outage():
    """/readyz follows a broker outage; /healthz stays up."""
    s = System()
    try:
        s.wait_ready()
        check(get(s.port, "/healthz") == (200, "ok\n"), "healthz")
        hc = subprocess.run([harness.BIN, "--healthcheck", "--http-listen",
                             "0.0.0.0:%d" % s.port, "--env-file",
                             "/dev/null"], timeout=10)
        check(hc.returncode == 0, "--healthcheck against a live daemon")
        s.cluster.command("down 1")
        body = s.wait_ready(503)
        check("no broker reachable" in body, body)
        check(get(s.port, "/healthz")[0] == 200, "healthz during outage")
        s.cluster.command("up 1")
        s.wait_ready(200, timeout=30)
    finally:
        s.close()
    hc = subprocess.run([harness.BIN, "--healthcheck", "--http-listen",
                         "127.0.0.1:%d" % s.port, "--env-file", "/dev/null"],
                        timeout=10, capture_output=True, text=True)
    check(hc.returncode == 1, "--healthcheck with nothing listening")


def raw(port, data, read=True):
    with socket.create_connection(("127.0.0.1", port), timeout=10) as c:
        c.sendall(data)
        return c.recv(200).decode(errors="replace") if read else ""


def raw_all(port, data):
    """Sends data, returns everything until the server closes."""
    out = b""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as c:
        c.sendall(data)
        while True:
            chunk = c.recv(4096)
            if not chunk:
                return out.decode(errors="replace")
            out += chunk


def test_http_abuse():
    """Bad clients get 4xx or are cut off; the daemon keeps serving.
    libwebsockets answers malformed request lines itself (403), and drops
    a request whose headers exceed 4 KiB without an answer."""
    s = System()
    try:
        s.wait_ready()
        cases = [(b"GARBAGE\r\n\r\n", "403"),
                 (b"GET noslash HTTP/1.1\r\n\r\n", "403"),
                 (b"POST /metrics HTTP/1.1\r\nContent-Length: 2\r\n\r\nab",
                  "405"),
                 (b"PUT /metrics HTTP/1.1\r\n\r\n", "405"),
                 (b"GET /nope HTTP/1.1\r\n\r\n", "404"),
                 (b"HEAD /healthz HTTP/1.0\r\n\r\n", "200")]
        for data, want in cases:
            got = raw(s.port, data)
            check(re.match(r"HTTP/1\.[01] %s " % want, got), "%r -> %r" %
                  (data[:30], got[:40]))
        got = raw_all(s.port, b"POST /metrics HTTP/1.1\r\n\r\n")
        check("\r\nallow: GET, HEAD\r\n" in got, got)
        got = raw(s.port, b"GET /healthz HTTP/1.1\r\nX: " + b"a" * 5000 +
                  b"\r\n\r\n")
        check(got == "", "oversized headers: dropped, got %r" % got[:40])
        # HEAD: the headers of GET, no body; the connection stays usable.
        with socket.create_connection(("127.0.0.1", s.port), timeout=10) as c:
            c.sendall(b"HEAD /healthz HTTP/1.1\r\n\r\n"
                      b"GET /healthz HTTP/1.1\r\n\r\n")
            got = b""
            while got.count(b"HTTP/1.1 200") < 2 or not got.endswith(b"ok\n"):
                chunk = c.recv(4096)
                check(chunk, "closed early: %r" % got)
                got += chunk
            head, get_ = got.split(b"\r\n\r\n", 1)
            check(b"content-length: 3" in head.lower(), head)
            check(get_.startswith(b"HTTP/1.1 200"), "HEAD sent a body: %r"
                  % got)
        # 100 idle clients: the cap evicts the oldest, probes get through.
        idle = [socket.create_connection(("127.0.0.1", s.port))
                for _ in range(100)]
        check(get(s.port, "/healthz")[0] == 200, "healthz behind idlers")
        # A silent client is disconnected after the 5 s timeout.
        c = idle[-1]
        c.settimeout(8)
        start = time.time()
        check(c.recv(10) == b"", "idle connection closed")
        check(time.time() - start < 7, "timeout took too long")
        for c in idle:
            c.close()
        check(get(s.port, "/readyz")[0] == 200, "still serving")
        check(s.rs.proc.poll() is None, "daemon alive")
    finally:
        check(s.close() == 0, "exit status")


def test_log_formats():
    """Every log line parses, in text and in JSON."""
    for fmt in ("text", "json"):
        cluster = Cluster()
        dest = Destinations()
        dest.line_route("r", 2)
        rs = Routesim(cluster, dest.path, "--log-format", fmt,
                      "-X", "sasl.password=hunter2", "--interval", "10")
        try:
            rs.wait_log("assigned partitions")
            harness.send_requests(cluster, [b"bad", {"clientId": "x",
                                                     "routeId": "r"}])
            rs.wait_log("delivery finished")
        finally:
            rc = rs.stop()
            cluster.close()
            dest.close()
        check(rc == 0, "exit status")
        check(len(rs.lines) > 5, "some log lines")
        for line in rs.lines:
            check("hunter2" not in line, "a secret was logged")
            if fmt == "json":
                obj = json.loads(line)
                check(set(obj) == {"time", "level", "msg"}, line)
                check(obj["level"] in ("error", "warn", "info", "debug"),
                      line)
            else:
                check(re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z "
                               r"(error|warn|info|debug) \S", line), line)
        check(any("reason=bad_json" in line for line in rs.lines),
              "key=value fields")


TESTS = {name[5:]: fn for name, fn in globals().items()
         if name.startswith("test_")}

if __name__ == "__main__":
    harness.run(TESTS)
