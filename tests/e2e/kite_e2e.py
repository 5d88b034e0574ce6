"""The one helper module of kite's end-to-end tests (tests/e2e/*.py; tests/README.md lists them).

  checks        Checks: count the checks, print a line per check (or per failed one), keep the
                failed ones, the exit code; e2e_args (the usual --kite --root --workdir)
  processes     run, free_port, wait_until, wait_ready, stop_process, signal_wait, http_get
  kite serve    start_serve, metrics_port, scrape, wait_metric (its own /metrics); the Titanic
                data: titanic_features, titanic_rows, titanic_event, produce_titanic, predictions
  HTTP          Kite (`kite serve --http` on an ephemeral port), request, post_json, field,
                read_response
  brokers       Broker (`kite broker` or the real cluster of --kafka-dir), read_topic,
                consume_until, poll_to_eof, STANDARD_TOPICS
  operations    Prometheus, Alertmanager, KiteServe (kite serve with its metrics port) and
                airquality_stream / AQ_REPLAY (the air-quality stream with an injected shift),
                airquality_frame (the UCI file as a DataFrame)

Everything runs on 127.0.0.1 with ephemeral ports; every wait has a deadline that only guards
against a hang (no assertion depends on timing). Only the standard library is imported here
(confluent-kafka where a topic is read, numpy and pandas inside the functions that need them),
so every interpreter the ctests use can import it."""
import argparse
import csv
import datetime
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

HANG_GUARD_S = 30


# --- checks ---

class Checks:
    """The checks of one test. check(cond, what) counts a check and, when cond is false, keeps
    `what` in .failures; it prints, per the test's style,
      verbose=True:   "ok   WHAT" or "FAIL WHAT" for every check (stdout);
      verbose=False:  "FAIL: WHAT" for a failed check only, on `stream` (stdout by default).
    Every line is flushed, so it lands in order among the output of the test's children.
    check returns cond, so a test can go on only where a check held."""

    def __init__(self, verbose=False, stream=None):
        self.verbose = verbose
        self.stream = stream
        self.count = 0
        self.failures = []

    def check(self, cond, what):
        self.count += 1
        out = self.stream or sys.stdout
        if self.verbose:
            print(("ok   " if cond else "FAIL ") + what, file=out, flush=True)
        elif not cond:
            print("FAIL:", what, file=out, flush=True)
        if not cond:
            self.failures.append(what)
        return cond

    @property
    def passed(self):
        return self.count - len(self.failures)

    def exit_code(self):
        """1 when a check failed, else 0 (what the test process exits with)."""
        return 1 if self.failures else 0

    def finish(self, name):
        """Prints "NAME: P/N checks passed"; 1 when a check failed or none ran, else 0."""
        print(f"{name}: {self.passed}/{self.count} checks passed", flush=True)
        return 1 if self.failures or not self.count else 0


def e2e_args(*options, kafka_dir=False, extra=None, fresh=False):
    """The command line of a test: each of `options` (default --kite --root --workdir) a required
    string, then --kafka-dir (optional) with kafka_dir (True, or its help text), then what
    extra(parser) adds. The --workdir folder is made (emptied first with fresh). Returns
    (args, w): w(*parts) is a path in the workdir (None without --workdir)."""
    ap = argparse.ArgumentParser()
    for o in options or ("--kite", "--root", "--workdir"):
        ap.add_argument(o, required=True)
    if kafka_dir:
        ap.add_argument("--kafka-dir", help=kafka_dir if isinstance(kafka_dir, str) else
                        "run on the real Kafka cluster tools/kafka-cluster.sh started there "
                        "(default: kite broker, the mock)")
    if extra:
        extra(ap)
    args = ap.parse_args()
    workdir = getattr(args, "workdir", None)
    if workdir is None:
        return args, None
    if fresh:
        shutil.rmtree(workdir, ignore_errors=True)
    os.makedirs(workdir, exist_ok=not fresh)
    return args, lambda *p: os.path.join(workdir, *p)


# --- processes and ports ---

def run(*argv, cwd=None, env=None, timeout=None):
    """argv (each str()'d) run to its end, stdout and stderr captured as text: the
    subprocess.CompletedProcess (timeout: seconds before subprocess.TimeoutExpired)."""
    return subprocess.run([str(a) for a in argv], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(cond, what, timeout=HANG_GUARD_S, step=0.02):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            if cond():
                return True
        except (OSError, http.client.HTTPException):
            pass  # not listening yet
        time.sleep(step)
    print("timed out waiting for", what, flush=True)
    return False


def http_get(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.status, r.read().decode()


def wait_ready(url, proc, what, seconds=60):
    """Polls url until it answers 200; raises if proc exits or the time runs out."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}")
        try:
            if http_get(url, timeout=2)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{what} not ready at {url} after {seconds} s")


def stop_process(proc, seconds=60):
    """SIGTERM, then SIGKILL after `seconds`; returns the exit status."""
    if proc is None:
        return None
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.returncode


def wait_exit(proc, timeout):
    """Waits up to timeout s for proc: the exit status, or None (then killed) on a timeout."""
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return None


def log_tail(path, n=15):
    """The last n lines of a log, for a failure message ("" when the file is gone)."""
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-n:])
    except OSError:
        return ""


def signal_wait(proc, sig, timeout):
    """Sends sig and waits up to timeout s: the exit status, or None (then killed) on a timeout."""
    proc.send_signal(sig)
    return wait_exit(proc, timeout)


# --- kite serve on a broker: its own /metrics; the Titanic data the stream tests send ---

def start_serve(kite, root, argv, log_path):
    """`kite serve ARGV` (with --metrics-addr 127.0.0.1:0 among argv) in root, stderr to log_path:
    (process, metrics port or None when the log names none within 30 s)."""
    proc = subprocess.Popen([kite, "serve", *argv], cwd=root, stdout=subprocess.DEVNULL,
                            stderr=open(log_path, "w"))
    return proc, metrics_port(log_path)


def metrics_port(log_path, tries=300):
    """The port of kite serve's "metrics on ... (port N)" log line, polled every 0.1 s, or None."""
    for _ in range(tries):
        m = re.search(r"metrics on .*\(port (\d+)\)", open(log_path).read())
        if m:
            return int(m.group(1))
        time.sleep(0.1)
    return None


def scrape(port, name, labels=""):
    """The sample NAME+LABELS (labels as printed, "{...}", or "" for none) of kite's /metrics on
    port, or None."""
    try:
        _, text = http_get(f"http://127.0.0.1:{port}/metrics")
    except OSError:
        return None
    m = re.search(r"^%s%s (\S+)$" % (re.escape(name), re.escape(labels)), text, re.M)
    return float(m.group(1)) if m else None


def wait_metric(port, name, want, seconds=60, labels=""):
    """Scrapes every 0.05 s until the sample is >= want or `seconds` pass: its last value."""
    got = None
    for _ in range(seconds * 20):
        got = scrape(port, name, labels)
        if got is not None and got >= want:
            break
        time.sleep(0.05)
    return got


def titanic_features(kite, root, spec, out_csv, dtype=None):
    """kite featurize of data/titanic.csv by spec into out_csv (Survived kept): (feature names,
    X, y) as numpy arrays, X of dtype (numpy's default float64 without one), "" as NaN."""
    import numpy as np
    subprocess.run([kite, "featurize", "--spec", spec, "--input", "data/titanic.csv", "--output",
                    out_csv, "--keep", "Survived"], cwd=root, check=True)
    feat = list(csv.DictReader(open(out_csv)))
    names = [c for c in feat[0].keys() if c != "Survived"]
    X = np.array([[float(r[c]) if r[c] != "" else np.nan for c in names] for r in feat], dtype=dtype)
    y = np.array([float(r["Survived"]) for r in feat])
    return names, X, y


TITANIC_NUMERIC = ("Pclass", "Age", "SibSp", "Parch", "Fare")


def titanic_rows(root):
    """The rows of data/titanic.csv (dicts) and the raw event fields (all but Survived)."""
    rows = list(csv.DictReader(open(os.path.join(root, "data/titanic.csv"), newline="")))
    return rows, [f for f in rows[0] if f != "Survived"]


def titanic_event(row, fields):
    """A passenger as a JSON event: the numeric fields as numbers, "" as null."""
    return {f: (None if row[f] == "" else float(row[f]) if f in TITANIC_NUMERIC else row[f])
            for f in fields}


def produce_titanic(producer, rows, fields, tag, topic="events"):
    """Every row as an event keyed TAG-INDEX, then a flush."""
    for i, r in enumerate(rows):
        producer.produce(topic, key="%s-%d" % (tag, i), value=json.dumps(titanic_event(r, fields)))
    producer.flush(30)


def predictions(stdout):
    """The prediction column of `kite score` output: its text per row."""
    lines = stdout.splitlines()
    col = lines[0].split(",").index("prediction")
    return [l.split(",")[col] for l in lines[1:]]


# --- HTTP: kite serve --http and requests ---

class Kite:
    """A `kite serve --http 127.0.0.1:PORT` child; port 0 picks a free one."""

    def __init__(self, kite, model, port=0, extra=(), env=None, stdout=subprocess.DEVNULL, cwd=None):
        self.args = [kite, "serve", "--http", f"127.0.0.1:{port}", "--model", model, *extra]
        self.lines = []
        self.proc = subprocess.Popen(self.args, stdout=stdout, stderr=subprocess.PIPE,
                                     text=True, env=env, cwd=cwd)
        self.port = None
        self.version = None
        self._ready = threading.Event()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        if not self._ready.wait(HANG_GUARD_S) or self.port is None:
            self.kill()
            raise RuntimeError("kite did not start: " + " ".join(self.lines))

    def _read(self):
        for line in self.proc.stderr:
            self.lines.append(line.rstrip("\n"))
            m = re.search(r"listening on http://127\.0\.0\.1:(\d+) .*version ([0-9a-f]{16})", line)
            if m:
                self.port = int(m.group(1))
                self.version = m.group(2)
                self._ready.set()
        self._ready.set()

    def log(self):
        return "\n".join(self.lines)

    def signal(self, sig):
        self.proc.send_signal(sig)

    def wait(self, timeout=HANG_GUARD_S):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.wait()

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def request(port, method, path, body=None, headers=None, conn=None):
    """One request; returns (status, headers dict, body text). Reuses conn when given."""
    own = conn is None
    c = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=HANG_GUARD_S)
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        data = r.read().decode("utf-8", "replace")
        return r.status, {k.lower(): v for k, v in r.getheaders()}, data
    finally:
        if own:
            c.close()


def read_response(sock):
    """Raw bytes from sock until a response whose JSON body has ended (a "}" last) or EOF."""
    answer = b""
    while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
        chunk = sock.recv(4096)
        if not chunk:
            break
        answer += chunk
    return answer


def post_json(port, body, conn=None, path="/predict"):
    if not isinstance(body, (str, bytes)):
        body = json.dumps(body)
    return request(port, "POST", path, body, {"Content-Type": "application/json"}, conn)


def field(text, name):
    """The raw text of a JSON member's value (numbers exactly as the server printed them)."""
    m = re.search(r'"%s":(\[[^\]]*\]|[^,}]+)' % re.escape(name), text)
    return m.group(1) if m else None


# --- brokers and topics ---

def read_topic(addr, topic, group="kite-test-reader", positions=False):
    """Every partition of topic read from offset 0 to the high watermark it has now (assigned,
    no group membership, nothing committed; the mock broker creates a topic on first produce
    with its default partition count, so the partitions are looked up, not assumed).
    Returns (messages as (key bytes or None, value bytes), messages read, sum of the high
    watermarks, partitions); a caller asserts read == watermarks. With positions=True each
    message is (partition, offset, key, value)."""
    # Imported here, so the tests that read no topic run without confluent-kafka.
    from confluent_kafka import Consumer, TopicPartition

    consumer = Consumer({"bootstrap.servers": addr, "group.id": group, "enable.auto.commit": False})
    meta = consumer.list_topics(topic, timeout=10).topics.get(topic)
    parts = sorted(meta.partitions) if meta and not meta.error else []
    messages, total, want = [], 0, 0
    for p in parts:
        _, hi = consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)
        want += hi
        consumer.assign([TopicPartition(topic, p, 0)])
        seen = 0
        # Bounded by time without progress, not by a count of polls: a partition may hold
        # many more messages than any fixed count (redelivered duplicates under load).
        idle_until = time.monotonic() + 60
        while seen < hi and time.monotonic() < idle_until:
            m = consumer.poll(0.2)
            if m is None or m.error():
                continue
            idle_until = time.monotonic() + 60
            seen = m.offset() + 1
            total += 1
            if positions:
                messages.append((p, m.offset(), m.key(), m.value()))
            else:
                messages.append((m.key(), m.value()))
        consumer.unassign()
    consumer.close()
    return messages, total, want, parts


def consume_until(addr, topics, done, group="rd", idle_polls=50):
    """Subscribes `group` (from the earliest offset) to topics and yields every message until
    done() holds or idle_polls batch polls of 0.2 s in a row came back empty."""
    from confluent_kafka import Consumer

    c = Consumer({"bootstrap.servers": addr, "group.id": group, "auto.offset.reset": "earliest"})
    c.subscribe(list(topics))
    idle = 0
    try:
        while not done() and idle < idle_polls:
            ms = c.consume(1000, 0.2)
            idle = idle + 1 if not ms else 0
            for m in ms:
                if not m.error():
                    yield m
    finally:
        c.close()


def poll_to_eof(consumer, ends, eof, seconds, poll=0.2):
    """Yields every message of an assigned consumer (enable.partition.eof on) until `ends`
    (topic, partition) pairs have reported their end, each added to the set eof, or `seconds`
    pass."""
    from confluent_kafka import KafkaError

    deadline = time.monotonic() + seconds
    while len(eof) < ends and time.monotonic() < deadline:
        m = consumer.poll(poll)
        if m is None:
            continue
        if m.error():
            if m.error().code() == KafkaError._PARTITION_EOF:
                eof.add((m.topic(), m.partition()))
            continue
        yield m


# Topics every stream test may write: created up front on the real cluster (where an
# auto-created topic would get the cluster's 4 partitions, not the test's count).
STANDARD_TOPICS = ("events", "predictions", "alerts", "dead-letters", "drift-events")


class Broker:
    """The broker a stream test runs on: `kite broker` (librdkafka's mock cluster, the default)
    or, when the test is given --kafka-dir D, the real Kafka cluster that tools/kafka-cluster.sh
    started in D (ctest label `kafka`). On the real cluster every non-internal topic is deleted
    first (their committed offsets go with them), then `topics` and STANDARD_TOPICS are created
    with `partitions` each, so the test starts as it does on a fresh mock.
    addr is the bootstrap list; pause()/resume() freeze and thaw the broker (SIGSTOP/SIGCONT of
    the mock process, or of every node); stop() returns the mock's exit status (0 for the
    cluster, which stays up for the next test)."""

    def __init__(self, kite, root, kafka_dir=None, partitions=4, topics=()):
        self.root, self.kafka_dir, self.proc = root, kafka_dir, None
        self.real = bool(kafka_dir)
        if self.real:
            with open(f"{kafka_dir}/bootstrap") as f:
                self.addr = f.read().strip()
            self._cluster("topics", "--partitions", str(partitions),
                          *dict.fromkeys((*topics, *STANDARD_TOPICS)))
        else:
            argv = [kite, "broker", "--partitions", str(partitions)]
            if topics:
                argv += ["--topics", ",".join(topics)]
            self.proc = subprocess.Popen(argv, cwd=root, stdout=subprocess.PIPE,
                                         stderr=subprocess.DEVNULL, text=True)
            self.addr = self.proc.stdout.readline().strip()

    def _cluster(self, *argv):
        subprocess.run([f"{self.root}/tools/kafka-cluster.sh", *argv, "--dir", self.kafka_dir],
                       check=True, timeout=120)

    def pause(self):
        if self.real:
            self._cluster("pause", "all")
        else:
            self.proc.send_signal(signal.SIGSTOP)

    def resume(self):
        if self.real:
            self._cluster("resume", "all")
        else:
            self.proc.send_signal(signal.SIGCONT)

    def stop(self):
        if self.real:
            return 0
        self.proc.terminate()
        self.proc.wait(timeout=30)
        return self.proc.returncode


# --- operations: Prometheus, Alertmanager, kite serve with its metrics, the air-quality stream ---

class Prometheus:
    """prometheus with a generated config: scrape_interval / evaluation_interval `interval`, one
    job per entry of jobs ({name: [host:port, ...]}), optional rule files and Alertmanager.
    YAML is a superset of JSON, so the config is written as JSON."""

    def __init__(self, workdir, jobs, interval="1s", rule_files=(), alertmanager=None):
        # A fresh TSDB: a previous run's series (other ports) would still answer instant queries.
        shutil.rmtree(os.path.join(workdir, "tsdb"), ignore_errors=True)
        os.makedirs(workdir, exist_ok=True)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        cfg = {"global": {"scrape_interval": interval, "scrape_timeout": interval,
                          "evaluation_interval": interval},
               "rule_files": list(rule_files),
               "scrape_configs": [{"job_name": j, "static_configs": [{"targets": t}]}
                                  for j, t in jobs.items()]}
        if alertmanager:
            cfg["alerting"] = {"alertmanagers": [{"static_configs": [{"targets": [alertmanager]}]}]}
        path = os.path.join(workdir, "prometheus.yml")
        with open(path, "w") as f:
            json.dump(cfg, f, indent=1)
        self.log = open(os.path.join(workdir, "prometheus.log"), "w")
        self.proc = subprocess.Popen(
            ["prometheus", f"--config.file={path}", f"--storage.tsdb.path={workdir}/tsdb",
             f"--web.listen-address=127.0.0.1:{self.port}", "--log.level=warn",
             # Send a firing alert again every second (default 1m), so a test sees it soon.
             "--rules.alert.resend-delay=1s"],
            stdout=self.log, stderr=subprocess.STDOUT)
        wait_ready(self.url + "/-/ready", self.proc, "prometheus")

    def query(self, expr, at=None):
        """/api/v1/query: (status, data or error text)."""
        params = {"query": expr}
        if at is not None:
            params["time"] = "%.3f" % at
        url = self.url + "/api/v1/query?" + urllib.parse.urlencode(params)
        try:
            _, body = http_get(url, timeout=10)
        except urllib.error.HTTPError as e:
            body = e.read().decode()
        doc = json.loads(body)
        return doc.get("status"), doc.get("data") if doc.get("status") == "success" else doc.get("error")

    def value(self, expr):
        """The first sample's value of an instant query, or None."""
        status, data = self.query(expr)
        if status != "success" or not data["result"]:
            return None
        return float(data["result"][0]["value"][1])

    def stop(self):
        rc = stop_process(self.proc)
        self.log.close()
        return rc


class Alertmanager:
    def __init__(self, workdir, config_path):
        shutil.rmtree(os.path.join(workdir, "am-data"), ignore_errors=True)  # no earlier run's alerts
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(os.path.join(workdir, "alertmanager.log"), "w")
        self.proc = subprocess.Popen(
            ["prometheus-alertmanager", f"--config.file={config_path}",
             f"--storage.path={workdir}/am-data", f"--web.listen-address=127.0.0.1:{self.port}",
             "--cluster.listen-address=", "--log.level=warn"],  # no gossip port: one instance
            stdout=self.log, stderr=subprocess.STDOUT)
        wait_ready(self.url + "/-/ready", self.proc, "alertmanager")

    def stop(self):
        rc = stop_process(self.proc)
        self.log.close()
        return rc


class KiteServe:
    """kite serve with --metrics-addr 127.0.0.1:0 (and --http 127.0.0.1:0 when http=True); the
    ports are read from its stderr (a log file)."""

    def __init__(self, kite, root, args, log_path, http=False):
        self.log_path = log_path
        cmd = [kite, "serve", "--metrics-addr", "127.0.0.1:0", "--cores", "none",
               "-X", "consumer.session.timeout.ms=6000"] + args
        if http:
            cmd += ["--http", "127.0.0.1:0"]
        self.proc = subprocess.Popen(cmd, cwd=root, stdout=subprocess.PIPE,
                                     stderr=open(log_path, "w"), text=True)
        self.metrics_port = self.http_port = None
        deadline = time.time() + 60
        while time.time() < deadline and self.proc.poll() is None:
            text = open(log_path).read()
            m = re.search(r"metrics on .*\(port (\d+)\)", text)
            h = re.search(r"listening on http://127\.0\.0\.1:(\d+)", text)
            self.metrics_port = int(m.group(1)) if m else None
            self.http_port = int(h.group(1)) if h else None
            if self.metrics_port and (self.http_port or not http):
                return
            time.sleep(0.1)
        raise RuntimeError(f"kite serve announced no ports: {open(log_path).read()[-2000:]}")

    def metric(self, name):
        """A sample without labels from kite's own /metrics, or None."""
        return scrape(self.metrics_port, name)

    def stop(self):
        rc = stop_process(self.proc)
        self.stdout = self.proc.stdout.read()
        return rc


# The air-quality stream (as tests/e2e/stream_drift.py builds it): the first ROWS hourly readings of
# AirQualityUCI.csv are the reference; the stream repeats them `copies` times, 52 weeks apart
# (same hours and weekdays), with a sensor offset added to two raw columns in the rows of
# copy 1 from shift[0] to shift[1]. A sliding window of ROWS events then holds exactly the
# reference's readings except where the shifted rows are.
AQ_ROWS = 1000
AQ_SHIFT = {"PT08.S1(CO)": 300.0, "T": 10.0}
AQ_SHIFTED_FEATURES = re.compile(r"^(S1|T)(_.*)?$")  # features the spec computes from them


def airquality_moved(line, cols, days, offsets=None):
    """A raw AirQualityUCI.csv row (cols: column name -> index) `days` later, with each of
    offsets {column: added value} added where the column is not missing."""
    fields = line.split(";")
    day = datetime.datetime.strptime(fields[cols["Date"]], "%d/%m/%Y") + datetime.timedelta(days=days)
    fields[cols["Date"]] = day.strftime("%d/%m/%Y")
    for col, off in (offsets or {}).items():
        v = fields[cols[col]].strip()
        if v and v != "-200":
            fields[cols[col]] = ("%.4f" % (float(v.replace(",", ".")) + off)).replace(".", ",")
    return ";".join(fields)


def airquality_stream(root, kite, workdir, copies, shift=None):
    """Writes ref.csv, ref.json (profiled with the label CO(GT)) and cur.csv into workdir; returns
    (stream events, first shifted event, first event after the shift), events counted from 1
    (None, None without a shift)."""
    lines = open(os.path.join(root, "data/AirQualityUCI.csv"), encoding="latin-1").read().splitlines()
    cols = {name: i for i, name in enumerate(lines[0].split(";"))}
    data = [l for l in lines[1:] if l.split(";")[0].strip()][:AQ_ROWS]
    with open(os.path.join(workdir, "ref.csv"), "w") as f:
        f.write("\n".join([lines[0]] + data) + "\n")
    out = [lines[0]]
    for c in range(copies):
        for r, line in enumerate(data):
            shifted = shift and c == 1 and shift[0] <= r < shift[1]
            out.append(airquality_moved(line, cols, 364 * c, AQ_SHIFT if shifted else None))
    with open(os.path.join(workdir, "cur.csv"), "w") as f:
        f.write("\n".join(out) + "\n")
    subprocess.run([kite, "profile", "--model", "models/airquality.json", "--spec",
                    "models/airquality.spec.json", "--input", os.path.join(workdir, "ref.csv"),
                    "--output", os.path.join(workdir, "ref.json"), "--label", "CO(GT)",
                    "-d", ";", "--decimal-comma", "--missing", "-200"], cwd=root, check=True)
    if not shift:
        return copies * AQ_ROWS, None, None
    return copies * AQ_ROWS, AQ_ROWS + shift[0] + 1, AQ_ROWS + shift[1] + 1


def airquality_frame(data, features):
    """AirQualityUCI.csv (path data) as a pandas DataFrame of Date, Time and the numeric
    `features`: the rows with a date, NaN where a field is -200 or does not parse."""
    import numpy as np
    import pandas as pd

    df = pd.read_csv(data, sep=";", decimal=",", na_values=[-200, "-200"], index_col=False)
    df.columns = [str(c).rstrip(",") for c in df.columns]  # the header ends "AH,,,,,"
    df = df.dropna(how="all")[["Date", "Time"] + features]
    df = df.dropna(subset=["Date"]).reset_index(drop=True)
    for c in features:  # a few fields carry stray commas; anything unparsable is missing
        df[c] = pd.to_numeric(df[c].astype(str).str.replace(",", "."), errors="coerce")
        df.loc[df[c] == -200, c] = np.nan
    return df


AQ_REPLAY = ["--model", "models/airquality.json", "--feature-spec", "models/airquality.spec.json",
             "--replay-delimiter", ";", "--replay-decimal-comma", "--replay-missing", "-200",
             "--partitions", "1", "--workers", "1", "--label-field", "CO(GT)"]
