#!/usr/bin/env python3
"""Models from MLflow (issue 16, deliverable 2), created by mlflow itself (mlflow-skinny 3.18,
the venv's): a local file-store registry (MLFLOW_ALLOW_FILE_STORE: skinny has no SQL backend)
with two registered versions of a Titanic model and the alias `production`, and a model
directory from mlflow.xgboost.save_model. Asserted:
  - kite score of the MLflow model directory, of models:/titanic/1, models:/titanic/2 and
    models:/titanic@production equals XGBoost's own predictions of the version meant (float32);
  - kite serve --model models:/titanic@production --model-watch-ms 100 scores with version 1
    (model_version "titanic/1"); moving the alias to 2 with MlflowClient swaps it without a
    signal, and later events carry "titanic/2" with version 2's predictions;
  - an alias moved to a version that is not there, a directory without an xgboost flavor and an
    MLmodel in flow style are refused with one line each (the old version keeps serving)."""
import argparse
import csv
import json
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import time
import urllib.request

os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
import mlflow  # noqa: E402
import numpy as np  # noqa: E402
import xgboost as xgb  # noqa: E402
from mlflow import MlflowClient  # noqa: E402
from confluent_kafka import Producer  # noqa: E402

import kite_e2e  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--kite", required=True)
ap.add_argument("--root", required=True)
ap.add_argument("--workdir", required=True)
args = ap.parse_args()
shutil.rmtree(args.workdir, ignore_errors=True)
os.makedirs(args.workdir)
w = lambda *p: os.path.join(args.workdir, *p)
SPEC = os.path.join(args.root, "models/titanic.spec.json")
T = kite_e2e.Checks(verbose=True)
check, failures = T.check, T.failures


subprocess.run([args.kite, "featurize", "--spec", SPEC, "--input", "data/titanic.csv", "--output",
                w("features.csv"), "--keep", "Survived"], cwd=args.root, check=True)
feat = list(csv.DictReader(open(w("features.csv"))))
names = [c for c in feat[0].keys() if c != "Survived"]
X = np.array([[float(r[c]) if r[c] != "" else np.nan for c in names] for r in feat], dtype=np.float32)
y = np.array([float(r["Survived"]) for r in feat])
boosters = [xgb.train({"objective": "binary:logistic", "max_depth": d, "seed": d},
                      xgb.DMatrix(X, y, feature_names=names), r) for d, r in ((2, 5), (4, 12))]
expect = [b.predict(xgb.DMatrix(X, feature_names=names)).astype(np.float32) for b in boosters]

registry = "file://" + w("mlruns")
mlflow.set_tracking_uri(registry)
mlflow.set_registry_uri(registry)
for b in boosters:
    with mlflow.start_run():
        mlflow.xgboost.log_model(b, name="model", registered_model_name="titanic")
client = MlflowClient()
client.set_registered_model_alias("titanic", "production", "1")
mlflow.xgboost.save_model(boosters[1], w("saved_model"))
env = dict(os.environ, KITE_REGISTRY_URI=registry)


def score(model):
    r = subprocess.run([args.kite, "score", "--model", model, "--spec", SPEC, "--input", "data/titanic.csv",
                        "-q"], cwd=args.root, capture_output=True, text=True, env=env)
    if r.returncode:
        return None, r.stderr.strip()
    lines = r.stdout.splitlines()
    col = lines[0].split(",").index("prediction")
    return np.array([float(l.split(",")[col]) for l in lines[1:]], dtype=np.float32), ""


for model, want, what in ((w("saved_model"), 1, "MLflow model directory (save_model)"),
                          ("models:/titanic/1", 0, "models:/titanic/1"),
                          ("models:/titanic/2", 1, "models:/titanic/2"),
                          ("models:/titanic/latest", 1, "models:/titanic/latest"),
                          ("models:/titanic@production", 0, "models:/titanic@production")):
    got, err = score(model)
    check(got is not None and np.array_equal(got.view(np.uint32), expect[want].view(np.uint32)),
          f"kite score {what} = XGBoost's predictions of version {want + 1} {err}")

# Refused references, one line each.
os.makedirs(w("sklearn_only"))
open(w("sklearn_only", "MLmodel"), "w").write("flavors:\n  sklearn:\n    pickled_model: model.pkl\n")
os.makedirs(w("flow_style"))
open(w("flow_style", "MLmodel"), "w").write("flavors: {xgboost: {data: model.ubj}}\n")
for model, want in ((w("sklearn_only"), "no xgboost flavor"), (w("flow_style"), "outside the YAML kite reads"),
                    ("models:/titanic@staging", "alias \"staging\" not set"),
                    ("models:/nosuch/1", "not found")):
    got, err = score(model)
    check(got is None and want in err and "\n" not in err, f"refused {os.path.basename(model)}: {err}")

# kite serve follows the alias.
broker = kite_e2e.Broker(args.kite, args.root, None, partitions=2)
log = w("serve.log")
serve = subprocess.Popen(
    [args.kite, "serve", "--brokers", broker.addr, "--model", "models:/titanic@production",
     "--registry-uri", registry, "--feature-spec", SPEC, "--model-watch-ms", "100", "--workers", "1",
     "--cores", "none", "--metrics-addr", "127.0.0.1:0", "-X", "consumer.session.timeout.ms=6000"],
    cwd=args.root, stdout=subprocess.DEVNULL, stderr=open(log, "w"))
try:
    port = None
    for _ in range(300):
        m = re.search(r"metrics on .*\(port (\d+)\)", open(log).read())
        if m:
            port = int(m.group(1))
            break
        time.sleep(0.1)

    def metric(name, labels=""):
        try:
            text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
        except OSError:
            return None
        m = re.search(r"^%s%s (\S+)$" % (re.escape(name), re.escape(labels)), text, re.M)
        return float(m.group(1)) if m else None

    def wait(name, want, labels="", seconds=60):
        got = None
        for _ in range(seconds * 20):
            got = metric(name, labels)
            if got is not None and got >= want:
                break
            time.sleep(0.05)
        return got

    rows = list(csv.DictReader(open(os.path.join(args.root, "data/titanic.csv"))))
    fields = [f for f in rows[0] if f != "Survived"]
    num = ("Pclass", "Age", "SibSp", "Parch", "Fare")
    p = Producer({"bootstrap.servers": broker.addr})

    def send(tag):
        for i, r in enumerate(rows):
            ev = {f: (None if r[f] == "" else float(r[f]) if f in num else r[f]) for f in fields}
            p.produce("events", key="%s-%d" % (tag, i), value=json.dumps(ev))
        p.flush(30)

    check(wait("kite_ready", 1) == 1, "kite serve on models:/titanic@production is ready")
    send("a")
    check(wait("kite_events_scored_total", len(rows)) == len(rows), "first pass scored")
    client.set_registered_model_alias("titanic", "production", "2")
    check(wait("kite_model_generation", 2, seconds=10) == 2, "alias moved to 2: swapped by the watcher")
    send("b")
    check(wait("kite_events_scored_total", 2 * len(rows)) == 2 * len(rows), "second pass scored")
    with mlflow.start_run():  # version 3, whose model file is then damaged
        info = mlflow.xgboost.log_model(boosters[0], name="model", registered_model_name="titanic")
    v3 = client.get_model_version_download_uri("titanic", "3").replace("file://", "")
    ubj = os.path.join(v3, "model.ubj")
    data = open(ubj, "rb").read()
    open(ubj, "wb").write(data[: len(data) // 2])
    client.set_registered_model_alias("titanic", "production", "3")
    time.sleep(0.5)
    check(wait("kite_model_reloads_total", 1, labels='{result="refused"}', seconds=10) == 1 and
          metric("kite_model_generation") == 2, "alias on a damaged version 3: refused, version 2 still serves")
    serve.send_signal(signal.SIGTERM)
    check(serve.wait(timeout=60) == 0, "SIGTERM: exit 0")
    text = open(log).read()
    check(re.search(r"model reload \(watch\): swapped titanic/1 .*-> titanic/2", text) is not None,
          "log: swapped titanic/1 -> titanic/2")
    check(re.search(r"model reload \(watch\): refused: .*model.ubj: .*; still serving titanic/2", text) is not None,
          "log: refused version 3 naming its file, titanic/2 still serving")
    c = __import__("confluent_kafka").Consumer({"bootstrap.servers": broker.addr, "group.id": "rd",
                                                "auto.offset.reset": "earliest"})
    c.subscribe(["predictions"])
    preds, idle = {}, 0
    while len(preds) < 2 * len(rows) and idle < 50:
        ms = c.consume(1000, 0.2)
        idle = idle + 1 if not ms else 0
        for m in ms:
            if not m.error():
                preds[m.key().decode()] = json.loads(m.value())
    c.close()
    ok_a = all(preds.get("a-%d" % i, {}).get("model_version") == "titanic/1" and
               struct.pack("<f", preds["a-%d" % i]["prediction"]) == struct.pack("<f", expect[0][i])
               for i in range(len(rows)))
    ok_b = all(preds.get("b-%d" % i, {}).get("model_version") == "titanic/2" and
               struct.pack("<f", preds["b-%d" % i]["prediction"]) == struct.pack("<f", expect[1][i])
               for i in range(len(rows)))
    check(ok_a, "first pass: model_version titanic/1, version 1's predictions")
    check(ok_b, "second pass: model_version titanic/2, version 2's predictions")
finally:
    if serve.poll() is None:
        serve.kill()
    broker.stop()
print("%d failure(s)" % len(failures))
sys.exit(T.exit_code())
