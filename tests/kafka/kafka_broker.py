"""A real Apache Kafka broker for routesim's tests.

Apache Kafka's jars come from Maven Central through Maven (`mvn
dependency:copy-dependencies` on a small generated pom) into a cache
folder the build ignores: $RS_KAFKA_CACHE, or .cache/kafka/ in the source
tree.  The first fetch takes a while; later runs use the cache.  Java and
Maven come from Debian (scripts/deps.sh installs them); without them the
tests are skipped (exit status SKIP, which ctest reports as a skip).

    with KafkaBroker("4.1.2") as broker:
        broker.create_topic("route.new-direction", 3)
        ... broker.bootstrap ...

A broker is one JVM running a single-node KRaft cluster (combined broker
and controller) on free loopback ports, with automatic topic creation off
as in production.  Topics are created the way the README tells users to,
with Kafka's own kafka-topics tool (its class, from the same jars).
"""
import base64
import fcntl
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid

SKIP = 77  # ctest's SKIP_RETURN_CODE for these tests

# The versions the tests run against (the newest 4.1.x on Maven Central).
VERSIONS = {"39": "3.9.1", "41": "4.1.2"}

SOURCE = os.environ.get(
    "RS_SOURCE_DIR",
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(
        __file__)))))
CACHE = os.environ.get("RS_KAFKA_CACHE",
                       os.path.join(SOURCE, ".cache", "kafka"))


class Unavailable(Exception):
    """Java or Maven is not installed: the test cannot run here."""


def major(version):
    return int(version.split(".")[0])


def _artifacts(version):
    """(group, artifact, version) of what the broker and its tools need.
    3.x logs through slf4j-reload4j, which kafka-tools brings; 4.x logs
    through log4j 2, whose slf4j binding must be named."""
    arts = [("org.apache.kafka", "kafka_2.13", version),
            ("org.apache.kafka", "kafka-tools", version)]
    if major(version) >= 4:
        arts.append(("org.apache.logging.log4j", "log4j-slf4j-impl",
                     "2.25.3"))
    return arts


def _pom(version):
    deps = "".join(
        "<dependency><groupId>%s</groupId><artifactId>%s</artifactId>"
        "<version>%s</version></dependency>\n" % a
        for a in _artifacts(version))
    return ("<project xmlns=\"http://maven.apache.org/POM/4.0.0\">\n"
            "<modelVersion>4.0.0</modelVersion>\n"
            "<groupId>routesim.tests</groupId><artifactId>kafka-%s"
            "</artifactId><version>1</version><packaging>pom</packaging>\n"
            "<dependencies>\n%s</dependencies>\n</project>\n"
            % (version, deps))


def require(tool):
    if shutil.which(tool) is None:
        raise Unavailable("%s is not installed (scripts/deps.sh installs it)"
                          % tool)


def fetch(version):
    """Returns the folder of Apache Kafka `version`'s jars, fetching them
    with Maven the first time.  Safe to call from parallel tests: one lock
    for the whole cache serialises the fetches (two Mavens must not write
    one local repository at once), and a folder appears only complete."""
    require("java")
    top = os.path.join(CACHE, version)
    lib = os.path.join(top, "lib")
    if os.path.isfile(os.path.join(lib, ".complete")):
        return lib
    require("mvn")
    os.makedirs(top, exist_ok=True)
    with open(os.path.join(CACHE, ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if os.path.isfile(os.path.join(lib, ".complete")):
            return lib
        with open(os.path.join(top, "pom.xml"), "w") as f:
            f.write(_pom(version))
        tmp = lib + ".tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        print("fetching Apache Kafka %s with Maven into %s" % (version, top),
              flush=True)
        r = subprocess.run(
            ["mvn", "-B", "-q", "-f", os.path.join(top, "pom.xml"),
             "dependency:copy-dependencies", "-DincludeScope=runtime",
             "-DoutputDirectory=" + tmp],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            timeout=1200)
        if r.returncode != 0:
            raise RuntimeError("mvn failed for Kafka %s:\n%s"
                               % (version, r.stdout[-4000:]))
        open(os.path.join(tmp, ".complete"), "w").close()
        shutil.rmtree(lib, ignore_errors=True)
        os.rename(tmp, lib)
    return lib


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


JVM = ["-Xms64m", "-Xmx384m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
       "-Djava.awt.headless=true"]
TOOL_JVM = ["-Xmx128m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
            "-Xshare:auto"]


class Kafka:
    """Apache Kafka's jars of one version and the logging config that
    goes with them; runs its classes."""

    def __init__(self, version, workdir):
        self.version = version
        self.lib = fetch(version)
        self.classpath = os.path.join(self.lib, "*")
        self.workdir = workdir
        # log4j 2 chooses the format by the file's extension.
        self.log_config = os.path.join(
            workdir, "log4j2.properties" if major(version) >= 4
            else "log4j.properties")
        with open(self.log_config, "w") as f:
            if major(version) >= 4:
                f.write("rootLogger.level = WARN\n"
                        "rootLogger.appenderRef.out.ref = out\n"
                        "appender.out.type = Console\n"
                        "appender.out.name = out\n"
                        "appender.out.target = SYSTEM_ERR\n"
                        "appender.out.layout.type = PatternLayout\n"
                        "appender.out.layout.pattern = [%d] %p %m (%c)%n\n"
                        "logger.kafka.name = kafka\n"
                        "logger.kafka.level = INFO\n"
                        "logger.server.name = org.apache.kafka.server\n"
                        "logger.server.level = INFO\n"
                        "logger.cleaner.name = org.apache.kafka.storage."
                        "internals.log.LogCleaner\n"
                        "logger.cleaner.level = INFO\n")
            else:
                f.write("log4j.rootLogger=WARN, out\n"
                        "log4j.appender.out=org.apache.log4j.ConsoleAppender\n"
                        "log4j.appender.out.Target=System.err\n"
                        "log4j.appender.out.layout="
                        "org.apache.log4j.PatternLayout\n"
                        "log4j.appender.out.layout.ConversionPattern="
                        "[%d] %p %m (%c)%n\n"
                        "log4j.logger.kafka=INFO\n"
                        "log4j.logger.org.apache.kafka.server=INFO\n")

    def java(self, main, *args, jvm=None):
        """The command line that runs class `main` with `args`."""
        if major(self.version) >= 4:
            logging = "-Dlog4j2.configurationFile=file:" + self.log_config
        else:
            logging = "-Dlog4j.configuration=file:" + self.log_config
        return (["java"] + (jvm or TOOL_JVM) + [logging, "-cp",
                                                 self.classpath, main]
                + list(args))

    def run(self, main, *args, stdin=None, timeout=120):
        r = subprocess.run(self.java(main, *args), input=stdin,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=timeout)
        if r.returncode != 0:
            raise RuntimeError("%s %s: exit status %d\n%s%s" % (
                main, " ".join(args), r.returncode,
                r.stdout.decode(errors="replace")[-2000:],
                r.stderr.decode(errors="replace")[-3000:]))
        return r.stdout

    def console_producer(self):
        if major(self.version) >= 4:
            return "org.apache.kafka.tools.ConsoleProducer"
        return "kafka.tools.ConsoleProducer"


class KafkaBroker:
    """A single-node KRaft broker+controller in a child JVM.

    extra: more server properties (name -> value).  data_dir: reuse the
    storage of an earlier broker (it is then not formatted again and not
    deleted at close)."""

    def __init__(self, version, extra=None, data_dir=None, users=None):
        self.version = version
        self.tmp = tempfile.mkdtemp(prefix="routesim-kafka-")
        self.kafka = Kafka(version, self.tmp)
        self.own_data = data_dir is None
        self.data_dir = data_dir or os.path.join(self.tmp, "data")
        self.port = free_port()
        self.controller_port = free_port()
        self.bootstrap = "127.0.0.1:%d" % self.port
        self.extra = dict(extra or {})
        self.proc = None
        self.log_path = os.path.join(self.tmp, "broker.log")
        # users (name -> password): clients authenticate with SASL/PLAIN,
        # on self.bootstrap (SASL_PLAINTEXT) or self.ssl_bootstrap
        # (SASL_SSL, its certificate signed by the CA in self.ca_path).
        self.users = dict(users or {})
        self.client_config = None
        if self.users:
            self.ssl_port = free_port()
            self.ssl_bootstrap = "127.0.0.1:%d" % self.ssl_port
            self.users.setdefault("admin", "admin-" + uuid.uuid4().hex)
            self._make_certificates()
            self.client_config = os.path.join(self.tmp, "client.properties")
            with open(self.client_config, "w") as f:
                f.write("security.protocol=SASL_PLAINTEXT\n"
                        "sasl.mechanism=PLAIN\n"
                        "sasl.jaas.config=%s\n" % self._jaas("admin"))

    # --- configuration ---------------------------------------------------
    def _jaas(self, user=None):
        """The PLAIN login module: a client's (user) or the broker's."""
        if user is not None:
            return ('org.apache.kafka.common.security.plain.PlainLoginModule'
                    ' required username="%s" password="%s";'
                    % (user, self.users[user]))
        return ('org.apache.kafka.common.security.plain.PlainLoginModule '
                'required username="admin" password="%s" %s;' % (
                    self.users["admin"],
                    " ".join('user_%s="%s"' % u for u in self.users.items())))

    def _make_certificates(self):
        """A CA and a broker certificate for 127.0.0.1, made with openssl;
        the broker reads them as a PEM key store."""
        d = self.tmp

        def openssl(*args):
            subprocess.run(["openssl"] + list(args), check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.ca_path = os.path.join(d, "ca.pem")
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                os.path.join(d, "ca.key"), "-out", self.ca_path, "-days", "2",
                "-subj", "/CN=routesim test CA")
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout",
                os.path.join(d, "broker.key"), "-out",
                os.path.join(d, "broker.csr"), "-subj", "/CN=localhost")
        with open(os.path.join(d, "san.ext"), "w") as f:
            f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
        openssl("x509", "-req", "-in", os.path.join(d, "broker.csr"), "-CA",
                self.ca_path, "-CAkey", os.path.join(d, "ca.key"),
                "-CAcreateserial", "-out", os.path.join(d, "broker.crt"),
                "-days", "2", "-extfile", os.path.join(d, "san.ext"))
        self.keystore = os.path.join(d, "broker-keystore.pem")
        with open(self.keystore, "w") as out:
            for name in ("broker.key", "broker.crt"):
                with open(os.path.join(d, name)) as f:
                    out.write(f.read())

    def _security(self, p):
        """Client listeners with SASL/PLAIN, plain and over TLS."""
        p["listeners"] = ("SASL_PLAINTEXT://127.0.0.1:%d,SASL_SSL://127.0.0.1:"
                          "%d,CONTROLLER://127.0.0.1:%d" % (
                              self.port, self.ssl_port, self.controller_port))
        p["advertised.listeners"] = ("SASL_PLAINTEXT://127.0.0.1:%d,SASL_SSL"
                                     "://127.0.0.1:%d" % (self.port,
                                                          self.ssl_port))
        p["listener.security.protocol.map"] = (
            "SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL,"
            "CONTROLLER:PLAINTEXT")
        p["inter.broker.listener.name"] = "SASL_PLAINTEXT"
        p["sasl.enabled.mechanisms"] = "PLAIN"
        p["sasl.mechanism.inter.broker.protocol"] = "PLAIN"
        for listener in ("sasl_plaintext", "sasl_ssl"):
            p["listener.name.%s.plain.sasl.jaas.config" % listener] = \
                self._jaas()
        p["ssl.keystore.type"] = "PEM"
        p["ssl.keystore.location"] = self.keystore

    def properties(self):
        p = {
            "process.roles": "broker,controller",
            "node.id": "1",
            "listeners": "PLAINTEXT://127.0.0.1:%d,CONTROLLER://127.0.0.1:%d"
                         % (self.port, self.controller_port),
            "advertised.listeners": "PLAINTEXT://127.0.0.1:%d" % self.port,
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map":
                "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "controller.quorum.bootstrap.servers":
                "127.0.0.1:%d" % self.controller_port,
            "log.dirs": self.data_dir,
            "auto.create.topics.enable": "false",
            "num.partitions": "1",
            "offsets.topic.replication.factor": "1",
            "offsets.topic.num.partitions": "3",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "transaction.state.log.num.partitions": "3",
            "group.initial.rebalance.delay.ms": "0",
            "num.io.threads": "2",
            "num.network.threads": "2",
            "num.recovery.threads.per.data.dir": "1",
        }
        if major(self.version) >= 4:
            p["share.coordinator.state.topic.replication.factor"] = "1"
            p["share.coordinator.state.topic.min.isr"] = "1"
        if self.users:
            self._security(p)
        p.update(self.extra)
        return p

    def write_properties(self):
        path = os.path.join(self.tmp, "server.properties")
        with open(path, "w") as f:
            for k, v in self.properties().items():
                f.write("%s=%s\n" % (k, v))
        return path

    # --- life ------------------------------------------------------------
    def format(self, config):
        """kafka-storage.sh format: a dynamic quorum whose only voter is
        this node (--standalone)."""
        self.kafka.run("kafka.tools.StorageTool", "format", "-t",
                       _cluster_id(), "-c", config, "--standalone")

    def start(self, timeout=90):
        config = self.write_properties()
        if self.own_data and not os.path.isdir(self.data_dir):
            self.format(config)
        self.log_file = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            self.kafka.java("kafka.Kafka", config, jvm=JVM),
            stdout=self.log_file, stderr=subprocess.STDOUT,
            start_new_session=True)
        self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout=90):
        """Waits until the broker answers a metadata request (through
        kafka-broker-api-versions would cost a JVM; a TCP connect and
        Kafka's own admin client through kafka-topics --list do)."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("Kafka %s exited with status %d:\n%s" % (
                    self.version, self.proc.returncode, self.log_tail()))
            try:
                with socket.create_connection(("127.0.0.1", self.port),
                                              timeout=1):
                    pass
            except OSError:
                time.sleep(0.2)
                continue
            try:
                self.topics("--list")
                return
            except (RuntimeError, subprocess.TimeoutExpired):
                time.sleep(0.5)
        raise RuntimeError("Kafka %s did not serve metadata within %ds:\n%s"
                           % (self.version, timeout, self.log_tail()))

    def stop(self, sig=signal.SIGTERM, timeout=60):
        """Stops the broker (SIGTERM: a controlled shutdown)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        self.log_file.close()
        self.proc = None
        return rc

    def kill(self):
        return self.stop(signal.SIGKILL)

    def close(self):
        self.stop()
        if self.own_data:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            self.close()
            raise

    def __exit__(self, *exc):
        self.close()

    def log_tail(self, n=4000):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode(errors="replace")[-n:]
        except OSError:
            return ""

    # --- Kafka's own tools -----------------------------------------------
    def topics(self, *args):
        """kafka-topics.sh --bootstrap-server B ARGS; returns stdout."""
        more = [] if self.client_config is None else \
            ["--command-config", self.client_config]
        return self.kafka.run("org.apache.kafka.tools.TopicCommand",
                              "--bootstrap-server", self.bootstrap,
                              *more, *args).decode()

    def consumer_groups(self):
        """kafka-consumer-groups.sh --list: the ids of the groups the
        broker knows."""
        more = [] if self.client_config is None else \
            ["--command-config", self.client_config]
        return self.kafka.run(
            "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand",
            "--bootstrap-server", self.bootstrap, *more,
            "--list").decode().split()

    def create_topic(self, name, partitions, *configs):
        """configs: "name=value" topic configs (--config)."""
        args = ["--create", "--topic", name, "--partitions",
                str(partitions), "--replication-factor", "1"]
        for c in configs:
            args += ["--config", c]
        self.topics(*args)

    def produce(self, lines, topic="route.new-direction",
                key_separator=None):
        """kafka-console-producer.sh: one message per line; without
        key_separator no key, with it "KEY<sep>VALUE" lines."""
        data = "".join(line + "\n" for line in lines).encode()
        args = ["--bootstrap-server", self.bootstrap, "--topic", topic]
        if self.client_config is not None:
            args += ["--producer.config", self.client_config]
        if key_separator is not None:
            args += ["--property", "parse.key=true",
                     "--property", "key.separator=" + key_separator]
        self.kafka.run(self.kafka.console_producer(), *args, stdin=data)

    def consume(self, topic, max_messages, timeout_ms=60000,
                print_key=False):
        """kafka-console-consumer.sh --from-beginning: the values (or
        "key<TAB>value"), up to max_messages or until timeout_ms without a
        new message."""
        args = ["--bootstrap-server", self.bootstrap, "--topic", topic,
                "--from-beginning", "--max-messages", str(max_messages),
                "--timeout-ms", str(timeout_ms)]
        if self.client_config is not None:
            args += ["--consumer.config", self.client_config]
        if print_key:
            args += ["--property", "print.key=true",
                     "--property", "print.partition=true"]
        r = subprocess.run(
            self.kafka.java("org.apache.kafka.tools.consumer.ConsoleConsumer",
                            *args),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            timeout=timeout_ms / 1000 + 120)
        # A timeout ends it with status 0 in 4.x and 1 in 3.x; the caller
        # judges what it read.
        return r.stdout.decode().splitlines()


def _cluster_id():
    """A Kafka cluster id: 16 random bytes, URL-safe base64, no padding,
    not starting with "-" (the tool would take it for an option, which is
    why Kafka's own random ids never do)."""
    while True:
        cid = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode()
        if not cid.startswith("-"):
            return cid.rstrip("=")
