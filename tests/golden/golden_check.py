#!/usr/bin/python3
"""Golden test: `kite score` on every model of a golden set (--golden: tests/golden/xgb1.7 or
tests/golden/xgb3, with --versions its v*/ cases too) reproduces XGBoost.

Margins must be equal bit for bit (compared as float32 bit patterns); transformed predictions
within 1 ulp (libm's expf may differ from the one XGBoost was built against). Prints one line
per model with the max absolute margin difference, and fails on the first mismatch."""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np


def read_f32(path):
    a = np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.float64, ndmin=2)
    return a.astype(np.float32)


def ulp_diff(a, b):
    ia = a.view(np.int32).astype(np.int64)
    ib = b.view(np.int32).astype(np.int64)
    # Map the sign-magnitude float order onto a monotone integer line.
    ia = np.where(ia < 0, -(ia & 0x7FFFFFFF), ia)
    ib = np.where(ib < 0, -(ib & 0x7FFFFFFF), ib)
    return np.abs(ia - ib)


def run(kite, model, rows, out, extra, isa):
    env = dict(os.environ)
    if isa:
        env["KITE_ISA"] = isa
    cmd = [kite, "score", "--model", model, "--input", rows, "--output", out, "--quiet"] + extra
    res = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if res.returncode != 0:
        return "exit %d: %s" % (res.returncode, res.stderr.strip())
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kite", required=True)
    ap.add_argument("--golden", required=True)
    ap.add_argument("--isa", default="", help="force KITE_ISA for the run")
    ap.add_argument("--threads", default="1")
    ap.add_argument("--versions", action="store_true",
                    help="also every version-case set in GOLDEN/v*/")
    ap.add_argument("--every-kernel", action="store_true",
                    help="run each golden model with every kernel `kite info` lists, forced")
    ap.add_argument("--pred-ulp", type=int, default=1,
                    help="predictions may differ by this many ulp (the 3.x set demands 0)")
    args = ap.parse_args()
    dirs = [args.golden]
    if args.versions:
        dirs += sorted(os.path.join(args.golden, d) for d in os.listdir(args.golden)
                       if d.startswith("v") and os.path.isdir(os.path.join(args.golden, d)))
    isas = [args.isa]
    if args.every_kernel:
        info = subprocess.run([args.kite, "info"], capture_output=True, text=True).stdout
        line = [l for l in info.splitlines() if "kernels available" in l]
        isas = line[0].split(":", 1)[1].split() if line else []
        if not isas:
            sys.exit("FAIL: `kite info` lists no kernels")
    cases = [(d, m, isa) for d in dirs for m in json.load(open(os.path.join(d, "manifest.json")))["models"]
             for isa in isas]
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        for gdir, m, isa in cases:
            args.isa = isa
            g = lambda k: os.path.join(gdir, m[k])
            out_m = os.path.join(tmp, m["name"] + ".m.csv")
            out_p = os.path.join(tmp, m["name"] + ".p.csv")
            extra = m.get("args", []) + ["--threads", args.threads]
            err = (run(args.kite, g("model"), g("rows"), out_m, ["--margin"] + extra, args.isa) or
                   run(args.kite, g("model"), g("rows"), out_p, extra, args.isa))
            if err:
                print("FAIL %-24s %-22s kite %s" % (m["name"], m["objective"], err))
                failures += 1
                continue
            km, xm = read_f32(out_m), read_f32(g("margin"))
            kp, xp = read_f32(out_p), read_f32(g("pred"))
            ok = km.shape == xm.shape and kp.shape == xp.shape
            if ok:
                bits_equal = np.array_equal(km.view(np.int32), xm.view(np.int32))
                max_abs = float(np.max(np.abs(km.astype(np.float64) - xm))) if km.size else 0.0
                max_ulp = int(ulp_diff(kp, xp).max()) if kp.size else 0
                ok = bits_equal and max_ulp <= args.pred_ulp
            else:
                max_abs, max_ulp = float("nan"), -1
            print("%-4s %-34s %-8s %-22s trees=%-5d margin max|diff|=%g pred max ulp=%d" %
                  ("ok" if ok else "FAIL", os.path.relpath(g("model"), args.golden), isa or "default",
                   m["objective"], m["trees"], max_abs, max_ulp))
            failures += not ok
    print("%d passed, %d failed" % (len(cases) - failures, failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
