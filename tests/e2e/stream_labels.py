#!/usr/bin/python3
"""Delayed labels and per-window reports under `kite serve` (issue 6: model quality with
delayed labels; reports per tumbling window), end to end on a `kite broker`.

Titanic passengers without their `Survived` column are the events (key PassengerId). kite serve
scores them with a drift monitor (tumbling windows of 200 events, a report per closed window)
and labels_topic=labels, label_field=Survived. After the first FIRST passengers are scored, their
labels arrive on the labels topic (plus labels for unknown keys, a label without the field and
one without a key); then the remaining passengers stream in. Asserted:
  - every label joins its passenger's prediction (kite_labels_joined_total == FIRST), unknown
    keys are counted as unmatched, the two bad label events are dead letters with reasons;
  - the window that was open when the labels arrived (events 400..599, check 3) reports quality
    over exactly those FIRST pairs: count, accuracy, precision, recall and F1 equal to what this
    script computes from the predictions topic and the labels, log-loss within 1e-6;
  - one HTML and one JSON report per closed window (4 for 891 events), each with charts;
  - SIGTERM: exit 0."""
import csv
import json
import math
import os
import re
import subprocess
import sys
import time
import urllib.request

from confluent_kafka import Producer

import kite_e2e

FIRST = 446
WINDOW = 200

args, w = kite_e2e.e2e_args(kafka_dir=True)
T = kite_e2e.Checks(verbose=True)
check, failures = T.check, T.failures


rows = list(csv.DictReader(open(os.path.join(args.root, "data/titanic.csv"), newline="")))
labels = {r["PassengerId"]: int(r["Survived"]) for r in rows}
fields = [f for f in rows[0].keys() if f != "Survived"]
for name, part in (("first.csv", rows[:FIRST]), ("rest.csv", rows[FIRST:])):
    with open(w(name), "w", newline="") as f:
        out = csv.DictWriter(f, fieldnames=fields, extrasaction="ignore")
        out.writeheader()
        out.writerows(part)

subprocess.run([args.kite, "profile", "--model", "models/titanic.json", "--spec",
                "models/titanic.spec.json", "--input", "data/titanic.csv", "--label", "Survived",
                "--output", w("ref.json")], cwd=args.root, check=True)
reports = w("reports")
if os.path.isdir(reports):
    for f in os.listdir(reports):
        os.remove(os.path.join(reports, f))

broker = kite_e2e.Broker(args.kite, args.root, args.kafka_dir, partitions=1,
                topics=("events", "predictions", "alerts", "dead-letters", "labels", "drift-events"))
serve = None
try:
    addr = broker.addr
    serve = subprocess.Popen(
        [args.kite, "serve", "--brokers", addr, "--model", "models/titanic.json",
         "--feature-spec", "models/titanic.spec.json", "--workers", "1", "--cores", "none",
         "--metrics-addr", "127.0.0.1:0", "--drift-profile", w("ref.json"),
         "--drift-windows", "tumbling:%d" % WINDOW, "--drift-report-dir", reports,
         "--labels-topic", "labels", "--label-field", "Survived", "--batch-size", "32",
         "-X", "consumer.session.timeout.ms=6000"],
        cwd=args.root, stdout=subprocess.PIPE, stderr=open(w("serve.log"), "w"), text=True)
    port = None
    for _ in range(300):
        m = re.search(r"metrics on .*\(port (\d+)\)", open(w("serve.log")).read())
        if m:
            port = int(m.group(1))
            break
        time.sleep(0.1)
    check(port is not None, "kite serve announced its metrics port")

    def metric(name):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
                text = r.read().decode()
        except OSError:
            return None
        m = re.search(r"^%s (\S+)$" % re.escape(name), text, re.M)
        return float(m.group(1)) if m else None

    def wait_for(name, want, seconds=60):
        got = None
        for _ in range(seconds * 10):
            got = metric(name)
            if got is not None and got >= want:
                break
            time.sleep(0.1)
        return got

    produce = lambda f: subprocess.run([args.kite, "produce", "--brokers", addr, "--topic", "events",
                                        "--input", w(f), "--key", "PassengerId", "-q"],
                                       cwd=args.root, check=True)
    produce("first.csv")
    check(wait_for("kite_events_scored_total", FIRST) == FIRST, f"{FIRST} passengers scored")

    p = Producer({"bootstrap.servers": addr})
    for r in rows[:FIRST]:
        p.produce("labels", key=r["PassengerId"], value=json.dumps({"Survived": labels[r["PassengerId"]]}))
    for k in range(5):
        p.produce("labels", key="unknown-%d" % k, value=json.dumps({"Survived": 1}))
    p.produce("labels", key="1", value=json.dumps({"survived": 1}))  # wrong field name
    p.produce("labels", value=json.dumps({"Survived": 0}))             # no key
    check(p.flush(30) == 0, "labels produced")
    check(wait_for("kite_labels_total", FIRST + 5) == FIRST + 5, "labels taken")
    check(metric("kite_labels_joined_total") == FIRST, f"every label joined ({metric('kite_labels_joined_total')})")
    check(metric("kite_labels_unmatched_total") == 5, "labels for unknown keys counted as unmatched")
    check(wait_for("kite_dead_letters_total", 2) == 2, "the two bad label events dead-lettered")

    produce("rest.csv")
    check(wait_for("kite_events_scored_total", len(rows)) == len(rows), f"{len(rows)} passengers scored")
    serve.terminate()
    serve.wait(timeout=60)
    check(serve.returncode == 0, f"SIGTERM: exit 0 ({serve.returncode})")

    # Both output topics read to their high watermarks.
    preds, dead = {}, []
    for topic in ("predictions", "dead-letters"):
        messages, total, want, _ = kite_e2e.read_topic(addr, topic, "stream-labels-test")
        check(total == want, f"{topic} read to its end ({total} of {want})")
        for key, value in messages:
            if topic == "predictions":
                preds[key.decode()] = json.loads(value)["prediction"]
            else:
                dead.append(json.loads(value))
finally:
    if serve and serve.poll() is None:
        serve.kill()
    broker.stop()

check(len(preds) == len(rows), f"{len(preds)} predictions on the topic")
reasons = sorted(d.get("reason", "") for d in dead)
check(len(dead) == 2 and any("Survived" in r for r in reasons) and any("key" in r for r in reasons),
      f"dead letters name the missing field and the missing key ({reasons})")

# The expected quality of check 3: the FIRST (prediction, label) pairs.
pairs = [(preds[r["PassengerId"]], labels[r["PassengerId"]]) for r in rows[:FIRST]
         if r["PassengerId"] in preds]
tp = sum(1 for p, y in pairs if p >= 0.5 and y == 1)
fp = sum(1 for p, y in pairs if p >= 0.5 and y == 0)
fn = sum(1 for p, y in pairs if p < 0.5 and y == 1)
acc = sum(1 for p, y in pairs if (p >= 0.5) == (y == 1)) / len(pairs)
prec, rec = tp / (tp + fp), tp / (tp + fn)
f1 = 2 * prec * rec / (prec + rec)
eps = 1e-15
logloss = -sum(y * math.log(min(max(p, eps), 1 - eps)) + (1 - y) * math.log(1 - min(max(p, eps), 1 - eps))
               for p, y in pairs) / len(pairs)

name = "tumbling_%d" % WINDOW
files = sorted(os.listdir(reports)) if os.path.isdir(reports) else []
htmls = [f for f in files if f.startswith(name) and f.endswith(".html")]
jsons = [f for f in files if f.startswith(name) and f.endswith(".json")]
closed = len(rows) // WINDOW
check(len(htmls) == closed and len(jsons) == closed, f"{closed} closed windows -> {len(htmls)} html, {len(jsons)} json")
check(all("<svg" in open(os.path.join(reports, f)).read() for f in htmls), "every HTML report has charts")
third = os.path.join(reports, "%s-000003.json" % name)
q = {}
if os.path.exists(third):
    win = [x for x in json.load(open(third))["windows"] if x["name"] == name][0]
    q = win["latest"].get("quality", {}) if win["latest"] else {}
print("check 3 quality:", q)
print("expected: count %d accuracy %.6f precision %.6f recall %.6f f1 %.6f log_loss %.6f"
      % (len(pairs), acc, prec, rec, f1, logloss))
close = lambda a, b, tol=1e-9: a is not None and abs(a - b) <= tol * max(1.0, abs(b))
check(q.get("count") == len(pairs) == FIRST, f"check 3 counts the {FIRST} labelled pairs ({q.get('count')})")
for key, want in (("accuracy", acc), ("precision", prec), ("recall", rec), ("f1", f1)):
    check(close(q.get(key), want), f"check 3 {key} {q.get(key)} == {want:.9f}")
check(close(q.get("log_loss"), logloss, 1e-6), f"check 3 log_loss {q.get('log_loss')} ~ {logloss:.9f}")
for other in ("000002", "000004"):
    path = os.path.join(reports, "%s-%s.json" % (name, other))
    wq = {}
    if os.path.exists(path):
        win = [x for x in json.load(open(path))["windows"] if x["name"] == name][0]
        wq = win["latest"].get("quality", {})
    check(wq.get("count", 0) == 0, f"check {other}: no labelled pairs ({wq.get('count')})")
print(f"stream_labels: {len(failures)} failed")
sys.exit(T.exit_code())
