#!/usr/bin/env python3
"""Time kite profile + kite drift against Evidently 0.7's DataDriftPreset on N-row reference and
current files (a bench, not a test; figures in bench/RESULTS.md).

    build/kite must exist (tools/setup.sh); run with the venv's python:
    $(tools/venv.sh) bench/drift_vs_evidently.py --kite build/kite --rows 1000000,10000000 \
        --workdir /tmp/kite_drift_bench

Each file holds N rows drawn with replacement (seed 1) from the air-quality split of
tests/e2e/drift_evidently_compare.py (reference rows from its reference, current rows from its
shifted current), in the UCI dialect, written once per N and reused. Timed, wall clock, once
per tool (the machine is shared, so run-to-run noise is large): kite's `profile` and `drift`
(from the CSV files, the whole job); Evidently's pandas.read_csv of both files and its
Report.run (Dataset.from_pandas included); wall and CPU seconds (kite: its processes' user +
system time; Evidently: this process's, one thread). Also prints the per-column agreement at that size."""
import argparse
import os
import resource
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "e2e"))
import drift_evidently_compare as dec  # noqa: E402


def write_sample(df, n, seed, path):
    if os.path.exists(path):
        return
    idx = np.random.default_rng(seed).integers(0, len(df), n)
    out = df.iloc[idx]
    tmp = path + ".tmp"
    out.to_csv(tmp, sep=";", decimal=",", float_format="%.4f", na_rep="-200", index=False)
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kite", required=True)
    ap.add_argument("--data", default=os.path.join(os.path.dirname(__file__), "..", "data",
                                                   "AirQualityUCI.csv"))
    ap.add_argument("--rows", default="1000000,10000000")
    ap.add_argument("--workdir", default="/tmp/kite_drift_bench")
    args = ap.parse_args()
    os.makedirs(args.workdir, exist_ok=True)
    ref0, cur0 = dec.airquality_split(args.data)
    print("wall seconds (CPU seconds)\n"
          "rows        kite profile    kite drift    kite total | pandas read    evidently run"
          "  evidently total | ratio wall (CPU)")
    for n in [int(x) for x in args.rows.split(",")]:
        rp, cp = (os.path.join(args.workdir, f"{s}_{n}.csv") for s in ("ref", "cur"))
        write_sample(ref0, n, 1, rp)
        write_sample(cur0, n, 2, cp)
        kcols, kinds, latest, (t_prof, t_drift, c_prof, c_drift) = dec.run_kite(
            args.kite, rp, cp, args.workdir, f"k{n}")
        t0, c0 = time.perf_counter(), time.process_time()
        ref, cur = dec.read_uci(rp), dec.read_uci(cp)
        t_read, c_read = time.perf_counter() - t0, time.process_time() - c0
        ev, share, (t_ev, c_ev) = dec.run_evidently(ref, cur, kinds)
        rows = dec.compare(kcols, ev, ref, cur)
        kt, kc, et, ec = t_prof + t_drift, c_prof + c_drift, t_read + t_ev, c_read + c_ev
        f = lambda t, c: f"{t:7.2f} ({c:6.2f})"
        print(f"{n:>10,}  {f(t_prof, c_prof)} {f(t_drift, c_drift)} {f(kt, kc)} | "
              f"{f(t_read, c_read)} {f(t_ev, c_ev)} {f(et, ec)} | {et / kt:.1f}x ({ec / kc:.1f}x)",
              flush=True)
        print(dec.table(rows))
        same = all(r["same_test"] and r["kite_drifted"] == r["ev_drifted"] for r in rows)
        print(f"   same test and drifted flag on every column: {same}; drifted share kite "
              f"{latest['drifted_share']}, Evidently {share}", flush=True)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kpeak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"peak RSS: this python (Evidently) {peak:.0f} MiB, largest kite child {kpeak:.0f} MiB")


if __name__ == "__main__":
    sys.exit(main())
