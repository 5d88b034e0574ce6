#!/usr/bin/python3
"""kite profile / kite drift from the command line: the --spec path (raw titanic.csv through
its feature spec gives the same profile as the featurized CSV), --fail-on-drift, the test each
column gets (every branch of the automatic choice, and --test overriding it), prediction drift,
dataset drift on either side of --drift-share, and bad input giving one clear line and the
documented exit status."""
import json
import math
import os
import random
import subprocess
import sys

import kite_e2e


def run(args, expect):
    p = subprocess.run(args, capture_output=True, text=True)
    ok = p.returncode == expect
    if not ok:
        print(f"FAIL: {' '.join(args)}: exit {p.returncode}, expected {expect}\n{p.stderr}",
              file=sys.stderr)
    return ok, p


def expect(cond, what):
    if not cond:
        print(f"FAIL: {what}", file=sys.stderr)
    return bool(cond)


def write_csv(path, columns, nrows, seed):
    """columns: name -> f(row, rng) giving the field's text ("" = missing)."""
    rng = random.Random(seed)
    with open(path, "w") as f:
        f.write(",".join(columns) + "\n")
        for i in range(nrows):
            f.write(",".join(gen(i, rng) for gen in columns.values()) + "\n")


def latest_all(path):
    """The "all" window's latest check from a `kite drift --json` file."""
    return [x for x in json.load(open(path))["windows"] if x["name"] == "all"][0]["latest"]


# Synthetic columns for the automatic test choice, named by what decides it: the profile makes
# integer-valued columns with <= 10 values categorical, any other column numeric; "distinct"
# counts the reference's values.
CHOICE_COLUMNS = {
    "cont": lambda i, r: "%.6f" % r.gauss(0, 1),      # numeric, many values
    "num6": lambda i, r: "%.1f" % (i % 6 + 0.5),      # numeric, 6 values: just above 5
    "num5": lambda i, r: "%.1f" % (i % 5 + 0.5),      # numeric, 5 values: not > 5
    "num3": lambda i, r: "%.1f" % (i % 3 + 0.5),      # numeric, 3 values
    "num2": lambda i, r: "%.2f" % (i % 2 * 0.5 + 0.25),  # numeric, 2 values
    "cat8": lambda i, r: str(i % 8),                  # categorical with 8 (> 5) categories
    "cat3": lambda i, r: str(i % 3),                  # categorical, 3 categories
    "bin": lambda i, r: str(i % 2),                   # categorical, binary
    "gappy": lambda i, r: "" if i == 0 else "%.6f" % r.gauss(0, 1),  # one value missing
}
CHOICE_KIND = {"cont": "numeric", "num6": "numeric", "num5": "numeric", "num3": "numeric",
               "num2": "numeric", "cat8": "categorical", "cat3": "categorical",
               "bin": "categorical", "gappy": "numeric"}
# Reference of 1000 rows (<= 1000 values: KS / chi-square / z) and of 1001 rows (> 1000:
# Wasserstein / Jensen-Shannon); "gappy" has one value fewer than rows, so 1000 values in the
# 1001-row reference: the rule counts values, not rows (missing values are excluded).
CHOICE_SMALL = {"cont": "ks", "num6": "ks", "num5": "chisquare", "num3": "chisquare",
                "num2": "z", "cat8": "chisquare", "cat3": "chisquare", "bin": "z",
                "gappy": "ks"}
CHOICE_LARGE = {"cont": "wasserstein", "num6": "wasserstein", "num5": "jensenshannon",
                "num3": "jensenshannon", "num2": "jensenshannon", "cat8": "jensenshannon",
                "cat3": "jensenshannon", "bin": "jensenshannon", "gappy": "ks"}
P_TESTS = ("ks", "chisquare", "z")                 # drifted when p < 0.05
DISTANCE_TESTS = ("jensenshannon", "wasserstein")  # no p-value; drifted when >= 0.1


def check_test_choice(k, w):
    """Each branch of the automatic per-column test (engine/drift/include/kite/drift.h), read from the JSON's
    columns[].test, and --test overriding it."""
    results = []
    names = ",".join(CHOICE_COLUMNS)
    for nrows, want in ((1000, CHOICE_SMALL), (1001, CHOICE_LARGE)):
        ref, prof = w(f"choice{nrows}.csv"), w(f"choice{nrows}.json")
        write_csv(ref, CHOICE_COLUMNS, nrows, seed=nrows)
        results.append(run([k, "profile", "--columns", names, "--input", ref, "--output", prof], 0)[0])
        kinds = {c["name"]: c["kind"] for c in json.load(open(prof))["columns"]}
        results.append(expect(kinds == CHOICE_KIND, f"choice profile kinds {kinds}"))
        ok, _ = run([k, "drift", "--reference", prof, "--input", ref, "--json", w("choice.json"), "-q"], 0)
        cols = latest_all(w("choice.json"))["columns"] if ok else []
        got = {c["name"]: c["test"] for c in cols}
        results.append(expect(got == want, f"automatic tests, {nrows}-row reference: {got}, want {want}"))
        drifted = [c["name"] for c in cols if c["drifted"]]
        results.append(expect(cols and not drifted, f"the reference against itself drifts: {drifted}"))
    # --test NAME: every column takes NAME, except that KS and Wasserstein need a numeric
    # column's fine grid, so a categorical column keeps its automatic test. The current data is
    # shifted so that every test has something to see: numeric values + 3 (past the reference's
    # max), three rows in four of each categorical column in category 0.
    def shift(name, gen):
        def shifted(i, r):
            v = gen(i, r)
            if CHOICE_KIND[name] == "categorical":
                return "0" if i % 4 else v
            return "%.6f" % (float(v) + 3) if v else ""
        return shifted
    write_csv(w("choice_cur.csv"), {n: shift(n, g) for n, g in CHOICE_COLUMNS.items()}, 600, seed=7)
    for name in ("auto", "psi", "ks", "chisquare", "z", "jensenshannon", "wasserstein"):
        ok, _ = run([k, "drift", "--reference", w("choice1000.json"), "--input", w("choice_cur.csv"),
                     "--test", name, "--json", w("choice.json"), "-q"], 0)
        cols = latest_all(w("choice.json"))["columns"] if ok else []
        got = {c["name"]: c["test"] for c in cols}
        want = {n: CHOICE_SMALL[n] if name == "auto" or (name in ("ks", "wasserstein") and
                                                         CHOICE_KIND[n] == "categorical") else name
                for n in CHOICE_COLUMNS}
        results.append(expect(got == want, f"--test {name}: {got}, want {want}"))
        for c in cols:  # the statistic and verdict are the named test's
            t, what = c["test"], f"--test {name}: column {c['name']} {c}"
            if t == "psi":
                ok = c["statistic"] == c["psi"] and c["p_value"] is None and \
                    c["drifted"] == (c["status"] == "significant")
            elif t in P_TESTS:
                ok = c["p_value"] is not None and c["drifted"] == (c["p_value"] < 0.05)
            elif t in DISTANCE_TESTS:
                ok = c["p_value"] is None and c["drifted"] == (c["statistic"] >= 0.1)
            else:
                ok = False
            results.append(expect(ok, what))
        # Every shifted column drifts under each test (ks, chisquare, ... all see a +3 shift).
        drifted = {c["name"] for c in cols if c["drifted"]}
        results.append(expect(drifted == set(CHOICE_COLUMNS),
                              f"--test {name}: drifted {sorted(drifted)}"))
    ok, p = run([k, "drift", "--reference", w("choice1000.json"), "--input", w("choice_cur.csv"),
                 "--test", "anderson", "-q"], 2)
    results.append(ok and expect("unknown test 'anderson'" in p.stderr, f"--test anderson: {p.stderr}"))
    return results


def check_prediction_drift(k, r, w):
    """Sex flipped in every row moves the Titanic model's predictions: prediction drift in the
    JSON and a prediction event; the same rows in reverse order (the same distribution) give
    neither."""
    results = []
    model = f"{r}/models/titanic.json"
    rows = open(f"{r}/data/titanic_features.csv").read().splitlines()
    sex = rows[0].split(",").index("Sex")
    flipped = [rows[0]]
    for line in rows[1:]:
        v = line.split(",")
        v[sex] = str(1 - int(v[sex]))
        flipped.append(",".join(v))
    open(w("pred_shifted.csv"), "w").write("\n".join(flipped) + "\n")
    open(w("pred_same.csv"), "w").write("\n".join([rows[0]] + rows[:0:-1]) + "\n")
    for name, want in (("pred_shifted", True), ("pred_same", False)):
        ok, _ = run([k, "drift", "--reference", w("f.json"), "--model", model, "--input",
                     w(name + ".csv"), "--json", w(name + ".json"), "--events", w(name + ".jsonl"),
                     "-q"], 0)
        if not ok:
            results.append(False)
            continue
        latest = latest_all(w(name + ".json"))
        pred = [c for c in latest["columns"] if c["role"] == "prediction"]
        events = [json.loads(line) for line in open(w(name + ".jsonl"))]
        pevents = [e for e in events if e["kind"] == "prediction"]
        results.append(expect(latest.get("prediction_drift") is want and len(pred) == 1
                              and pred[0]["drifted"] is want,
                              f"{name}: prediction_drift {latest.get('prediction_drift')}, "
                              f"prediction column {pred}, want {want}"))
        want_events = [{"window": "all", "from": False, "to": True}] if want else []
        got_events = [{x: e[x] for x in ("window", "from", "to")} for e in pevents]
        results.append(expect(got_events == want_events,
                              f"{name}: prediction events {pevents}, want {want_events}"))
        if want and pevents:  # the event carries the prediction column's result (%.9g)
            close = lambda a, b: math.isclose(a, b, rel_tol=1e-8)
            results.append(expect(close(pevents[0]["statistic"], pred[0]["statistic"])
                                  and close(pevents[0]["p_value"], pred[0]["p_value"])
                                  and pred[0]["p_value"] < 0.05,
                                  f"{name}: event {pevents[0]} vs column {pred[0]}"))
    return results


def check_dataset_share(k, w):
    """drifted_share and dataset_drift on either side of --drift-share: 10 numeric features,
    NSHIFT of them moved far past the reference's range (KS drifts), the others the reference's
    own values in another order (KS statistic 0)."""
    results = []
    base = {f"x{j}": (lambda j: lambda i, rng: "%.6f" % (rng.gauss(0, 1) + j))(j) for j in range(10)}
    write_csv(w("share_ref.csv"), base, 500, seed=11)
    run([k, "profile", "--columns", ",".join(base), "--input", w("share_ref.csv"),
         "--output", w("share_ref.json")], 0)
    ref = open(w("share_ref.csv")).read().splitlines()
    # (shifted features, --drift-share, expected dataset drift): share 0.4 below 0.5, 0.5 at it
    # (>= drifts), 0.6 above it; 0.5 just below 0.51.
    for nshift, share, want in ((4, "0.5", False), (5, "0.5", True), (6, "0.5", True),
                                (5, "0.51", False)):
        cur = [ref[0]]
        for line in ref[:0:-1]:
            v = line.split(",")
            cur.append(",".join("%.6f" % (float(x) + 100) if j < nshift else x for j, x in enumerate(v)))
        open(w("share_cur.csv"), "w").write("\n".join(cur) + "\n")
        args = [k, "drift", "--reference", w("share_ref.json"), "--input", w("share_cur.csv"),
                "--drift-share", share, "--json", w("share.json"), "--events", w("share.jsonl"), "-q"]
        ok, _ = run(args + ["--fail-on-drift"], 3 if want else 0)
        results.append(ok)
        ok, _ = run(args, 0)
        if not ok:
            results.append(False)
            continue
        latest = latest_all(w("share.json"))
        drifted = sorted(c["name"] for c in latest["columns"] if c["drifted"])
        what = f"{nshift} of 10 shifted, --drift-share {share}"
        results.append(expect(drifted == [f"x{j}" for j in range(nshift)], f"{what}: drifted {drifted}"))
        results.append(expect(latest["drifted_features"] == nshift and
                              latest["drifted_share"] == nshift / 10 and
                              latest["dataset_drift"] is want,
                              f"{what}: drifted_features {latest['drifted_features']}, "
                              f"drifted_share {latest['drifted_share']}, dataset_drift "
                              f"{latest['dataset_drift']}, want {want}"))
        dataset = [e for e in map(json.loads, open(w("share.jsonl"))) if e["kind"] == "dataset"]
        want_events = [(False, True, nshift / 10)] if want else []
        got_events = [(e["from"], e["to"], e["drifted_share"]) for e in dataset]
        results.append(expect(got_events == want_events, f"{what}: dataset events {dataset}"))
    return results


def main():
    a, w = kite_e2e.e2e_args()
    k, r = a.kite, a.root
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
    results += check_test_choice(k, w)
    results += check_prediction_drift(k, r, w)
    results += check_dataset_share(k, w)
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
