#!/usr/bin/python3
"""Drift in `kite serve`: Titanic raw events with the fare tripled in the second half, a drift
monitor (drift_profile, tumbling windows of 200 events). /metrics must show the Fare column at
significant PSI, the detection counter, and pass promtool; the drift events must have been
produced (outputs delivered = predictions + alerts + drift events) before SIGTERM's clean exit."""
import argparse
import csv
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request

ap = argparse.ArgumentParser()
ap.add_argument("--kite", required=True)
ap.add_argument("--root", required=True)
ap.add_argument("--workdir", required=True)
a = ap.parse_args()
os.makedirs(a.workdir, exist_ok=True)
w = lambda n: os.path.join(a.workdir, n)
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what, file=sys.stderr)


model, spec = f"{a.root}/models/titanic.json", f"{a.root}/models/titanic.spec.json"
subprocess.run([a.kite, "profile", "--model", model, "--spec", spec, "--input",
                f"{a.root}/data/titanic.csv", "--output", w("ref.json")], check=True)
rows = list(csv.reader(open(f"{a.root}/data/titanic.csv")))
fare = rows[0].index("Fare")
for i, r in enumerate(rows[1:]):
    if i >= 445 and r[fare]:
        r[fare] = "%.4f" % (float(r[fare]) * 3 + 20)
with open(w("shifted.csv"), "w", newline="") as f:
    csv.writer(f).writerows(rows)

proc = subprocess.Popen(
    [a.kite, "serve", "--model", model, "--feature-spec", spec, "--replay", w("shifted.csv"),
     "--replay-key", "PassengerId", "--metrics-addr", "127.0.0.1:0", "--cores", "none",
     "-X", "consumer.session.timeout.ms=6000", "--drift-profile", w("ref.json"),
     "--drift-windows", "tumbling:200"],
    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
port = None
deadline = time.time() + 30
while time.time() < deadline and port is None:
    line = proc.stderr.readline()
    if not line:
        break
    m = re.search(r"metrics on .*\(port (\d+)\)", line)
    port = int(m.group(1)) if m else None
check(port is not None, "kite serve printed its metrics port")
text = ""
for _ in range(300 if port else 0):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
        text = r.read().decode()
    if re.search(r'^kite_drift_checks_total\{window="tumbling_200"\} 4$', text, re.M):
        break
    time.sleep(0.1)
check(re.search(r'^kite_drift_checks_total\{window="tumbling_200"\} 4$', text, re.M),
      "4 checks of tumbling_200 (891 events)")
check('kite_drift_feature_status{window="tumbling_200",feature="Fare"} 2' in text,
      "Fare at significant PSI in /metrics")
check(re.search(r'^kite_drift_feature_status\{window="tumbling_200",feature="Age"\} [01]$', text, re.M),
      "Age not at significant drift")
m = re.search(r'^kite_drift_detection_events_total\{kind="feature"\} (\d+)$', text, re.M)
check(m and int(m.group(1)) >= 1, "kite_drift_detection_events_total counts the Fare detection")
with open(w("metrics.prom"), "w") as f:
    f.write(text)
prom = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True)
check(prom.returncode == 0, "promtool: " + prom.stdout + prom.stderr)
time.sleep(1.0)  # let the last outputs' delivery reports arrive
proc.send_signal(signal.SIGTERM)
out, err = proc.communicate(timeout=60)
summary = out + err
check(proc.returncode == 0, f"clean exit after SIGTERM (exit {proc.returncode})")
get = lambda name: int(re.search(name + r"\s+(\d+)", summary).group(1))
try:
    drift_events = get("outputs delivered") - get("predictions") - get("alerts")
    check(drift_events >= 1, f"drift events produced to the drift topic ({drift_events})")
except AttributeError:
    check(False, "summary lines: " + summary[-800:])
    drift_events = -1
print(f"drift_serve: {drift_events} drift events produced, {len(failures)} failures")
sys.exit(1 if failures else 0)
