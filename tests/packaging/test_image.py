#!/usr/bin/python3
"""The container image, built and run for real with podman.

Builds the Dockerfile as CI's users would (podman build --format docker,
base images from scripts/base-images.sh, so the build stage's unit tests
run), checks the runtime stage, then runs the image on the host network
against a Kafka broker: configured only by a mounted .env with the
original's names, as uid 10001, it serves route 1 byte for byte, answers
its health check, and `podman stop` ends it with status 0 after handing
off a delivery in progress (its progress record names exactly the
positions on the topic).

The broker is the one RS_KAFKA_BOOTSTRAP names (the test then creates its
own topics there, with names of its own), or else the mock cluster
(rs-mockcluster, RS_MOCK).  The HTTP port is the one setting passed in the
environment: with the host network it must be a free port.

usage: test_image.py   (run through ctest; exit 77 = skipped: no podman)
"""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..",
                                "integration"))
import harness  # noqa: E402
from harness import check, Cluster, Failure  # noqa: E402
from kafka import KafkaConsumer, KafkaProducer, TopicPartition  # noqa
from kafka.admin import KafkaAdminClient, NewTopic  # noqa: E402

SKIP = 77
TAG = "routesim:test"
BUILD_TAG = "routesim-build:test"
UID = 10001
INTERVAL_MS = 50
COMPILERS = ("cc", "gcc", "c89", "c99", "c++", "g++", "cpp", "clang", "tcc",
             "as", "ld")


def podman(*args, check_rc=True, timeout=120):
    r = subprocess.run(["podman"] + list(args), capture_output=True,
                       text=True, timeout=timeout)
    if check_rc and r.returncode != 0:
        raise Failure("podman %s: status %d\n%s%s" % (
            " ".join(args), r.returncode, r.stdout, r.stderr))
    return r


def timed(what, fn):
    start = time.time()
    out = fn()
    print("%s: %.1f s" % (what, time.time() - start))
    sys.stdout.flush()
    return out


def make_base_images():
    r = subprocess.run([os.path.join(harness.SOURCE, "scripts",
                                     "base-images.sh")],
                       capture_output=True, text=True, timeout=900)
    sys.stdout.write(r.stderr)
    check(r.returncode == 0, "base-images.sh: status %d" % r.returncode)


def image_id(tag):
    r = podman("image", "inspect", "--format", "{{.Id}}", tag, check_rc=False)
    return r.stdout.strip() if r.returncode == 0 else None


def proxy_ca():
    """podman build arguments that hand this machine's extra certificate
    authorities (an intercepting egress proxy's, which it trusts through
    NODE_EXTRA_CA_CERTS) to npm in the build stage; none elsewhere."""
    bundle = os.environ.get("NODE_EXTRA_CA_CERTS")
    local = "/usr/local/share/ca-certificates"
    if not bundle and os.path.isdir(local) and any(
            f.endswith(".crt") for f in os.listdir(local)):
        bundle = "/etc/ssl/certs/ca-certificates.crt"  # update-ca-certificates
    if not bundle or not os.path.isfile(bundle):
        return []
    return ["-v", "%s:/run/routesim-ca.crt:ro" % bundle,
            "--build-arg", "NODE_EXTRA_CA_CERTS=/run/routesim-ca.crt"]


def build_image(tmp):
    """podman build from the Dockerfile; returns the image id.  The build
    stage is tagged too, so that removing the previous run's images (and
    their untagged layers) keeps the layers this build reuses."""
    old = {tag: image_id(tag) for tag in (TAG, BUILD_TAG)}
    iid = os.path.join(tmp, "iid")
    log = os.path.join(tmp, "build.log")
    with open(log, "w") as f:
        for args in (["--target", "build", "-t", BUILD_TAG],
                     ["--iidfile", iid, "-t", TAG]):
            rc = subprocess.run(["podman", "build", "--format", "docker",
                                 "--pull=never"] + proxy_ca() + args +
                                [harness.SOURCE],
                                stdout=f, stderr=subprocess.STDOUT,
                                timeout=1800).returncode
            if rc != 0:
                break
    text = open(log).read()
    if rc != 0:
        raise Failure("podman build: status %d\n%s" % (rc, text[-6000:]))
    for tag, previous in old.items():
        if previous and previous != image_id(tag):
            podman("rmi", previous, check_rc=False)
    # The build stage ran the unit tests (or reused the layer that did).
    lines = text.splitlines()
    step = [i for i, ln in enumerate(lines) if "ctest -L unit" in ln]
    check(step, "the build stage has no ctest step")
    after = lines[step[0] + 1] if step[0] + 1 < len(lines) else ""
    cached = after.startswith("--> Using cache")
    check(cached or "100% tests passed" in text,
          "the build stage's unit tests did not pass:\n" + text[-3000:])
    print("build stage unit tests: %s" % ("cached" if cached else "passed"))
    return open(iid).read().strip()


def check_image(image):
    """Metadata (user, work dir, health check kept) and no compiler."""
    info = json.loads(podman("image", "inspect", image).stdout)[0]
    cfg = info["Config"]
    check(cfg.get("User") == "routesim", "user %r" % cfg.get("User"))
    check(cfg.get("WorkingDir") == "/app", "workdir %r" %
          cfg.get("WorkingDir"))
    # Only the Docker format has a HEALTHCHECK (podman: --format docker).
    hc = (info.get("Healthcheck") or cfg.get("Healthcheck") or {}).get("Test")
    check(hc == ["CMD", "routesim", "--healthcheck"],
          "HEALTHCHECK lost: %r" % hc)
    script = ("for c in %s; do command -v $c || true; done; "
              "dpkg-query -W -f '${Package}\\n'" % " ".join(COMPILERS))
    out = podman("run", "--rm", "--network", "none", "--entrypoint",
                 "/bin/sh", image, "-c", script).stdout.split()
    found = [w for w in out if w.startswith("/")]
    check(not found, "runtime stage has a compiler or binutils: %s" % found)
    # gcc-12-base (libgcc-s1's documentation) is in every Debian system.
    bad = [p for p in out if not p.startswith("/") and
           not p.endswith("-base") and (
        p.endswith("-dev") or p == "build-essential" or
        p.split("-")[0] in ("gcc", "g++", "cpp", "clang", "binutils",
                            "tcc"))]
    check(not bad, "runtime stage has build packages: %s" % bad)
    size = info["Size"]
    print("image %s: %d bytes (%.1f MB), %d packages, no compiler" %
          (image.split(":")[-1][:12], size, size / 1e6,
           len([p for p in out if not p.startswith("/")])))


class Broker:
    """Topic names and the bootstrap address of the broker under test."""

    def __init__(self):
        self.cluster = None
        self.bootstrap = os.environ.get("RS_KAFKA_BOOTSTRAP")
        if not self.bootstrap:
            self.cluster = Cluster()
            self.bootstrap = self.cluster.bootstrap
            self.read = harness.READ_TOPIC
            self.produce = harness.PRODUCE_TOPIC
            self.progress = harness.PROGRESS_TOPIC
            print("broker: mock cluster at %s" % self.bootstrap)
            return
        # A real broker: topics of this run only, made as the README says
        # (the progress topic compacted, partitioned like the requests).
        tag = "routesim-image-%d-%d" % (os.getpid(), time.time())
        self.read = tag + ".new-direction"
        self.produce = tag + ".new-position"
        self.progress = tag + ".progress"
        admin = KafkaAdminClient(bootstrap_servers=self.bootstrap)
        try:
            admin.create_topics([
                NewTopic(self.read, 2, 1),
                NewTopic(self.progress, 2, 1,
                         topic_configs={"cleanup.policy": "compact"}),
                NewTopic(self.produce, 2, 1)])
        finally:
            admin.close()
        print("broker: %s, topics %s.*" % (self.bootstrap, tag))

    def close(self):
        if self.cluster:
            self.cluster.close()
            return
        admin = KafkaAdminClient(bootstrap_servers=self.bootstrap)
        try:
            admin.delete_topics([self.read, self.produce, self.progress])
        except Exception as e:  # cleanup only: the test has its verdict
            print("topics not deleted: %s" % e)
        finally:
            admin.close()


def read_topic(broker, topic, until, timeout=60):
    """Every record of topic in (partition, offset) order, read until
    until(records) is true."""
    consumer = KafkaConsumer(bootstrap_servers=broker.bootstrap,
                             enable_auto_commit=False,
                             auto_offset_reset="earliest",
                             consumer_timeout_ms=200)
    try:
        parts = [TopicPartition(topic, p)
                 for p in sorted(consumer.partitions_for_topic(topic) or [])]
        check(parts, "topic %s has no partitions" % topic)
        consumer.assign(parts)
        consumer.seek_to_beginning(*parts)
        records = []
        deadline = time.time() + timeout
        while True:
            records += list(consumer)
            records.sort(key=lambda m: (m.partition, m.offset))
            if until(records):
                return records
            check(time.time() < deadline, "%s: %d records after %ds" %
                  (topic, len(records), timeout))
    finally:
        consumer.close()


def of_client(records, client):
    return [m for m in records if m.value and
            json.loads(m.value).get("clientId") == client]


def route_points(route_id):
    with open(os.path.join(harness.SOURCE, "destinations",
                           route_id + ".txt")) as f:
        return [tuple(float(x) for x in line.split(","))
                for line in f if line.strip()]


def expected(route_id, client, points):
    """The original's bytes, latitude first (ROUTESIM_POSITION_ORDER)."""
    return [('{"routeId":"%s","clientId":"%s","position":[%r,%r],'
             '"finished":%s}' % (route_id, client, lat, lng,
                                 "true" if i == len(points) - 1
                                 else "false")).encode()
            for i, (lat, lng) in enumerate(points)]


def request(broker, route_id, client):
    p = KafkaProducer(bootstrap_servers=broker.bootstrap, acks="all")
    body = json.dumps({"clientId": client, "routeId": route_id},
                      separators=(",", ":")).encode()
    p.send(broker.read, key=broker.read.encode(), value=body)
    p.flush()
    p.close()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def write_env(path, broker):
    """The original's .env, plus the routesim settings the test needs."""
    with open(path, "w") as f:
        f.write("KafkaReadTopic=%s\n"
                "KafkaProduceTopic=%s\n"
                "KafkaBootstrapServers=%s\n"
                "KafkaConsumerGroupId=routesim-image-%d\n"
                'security.protocol=""\nsasl.mechanisms=""\n'
                'sasl.username=""\nsasl.password=""\n'
                "ROUTESIM_PROGRESS_TOPIC=%s\n"
                "ROUTESIM_POSITION_ORDER=latlng\n"
                "ROUTESIM_INTERVAL_MS=%d\n" % (
                    broker.read, broker.produce, broker.bootstrap,
                    os.getpid(), broker.progress, INTERVAL_MS))
    os.chmod(path, 0o644)


class Container:
    def __init__(self, image, env_file, program="routesim"):
        self.name = "%s-image-test-%d" % (program, os.getpid())
        self.port = free_port()
        podman("rm", "-f", "--ignore", self.name)
        podman("run", "-d", "--name", self.name, "--network", "host",
               "-v", "%s:/app/.env:ro" % env_file,
               "-e", "ROUTESIM_HTTP_LISTEN=127.0.0.1:%d" % self.port,
               "--entrypoint", program, image)

    def log(self):
        r = podman("logs", self.name, check_rc=False)
        return r.stdout + r.stderr

    def state(self):
        return json.loads(podman("inspect", self.name).stdout)[0]["State"]

    def wait_log(self, text, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if text in self.log():
                return
            check(self.state()["Running"], "container exited:\n" +
                  self.log())
            time.sleep(0.2)
        raise Failure("no %r in the log:\n%s" % (text, self.log()))

    def remove(self):
        podman("rm", "-f", "--ignore", self.name, check_rc=False)


def http_get(port, path):
    with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path),
                                timeout=5) as r:
        return r.status, r.headers.get("Content-Type", ""), r.read()


def run_tracker(image, env_file):
    """routesim-tracker from the same image: ready on the same .env, its
    page compiled in, the routes with their titles, the health check."""
    box = Container(image, env_file, program="routesim-tracker")
    try:
        deadline = time.time() + 60
        while True:
            try:
                if http_get(box.port, "/readyz")[0] == 200:
                    break
            except (OSError, urllib.error.HTTPError):
                pass
            check(time.time() < deadline and box.state()["Running"],
                  "the tracker is not ready:\n" + box.log())
            time.sleep(0.2)
        status, ctype, page = http_get(box.port, "/")
        check(status == 200 and ctype.startswith("text/html") and
              b"WebSocket" in page and len(page) > 100000,
              "the page is not the built one: %d %s %d bytes" %
              (status, ctype, len(page)))
        routes = json.loads(http_get(box.port, "/api/routes")[2])
        check([r["title"] for r in routes] ==
              ["Primeiro", "Segundo", "Terceiro"], "routes: %r" %
              [r["title"] for r in routes])
        r = podman("exec", box.name, "routesim-tracker", "--healthcheck",
                   check_rc=False)
        check(r.returncode == 0, "routesim-tracker --healthcheck: %d %s%s" %
              (r.returncode, r.stdout, r.stderr))
        print("routesim-tracker: ready, page of %d bytes, %d routes" %
              (len(page), len(routes)))
    except Exception:
        print("tracker log:\n" + box.log())
        raise
    finally:
        box.remove()


def run_image(image, tmp):
    broker = Broker()
    box = None
    try:
        env_file = os.path.join(tmp, ".env")
        write_env(env_file, broker)
        box = Container(image, env_file)
        pid = box.state()["Pid"]
        with open("/proc/%d/status" % pid) as f:
            uids = [ln.split()[1:] for ln in f if ln.startswith("Uid:")][0]
        check(uids == [str(UID)] * 4, "routesim runs as uid %s" % uids)
        box.wait_log("assigned partitions")

        # A delivery, byte for byte.
        request(broker, "1", "image-1")
        want = expected("1", "image-1", route_points("1"))
        got = read_topic(broker, broker.produce,
                         lambda r: len(of_client(r, "image-1")) >= len(want))
        mine = of_client(got, "image-1")
        check([m.value for m in mine] == want, "route 1 differs:\n%s" %
              b"\n".join(m.value for m in mine).decode())
        check(len({m.partition for m in mine}) == 1, "one partition")
        print("route 1: %d positions byte-exact" % len(mine))

        # The health check, as the HEALTHCHECK runs it and by hand.
        r = podman("exec", box.name, "routesim", "--healthcheck",
                   check_rc=False)
        check(r.returncode == 0, "routesim --healthcheck: status %d %s%s" %
              (r.returncode, r.stdout, r.stderr))
        r = podman("healthcheck", "run", box.name, check_rc=False)
        check(r.returncode == 0, "podman healthcheck run: status %d %s%s" %
              (r.returncode, r.stdout, r.stderr))

        run_tracker(image, env_file)

        # podman stop mid-delivery: a hand-off, then status 0.
        request(broker, "2", "image-2")
        read_topic(broker, broker.produce,
                   lambda r: len(of_client(r, "image-2")) >= 5)
        podman("stop", "-t", "30", box.name, timeout=60)
        state = box.state()
        log = box.log()
        check(state["ExitCode"] == 0, "exit status %d:\n%s" %
              (state["ExitCode"], log))
        check("handing off partitions=" in log and "deliveries=1" in log,
              "no hand-off in the log:\n" + log)
        check("stopped started=2 resumed=0 finished=1 failed=0 stopped=1"
              in log, "summary:\n" + log)
        summary = [ln for ln in log.splitlines() if "stopped started=" in ln]
        produced = int(summary[0].split(" positions=")[1].split()[0])
        n2 = produced - len(want)  # route 2's share of what was produced
        sent = of_client(read_topic(
            broker, broker.produce,
            lambda r: len(of_client(r, "image-2")) >= n2), "image-2")
        check(len(sent) == n2, "%d positions of route 2 on the topic, %d "
              "produced" % (len(sent), n2))
        route2 = expected("2", "image-2", route_points("2"))
        check([m.value for m in sent] == route2[:len(sent)],
              "route 2 is not a prefix of its route")
        check(len(sent) < len(route2), "route 2 was not cut short")
        records = of_client(read_topic(
            broker, broker.progress,
            lambda r: any(json.loads(m.value).get("next") == len(sent)
                          for m in of_client(r, "image-2")),
            timeout=30), "image-2")
        last = json.loads(records[-1].value)
        check(last["next"] == len(sent), "progress says next=%d, %d sent" %
              (last["next"], len(sent)))
        print("podman stop: status 0 after handing off route 2 at %d/%d" %
              (len(sent), len(route2)))
    except Exception:
        if box:
            print("container log:\n" + box.log())
        raise
    finally:
        if box:
            box.remove()
        broker.close()


def main():
    if shutil.which("podman") is None:
        print("skipped: podman is not installed (scripts/deps.sh installs "
              "it)")
        sys.exit(SKIP)
    tmp = tempfile.mkdtemp(prefix="routesim-image-")
    os.chmod(tmp, 0o755)
    start = time.time()
    try:
        timed("base images", make_base_images)
        image = timed("podman build", lambda: build_image(tmp))
        check_image(image)
        timed("run", lambda: run_image(image, tmp))
        print("ok - image (%.1f s)" % (time.time() - start))
    except Exception as e:  # report every kind of failure the same way
        print("not ok - image: %s: %s" % (type(e).__name__, e))
        sys.exit(1)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
