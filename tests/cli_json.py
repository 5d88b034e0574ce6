#!/usr/bin/python3
"""Orchestration-friendly batch commands (issue 16, deliverable 5): `--json` summary lines a DAG
step can parse, and the stable exit codes (0 ok, 1 error / bad input, 2 usage, 3 a finding the
caller asked to fail on). Each case runs the real command and asserts both."""
import argparse
import json
import os
import subprocess
import sys

ap = argparse.ArgumentParser()
ap.add_argument("--kite", required=True)
ap.add_argument("--root", required=True)
ap.add_argument("--workdir", required=True)
args = ap.parse_args()
os.makedirs(args.workdir, exist_ok=True)
w = lambda n: os.path.join(args.workdir, n)
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures.append(what)


def run(*argv):
    r = subprocess.run([args.kite, *argv], cwd=args.root, capture_output=True, text=True)
    return r.returncode, r.stdout, r.stderr


M, S, D = "models/titanic.json", "models/titanic.spec.json", "data/titanic.csv"
rc, out, _ = run("score", "--model", M, "--spec", S, "--input", D, "-o", w("p.csv"), "--json", "-q")
j = json.loads(out)
check(rc == 0 and j["command"] == "score" and j["result"] == "ok" and j["exit"] == 0 and j["rows"] == 891
      and j["trees"] > 0 and len(j["fingerprint"]) == 16 and j["output"] == w("p.csv"),
      f"score --json: {out.strip()}")
check(sum(1 for _ in open(w("p.csv"))) == 892, "score --json still wrote the predictions file")
rc, out, err = run("score", "--model", M, "--input", D, "--json")
check(rc == 2 and not out and "-o FILE" in err, f"score --json without -o: usage error 2 ({err.strip()})")
rc, out, err = run("score", "--model", w("nosuch.json"), "--input", D, "-o", w("p2.csv"))
check(rc == 1 and "nosuch.json" in err, "score of a missing model: exit 1 naming it")
rc, out, _ = run("featurize", "--spec", S, "--input", D, "-o", w("f.csv"), "--json", "-q")
j = json.loads(out)
check(rc == 0 and j["command"] == "featurize" and j["rows"] == 891 and j["features"] == 6 and j["bad"] == 0,
      f"featurize --json: {out.strip()}")
rc, out, _ = run("profile", "--model", M, "--spec", S, "--input", D, "--label", "Survived", "--output",
                 w("ref.json"), "--json")
j = json.loads(out)
check(rc == 0 and j["command"] == "profile" and j["rows"] == 891 and j["task"] == "classification",
      f"profile --json: {out.strip()}")
# drift: the same data is no drift (exit 0); shifted Fare is drift: exit 3 with --fail-on-drift.
rows = open(os.path.join(args.root, D)).read().splitlines()
hdr = rows[0].split(",")
shift = {hdr.index("Fare"): lambda v: v * 5 + 100, hdr.index("Age"): lambda v: v * 2 + 20,
         hdr.index("SibSp"): lambda v: v + 3, hdr.index("Parch"): lambda v: v + 3}
import csv
with open(os.path.join(args.root, D)) as f, open(w("shifted.csv"), "w", newline="") as g:
    rd, wr = csv.reader(f), csv.writer(g)
    wr.writerow(next(rd))
    for r in rd:
        for i, fn in shift.items():
            if r[i]:
                r[i] = str(fn(float(r[i])))
        wr.writerow(r)
base = ["drift", "--reference", w("ref.json"), "--model", M, "--spec", S, "--fail-on-drift", "--json", w("d.json")]
rc0, _, e0 = run(*base[:-2], "--input", D, "--json", w("d0.json"))
check(rc0 == 0, f"drift of the reference itself, --fail-on-drift: exit 0 ({rc0} {e0.strip()[-200:]})")
rc3, _, e3 = run(*base, "--input", w("shifted.csv"))
check(rc3 == 3, f"drift of shifted Fare, Age, SibSp, Parch, --fail-on-drift: exit 3 ({rc3} {e3.strip()[-200:]})")
check(json.load(open(w("d.json"))) is not None, "drift --json FILE is JSON")
rc, _, _ = run("drift", "--reference", w("ref.json"))
check(rc == 2, "drift without --input: usage error 2")
print("%d failure(s)" % len(failures))
sys.exit(1 if failures else 0)
