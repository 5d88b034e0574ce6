"""Shared pieces of the operations tests (tests/ops_*.py): a real Prometheus and Alertmanager
(Debian's prometheus, prometheus-alertmanager) on loopback in a temporary directory, kite serve
processes with their announced ports, and the air-quality stream with an injected sensor shift."""
import datetime
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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


def stop(proc, seconds=60):
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
        rc = stop(self.proc)
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
        rc = stop(self.proc)
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
        try:
            _, text = http_get(f"http://127.0.0.1:{self.metrics_port}/metrics")
        except OSError:
            return None
        m = re.search(r"^%s (\S+)$" % re.escape(name), text, re.M)
        return float(m.group(1)) if m else None

    def stop(self):
        rc = stop(self.proc)
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
            fields = line.split(";")
            day = datetime.datetime.strptime(fields[cols["Date"]], "%d/%m/%Y") + datetime.timedelta(days=364 * c)
            fields[cols["Date"]] = day.strftime("%d/%m/%Y")
            if shift and c == 1 and shift[0] <= r < shift[1]:
                for col, off in AQ_SHIFT.items():
                    v = fields[cols[col]].strip()
                    if v and v != "-200":
                        fields[cols[col]] = ("%.4f" % (float(v.replace(",", ".")) + off)).replace(".", ",")
            out.append(";".join(fields))
    with open(os.path.join(workdir, "cur.csv"), "w") as f:
        f.write("\n".join(out) + "\n")
    subprocess.run([kite, "profile", "--model", "models/airquality.json", "--spec",
                    "models/airquality.spec.json", "--input", os.path.join(workdir, "ref.csv"),
                    "--output", os.path.join(workdir, "ref.json"), "--label", "CO(GT)",
                    "-d", ";", "--decimal-comma", "--missing", "-200"], cwd=root, check=True)
    if not shift:
        return copies * AQ_ROWS, None, None
    return copies * AQ_ROWS, AQ_ROWS + shift[0] + 1, AQ_ROWS + shift[1] + 1


AQ_REPLAY = ["--model", "models/airquality.json", "--feature-spec", "models/airquality.spec.json",
             "--replay-delimiter", ";", "--replay-decimal-comma", "--replay-missing", "-200",
             "--partitions", "1", "--workers", "1", "--label-field", "CO(GT)"]
