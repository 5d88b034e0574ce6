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
import json
import os
import re
import signal
import struct
import subprocess
import sys
import time

os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
import mlflow  # noqa: E402
import numpy as np  # noqa: E402
import xgboost as xgb  # noqa: E402
from mlflow import MlflowClient  # noqa: E402
from confluent_kafka import Producer  # noqa: E402

import kite_e2e  # noqa: E402

args, w = kite_e2e.e2e_args(fresh=True)
SPEC = os.path.join(args.root, "models/titanic.spec.json")
T = kite_e2e.Checks(verbose=True)
check, failures = T.check, T.failures


names, X, y = kite_e2e.titanic_features(args.kite, args.root, SPEC, w("features.csv"), dtype=np.float32)
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
    return np.array([float(v) for v in kite_e2e.predictions(r.stdout)], dtype=np.float32), ""


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
serve, port = kite_e2e.start_serve(
    args.kite, args.root,
    ["--brokers", broker.addr, "--model", "models:/titanic@production",
     "--registry-uri", registry, "--feature-spec", SPEC, "--model-watch-ms", "100", "--workers", "1",
     "--cores", "none", "--metrics-addr", "127.0.0.1:0", "-X", "consumer.session.timeout.ms=6000"], log)
try:
    metric = lambda name: kite_e2e.scrape(port, name)
    wait = lambda name, want, labels="", seconds=60: kite_e2e.wait_metric(port, name, want, seconds, labels)
    rows, fields = kite_e2e.titanic_rows(args.root)
    p = Producer({"bootstrap.servers": broker.addr})
    send = lambda tag: kite_e2e.produce_titanic(p, rows, fields, tag)

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
    preds = {}
    for m in kite_e2e.consume_until(broker.addr, ["predictions"], lambda: len(preds) >= 2 * len(rows)):
        preds[m.key().decode()] = json.loads(m.value())
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
