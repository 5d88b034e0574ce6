#!/usr/bin/python3
"""The peer benchmark end to end, small: bench/train_models.py trains its tiny model (20 trees,
depth 4, Debian's XGBoost 1.7.4), bench/peers.py (the venv's python) converts it to ONNX,
generates and compiles the TL2cgen predictor from scratch, times every peer and kite kernel at
batch 16 on one thread, one repetition, and compares every engine's margins with XGBoost 3.4's.
Checks: every expected engine (both XGBoost C APIs and XGBoost 3.4 from Python, TL2cgen, ONNX
Runtime, each kernel `kite info` lists) has a positive finite time and agrees; kite's kernels
and both XGBoost C APIs are bit-identical to XGBoost 3.4 on every row; the printed table has
the ratio row. Then proves the checks can fail: tolerance 0 (TL2cgen and ONNX Runtime are not
bit-exact) must exit 1 naming the disagreement, and the harness refuses a missing library with
one line and exit 1. About 30-60 s, most of it Python start-up and XGBoost training."""
import argparse
import json
import math
import os
import shutil
import subprocess
import sys

from kite_e2e import Checks

T = Checks()
check = T.check


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--venv-python", required=True)
    ap.add_argument("--harness", required=True)
    ap.add_argument("--kite", required=True)
    ap.add_argument("--root", required=True)
    ap.add_argument("--workdir", required=True)
    a = ap.parse_args()
    if not a.venv_python or not os.path.exists(a.venv_python):
        print("FAIL: no venv python (%r): configure with tools/setup.sh" % a.venv_python)
        return 1
    shutil.rmtree(a.workdir, ignore_errors=True)
    models = os.path.join(a.workdir, "models")
    subprocess.run([sys.executable, os.path.join(a.root, "bench", "train_models.py"), models,
                    "d4_t20"], check=True, timeout=120)

    info = subprocess.run([a.kite, "info"], capture_output=True, text=True, check=True).stdout
    kernels = dict(l.split(": ", 1) for l in info.splitlines() if ": " in l)["kernels available"]
    v3 = subprocess.run([a.venv_python, "-c", "import xgboost; print(xgboost.__version__)"],
                        capture_output=True, text=True, check=True).stdout.strip()
    import xgboost  # Debian's: the 1.7 the C API engine must report
    expected = (["xgboost-%s-py" % v3, "xgboost-%s-c" % v3, "xgboost-%s-c" % xgboost.__version__,
                 "tl2cgen", "onnxruntime"] + ["kite-" + k for k in kernels.split()])
    exact = [e for e in expected if e.startswith("kite-") or e.endswith("-c")]

    peers = [a.venv_python, os.path.join(a.root, "bench", "peers.py"), "--harness", a.harness,
             "--models-dir", models, "--models", "d4_t20", "--batches", "16", "--threads", "1",
             "--reps", "1", "--min-ms", "1", "--workdir", os.path.join(a.workdir, "peers")]
    out_json = os.path.join(a.workdir, "peers.json")
    r = subprocess.run(peers + ["--json", out_json], capture_output=True, text=True, timeout=300)
    print(r.stdout)
    check(r.returncode == 0, "peers.py exits 0: %d %s" % (r.returncode, r.stderr[-2000:]))
    check("| best peer / best kite |" in r.stdout, "the table has the ratio row")
    check("tl2cgen C compiled with cc -O3 -march=native" in r.stderr,
          "the TL2cgen predictor was compiled in this run: %s" % r.stderr[-500:])
    if r.returncode == 0:
        with open(out_json) as f:
            m = json.load(f)["models"][0]
        times = {t["engine"]: t for t in m["timings"] if t["batch"] == 16 and t["threads"] == 1}
        agree = {g["engine"]: g for g in m["agreement"]}
        for e in expected:
            t = times.get(e)
            # One thread's CPU time cannot exceed the wall clock over the same calls.
            check(t is not None and all(math.isfinite(t[k]) and t[k] > 0
                                        for k in ("wall_ns_per_call", "cpu_ns_per_call"))
                  and t["cpu_ns_per_call"] <= 1.01 * t["wall_ns_per_call"] and t["calls"] >= 1,
                  "%s timed at batch 16, 1 thread: %r" % (e, t))
            g = agree.get(e)
            check(g is not None and g["agrees"] and g["rows"] == 4096,
                  "%s margins agree with XGBoost %s: %r" % (e, v3, g))
            if e in exact:
                check(g is not None and g["identical"] == 4096 and g["max_abs_diff"] == 0,
                      "%s bit-identical to XGBoost %s on every row: %r" % (e, v3, g))
        check(sorted(times) == sorted(expected), "exactly the expected engines: %s" % sorted(times))

    # The agreement check can fail: TL2cgen and ONNX Runtime round differently from XGBoost.
    r = subprocess.run(peers + ["--tolerance", "0"], capture_output=True, text=True, timeout=300)
    check(r.returncode == 1 and "| tl2cgen |" in r.stdout and "**NO**" in r.stdout
          and "disagree" in r.stderr,
          "tolerance 0 fails on the inexact peers: %d %s" % (r.returncode, r.stderr[-500:]))

    r = subprocess.run([a.harness, "--model", os.path.join(models, "d4_t20.json"), "--rows",
                        os.path.join(models, "rows.csv"), "--engine", "tl2cgen=/nonexistent.so"],
                       capture_output=True, text=True, timeout=60)
    check(r.returncode == 1 and r.stderr.count("\n") == 1 and "nonexistent.so" in r.stderr,
          "a missing predictor library: one line, exit 1: %d %r" % (r.returncode, r.stderr))

    print("%d checks, %d failures" % (T.count, len(T.failures)))
    return T.exit_code()


if __name__ == "__main__":
    sys.exit(main())
