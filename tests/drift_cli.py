#!/usr/bin/python3
"""kite profile / kite drift from the command line: the --spec path (raw titanic.csv through
its feature spec gives the same profile as the featurized CSV), --fail-on-drift, and bad input
giving one clear line and the documented exit status."""
import argparse
import json
import os
import subprocess
import sys


def run(args, expect):
    p = subprocess.run(args, capture_output=True, text=True)
    ok = p.returncode == expect
    if not ok:
        print(f"FAIL: {' '.join(args)}: exit {p.returncode}, expected {expect}\n{p.stderr}",
              file=sys.stderr)
    return ok, p


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kite", required=True)
    ap.add_argument("--root", required=True)
    ap.add_argument("--workdir", required=True)
    a = ap.parse_args()
    os.makedirs(a.workdir, exist_ok=True)
    k, r, w = a.kite, a.root, lambda n: os.path.join(a.workdir, n)
    model, spec = f"{r}/models/titanic.json", f"{r}/models/titanic.spec.json"
    results = []
    results.append(run([k, "profile", "--model", model, "--spec", spec, "--input",
                        f"{r}/data/titanic.csv", "--label", "Survived", "--output", w("s.json")], 0)[0])
    results.append(run([k, "profile", "--model", model, "--input", f"{r}/data/titanic_features.csv",
                        "--label", "Survived", "--output", w("f.json")], 0)[0])
    s, f = json.load(open(w("s.json"))), json.load(open(w("f.json")))
    same = [c["edges" if "edges" in c else "categories"] for c in s["columns"]] == \
           [c["edges" if "edges" in c else "categories"] for c in f["columns"]]
    if not same:
        print("FAIL: --spec profile differs from the featurized CSV's", file=sys.stderr)
    results.append(same)
    ok, p = run([k, "drift", "--reference", w("s.json"), "--spec", spec, "--model", model,
                 "--input", f"{r}/data/titanic.csv", "--label", "Survived", "--fail-on-drift"], 0)
    results.append(ok and "no dataset drift" in p.stdout)
    # Baseline quality in the profile vs sklearn on kite score's predictions (ROC AUC is
    # binned: 128 score bins, so it may differ from the exact value by a little).
    from sklearn import metrics as skm
    import numpy as np
    run([k, "score", "--model", model, "--input", f"{r}/data/titanic_features.csv", "--output",
         w("pred.csv"), "-q"], 0)
    pred = np.loadtxt(w("pred.csv"), delimiter=",", skiprows=1)
    y = np.loadtxt(f"{r}/data/titanic_features.csv", delimiter=",", skiprows=1, usecols=6)
    q = f["quality"]["metrics"]
    want = {"accuracy": skm.accuracy_score(y, pred >= 0.5),
            "precision": skm.precision_score(y, pred >= 0.5),
            "recall": skm.recall_score(y, pred >= 0.5), "f1": skm.f1_score(y, pred >= 0.5),
            "log_loss": skm.log_loss(y, pred)}
    for name, v in want.items():
        ok = abs(q[name] - v) <= 1e-6 * abs(v)  # kite's predictions are float32 (%.9g) in both
        if not ok:
            print(f"FAIL: quality {name}: kite {q[name]} sklearn {v}", file=sys.stderr)
        results.append(ok)
    auc = skm.roc_auc_score(y, pred)
    results.append(abs(q["roc_auc"] - auc) < 0.01)
    if not results[-1]:
        print(f"FAIL: binned roc_auc {q['roc_auc']} vs exact {auc}", file=sys.stderr)
    # Tripled fares and flipped sexes: dataset drift, exit 3 with --fail-on-drift.
    rows = open(f"{r}/data/titanic_features.csv").read().splitlines()
    out = [rows[0]]
    for line in rows[1:]:
        v = line.split(",")
        v[1] = str(1 - int(v[1]))
        v[5] = str(float(v[5]) * 3 + 20)
        v[2] = str(float(v[2]) + 30) if v[2] else v[2]
        out.append(",".join(v))
    open(w("shifted.csv"), "w").write("\n".join(out) + "\n")
    results.append(run([k, "drift", "--reference", w("f.json"), "--input", w("shifted.csv"),
                        "--fail-on-drift", "-q"], 3)[0])
    # Event-time windows on the UCI file as shipped: one daily check per calendar day.
    aq = f"{r}/data/AirQualityUCI.csv"
    uci = ["-d", ";", "--decimal-comma", "--missing", "-200"]
    run([k, "profile", "--columns", "T,RH", "--input", aq, "--output", w("aq.json")] + uci, 0)
    ok, p = run([k, "drift", "--reference", w("aq.json"), "--input", aq, "--time-column",
                 "Date,Time", "--time-format", "%d/%m/%Y %H.%M.%S", "-w", "daily", "-w", "weekly",
                 "--json", w("aq_time.json"), "--report-dir", w("reports"), "-q"] + uci, 0)
    days = {line.split(";")[0] for line in open(aq).read().splitlines()[1:] if line.split(";")[0]}
    checks = {x["name"]: x["checks"] for x in json.load(open(w("aq_time.json")))["windows"]} if ok else {}
    if checks.get("daily") != len(days) or not 50 <= checks.get("weekly", 0) <= 60:
        print(f"FAIL: time windows: {checks}, {len(days)} days in the data", file=sys.stderr)
        ok = False
    # --report-dir: one HTML (with charts) and one JSON per closed daily / weekly window, like
    # the seeds' daily and weekly Evidently reports; each JSON holds that check as the latest.
    for name in ("daily", "weekly"):
        htmls = sorted(f for f in os.listdir(w("reports")) if f.startswith(name + "-") and f.endswith(".html"))
        jsons = sorted(f for f in os.listdir(w("reports")) if f.startswith(name + "-") and f.endswith(".json"))
        last = json.load(open(os.path.join(w("reports"), jsons[-1]))) if jsons else {"windows": []}
        latest = [x for x in last["windows"] if x["name"] == name]
        page = open(os.path.join(w("reports"), htmls[-1])).read() if htmls else ""
        if (len(htmls) != checks.get(name) or len(jsons) != checks.get(name) or not latest
                or latest[0]["checks"] != checks.get(name) or "<svg" not in page):
            print(f"FAIL: --report-dir {name}: {len(htmls)} html, {len(jsons)} json for "
                  f"{checks.get(name)} checks", file=sys.stderr)
            ok = False
    results.append(ok)
    # Bad input: one line naming the problem, exit 1; usage errors exit 2.
    open(w("bad.json"), "w").write('{"kite_profile": 1, "rows": 3, "bins": 10, "fine_bins": 256,'
                                   ' "columns": [{"name": "x", "role": "feature"}]}')
    for args, expect, needle in [
        ([k, "drift", "--reference", w("bad.json"), "--input", w("shifted.csv")], 1, "columns[0].kind"),
        ([k, "drift", "--reference", w("missing.json"), "--input", w("shifted.csv")], 1, "cannot open"),
        ([k, "drift", "--reference", w("f.json"), "--input", f"{r}/data/AirQualityUCI.csv"], 1, "Pclass"),
        ([k, "drift", "--reference", w("f.json"), "--input", w("shifted.csv"), "--window", "sliding:10:3"], 2, "window"),
        ([k, "drift", "--reference", w("f.json")], 2, "required"),
        ([k, "drift", "--reference", w("aq.json"), "--input", aq, "-w", "daily"] + uci, 2, "--time-column"),
        ([k, "drift", "--reference", w("aq.json"), "--input", aq, "-w", "daily", "--time-column",
          "Date"] + uci, 1, "AirQualityUCI.csv:2"),
        ([k, "profile", "--input", w("shifted.csv"), "--output", w("x.json")], 2, "required"),
        ([k, "profile", "--columns", "Nope", "--input", w("shifted.csv"), "--output", w("x.json")], 1, "Nope"),
    ]:
        ok, p = run(args, expect)
        lines = p.stderr.strip().splitlines()
        if ok and (not lines or needle not in p.stderr):
            print(f"FAIL: {' '.join(args)}: stderr lacks '{needle}': {p.stderr}", file=sys.stderr)
            ok = False
        results.append(ok)
    print(f"drift_cli: {sum(results)} of {len(results)} checks passed")
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
