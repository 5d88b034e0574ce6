#!/usr/bin/python3
"""kite bench as a perf gate (--json, --baseline, --max-regression, --measure).

Two models trained here on the same rows (Debian's XGBoost 1.7), 30 trees each, max_depth 2 and
8. With callgrind instruction counts (deterministic):
  - two --json runs of one build and model give the same figures, and comparing the build with
    its own baseline exits 0 (+0.00%);
  - the deeper model against the shallow one's baseline exits 1 with a REGRESSION row (and 0
    when --max-regression allows its growth);
  - kite_slowed (the same CLI with its kernels built at -O0, perf/perf.cmake) against the
    normal build's baseline exits 1.
With median-of-N timings: the entries say "time", and the deeper model trips a 20% gate.
A baseline measured one way and a candidate measured the other do not compare (exit 1); a
broken baseline file exits 1 with one line naming it."""
import argparse
import json
import os
import sys
import tempfile

import numpy as np
import xgboost as xgb

import kite_e2e

T = kite_e2e.Checks()
check = T.check


def run(*args):
    return kite_e2e.run(*args, timeout=300)


def train(tmp):
    rng = np.random.default_rng(7)
    x = rng.normal(size=(3000, 8)).astype(np.float32)
    x[rng.random(x.shape) < 0.05] = np.nan
    y = (np.nan_to_num(x[:, 0]) + np.nan_to_num(x[:, 1]) * np.nan_to_num(x[:, 2]) > 0).astype(int)
    names = ["f%d" % i for i in range(8)]
    d = xgb.DMatrix(x, label=y, feature_names=names)
    paths = {}
    for depth in (2, 8):
        b = xgb.train({"objective": "binary:logistic", "max_depth": depth, "eta": 0.3,
                       "tree_method": "hist", "seed": 1}, d, num_boost_round=30)
        paths[depth] = os.path.join(tmp, "d%d.json" % depth)
        b.save_model(paths[depth])
    rows = os.path.join(tmp, "rows.csv")
    with open(rows, "w") as f:
        f.write(",".join(names) + "\n")
        for r in x[:1000]:
            f.write(",".join("" if np.isnan(v) else "%.9g" % v for v in r) + "\n")
    return paths, rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kite", required=True)
    ap.add_argument("--kite-slowed", required=True)
    a = ap.parse_args()
    k, slowed = a.kite, a.kite_slowed
    with tempfile.TemporaryDirectory() as tmp:
        models, rows = train(tmp)
        gate = ["--input", rows, "--kernel", "scalar", "--batch", "256", "--seconds", "0.02"]

        r = run(k, "bench", "--help")
        for flag in ("--json", "--baseline", "--max-regression", "--measure", "--repeat"):
            check(r.returncode == 0 and flag in r.stdout, "bench --help lists %s" % flag)

        base_path = os.path.join(tmp, "base.json")
        r = run(k, "bench", "--model", models[2], *gate, "--json")
        check(r.returncode == 0, "--json exits 0: %d %r" % (r.returncode, r.stderr))
        with open(base_path, "w") as f:
            f.write(r.stdout)
        try:
            base = json.loads(r.stdout)
        except ValueError:
            base = {}
            check(False, "--json writes JSON: %r" % r.stdout[:200])
        e = base.get("entries", [{}])
        check(base.get("kite_bench") == 1 and base.get("trees") == 30 and base.get("rows") == 1000
              and base.get("max_depth") == 2, "JSON header: %r" % {x: base.get(x) for x in
                                                                   ("kite_bench", "trees", "rows")})
        check(len(e) == 1 and e[0].get("kernel") == "scalar" and e[0].get("batch") == 256
              and e[0].get("measure") == "instructions" and e[0].get("instructions_per_row", 0) > 0,
              "one scalar entry measured by instruction count: %r" % e)

        r2 = run(k, "bench", "--model", models[2], *gate, "--json")
        e2 = json.loads(r2.stdout).get("entries", [{}]) if r2.returncode == 0 else [{}]
        check(e2[0].get("instructions_per_row") == e[0].get("instructions_per_row"),
              "instruction counts repeat exactly: %r vs %r" % (e2[0].get("instructions_per_row"),
                                                               e[0].get("instructions_per_row")))

        r = run(k, "bench", "--model", models[2], *gate, "--baseline", base_path)
        print(r.stdout, end="")
        check(r.returncode == 0 and "+0.00%" in r.stdout and "no regression over 5%" in r.stdout,
              "same build, same model: exit 0, +0.00%%: %d %r" % (r.returncode, r.stdout[-300:]))

        r = run(k, "bench", "--model", models[8], *gate, "--baseline", base_path)
        print(r.stdout, end="")
        check(r.returncode == 1 and " REGRESSION" in r.stdout and "max depth 8" in r.stdout,
              "deeper model: exit 1 with a REGRESSION row: %d %r" % (r.returncode, r.stdout[-300:]))
        r = run(k, "bench", "--model", models[8], *gate, "--baseline", base_path,
                "--max-regression", "5000%")
        check(r.returncode == 0 and " ok" in r.stdout,
              "deeper model within --max-regression 5000%%: exit 0: %d %r"
              % (r.returncode, r.stdout[-300:]))

        r = run(slowed, "bench", "--model", models[2], *gate, "--baseline", base_path)
        print(r.stdout, end="")
        check(r.returncode == 1 and " REGRESSION" in r.stdout,
              "slowed build (-O0 kernels): exit 1 with a REGRESSION row: %d %r"
              % (r.returncode, r.stdout[-300:]))

        r = run(k, "bench", "--model", models[2], *gate, "--baseline", base_path, "--json")
        try:
            j = json.loads(r.stdout)
        except ValueError:
            j = {}
        je = j.get("entries", [{}])[0]
        check(r.returncode == 0 and je.get("regression") is False and je.get("change") == 0
              and "+0.00%" in r.stderr, "--json with --baseline: JSON on stdout with the "
              "comparison, the table on stderr: %r %r" % (je, r.stderr[-200:]))

        # Timings: labelled, and a clear slow-down trips.
        tgate = gate + ["--measure", "time", "--repeat", "5"]
        tbase = os.path.join(tmp, "tbase.json")
        r = run(k, "bench", "--model", models[2], *tgate, "--json")
        with open(tbase, "w") as f:
            f.write(r.stdout)
        te = json.loads(r.stdout).get("entries", [{}]) if r.returncode == 0 else [{}]
        check(te[0].get("measure") == "time" and te[0].get("ns_per_row", 0) > 0,
              "--measure time: entries say time, ns_per_row > 0: %r" % te)
        r = run(k, "bench", "--model", models[8], *tgate, "--baseline", tbase,
                "--max-regression", "20%")
        print(r.stdout, end="")
        check(r.returncode == 1 and " REGRESSION" in r.stdout and "median of 5" in r.stdout,
              "time: deeper model trips a 20%% gate: %d %r" % (r.returncode, r.stdout[-300:]))

        r = run(k, "bench", "--model", models[2], *gate, "--measure", "time", "--baseline",
                base_path)
        check(r.returncode == 1 and "NOT COMPARABLE" in r.stdout,
              "instructions baseline vs time candidate: exit 1, not comparable: %d %r"
              % (r.returncode, r.stdout[-300:]))

        bad = os.path.join(tmp, "bad.json")
        with open(bad, "w") as f:
            f.write('{"kite_bench": 1, "entries": [{"kernel": "scalar"}]}')
        r = run(k, "bench", "--model", models[2], *gate, "--baseline", bad)
        lines = r.stderr.splitlines()
        check(r.returncode == 1 and len(lines) == 1 and "bad.json" in lines[0]
              and "entries[0]" in lines[0], "broken baseline: exit 1, one line naming file "
              "and entry: %d %r" % (r.returncode, r.stderr))
        r = run(k, "bench", "--model", models[2], *gate, "--max-regression", "five")
        check(r.returncode == 2 and "--max-regression" in r.stderr,
              "--max-regression five: usage error: %d %r" % (r.returncode, r.stderr))

    print("bench_gate: %d passed, %d failed" % (T.passed, len(T.failures)))
    return T.exit_code()


if __name__ == "__main__":
    sys.exit(main())
