"""routesim-tracker against the mock cluster: what a browser sees.

The tracker is driven only from outside: kafka-python writes requests and
positions, urllib and Debian's python3-websocket play the browser.
"""
import json
import os
import socket
import struct
import tempfile
import time
import urllib.request

import harness
from harness import (PRODUCE_TOPIC, READ_TOPIC, Cluster, Destinations,
                     Failure, Routesim, check, free_port, get)

TRACKER = os.environ.get("RS_TRACKER_BIN", "build/routesim-tracker")


def websocket_module():
    try:
        import websocket
    except ImportError:
        raise harness.Skip("python3-websocket is not installed")
    return websocket


class Browser:
    """A WebSocket to the tracker that keeps what the page shows: recv()
    gives each frame's text with its moves ([clientId, lat, lng, point])
    written out as whole vehicles, from the ones it already has (a move
    of a vehicle it lacks fails the test).  Anything else is the
    websocket's."""

    def __init__(self, ws):
        self._ws = ws
        self.shown = {}
        self.moves = 0

    def __getattr__(self, name):
        return getattr(self._ws, name)

    def recv(self):
        text = self._ws.recv()
        try:
            f = json.loads(text)
        except (TypeError, ValueError):
            return text
        if not isinstance(f, dict) or "vehicles" not in f:
            return text
        if f.get("type") == "snapshot":
            self.shown = {}
        whole = []
        for v in f["vehicles"]:
            if len(v) == 4:
                check(v[0] in self.shown, "a move of a vehicle not shown: "
                      "%r" % v)
                had = self.shown[v[0]]
                v = [v[0], had[1], v[1], v[2], v[3], had[5], had[6]]
                self.moves += 1
            self.shown[v[0]] = v
            whole.append(v)
        for gone in f.get("removed", []):
            self.shown.pop(gone, None)
        f["vehicles"] = whole
        return json.dumps(f)


class Tracker(Routesim):
    """routesim-tracker with its own port, ready when /readyz says so."""

    def __init__(self, cluster, destinations, *args, ready=True):
        self.port = free_port()
        super().__init__(cluster, destinations, "--http-listen",
                         "127.0.0.1:%d" % self.port, *args, binary=TRACKER)
        if ready:
            self.wait_ready()

    def wait_ready(self, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            check(self.proc.poll() is None,
                  "tracker exited early:\n" + self.log())
            try:
                if get(self.port, "/readyz")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise Failure("tracker not ready:\n" + self.log())

    def get(self, path):
        return get(self.port, path)

    def post(self, path, body, headers=None):
        req = urllib.request.Request("http://127.0.0.1:%d%s" %
                                     (self.port, path), data=body,
                                     headers=headers or {}, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def ws(self, path="/ws"):
        websocket = websocket_module()
        return Browser(websocket.create_connection(
            "ws://127.0.0.1:%d%s" % (self.port, path), timeout=10))

    def metric(self, name):
        status, text = self.get("/metrics")
        check(status == 200, "/metrics: %d" % status)
        for line in text.splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
        raise Failure("no metric %s in:\n%s" % (name, text))


def frames(ws, until, timeout=15):
    """Reads frames until until(frame) is true; returns them all."""
    seen = []
    deadline = time.time() + timeout
    while time.time() < deadline:
        ws.settimeout(max(0.1, deadline - time.time()))
        try:
            seen.append(json.loads(ws.recv()))
        except (socket.timeout, websocket_module().WebSocketTimeoutException):
            break
        if until(seen[-1]):
            return seen
    raise Failure("no such frame within %ds; got %s" %
                  (timeout, json.dumps(seen)[:2000]))


def wait_metric(t, name, value, timeout=10):
    deadline = time.time() + timeout
    while t.metric(name) != value:
        check(time.time() < deadline, "%s never reached %s" % (name, value))
        time.sleep(0.05)


def route_points(dest, route_id):
    with open(os.path.join(dest.path, route_id + ".txt")) as f:
        return [tuple(float(x) for x in line.split(","))
                for line in f.read().split()]


def send(cluster, topic, values):
    """Writes values, keyed by clientId as routesim keys positions (so a
    delivery's positions stay in order in one partition)."""
    p = harness.producer(cluster)
    for v in values:
        key = None
        if isinstance(v, dict):
            key = v["clientId"].encode()
            v = json.dumps(v, separators=(",", ":")).encode()
        p.send(topic, key=key, value=v)
    p.flush()
    p.close()


def position(client, lat, lng, finished=False, order="lnglat"):
    pair = [lng, lat] if order == "lnglat" else [lat, lng]
    return {"clientId": client, "position": pair, "finished": finished}


def vehicles(frame):
    return {v[0]: v for v in frame.get("vehicles", [])}


def setup(n_points=5, titles=True):
    dest = Destinations()
    dest.line_route("1", n_points)
    dest.line_route("10", 3)
    dest.line_route("2", 4)
    if titles:
        with open(os.path.join(dest.path, "1.title"), "w") as f:
            f.write("Primeiro\n")
    return Cluster(), dest


def test_routes_api():
    """/api/routes is the catalogue, /api/config the page's settings,
    / the page itself."""
    cluster, dest = setup()
    try:
        t = Tracker(cluster, dest.path, "--tiles",
                    "https://tiles.example/{z}/{x}/{y}.png",
                    "--tiles-attribution", "Example")
        status, body = t.get("/api/routes")
        check(status == 200, "status %d" % status)
        routes = json.loads(body)
        check([r["id"] for r in routes] == ["1", "2", "10"],
              "numeric order: %s" % [r["id"] for r in routes])
        one = routes[0]
        pts = route_points(dest, "1")
        check(one["title"] == "Primeiro" and routes[1]["title"] == "",
              "titles: %r %r" % (one["title"], routes[1]["title"]))
        check([tuple(p) for p in one["points"]] == pts, "points, lat first")
        check(tuple(one["start"]) == pts[0] and tuple(one["end"]) ==
              pts[-1], "start and end")
        status, body = t.get("/api/config")
        cfg = json.loads(body)
        check(cfg["tiles"] == "https://tiles.example/{z}/{x}/{y}.png" and
              cfg["attribution"] == "Example" and
              cfg["interval_ms"] == 500, "config: %r" % cfg)
        with urllib.request.urlopen("http://127.0.0.1:%d/" % t.port,
                                    timeout=5) as r:
            page = r.read()
            check(r.status == 200 and
                  r.headers["Content-Type"].startswith("text/html"),
                  "page: %d %s" % (r.status, r.headers["Content-Type"]))
        if r.headers.get("Content-Encoding") == "gzip":
            import gzip
            page = gzip.decompress(page)
        check(b"<html" in page.lower() and b"WebSocket" in page,
              "the page speaks WebSocket")
        check(t.get("/nope")[0] == 404, "unknown path")
        check(t.stop() == 0, "exit status")
    finally:
        cluster.close()
        dest.close()


def test_live_positions():
    """A browser sees a snapshot, then updates with point k of n, then
    finished; positions of a client whose request was never seen still
    show, without a route."""
    cluster, dest = setup(n_points=4)
    try:
        t = Tracker(cluster, dest.path)
        ws = t.ws()
        first = json.loads(ws.recv())
        check(first["type"] == "snapshot" and first["vehicles"] == [],
              "empty snapshot first: %r" % first)
        send(cluster, READ_TOPIC, [{"clientId": "c1", "routeId": "1"}])
        # The two topics are read independently: as in the system, the
        # request is read before the delivery's first position.
        wait_metric(t, "routesim_tracker_requests_total", 1)
        pts = route_points(dest, "1")
        send(cluster, PRODUCE_TOPIC,
             [position("c1", *p) for p in pts[:2]] +
             [position("stray", -15.0, -47.0)])
        got = frames(ws, lambda f: vehicles(f).get("c1", [0] * 7)[4] == 2)
        check(all(f["type"] in ("update", "snapshot") for f in got),
              "frame types")
        # Each update is made for the generation the browser has.
        chain = [first] + got
        check(all(b["type"] == "update" and b["since"] == a["seq"] < b["seq"]
                  for a, b in zip(chain, chain[1:])),
              "each update since the last seq: %s" %
              [(f["type"], f.get("since"), f["seq"]) for f in chain])
        c1 = vehicles(got[-1])["c1"]
        check(c1[2:6] == [pts[1][0], pts[1][1], 2, 4] and c1[6] is False,
              "c1 at point 2 of 4: %r" % c1)
        send(cluster, PRODUCE_TOPIC,
             [position("c1", *p) for p in pts[2:3]] +
             [position("c1", *pts[3], finished=True)])
        got = frames(ws, lambda f: vehicles(f).get("c1", [0] * 7)[6] is True)
        c1 = vehicles(got[-1])["c1"]
        check(c1[4:6] == [4, 4], "finished at point 4 of 4: %r" % c1)
        # A new browser gets everything in its snapshot.
        ws2 = t.ws()
        snap = json.loads(ws2.recv())
        check(snap["type"] == "snapshot", "snapshot on connect")
        v = vehicles(snap)
        check(v["c1"][6] is True and v["stray"][1] == "" and
              v["stray"][4:6] == [0, 0] and v["stray"][2:4] == [-15.0, -47.0],
              "snapshot: %r" % snap)
        ws2.send(json.dumps({"type": "snapshot"}))
        again = frames(ws2, lambda f: f["type"] == "snapshot")
        check(vehicles(again[-1]).keys() == v.keys(), "snapshot on request")
        check(t.metric("routesim_tracker_browsers") == 2, "two browsers")
        check(t.metric("routesim_tracker_positions_total") == 5,
              "positions counted")
        check(t.metric("routesim_tracker_frames_sent_total") >= 4,
              "frames counted")
        ws.close()
        ws2.close()
        check(t.stop() == 0, "exit status")
    finally:
        cluster.close()
        dest.close()


def test_history():
    """A tracker started mid-delivery shows it from the recent history,
    in the first frame a browser gets: /readyz and the first snapshot
    wait until every partition was read to its end."""
    cluster, dest = setup(n_points=5)
    try:
        pts = route_points(dest, "1")
        send(cluster, READ_TOPIC, [{"clientId": "h1", "routeId": "1"}])
        send(cluster, PRODUCE_TOPIC, [position("h1", *p) for p in pts[:3]])
        t = Tracker(cluster, dest.path, "--history", "100")
        ws = t.ws()
        first = json.loads(ws.recv())
        check(first["type"] == "snapshot", "a snapshot first")
        h1 = vehicles(first).get("h1")
        check(h1[1] == "1" and h1[2:4] == list(pts[2]) and h1[5] == 5,
              "h1 at point 3 of 5 on route 1: %r" % h1)
        ws.close()
        check(t.stop() == 0, "exit status")
    finally:
        cluster.close()
        dest.close()


def test_big_frames():
    """Frames larger than a WebSocket fragment (64 KiB) arrive whole, the
    same to every browser: 3,000 vehicles in one snapshot, then updates
    that move all of them (as moves: only their place changed)."""
    cluster, dest = setup(n_points=5)
    n = 3000
    try:
        pts = route_points(dest, "1")
        t = Tracker(cluster, dest.path, "--history", str(n))
        send(cluster, PRODUCE_TOPIC,
             [position("big%d" % i, *pts[0]) for i in range(n)])
        wait_metric(t, "routesim_tracker_positions_total", n)
        a, b = t.ws(), t.ws()
        snaps = [json.loads(a.recv()), json.loads(b.recv())]
        for s in snaps:
            check(s["type"] == "snapshot" and len(s["vehicles"]) == n,
                  "a snapshot of %d vehicles" % len(s["vehicles"]))
        check(len(json.dumps(snaps[0])) > 65536, "the snapshot is small")
        send(cluster, PRODUCE_TOPIC,
             [position("big%d" % i, *pts[1]) for i in range(n)])
        for ws, snap in ((a, snaps[0]), (b, snaps[1])):
            moved = {}

            def all_moved(f):
                moved.update({k: v for k, v in vehicles(f).items()
                              if v[2:4] == list(pts[1])})
                return len(moved) == n
            got = frames(ws, all_moved)
            chain = [snap] + got
            check(all(y["type"] == "update" and y["since"] == x["seq"]
                      for x, y in zip(chain, chain[1:])),
                  "updates since the last one")
            # Vehicles that only moved come as moves, not whole.
            check(ws.moves == n, "moves: %d of %d" % (ws.moves, n))
        a.close()
        b.close()
        check(t.stop() == 0, "exit status")
    finally:
        cluster.close()
        dest.close()


def test_vehicle_timeout():
    """A vehicle with no position for --vehicle-timeout leaves the map
    (an update lists it as removed); one that keeps moving stays."""
    cluster, dest = setup(n_points=5)
    try:
        pts = route_points(dest, "1")
        t = Tracker(cluster, dest.path, "--vehicle-timeout", "1500")
        ws = t.ws()
        json.loads(ws.recv())
        send(cluster, PRODUCE_TOPIC,
             [position("quiet", *pts[0]), position("busy", *pts[0])])
        frames(ws, lambda f: "quiet" in vehicles(f))
        start = time.time()
        gone = []
        for p in pts[1:]:
            time.sleep(0.5)
            send(cluster, PRODUCE_TOPIC, [position("busy", *p)])
            ws.settimeout(0.3)
            try:
                while True:
                    f = json.loads(ws.recv())
                    gone += f.get("removed", [])
            except (socket.timeout,
                    websocket_module().WebSocketTimeoutException):
                pass
            if "quiet" in gone:
                break
        check(gone == ["quiet"], "removed: %r" % gone)
        # (start is a little after the tracker read its position)
        check(time.time() - start >= 1.2, "removed too early")
        check(t.metric("routesim_tracker_vehicles_timed_out_total") == 1,
              "timed-out count")
        check(t.metric("routesim_tracker_vehicles") == 1, "busy stays")
        ws.close()
        check(t.stop() == 0, "exit status")
    finally:
        cluster.close()
        dest.close()


def test_routes_reload():
    """A route file added, retitled or removed while the tracker runs is
    in /api/routes (and takes requests) after the folder settles; a
    vehicle already on a route keeps it."""
    cluster, dest = setup(n_points=3)
    try:
        t = Tracker(cluster, dest.path)

        def ids():
            status, body = t.get("/api/routes")
            check(status == 200, "status %d" % status)
            return {r["id"]: r["title"] for r in json.loads(body)}

        def wait_routes(want, what):
            deadline = time.time() + 10
            while time.time() < deadline:
                if ids() == want:
                    return
                time.sleep(0.1)
            raise Failure("%s: routes %r, want %r" % (what, ids(), want))
        check(ids() == {"1": "Primeiro", "2": "", "10": ""}, "at start")
        status, _ = t.post("/api/deliveries", b'{"routeId":"7"}',
                           {"Content-Type": "application/json"})
        check(status == 400, "unknown route 7: %d" % status)
        send(cluster, READ_TOPIC, [{"clientId": "r1", "routeId": "1"}])
        send(cluster, PRODUCE_TOPIC,
             [position("r1", *route_points(dest, "1")[0])])
        wait_metric(t, "routesim_tracker_positions_total", 1)
        wait_metric(t, "routesim_tracker_requests_total", 1)
        dest.line_route("7", 6)
        with open(os.path.join(dest.path, "7.title"), "w") as f:
            f.write("Sétimo\n")
        os.remove(os.path.join(dest.path, "1.txt"))
        wait_routes({"2": "", "7": "Sétimo", "10": ""}, "after the change")
        status, body = t.post("/api/deliveries", b'{"routeId":"7"}',
                              {"Content-Type": "application/json"})
        check(status == 202, "route 7 taken: %d %s" % (status, body))
        # r1 drove route 1 (now gone) and keeps it: n is still 3.
        ws = t.ws()
        r1 = vehicles(json.loads(ws.recv()))["r1"]
        check(r1[1] == "1" and r1[5] == 3, "r1 keeps its route: %r" % r1)
        ws.close()
        check(t.count("read again after a change") >= 1, t.log()[-2000:])
        check(t.stop() == 0, "exit status")
    finally:
        cluster.close()
        dest.close()


def test_position_order():
    """--position-order latlng reads [lat, lng] pairs."""
    cluster, dest = setup(n_points=3)
    try:
        pts = route_points(dest, "1")
        t = Tracker(cluster, dest.path, "--position-order", "latlng")
        ws = t.ws()
        json.loads(ws.recv())
        send(cluster, READ_TOPIC, [{"clientId": "o1", "routeId": "1"}])
        wait_metric(t, "routesim_tracker_requests_total", 1)
        send(cluster, PRODUCE_TOPIC,
             [position("o1", *pts[0], order="latlng")])
        got = frames(ws, lambda f: "o1" in vehicles(f))
        o1 = vehicles(got[-1])["o1"]
        check(o1[2:4] == list(pts[0]), "lat, lng: %r" % o1)
        ws.close()
        check(t.stop() == 0, "exit status")
    finally:
        cluster.close()
        dest.close()


def test_bad_positions():
    """Garbage on the position topic is counted and skipped."""
    cluster, dest = setup(n_points=3)
    try:
        t = Tracker(cluster, dest.path)
        ws = t.ws()
        json.loads(ws.recv())
        send(cluster, PRODUCE_TOPIC, [
            b"not json", b'{"clientId":"x"}',
            b'{"clientId":"x","position":[1e999,0],"finished":false}',
            b'{"clientId":"x","position":["a","b"],"finished":false}',
            b'{"clientId":"' + b"x" * 5000 + b'","position":[0,0]}',
            json.dumps(position("good", -15.5, -47.5)).encode()])
        got = frames(ws, lambda f: "good" in vehicles(f))
        check("x" not in vehicles(got[-1]), "garbage skipped")

        def rejected():
            text = t.get("/metrics")[1]
            return sum(float(line.split()[1]) for line in text.splitlines()
                       if line.startswith(
                           "routesim_tracker_positions_rejected_total{"))
        # Unkeyed, the six messages are spread over the partitions, which
        # are read independently: "good" may come before the rest.
        deadline = time.time() + 10
        while rejected() < 5 and time.time() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)     # nothing more arrives
        check(rejected() == 5, "five rejected: %s" % rejected())
        check(t.count("level=warn") >= 1 or t.count("position") >= 1,
              "logged")
        ws.close()
        check(t.stop() == 0, "exit status")
    finally:
        cluster.close()
        dest.close()


def request_consumer(cluster):
    from kafka import KafkaConsumer, TopicPartition
    c = KafkaConsumer(bootstrap_servers=cluster.bootstrap,
                      enable_auto_commit=False, consumer_timeout_ms=200)
    parts = [TopicPartition(READ_TOPIC, p)
             for p in range(harness.REQUEST_PARTITIONS)]
    c.assign(parts)
    c.seek_to_beginning(*parts)
    return c


def test_post_delivery():
    """POST /api/deliveries writes the course's request to the request
    topic and answers with its clientId; bad bodies get 4xx and write
    nothing."""
    cluster, dest = setup()
    try:
        t = Tracker(cluster, dest.path)
        status, body = t.get("/api/config")
        check(status == 200 and json.loads(body) ==
              {"tiles": "", "attribution": "", "interval_ms": 500},
              "no tiles by default: %d %s" % (status, body))
        status, body = t.post("/api/deliveries", b'{"routeId":"2"}',
                              {"Content-Type": "application/json"})
        check(status == 202, "accepted: %d %s" % (status, body))
        answer = json.loads(body)
        check(answer["routeId"] == "2" and
              answer["clientId"].startswith("web-") and
              len(answer["clientId"]) == 20, "answer: %r" % answer)
        for bad, reason in [(b"nope", "JSON"), (b'{"routeId":2}', "string"),
                            (b'{"routeId":"99"}', "route"),
                            (b'{"route":"1"}', "routeId")]:
            status, body = t.post("/api/deliveries", bad)
            check(status == 400 and reason.lower() in body.lower(),
                  "%r: %d %s" % (bad, status, body))
        status, _ = t.post("/api/deliveries", b"x" * 5000)
        check(status == 413, "too large: %d" % status)
        c = request_consumer(cluster)
        values = []
        deadline = time.time() + 10
        while time.time() < deadline and not values:
            values = [m.value for m in c]
        c.close()
        want = ('{"clientId":"%s","routeId":"2"}' %
                answer["clientId"]).encode()
        check(values == [want], "request topic: %r" % values)
        check(t.stop() == 0, "exit status")
    finally:
        cluster.close()
        dest.close()


def close_code(ws):
    """Reads until the server's close frame; returns its code."""
    websocket = websocket_module()
    deadline = time.time() + 10
    while time.time() < deadline:
        try:
            op, data = ws.recv_data(control_frame=True)
        except websocket.WebSocketConnectionClosedException:
            return None
        if op == websocket.ABNF.OPCODE_CLOSE:
            return struct.unpack("!H", data[:2])[0] if len(data) >= 2 \
                else None
    raise Failure("no close frame")


def test_browser_abuse():
    """Bad browsers are closed with a reason and never hurt the others;
    the connection cap refuses the one too many."""
    websocket = websocket_module()
    cluster, dest = setup()
    try:
        t = Tracker(cluster, dest.path, "--max-browsers", "3")
        good = t.ws()
        check(json.loads(good.recv())["type"] == "snapshot", "good browser")
        ws = t.ws()
        ws.recv()
        ws.send(json.dumps({"type": "dance"}))
        check(close_code(ws) == 1008, "unknown type: 1008")
        ws = t.ws()
        ws.recv()
        ws.send_binary(b"\x00\x01")
        check(close_code(ws) == 1003, "binary: 1003")
        ws = t.ws()
        ws.recv()
        ws.send("x" * 5000)
        check(close_code(ws) == 1009, "too large: 1009")
        try:
            t.ws("/elsewhere").close()
            raise Failure("an upgrade on another path was accepted")
        except websocket.WebSocketException:
            pass
        wait_metric(t, "routesim_tracker_browsers", 1)
        kept = [t.ws(), t.ws()]
        try:
            t.ws().close()
            raise Failure("a fourth browser was accepted")
        except websocket.WebSocketException:
            pass
        check(t.metric("routesim_tracker_browsers_refused_total") >= 1,
              "refusal counted")
        good.send(json.dumps({"type": "snapshot"}))
        check(frames(good, lambda f: f["type"] == "snapshot"),
              "the good browser is still served")
        for k in kept + [good]:
            k.close()
        check(t.stop() == 0, "exit status")
    finally:
        cluster.close()
        dest.close()


def test_demo_map():
    """routesim --demo serves the map: the three routes move, a delivery
    started from the page's API shows, Ctrl-C ends it with exit 0."""
    import signal
    import subprocess
    websocket_module()
    port = free_port()
    log = tempfile.TemporaryFile(mode="w+")   # read only on failure
    proc = subprocess.Popen(
        [harness.BIN, "--demo", "--env-file", "/dev/null", "-i", "100",
         "-d", os.path.join(harness.SOURCE, "destinations"),
         "--http-listen", "127.0.0.1:%d" % port],
        stdout=subprocess.PIPE, stderr=log, text=True)
    try:
        lines = []
        while not any(line.startswith("open http://") for line in lines):
            line = proc.stdout.readline()
            if line == "":
                log.seek(0)
                raise Failure("demo ended early: %s\n%s" %
                              (lines, log.read()))
            lines.append(line)
        check(lines[-1].startswith("open http://127.0.0.1:%d " % port),
              lines[-1])
        t = Tracker.__new__(Tracker)   # the demo's map, not a child's
        t.port = port
        routes = json.loads(t.get("/api/routes")[1])
        check([r["title"] for r in routes][:3] ==
              ["Primeiro", "Segundo", "Terceiro"], "titles")
        ws = t.ws()
        got = frames(ws, lambda f: {"demo-1", "demo-2", "demo-3"} <=
                     set(vehicles(f)))
        # Positions come as they are written (every 100 ms here), not in
        # the mock broker's half-second fetch batches: a vehicle moves
        # one point from one frame to the next, not five.
        last, steps = {}, []

        def step(f):
            for v in f["vehicles"]:
                if v[0] in last and v[4] > last[v[0]]:
                    steps.append(v[4] - last[v[0]])
                last[v[0]] = v[4]
            return len(steps) >= 30
        frames(ws, step)
        steps.sort()
        check(steps[len(steps) // 2] <= 2, "points per frame: %s" % steps)
        status, body = t.post("/api/deliveries", b'{"routeId":"3"}')
        check(status == 202, "POST: %d %s" % (status, body))
        web = json.loads(body)["clientId"]
        got = frames(ws, lambda f: web in vehicles(f))
        check(vehicles(got[-1])[web][1] == "3", "the page's delivery moves")
        ws.close()
        proc.send_signal(signal.SIGINT)
        check(proc.wait(timeout=30) == 0, "exit status")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.close()


TESTS = {name[5:]: fn for name, fn in globals().items()
         if name.startswith("test_")}

if __name__ == "__main__":
    harness.run(TESTS)
