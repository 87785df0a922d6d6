#!/usr/bin/python3
"""Packaging tests: the container image can run what was built.

usage: test_packaging.py [TEST...]   (run through ctest)
"""
import os
import pwd
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..",
                                "integration"))
import harness  # noqa: E402
from harness import check, Cluster  # noqa: E402

DOCKERFILE = os.path.join(harness.SOURCE, "Dockerfile")
BUILD_DIR = os.environ.get("RS_BUILD_DIR", "build")


def runtime_packages():
    """Packages apt-get installs in the Dockerfile's last stage."""
    text = open(DOCKERFILE).read().replace("\\\n", " ")
    last = text[text.rindex("\nFROM "):]
    pkgs = []
    for m in re.finditer(r"apt-get install ([^&\n]*)", last):
        pkgs += [w for w in m.group(1).split() if not w.startswith("-")]
    check(pkgs, "no apt-get install in the runtime stage")
    return pkgs


def owner(path):
    """The Debian package that ships a library file."""
    real = os.path.realpath(path)
    for p in {path, real, "/usr" + path, "/usr" + real,
              re.sub("^/usr", "", path), re.sub("^/usr", "", real)}:
        r = subprocess.run(["dpkg", "-S", p], capture_output=True, text=True)
        if r.returncode == 0:
            return r.stdout.split(":")[0]
    raise harness.Failure("no package ships %s" % path)


def closure(pkgs):
    """pkgs and everything they depend on, recursively."""
    out = subprocess.run(
        ["apt-cache", "depends", "--recurse", "--no-recommends",
         "--no-suggests", "--no-conflicts", "--no-breaks", "--no-replaces",
         "--no-enhances"] + pkgs, capture_output=True, text=True,
        check=True).stdout
    names = set(pkgs)
    for line in out.splitlines():
        name = line.split(":", 1)[1] if "Depends:" in line else line
        name = name.strip().strip("<>").split(":")[0]
        if name:
            names.add(name)
    return names


def base_packages():
    """Packages of priority required: in every Debian image, slim too."""
    out = subprocess.run(["dpkg-query", "-W", "-f",
                          "${Package} ${Priority}\\n"],
                         capture_output=True, text=True, check=True).stdout
    return {line.split()[0] for line in out.splitlines()
            if line.endswith(" required")}


# Loaded with dlopen(), so neither ldd nor readelf sees them: the libuv
# event-lib plugin of libwebsockets (without it routesim cannot serve HTTP).
PLUGINS = {"libwebsockets-evlib-uv":
           "/usr/lib/x86_64-linux-gnu/libwebsockets-evlib_uv.so"}


def test_runtime_libs():
    """Every library the binary loads comes with the runtime stage."""
    listed = runtime_packages()
    for pkg, path in PLUGINS.items():
        check(pkg in listed, "Dockerfile runtime stage lacks %s" % pkg)
        if os.path.exists(path):
            check(owner(path) == pkg, "%s is not in %s" % (path, pkg))
    listed = [p for p in listed if p not in PLUGINS]
    ldd = subprocess.run(["ldd", harness.BIN], capture_output=True,
                         text=True, check=True).stdout
    libs = re.findall(r"=> (/\S+)", ldd)
    check(libs, "ldd found no libraries")
    have = closure(listed) | base_packages()
    needed = {}
    for lib in libs:
        needed.setdefault(owner(lib), []).append(os.path.basename(lib))
    missing = {p: l for p, l in needed.items() if p not in have}
    check(not missing, "Dockerfile runtime stage lacks %s" % missing)
    # And nothing is installed that the binary does not load directly.
    direct = subprocess.run(["readelf", "-d", harness.BIN],
                            capture_output=True, text=True,
                            check=True).stdout
    direct = set(re.findall(r"Shared library: \[(\S+)\]", direct))
    direct_pkgs = {p for p, l in needed.items() if set(l) & direct}
    extra = set(listed) - direct_pkgs
    check(not extra, "runtime stage installs unneeded %s" % extra)
    check(not [p for p in listed if p.endswith("-dev")], "-dev at runtime")
    print("runtime packages %s cover %d libraries" % (listed, len(libs)))


def run_as_user():
    """argv prefix that runs a command as an unprivileged user."""
    if os.getuid() != 0:
        return [], os.getuid()
    name = "routesim-test"
    try:
        pw = pwd.getpwnam(name)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell",
                        "/usr/sbin/nologin", name], check=True)
        pw = pwd.getpwnam(name)
    return ["setpriv", "--reuid=%d" % pw.pw_uid, "--regid=%d" % pw.pw_gid,
            "--clear-groups"], pw.pw_uid


def test_container_run():
    """As in the container: installed binary, non-root, .env in WORKDIR."""
    tmp = tempfile.mkdtemp(prefix="routesim-image-")
    os.chmod(tmp, 0o755)
    cluster = Cluster()
    proc = None
    try:
        subprocess.run(["cmake", "--install", BUILD_DIR, "--prefix",
                        os.path.join(tmp, "usr", "local")], check=True,
                       capture_output=True)
        binary = os.path.join(tmp, "usr", "local", "bin", "routesim")
        app = os.path.join(tmp, "app")
        shutil.copytree(os.path.join(harness.SOURCE, "destinations"),
                        os.path.join(app, "destinations"))
        with open(os.path.join(app, ".env"), "w") as f:
            f.write("KafkaReadTopic=route.new-direction\n"
                    "KafkaProduceTopic=route.new-position\n"
                    "KafkaBootstrapServers=%s\n"
                    "KafkaConsumerGroupId=simulator\n"
                    'security.protocol=""\nsasl.mechanisms=""\n'
                    'sasl.username=""\nsasl.password=""\n'
                    "ROUTESIM_INTERVAL_MS=10\n" % cluster.bootstrap)
        prefix, uid = run_as_user()
        # No flags and no Kafka variables: the .env says everything.
        proc = subprocess.Popen(prefix + [binary], cwd=app,
                                env={"PATH": "/usr/bin:/bin"},
                                stderr=subprocess.PIPE, text=True)
        with open("/proc/%d/status" % proc.pid) as f:
            status = f.read()
        subprocess.run(["kcat", "-P", "-b", cluster.bootstrap, "-t",
                        harness.READ_TOPIC, "-k", harness.READ_TOPIC],
                       input=b'{"clientId":"1","routeId":"1"}\n',
                       check=True, timeout=30)
        out = subprocess.run(["kcat", "-C", "-b", cluster.bootstrap, "-t",
                              harness.PRODUCE_TOPIC, "-o", "beginning",
                              "-c", "87"],
                             capture_output=True, check=True, timeout=60,
                             text=True).stdout.splitlines()
        check(len(out) == 87, "%d positions" % len(out))
        check(out[0] == '{"routeId":"1","clientId":"1",'
              '"position":[-47.92923,-15.82594],"finished":false}', out[0])
        check(out[-1].endswith('[-47.92765,-15.82942],"finished":true}'),
              out[-1])
        if prefix:  # the process really ran unprivileged
            check(re.search(r"^Uid:\s+%d\s" % uid, status, re.M) or
                  re.search(r"^Uid:\s+%d\s" % uid,
                            open("/proc/%d/status" % proc.pid).read(),
                            re.M), "not running as uid %d" % uid)
        proc.terminate()
        check(proc.wait(timeout=20) == 0, "exit status")
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
        cluster.close()
        shutil.rmtree(tmp, ignore_errors=True)


K8S_DIR = os.path.join(harness.SOURCE, "deploy", "k8s")
# Kind -> python3-kubernetes model; autoscaling/v2 has v2beta2's fields.
K8S_MODELS = {
    ("v1", "ConfigMap"): "V1ConfigMap",
    ("v1", "Secret"): "V1Secret",
    ("apps/v1", "Deployment"): "V1Deployment",
    ("v1", "Service"): "V1Service",
    ("autoscaling/v2", "HorizontalPodAutoscaler"):
        "V2beta2HorizontalPodAutoscaler",
}


def unknown_fields(obj, type_name, where, client):
    """Fields of obj that the API type does not have, recursively."""
    out = []
    m = re.match(r"list\[(.*)\]$", type_name)
    if m:
        for i, item in enumerate(obj or []):
            out += unknown_fields(item, m.group(1), "%s[%d]" % (where, i),
                                  client)
        return out
    if type_name.startswith("dict(") or not type_name.startswith("V"):
        return out  # maps and scalars: the schema check covers values
    cls = getattr(client, type_name)
    names = {v: k for k, v in cls.attribute_map.items()}
    for key, value in (obj or {}).items():
        if key not in names:
            out.append("%s.%s" % (where, key))
        else:
            out += unknown_fields(value, cls.openapi_types[names[key]],
                                  "%s.%s" % (where, key), client)
    return out


def test_k8s_manifests():
    """Every manifest passes the API schema and has no unknown field."""
    import yaml
    import kubernetes.client as client
    files = sorted(os.path.join(K8S_DIR, f) for f in os.listdir(K8S_DIR)
                   if f.endswith(".yaml"))
    kinds = set()
    for path in files:
        for doc in yaml.safe_load_all(open(path)):
            if doc["kind"] == "Kustomization":
                for res in doc["resources"]:
                    check(os.path.exists(os.path.join(K8S_DIR, res)),
                          "kustomization lists missing %s" % res)
                continue
            key = (doc["apiVersion"], doc["kind"])
            check(key in K8S_MODELS, "%s: no model for %s" % (path, key))
            bad = unknown_fields(doc, K8S_MODELS[key], doc["kind"], client)
            check(not bad, "%s: unknown fields %s" % (path, bad))
            kinds.add(doc["kind"])
    check(kinds == {"ConfigMap", "Secret", "Deployment", "Service",
                    "HorizontalPodAutoscaler"}, "kinds: %s" % kinds)
    env = dict(os.environ, NODE_PATH=os.path.join(
        harness.SOURCE, ".tools", "node_modules"))
    r = subprocess.run(["node", os.path.join(os.path.dirname(__file__),
                                             "validate-k8s.js")] + files,
                       env=env, capture_output=True, text=True)
    print(r.stdout.strip())
    check(r.returncode == 0, "schema validation failed:\n" + r.stdout +
          r.stderr)
    # The pod must outlast routesim's own shutdown bound.
    dep = yaml.safe_load(open(os.path.join(K8S_DIR, "deployment.yaml")))
    cm = yaml.safe_load(open(os.path.join(K8S_DIR, "configmap.yaml")))
    grace = dep["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
    check(grace * 1000 > int(cm["data"]["ROUTESIM_SHUTDOWN_TIMEOUT_MS"]) +
          5000, "terminationGracePeriodSeconds too short")


TESTS = {name[5:]: fn for name, fn in globals().items()
         if name.startswith("test_")}

if __name__ == "__main__":
    harness.run(TESTS)
