#!/usr/bin/python3
"""Shadow scoring (issue 16, deliverable 3): a candidate model scores every event beside the
serving one. Two Titanic models on the spec's six features (trained here with XGBoost) serve and
shadow 2 x 891 passengers. Asserted:
  - kite_shadow_rows_total equals the events scored; kite_shadow_disagreements_total equals the
    number of events whose `kite score` predictions of the two models differ by more than
    shadow_tolerance (computed here from kite score of each model);
  - the abs-diff histogram's count equals the rows, its sum equals the sum of |diff| (1e-3);
  - the shadow topic has one record per event with the candidate's prediction (= kite score of
    the candidate, float32) and the serving one;
  - promotion is a reload: with the candidate copied over the serving file and SIGHUP, the
    next events' predictions carry the candidate's fingerprint, and the disagreement stops
    growing (serving and shadow are then the same model);
  - the drift report (drift_report_dir, one tumbling window per pass): its "shadow" object has
    the rows, the disagreeing rows (= the count from kite score of both models), the share, the
    |diff| histogram bucket by bucket and its quantiles (recomputed here from the kite score
    diffs), the mean |diff|; the candidate is the serving model plus one tree on Age alone, so
    the disagreeing rows are exactly the oldest passengers and Age must rank first (and drift)
    in the disagreeing rows' per-feature drift; the HTML report shows the section with Age first;
    after promotion the next window's report has no disagreement."""
import json
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import time

import numpy as np
import xgboost as xgb
from confluent_kafka import Producer

import kite_e2e

TOL = 0.01
args, w = kite_e2e.e2e_args(fresh=True)
SPEC = os.path.join(args.root, "models/titanic.spec.json")
T = kite_e2e.Checks(verbose=True)
check, failures = T.check, T.failures


names, X, y = kite_e2e.titanic_features(args.kite, args.root, SPEC, w("features.csv"))
# m0 serves; the candidate m1 is m0 plus one depth-1 tree that may split on Age only (feature
# weights) and is fitted to move the oldest 15% alone: m0's own predictions as the labels of the
# others leave their gradients zero, so the two models disagree exactly on old passengers.
b0 = xgb.train({"objective": "binary:logistic", "max_depth": 2, "seed": 0}, xgb.DMatrix(X, y, feature_names=names), 4)
b0.save_model(w("m0.json"))
AGE = names.index("Age")
p0 = b0.predict(xgb.DMatrix(X, feature_names=names))
old = X[:, AGE] >= np.nanquantile(X[:, AGE], 0.85)
d1 = xgb.DMatrix(X, np.where(old, 1.0, p0), feature_names=names)
fw = np.zeros(len(names))
fw[AGE] = 1
d1.set_info(feature_weights=fw)
xgb.train({"objective": "binary:logistic", "max_depth": 1, "eta": 1, "seed": 1,
           "colsample_bynode": 1.0 / len(names) + 1e-9}, d1, 1, xgb_model=b0).save_model(w("m1.json"))
shutil.copy(w("m0.json"), w("serving.json"))
subprocess.run([args.kite, "profile", "--model", w("m0.json"), "--spec", SPEC, "--input", "data/titanic.csv",
                "--output", w("ref.json")], cwd=args.root, check=True, capture_output=True)
REPORTS = w("reports")


def score(model):
    out = subprocess.run([args.kite, "score", "--model", model, "--spec", SPEC, "--input", "data/titanic.csv",
                          "-q"], cwd=args.root, check=True, capture_output=True, text=True).stdout
    return np.array([float(v) for v in kite_e2e.predictions(out)], dtype=np.float32)


a, b = score(w("m0.json")), score(w("m1.json"))
diff = b.astype(np.float64) - a.astype(np.float64)
want_dis = int((np.abs(diff) > TOL).sum())
check(want_dis > 50 and all(old[np.abs(diff) > TOL]),
      f"the candidate disagrees on {want_dis} rows, all of them among the oldest passengers")
rows, fields = kite_e2e.titanic_rows(args.root)
broker = kite_e2e.Broker(args.kite, args.root, None, partitions=2, topics=("shadow",))
log = w("serve.log")
serve, port = kite_e2e.start_serve(
    args.kite, args.root,
    ["--brokers", broker.addr, "--model", w("serving.json"), "--feature-spec", SPEC,
     "--shadow-model", w("m1.json"), "--shadow-tolerance", str(TOL), "--shadow-topic", "shadow",
     "--workers", "2", "--cores", "none", "--metrics-addr", "127.0.0.1:0", "--batch-size", "32",
     "--drift-profile", w("ref.json"), "--drift-windows", "pass=tumbling:%d" % len(rows),
     "--drift-report-dir", REPORTS,
     "-X", "consumer.session.timeout.ms=6000"], log)
try:
    metric = lambda name: kite_e2e.scrape(port, name)
    wait = lambda name, want, seconds=60: kite_e2e.wait_metric(port, name, want, seconds)
    p = Producer({"bootstrap.servers": broker.addr})

    def wait_report(check_no, seconds=60):
        path = os.path.join(REPORTS, "pass-%06d.json" % check_no)
        for _ in range(seconds * 10):
            if os.path.exists(path) and os.path.exists(path[:-5] + ".html"):
                try:
                    return json.load(open(path))
                except ValueError:
                    pass  # being written
            time.sleep(0.1)
        return None

    def check_report(n):
        rep = wait_report(1)
        check(rep is not None, "drift report of the first pass written")
        latest = rep["windows"][0]["latest"] if rep else {}
        sh = latest.get("shadow") or {}
        check(latest.get("events") == n and sh.get("rows") == n, f"report: the window holds the {n} events, all compared")
        check(sh.get("disagreeing") == want_dis and abs(sh.get("disagreement_share", -1) - want_dis / n) < 1e-12,
              f"report: disagreeing {sh.get('disagreeing')} = {want_dis} from kite score of both models, "
              f"share {sh.get('disagreement_share')}")
        ad = np.abs(diff)
        bounds = [b["le"] for b in sh.get("abs_diff_histogram", [])]
        want_counts = []
        for k, le in enumerate(bounds):
            lo = bounds[k - 1] if k else -1.0
            want_counts.append(int(((ad > lo) & (ad <= le)).sum()) if le is not None else int((ad > lo).sum()))
        got_counts = [b["count"] for b in sh.get("abs_diff_histogram", [])]
        check(len(bounds) == 20 and got_counts == want_counts,
              f"report: |diff| histogram bucket by bucket = kite score's ({got_counts})")
        def q(p):
            rank = max(1, int(np.ceil(p * n)))
            for k, c in enumerate(np.cumsum(want_counts)):
                if c >= rank:
                    return bounds[k]
        qs = sh.get("abs_diff_quantiles", {})
        check([qs.get("p50"), qs.get("p90"), qs.get("p99")] == [q(0.5), q(0.9), q(0.99)],
              f"report: |diff| quantiles {qs} = the buckets holding them")
        check(abs(sh.get("mean_abs_diff", -1) - ad.mean()) < 1e-6, f"report: mean |diff| {sh.get('mean_abs_diff')} ~ {ad.mean():.6f}")
        cols = {c["name"]: c for c in sh.get("columns", [])}
        rank = sh.get("features_by_psi", [])
        check(rank[:1] == ["Age"] and cols.get("Age", {}).get("drifted") is True,
              f"report: Age, the candidate's one change, ranks first in the disagreeing rows' drift ({rank}; "
              f"Age psi {cols.get('Age', {}).get('psi')}, next {cols.get(rank[1], {}).get('psi') if len(rank) > 1 else None})")
        check(cols.get("Age", {}).get("count") == want_dis, "report: the disagreeing rows' Age column counts each of them")
        html = open(os.path.join(REPORTS, "pass-000001.html")).read()
        m = re.search(r"Drift of the disagreeing rows.*?<tr><td>([^<]*)</td>", html, re.S)
        check("Shadow model: serving vs candidate" in html and "<b>%d</b>" % want_dis in html and m and m.group(1) == "Age",
              "HTML report: the shadow section, its disagreement count, Age first")

    send = lambda tag: kite_e2e.produce_titanic(p, rows, fields, tag)

    check(wait("kite_ready", 1) == 1, "ready")
    send("a")
    n = len(rows)
    check(wait("kite_events_scored_total", n) == n, "first pass scored")
    check(wait("kite_shadow_rows_total", n, 10) == n, f"kite_shadow_rows_total = {n}")
    check(metric("kite_shadow_disagreements_total") == want_dis,
          f"disagreements = {want_dis} (|diff| > {TOL} by kite score of both models)")
    check(metric("kite_shadow_abs_diff_count") == n, "abs-diff histogram counts every row")
    check(abs(metric("kite_shadow_abs_diff_sum") - np.abs(diff).sum()) < 1e-3,
          f"abs-diff sum {metric('kite_shadow_abs_diff_sum')} ~ {np.abs(diff).sum():.4f}")
    check_report(n)
    # Promotion: the candidate becomes the serving file; SIGHUP.
    shutil.copy(w("m1.json"), w("serving.json.tmp"))
    os.rename(w("serving.json.tmp"), w("serving.json"))
    serve.send_signal(signal.SIGHUP)
    check(wait("kite_model_generation", 2, 10) == 2, "promotion: SIGHUP swapped the serving model")
    send("b")
    check(wait("kite_events_scored_total", 2 * n) == 2 * n, "second pass scored")
    check(wait("kite_shadow_rows_total", 2 * n, 10) == 2 * n, "shadow scored the second pass too")
    check(metric("kite_shadow_disagreements_total") == want_dis, "after promotion: no new disagreement")
    r2 = wait_report(2)
    sh2 = r2["windows"][0]["latest"].get("shadow", {}) if r2 else {}
    check(sh2.get("rows") == n and sh2.get("disagreeing") == 0 and sh2.get("disagreement_share") == 0,
          f"report of the pass after promotion: {n} rows, no disagreement ({ {k: sh2.get(k) for k in ('rows', 'disagreeing')} })")
    serve.send_signal(signal.SIGTERM)
    check(serve.wait(timeout=60) == 0, "SIGTERM: exit 0")
    shadow, preds = {}, {}
    for m in kite_e2e.consume_until(broker.addr, ["shadow", "predictions"],
                                    lambda: len(shadow) >= 2 * n and len(preds) >= 2 * n):
        (shadow if m.topic() == "shadow" else preds)[m.key().decode()] = json.loads(m.value())
    check(len(shadow) == 2 * n, f"shadow topic: one record per event ({len(shadow)})")
    f32 = lambda v: struct.pack("<f", v)
    ok = all(f32(shadow["a-%d" % i]["prediction"]) == f32(b[i]) and
             f32(shadow["a-%d" % i]["serving_prediction"]) == f32(a[i]) for i in range(n) if "a-%d" % i in shadow)
    check(ok, "shadow records: candidate = kite score of m1, serving = kite score of m0")
    fp1 = shadow["a-0"]["model_fingerprint"]
    check(all(preds["b-%d" % i]["model_fingerprint"] == fp1 and f32(preds["b-%d" % i]["prediction"]) == f32(b[i])
              for i in range(n)), "after promotion the predictions are the candidate's")
finally:
    if serve.poll() is None:
        serve.kill()
    broker.stop()
print("%d failure(s)" % len(failures))
sys.exit(T.exit_code())
