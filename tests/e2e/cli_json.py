#!/usr/bin/python3
"""Orchestration-friendly batch commands (issue 16, deliverable 5): every batch command (score,
featurize, profile, drift, bench, capacity) with --json ends its stdout with one JSON line a DAG
step can parse, {"command", "result": ok|finding|error, "ok", "exit", ...}, on success and on
failure alike (a failure before the command ran carries "error": the same one line it wrote on
stderr), and exits with the stable codes (0 ok, 1 error / bad input, 2 usage, 3 a finding the
caller asked to fail on). Each case runs the real command and asserts the code, the line and,
for failures, the stderr line."""
import csv
import json
import os
import subprocess
import sys

from kite_e2e import Checks, e2e_args

args, w = e2e_args()
T = Checks(verbose=True)
check, failures = T.check, T.failures


def run(*argv):
    r = subprocess.run([args.kite, *argv], cwd=args.root, capture_output=True, text=True)
    return r.returncode, r.stdout, r.stderr


def last_json(out):
    lines = [l for l in out.splitlines() if l.strip()]
    try:
        return json.loads(lines[-1]) if lines else None
    except ValueError:
        return None


RESULT = {0: "ok", 1: "error", 2: "error", 3: "finding"}


def case(what, argv, rc_want, command, pred=lambda j: True, error_has=None):
    """Runs kite ARGV; asserts the exit code, the last stdout line's contract, PRED(line), and
    for a failure that "error" is a line of stderr (naming ERROR_HAS when given)."""
    rc, out, err = run(*argv)
    j = last_json(out)
    good = (rc == rc_want and j is not None and j.get("command") == command and j.get("exit") == rc
            and j.get("result") == RESULT.get(rc) and j.get("ok") is (rc in (0, 3)))
    if good and rc in (1, 2):
        e = j.get("error", "")
        good = bool(e) and e in err.splitlines() and (error_has is None or error_has in e)
    if good:
        good = bool(pred(j))
    tail = out.strip().splitlines()[-1:] if out.strip() else ["(no stdout)"]
    check(good, f"{what}: exit {rc} (want {rc_want}); last line {tail[0][:300]}")
    return j or {}


M, S, D = "models/titanic.json", "models/titanic.spec.json", "data/titanic.csv"
with open(w("garbage.json"), "w") as f:
    f.write('{"learner": [1, 2')  # a truncated model file
GOLDEN = "tests/golden/xgb1.7/binary_logistic_d6.json"

# ---- score ----
case("score ok", ["score", "--model", M, "--spec", S, "--input", D, "-o", w("p.csv"), "--json", "-q"], 0,
     "score", lambda j: j["rows"] == 891 and j["trees"] > 0 and len(j["fingerprint"]) == 16
     and j["output"] == w("p.csv"))
check(sum(1 for _ in open(w("p.csv"))) == 892, "score --json still wrote the predictions file")
case("score --json without -o: usage", ["score", "--model", M, "--input", D, "--json"], 2, "score",
     error_has="-o FILE")
case("score unknown option: usage", ["score", "--model", M, "--input", D, "--json", "--bogus"], 2, "score",
     error_has="--bogus")
case("score missing model", ["score", "--model", w("nosuch.json"), "--input", D, "-o", w("p2.csv"), "--json"],
     1, "score", error_has="nosuch.json")
case("score bad model", ["score", "--model", w("garbage.json"), "--input", D, "-o", w("p2.csv"), "--json"],
     1, "score", error_has="garbage.json")
case("score missing input", ["score", "--model", M, "--spec", S, "--input", w("nosuch.csv"), "-o", w("p2.csv"),
                             "--json"], 1, "score", error_has="nosuch.csv")
case("score --help --json", ["score", "--help", "--json"], 0, "score")
rc, out, err = run("score", "--model", w("nosuch.json"), "--input", D, "-o", w("p2.csv"))
check(rc == 1 and not out and "nosuch.json" in err, "without --json: exit 1, nothing on stdout, stderr names it")

# ---- featurize ----
case("featurize ok", ["featurize", "--spec", S, "--input", D, "-o", w("f.csv"), "--json", "-q"], 0, "featurize",
     lambda j: j["rows"] == 891 and j["features"] == 6 and j["bad"] == 0)
case("featurize missing spec", ["featurize", "--spec", w("nosuch.spec.json"), "--input", D, "-o", w("f2.csv"),
                                "--json"], 1, "featurize", error_has="nosuch.spec.json")
case("featurize without --input: usage", ["featurize", "--spec", S, "-o", w("f2.csv"), "--json"], 2, "featurize")
case("featurize missing input", ["featurize", "--spec", S, "--input", w("nosuch.csv"), "-o", w("f2.csv"),
                                 "--json"], 1, "featurize", error_has="nosuch.csv")

# ---- profile ----
case("profile ok", ["profile", "--model", M, "--spec", S, "--input", D, "--label", "Survived", "--output",
                    w("ref.json"), "--json"], 0, "profile", lambda j: j["rows"] == 891 and j["task"] == "classification")
case("profile without --output: usage", ["profile", "--model", M, "--spec", S, "--input", D, "--json"], 2, "profile")
case("profile bad model", ["profile", "--model", w("garbage.json"), "--spec", S, "--input", D, "--output",
                           w("ref2.json"), "--json"], 1, "profile", error_has="garbage.json")

# ---- drift: the reference itself is no drift (0); shifted Fare, Age, SibSp, Parch is (3) ----
with open(os.path.join(args.root, D)) as f, open(w("shifted.csv"), "w", newline="") as g:
    rd, wr = csv.reader(f), csv.writer(g)
    hdr = next(rd)
    wr.writerow(hdr)
    shift = {hdr.index("Fare"): lambda v: v * 5 + 100, hdr.index("Age"): lambda v: v * 2 + 20,
             hdr.index("SibSp"): lambda v: v + 3, hdr.index("Parch"): lambda v: v + 3}
    for r in rd:
        for i, fn in shift.items():
            if r[i]:
                r[i] = str(fn(float(r[i])))
        wr.writerow(r)
base = ["drift", "--reference", w("ref.json"), "--model", M, "--spec", S, "--fail-on-drift"]
j0 = case("drift of the reference itself, --fail-on-drift", [*base, "--input", D, "--json", w("d0.json")], 0,
          "drift", lambda j: j["rows"] == 891 and j["dataset_drift"] is False and j["report"] == w("d0.json"))
j3 = case("drift of the shifted data, --fail-on-drift: a finding", [*base, "--input", w("shifted.csv"), "--json",
                                                                   w("d3.json")], 3, "drift",
          lambda j: j["dataset_drift"] is True and j["drifted_features"] >= 4 and j["features"] == 6)
rep = json.load(open(w("d3.json")))
all_w = [x for x in rep["windows"] if x["name"] == "all"][0]["latest"]
check(all_w["drifted_features"] == j3.get("drifted_features") and all_w["dataset_drift"] is True,
      "drift: the stdout line agrees with the --json FILE report")
case("drift of the shifted data without --fail-on-drift", [*base[:-1], "--input", w("shifted.csv"), "--json",
                                                          w("d4.json")], 0, "drift",
     lambda j: j["dataset_drift"] is True)
case("drift without --input: usage", ["drift", "--reference", w("ref.json"), "--json", w("d5.json")], 2, "drift")
case("drift --json without its FILE: usage", ["drift", "--reference", w("ref.json"), "--input", D, "--json"], 2,
     "drift")
case("drift missing reference", ["drift", "--reference", w("nosuch.ref.json"), "--input", D, "--json", w("d6.json")],
     1, "drift", error_has="nosuch.ref.json")

# ---- bench: its figures are the line (and still a --baseline file) ----
quick = ["--kernel", "scalar", "--batch", "16", "--seconds", "0.01", "--repeat", "1", "--measure", "time"]
jb = case("bench ok", ["bench", "--model", GOLDEN, "--rows", "256", *quick, "--json"], 0, "bench",
          lambda j: j["kite_bench"] == 1 and len(j["entries"]) == 1 and j["entries"][0]["kernel"] == "scalar")
with open(w("bench-base.json"), "w") as f:
    json.dump(jb, f)
case("bench --baseline of its own --json line", ["bench", "--model", GOLDEN, "--rows", "256", *quick, "--json",
                                                 "--baseline", w("bench-base.json"), "--max-regression", "10000"],
     0, "bench", lambda j: "baseline" in j["entries"][0])
case("bench missing model", ["bench", "--model", w("nosuch.json"), "--json"], 1, "bench", error_has="nosuch.json")
case("bench bad --batch: usage", ["bench", "--model", GOLDEN, "--batch", "x", "--json"], 2, "bench")

# ---- capacity ----
case("capacity ok", ["capacity", "--model", M, "--spec", S, "--input", D, "--key", "PassengerId", "--events", "1000",
                     "--rate", "5000", "--json"], 0, "capacity",
     lambda j: j["events_measured"] == 1000 and j["cores"] >= 1 and j["partitions"] >= 1)
case("capacity without --rate: usage", ["capacity", "--model", M, "--input", D, "--json"], 2, "capacity",
     error_has="required")
case("capacity missing model", ["capacity", "--model", w("nosuch.json"), "--input", D, "--rate", "1000", "--json"],
     1, "capacity", error_has="nosuch.json")
print("%d failure(s)" % len(failures))
sys.exit(T.exit_code())
