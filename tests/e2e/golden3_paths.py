#!/usr/bin/python3
"""XGBoost 3.x models on every input path, and the kinds kite refuses.

1. Category strings (the model's own `cats` dictionary) over HTTP: JSON object rows and a CSV
   body of tests/golden/xgb3/categorical_strings.rows.csv score to XGBoost's predictions bit for
   bit; an unseen category is a 422 naming it, as `kite score` exits 1 naming it.
2. Refused model kinds: each exits 1 with one line naming what is unsupported (gblinear, a
   real XGBoost 3.4 model; a multi-class multi-target learner), never a prediction."""
import argparse
import csv
import io
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kite_e2e import Checks, Kite, request  # noqa: E402


def f32_bits(values):
    return np.asarray(values, dtype=np.float64).astype(np.float32).view(np.int32)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kite", required=True)
    ap.add_argument("--golden", required=True, help="tests/golden/xgb3")
    args = ap.parse_args()
    t = Checks()
    g = lambda name: os.path.join(args.golden, name)
    model = g("categorical_strings.json")
    rows = list(csv.reader(open(g("categorical_strings.rows.csv"))))
    header, body = rows[0], rows[1:]
    want = np.loadtxt(g("categorical_strings.pred.csv"), skiprows=1, dtype=np.float64)

    def value(c, text):
        if text == "":
            return None
        return text if header[c] in ("color", "size") else float(text)

    k = Kite(args.kite, model)

    def post(body, ctype):
        status, _, text = request(k.port, "POST", "/predict", body, {"Content-Type": ctype})
        return status, text

    try:
        objs = [{header[c]: value(c, v) for c, v in enumerate(r)} for r in body]
        status, text = post(json.dumps({"rows": objs}), "application/json")
        got = json.loads(text).get("predictions", []) if status == 200 else []
        t.check(status == 200 and len(got) == len(want) and
                np.array_equal(f32_bits(got), f32_bits(want)),
                f"JSON rows with category strings: {len(got)} predictions equal XGBoost's (status {status})")
        status, text = post(open(g("categorical_strings.rows.csv")).read(), "text/csv")
        got = [float(x) for x in text.split()[1:]] if status == 200 else []
        t.check(status == 200 and np.array_equal(f32_bits(got), f32_bits(want)),
                f"CSV body with category strings: {len(got)} predictions equal XGBoost's (status {status})")
        bad = dict(objs[0], color="purple")
        status, text = post(json.dumps(bad), "application/json")
        msg = json.loads(text).get("error", "") if status == 422 else ""
        t.check("\"purple\" is not one of feature color's 12 training categories" in msg,
                f"JSON: unseen category is a 422 naming it ({status} {text.strip()})")
    finally:
        k.stop()

    with tempfile.TemporaryDirectory() as tmp:
        bad_csv = os.path.join(tmp, "unseen.csv")
        with open(bad_csv, "w") as f:
            f.write(",".join(header) + "\n0.5,purple,1,M\n")
        r = subprocess.run([args.kite, "score", "-m", model, "-i", bad_csv], capture_output=True, text=True)
        lines = r.stderr.strip().splitlines()
        t.check(r.returncode == 1 and len(lines) == 1 and "unseen.csv:2:5: column \"color\": category \"purple\"" in lines[0],
                f"kite score: unseen category exits 1 naming file:line:column ({r.returncode}: {r.stderr.strip()})")

        # Refused kinds, each with its one line and exit 1.
        mm = json.load(open(g("multi_softprob4.json")))
        mm["learner"]["learner_model_param"]["num_target"] = "2"
        mm_path = os.path.join(tmp, "multiclass_multitarget.json")
        json.dump(mm, open(mm_path, "w"))
        for name, path, want_msg in (
                ("gblinear (XGBoost 3.4)", g("refused/gblinear.json"), 'booster "gblinear" is not supported'),
                ("multi-class multi-target", mm_path, "multi-class multi-target) is not supported")):
            r = subprocess.run([args.kite, "score", "-m", path, "-i", g("reg_squarederror_d1.rows.csv")],
                               capture_output=True, text=True)
            lines = r.stderr.strip().splitlines()
            t.check(r.returncode == 1 and r.stdout == "" and len(lines) == 1 and want_msg in lines[0],
                    f"refused: {name}: exit {r.returncode}, one line: {lines[0] if lines else '(none)'}")
    return t.finish("golden3_paths")


if __name__ == "__main__":
    sys.exit(main())
