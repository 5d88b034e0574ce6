#!/usr/bin/python3
"""The loader reads the XGBoost 2.x JSON schema as well as 1.7's.

Debian bookworm ships XGBoost 1.7.4 only, so no 2.x model can be trained here. This test takes
every JSON golden model (trained by 1.7.4, tests/golden/xgb1.7) and rewrites it the way XGBoost 2.x
saves the same booster:
  - "version": [2, 1, 3];
  - learner_model_param.base_score in the list form "[<value>]" (one value per target);
  - gradient_booster.model.iteration_indptr (tree offsets per boosting round, new in 2.0),
    gbtree_model_param without size_leaf_vector;
  - every tree's tree_param.size_leaf_vector "1" (2.x writes 1 for a scalar leaf, 1.7 wrote 0);
  - rank:* objectives with 2.x's "lambdarank_param" instead of "lambda_rank_param".
Then `kite score --margin` on the rewritten model must give XGBoost's golden margins bit for bit,
and 2.x models whose leaf vectors or intercept lists disagree with their outputs must be refused
with one line naming why (real multi-target and vector-leaf models are in tests/golden/xgb3)."""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

import kite_e2e


def to_v2(model):
    m = json.loads(json.dumps(model))
    m["version"] = [2, 1, 3]
    learner = m["learner"]
    lmp = learner["learner_model_param"]
    lmp["base_score"] = "[%s]" % lmp["base_score"]
    lmp.setdefault("num_target", "1")
    gb = learner["gradient_booster"]
    tree_model = gb["gbtree"]["model"] if gb["name"] == "dart" else gb["model"]
    param = tree_model["gbtree_model_param"]
    param.pop("size_leaf_vector", None)
    per_round = max(1, int(lmp.get("num_class", "0") or 0)) * int(param.get("num_parallel_tree", "1"))
    n = len(tree_model["trees"])
    tree_model["iteration_indptr"] = list(range(0, n + 1, per_round)) if n % per_round == 0 else [0, n]
    for t in tree_model["trees"]:
        t["tree_param"]["size_leaf_vector"] = "1"
    obj = learner["objective"]
    if "lambda_rank_param" in obj:
        obj.pop("lambda_rank_param")
        obj["lambdarank_param"] = {"lambdarank_num_pair_per_sample": "1",
                                   "lambdarank_pair_method": "topk", "lambdarank_unbiased": "0"}
    return m


def f32(path):
    return np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.float64, ndmin=2).astype(np.float32)


def main():
    args, _ = kite_e2e.e2e_args("--kite", "--golden")
    manifest = json.load(open(os.path.join(args.golden, "manifest.json")))
    failures = checked = 0
    with tempfile.TemporaryDirectory() as tmp:
        for entry in manifest["models"]:
            if not entry["model"].endswith(".json"):
                continue
            src = json.load(open(os.path.join(args.golden, entry["model"])))
            path = os.path.join(tmp, entry["name"] + ".v2.json")
            json.dump(to_v2(src), open(path, "w"))
            out = os.path.join(tmp, entry["name"] + ".m.csv")
            res = subprocess.run([args.kite, "score", "--model", path, "--input",
                                  os.path.join(args.golden, entry["rows"]), "--output", out,
                                  "--margin", "--quiet"], capture_output=True, text=True)
            if res.returncode != 0:
                print("FAIL %-24s exit %d: %s" % (entry["name"], res.returncode, res.stderr.strip()))
                failures += 1
                continue
            km, xm = f32(out), f32(os.path.join(args.golden, entry["margin"]))
            ok = km.shape == xm.shape and np.array_equal(km.view(np.int32), xm.view(np.int32))
            diff = float(np.max(np.abs(km.astype(np.float64) - xm))) if ok or km.shape == xm.shape else float("nan")
            print("%-4s %-24s 2.x schema, margin max|diff|=%g" % ("ok" if ok else "FAIL", entry["name"], diff))
            failures += not ok
            checked += 1
        # Intercept lists and leaf vectors that disagree with the number of outputs are refused
        # with one line naming the field, exit 1.
        src = json.load(open(os.path.join(args.golden, "reg_logistic.json")))
        multi = to_v2(src)
        multi["learner"]["learner_model_param"]["base_score"] = "[5E-1,2.5E-1]"
        multi["learner"]["learner_model_param"]["num_target"] = "3"
        vector_leaf = to_v2(src)
        vector_leaf["learner"]["gradient_booster"]["model"]["trees"][0]["tree_param"]["size_leaf_vector"] = "3"
        for name, model, want in (("intercept list", multi, "base_score has 2 values for 3 outputs"),
                                  ("vector-leaf", vector_leaf, "size_leaf_vector")):
            path = os.path.join(tmp, name + ".v2.json")
            json.dump(model, open(path, "w"))
            res = subprocess.run([args.kite, "score", "--model", path, "--input",
                                  os.path.join(args.golden, "reg_logistic.rows.csv")],
                                 capture_output=True, text=True)
            lines = res.stderr.strip().splitlines()
            refused = res.returncode == 1 and len(lines) == 1 and want in lines[0]
            print("%-4s %s model refused: %s" % ("ok" if refused else "FAIL", name,
                                                 lines[0] if lines else "(no message)"))
            failures += not refused
    if checked < 10:
        print("FAIL: only %d JSON golden models found" % checked)
        failures += 1
    print("%d checked, %d failed" % (checked, failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
