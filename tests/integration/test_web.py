#!/usr/bin/python3
"""Tests of the web module (src/web.c, src/web_ws.c) through rs-webd.

usage: test_web.py [TEST...]   (run through ctest; RS_WEBD names the
helper, RS_VALGRIND=1 runs it under valgrind)
WebSocket clients: Debian's python3-websocket (websocket-client).
"""
import json
import os
import shutil
import socket
import subprocess
import threading
import time

import harness
from harness import check

try:
    import websocket
except ImportError:
    websocket = None

WEBD = os.environ.get("RS_WEBD", "build/tests/rs-webd")


class Webd:
    """rs-webd in a child process."""

    def __init__(self, *args, listen="127.0.0.1:0"):
        cmd = [WEBD, "-l", listen] + list(args)
        self.valgrind = os.environ.get("RS_VALGRIND") == "1"
        if self.valgrind:
            cmd = ["valgrind", "--error-exitcode=9", "--leak-check=full",
                   "--show-leak-kinds=all", "--errors-for-leak-kinds=all",
                   "--quiet"] + cmd
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline().split()
        check(len(line) == 2 and line[0] == "port", "no port: %r" % line)
        self.port = int(line[1])
        self.stopped = None

    def url(self, path="/ws", host="127.0.0.1"):
        return "ws://%s:%d%s" % (host, self.port, path)

    def stats(self):
        status, body = harness.get(self.port, "/stats")
        check(status == 200, "/stats %d" % status)
        return json.loads(body)

    def check_exit(self):
        rc, err = self.stop()
        lines = [x for x in err.splitlines() if " debug " not in x]
        check(rc == 0, "exit status %d: %s" % (rc, "\n".join(lines[-40:])))

    def stop(self):
        """SIGTERM; returns (exit status, stderr)."""
        if self.stopped is None:
            self.proc.terminate()
            try:
                _, err = self.proc.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                _, err = self.proc.communicate()
            self.stopped = (self.proc.returncode, err)
        return self.stopped


def need_websocket():
    if websocket is None:
        raise harness.Skip("python3-websocket is not installed")


def http(port, data, host="127.0.0.1"):
    """Sends raw bytes; returns everything until the server closes."""
    out = b""
    with socket.create_connection((host, port), timeout=10) as c:
        c.sendall(data)
        while True:
            chunk = c.recv(65536)
            if not chunk:
                return out
            out += chunk


def status_of(resp):
    return int(resp.split(b" ", 2)[1])


def close_code(ws):
    """Reads until the close frame; returns its code and reason."""
    while True:
        opcode, data = ws.recv_data(control_frame=True)
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            code = int.from_bytes(data[:2], "big") if len(data) >= 2 else None
            return code, data[2:].decode(errors="replace")


def frame(ws):
    return json.loads(ws.recv())


def test_post():
    """POST bodies: echoed; 411 without Content-Length or chunked; 413
    over the limit; 405 on an endpoint that takes none."""
    w = Webd("-b", "1000")
    try:
        r = http(w.port, b"POST /echo HTTP/1.1\r\nContent-Length: 5\r\n"
                 b"Connection: close\r\n\r\nhello")
        check(status_of(r) == 200 and r.endswith(b"\r\n\r\nhello"), r)
        body = b"b" * 1000
        r = http(w.port, b"POST /echo HTTP/1.1\r\nContent-Length: 1000\r\n"
                 b"Connection: close\r\n\r\n" + body)
        check(status_of(r) == 200 and r.endswith(body), r[:80])
        r = http(w.port, b"POST /echo HTTP/1.1\r\nContent-Length: 0\r\n"
                 b"Connection: close\r\n\r\n")
        check(status_of(r) == 200 and r.endswith(b"\r\n\r\n"), r)
        r = http(w.port, b"POST /echo HTTP/1.1\r\n\r\nhello")
        check(status_of(r) == 411, r)
        r = http(w.port, b"POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked"
                 b"\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
        check(status_of(r) == 411, r)
        r = http(w.port, b"POST /echo HTTP/1.1\r\nContent-Length: 1001\r\n"
                 b"\r\n" + b"b" * 1001)
        check(status_of(r) == 413, r)
        r = http(w.port, b"POST /stats HTTP/1.1\r\nContent-Length: 1\r\n"
                 b"Connection: close\r\n\r\nx")
        check(status_of(r) == 405, r)
        s = w.stats()
        check(s["requests"][2] == 3 and s["requests"][4] == 4,
              "requests by class %s" % s["requests"])
    finally:
        w.check_exit()
    # A body that arrives in many pieces.
    w = Webd("-b", "300000")
    try:
        body = bytes(range(256)) * 1000
        with socket.create_connection(("127.0.0.1", w.port), timeout=10) as c:
            c.sendall(b"POST /echo HTTP/1.1\r\nContent-Length: %d\r\n"
                      b"Connection: close\r\n\r\n" % len(body))
            for i in range(0, len(body), 7000):
                c.sendall(body[i:i + 7000])
            r = b""
            while True:
                chunk = c.recv(65536)
                if not chunk:
                    break
                r += chunk
        check(status_of(r) == 200 and r.split(b"\r\n\r\n", 1)[1] == body,
              "256,000-byte body echoed")
    finally:
        w.check_exit()


def test_async():
    """An answer given later reaches the client; a client that left
    before it does not hurt the server (the answer is dropped, counted)."""
    w = Webd()
    try:
        r = http(w.port, b"POST /later HTTP/1.1\r\nContent-Length: 2\r\n"
                 b"Connection: close\r\n\r\nhi")
        check(status_of(r) == 200 and r.endswith(b"later\n"), r)
        for _ in range(3):
            c = socket.create_connection(("127.0.0.1", w.port))
            c.sendall(b"POST /later HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi")
            time.sleep(0.05)
            c.close()
        deadline = time.time() + 10
        while w.stats()["late_gone"] < 3 and time.time() < deadline:
            time.sleep(0.1)
        s = w.stats()
        check(s["late_gone"] == 3 and s["late_sent"] == 1, s)
        # One still pending at shutdown is answered into the void.
        c = socket.create_connection(("127.0.0.1", w.port))
        c.sendall(b"POST /later HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi")
        time.sleep(0.05)
        rc, err = w.stop()
        check(rc == 0, "exit status %d: %s" % (rc, err[-2000:]))
        c.close()
    finally:
        w.stop()


def test_get_head():
    """A large body goes out in several writes; HEAD gets GET's headers
    and no body; both on one kept-alive connection; extra headers."""
    w = Webd()
    try:
        with socket.create_connection(("127.0.0.1", w.port), timeout=10) as c:
            c.sendall(b"HEAD /big HTTP/1.1\r\n\r\nGET /big HTTP/1.1\r\n\r\n")
            got = b""
            while not got.endswith(b"009999\n"):
                chunk = c.recv(65536)
                check(chunk, "closed early")
                got += chunk
        head, rest = got.split(b"\r\n\r\n", 1)
        check(b"content-length: 100000" in head.lower(), head)
        check(b"x-test: big" in head.lower(), head)
        check(rest.startswith(b"HTTP/1.1 200"), "HEAD sent a body")
        body = rest.split(b"\r\n\r\n", 1)[1]
        check(len(body) == 100000 and body.startswith(b"000000000\n"),
              "GET body of %d bytes" % len(body))
        r = http(w.port, b"GET /nope?x=1 HTTP/1.0\r\n\r\n")
        check(status_of(r) == 404, r)
    finally:
        w.check_exit()


def test_ws_cap_and_path():
    """At the cap an upgrade is refused until a connection closes; an
    upgrade on another path is refused; both counted."""
    need_websocket()
    w = Webd("-c", "3")
    try:
        conns = [websocket.create_connection(w.url(), timeout=10)
                 for _ in range(3)]
        for path in ("/ws", "/other"):
            try:
                extra = websocket.create_connection(w.url(path), timeout=10)
                extra.close()
                check(False, "upgrade on %s accepted" % path)
            except websocket.WebSocketException:
                pass
        s = w.stats()
        check(s["ws_open"] == 3 and s["ws_refused"] == 2 and
              s["ws_accepted"] == 3, s)
        conns.pop().close()
        deadline = time.time() + 10
        while w.stats()["ws_open"] != 2 and time.time() < deadline:
            time.sleep(0.05)
        conns.append(websocket.create_connection(w.url(), timeout=10))
        check(w.stats()["ws_accepted"] == 4, "accepted after a close")
        for c in conns:
            c.close()
    finally:
        w.check_exit()


def test_ws_messages():
    """Snapshot on connect and on request; oversized 1009, binary 1003,
    unknown 1008, owner's close code."""
    need_websocket()
    w = Webd("-m", "100", "-t", "50")
    try:
        ws = websocket.create_connection(w.url(), timeout=10)
        f = frame(ws)
        check(f["type"] == "snapshot" and f["have"] == 0, f)
        # (A snapshot of generation 0, before the first publish, is
        # followed by another: have stays 0.)
        while f["type"] == "snapshot":
            f = frame(ws)
        check(f["type"] == "update" and f["have"] == f["seq"] - 1, f)
        ws.send("snapshot")
        for _ in range(50):
            f = frame(ws)
            if f["type"] == "snapshot":
                break
        check(f["type"] == "snapshot" and f["have"] == 0, f)
        ws.send("x" * 100)   # at the limit: a message, unknown: 1008
        check(close_code(ws)[0] == 1008, "unknown message")
        ws.close()
        for send, want in ((lambda s: s.send("x" * 101), 1009),
                           (lambda s: s.send_binary(b"ab"), 1003),
                           (lambda s: s.send("close"), 4000)):
            ws = websocket.create_connection(w.url(), timeout=10)
            send(ws)
            code, reason = close_code(ws)
            check(code == want, "close %s %r, want %d" % (code, reason, want))
            ws.close()
        # A message in fragments counts whole.
        ws = websocket.create_connection(w.url(), timeout=10)
        ws.send_frame(websocket.ABNF.create_frame("x" * 60,
                      websocket.ABNF.OPCODE_TEXT, fin=0))
        ws.send_frame(websocket.ABNF.create_frame("x" * 60,
                      websocket.ABNF.OPCODE_CONT, fin=1))
        check(close_code(ws)[0] == 1009, "fragmented oversize")
        ws.close()
    finally:
        w.check_exit()


def test_ws_garbage():
    """A frame with a reserved opcode gets close 1002 (from lws); others
    keep being served."""
    need_websocket()
    w = Webd()
    try:
        other = websocket.create_connection(w.url(), timeout=10)
        bad = websocket.create_connection(w.url(), timeout=10)
        bad.sock.sendall(bytes([0x83, 0x80, 1, 2, 3, 4]))  # opcode 3
        check(close_code(bad)[0] == 1002, "reserved opcode")
        bad.close()
        first = frame(other)["seq"]
        check(frame(other)["seq"] > first, "the other connection goes on")
        other.close()
    finally:
        w.check_exit()


def test_ws_slow_reader():
    """A reader that stops reading skips generations (counted as dropped
    when it takes the next frame) and then gets a snapshot; a fast reader meanwhile gets every one.
    Frames are larger than a fragment (RS_WEB_FRAGMENT, 64 KiB): each
    arrives whole, as one message."""
    need_websocket()
    pad = 150000
    w = Webd("-t", "20", "-p", str(pad))
    try:
        slow = websocket.create_connection(
            w.url(), timeout=10,
            sockopt=((socket.SOL_SOCKET, socket.SO_RCVBUF, 4096),))
        check(frame(slow)["type"] == "snapshot", "slow: first frame")
        fast = websocket.create_connection(w.url(), timeout=10)
        seen, stop = [], threading.Event()

        def read_fast():
            while not stop.is_set():
                seen.append(frame(fast))

        t = threading.Thread(target=read_fast)
        t.start()
        time.sleep(3)          # slow reads nothing meanwhile
        stop.set()
        t.join()
        updates = [f for f in seen if f["type"] == "update"]
        check(len(updates) > 20, "fast reader got %d updates" % len(updates))
        seqs = [f["seq"] for f in seen]
        check(seqs == sorted(seqs), "fast reader out of order")
        check(all(f["pad"] == "x" * pad for f in seen), "a frame cut short")
        lagged = [f for f in seen[1:] if f["type"] != "update"]
        check(len(lagged) <= len(seen) // 4,
              "fast reader lagged %d times of %d" % (len(lagged), len(seen)))
        # The slow one: what was buffered, then a snapshot past the gap.
        last, got_snapshot = 0, False
        for _ in range(500):
            f = frame(slow)
            if f["type"] == "snapshot" and f["have"] > 0:
                check(f["seq"] > f["have"] + 1, f)
                got_snapshot = True
                break
            check(f["seq"] > last, "slow reader out of order")
            last = f["seq"]
        check(got_snapshot, "slow reader never got a snapshot")
        # Counted when the slow one takes its next frame, past the gap.
        stats = w.stats()
        check(stats["frames_dropped"] > 0, "no drops: %s" % stats)
        fast.close()
        slow.close()
    finally:
        w.check_exit()


def test_ws_idle():
    """A client that answers no PING is dropped after the hang-up time;
    one that answers stays (pings after 1 s, hang-up after 2 s)."""
    need_websocket()
    w = Webd("-i", "1,2", "-t", "100000")
    try:
        mute = websocket.create_connection(w.url(), timeout=10)
        live = websocket.create_connection(w.url(), timeout=10)
        frame(mute)
        frame(live)
        live.settimeout(0.2)
        deadline = time.time() + 5
        while time.time() < deadline:
            try:
                live.recv()      # answers PINGs as it reads
            except websocket.WebSocketTimeoutException:
                pass
        s = w.stats()
        check(s["ws_open"] == 1 and s["ws_accepted"] == 2, s)
        live.ping()
        live.close()
        mute.close()
    finally:
        w.check_exit()


def test_shutdown():
    """SIGTERM with WebSocket clients, an idle keep-alive connection and a
    half-sent POST open: a clean exit (under valgrind: no leak)."""
    need_websocket()
    w = Webd()
    clients = []
    try:
        clients = [websocket.create_connection(w.url(), timeout=10)
                   for _ in range(3)]
        for c in clients:
            frame(c)
        idle = socket.create_connection(("127.0.0.1", w.port))
        idle.sendall(b"GET /stats HTTP/1.1\r\n\r\n")
        idle.recv(4096)
        half = socket.create_connection(("127.0.0.1", w.port))
        half.sendall(b"POST /echo HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc")
        time.sleep(0.3)
        rc, err = w.stop()
        check(rc == 0, "exit status %d: %s" % (rc, err[-3000:]))
        idle.close()
        half.close()
    finally:
        w.stop()
        for c in clients:
            c.close()


def can_bind(host):
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        with socket.socket(fam) as s:
            s.bind((host, 0))
        return True
    except OSError:
        return False


def reaches(host, port):
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(fam) as s:
        s.settimeout(5)
        try:
            s.connect((host, port))
            return True
        except OSError:
            return False


def test_bind():
    """An address binds that address only, IPv4 or IPv6; port 0 reports
    the port taken; a port in use fails with a clear line."""
    if not can_bind("::1"):
        raise harness.Skip("no IPv6 loopback here")
    w = Webd(listen="127.0.0.1:0")
    try:
        check(reaches("127.0.0.1", w.port), "127.0.0.1")
        check(not reaches("::1", w.port), "127.0.0.1 listener on ::1")
        if can_bind("127.0.0.2"):
            check(not reaches("127.0.0.2", w.port), "on 127.0.0.2")
        taken = subprocess.run([WEBD, "-l", "127.0.0.1:%d" % w.port],
                               capture_output=True, text=True, timeout=30)
        check(taken.returncode == 1 and taken.stdout == "", "port in use")
        check("http listen 127.0.0.1:%d: cannot listen" % w.port
              in taken.stderr, taken.stderr)
    finally:
        w.check_exit()
    w = Webd(listen="[::1]:0")
    try:
        check(reaches("::1", w.port), "::1")
        check(not reaches("127.0.0.1", w.port), "::1 listener on 127.0.0.1")
        r = http(w.port, b"GET /stats HTTP/1.0\r\n\r\n", host="::1")
        check(status_of(r) == 200, r)
    finally:
        w.check_exit()
    w = Webd(listen="[::]:0")
    try:
        check(reaches("::1", w.port), "[::] on ::1")
        v6only = open("/proc/sys/net/ipv6/bindv6only").read().strip()
        check(reaches("127.0.0.1", w.port) == (v6only == "0"),
              "[::] on 127.0.0.1 follows bindv6only=%s" % v6only)
    finally:
        w.check_exit()
    w = Webd(listen=":0")
    try:
        check(reaches("127.0.0.1", w.port), "all IPv4: 127.0.0.1")
        check(not reaches("::1", w.port), ":PORT is IPv4 only, as before")
    finally:
        w.check_exit()


PLUGIN = "/usr/lib/x86_64-linux-gnu/libwebsockets-evlib_uv.so"


def test_no_plugin():
    """Without libwebsockets' libuv plugin routesim exits 1 and says what
    is missing (the plugin hidden in a private mount namespace)."""
    if not os.path.exists(PLUGIN) or not shutil.which("unshare"):
        raise harness.Skip("no %s or no unshare" % PLUGIN)
    probe = subprocess.run(["unshare", "-m", "true"], capture_output=True)
    if probe.returncode != 0:
        raise harness.Skip("no mount namespaces here (needs root)")
    # libwebsockets 4.1.6 leaks 48 bytes (a scandir() entry) when the
    # plugin fails to load: not routesim's, and not what this test is for.
    env = dict(os.environ)
    env["ASAN_OPTIONS"] = ":".join(filter(None, (
        env.get("ASAN_OPTIONS", ""), "detect_leaks=0")))
    r = subprocess.run(
        ["unshare", "-m", "sh", "-c", 'mount --bind /dev/null "$1" && '
         'shift && exec "$@"', "sh", PLUGIN, harness.BIN, "--env-file",
         "/dev/null", "--bootstrap-servers", "127.0.0.1:1",
         "--http-listen", "127.0.0.1:0"],
        capture_output=True, text=True, timeout=60, env=env)
    check(r.returncode == 1, "exit %d: %s" % (r.returncode, r.stderr))
    check("http: libwebsockets cannot run on the libuv loop (is its plugin, "
          "package libwebsockets-evlib-uv, installed?)" in r.stderr, r.stderr)


TESTS = {name[5:]: fn for name, fn in globals().items()
         if name.startswith("test_")}

if __name__ == "__main__":
    harness.run(TESTS)
