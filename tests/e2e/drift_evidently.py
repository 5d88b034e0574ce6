#!/usr/bin/env python3
"""kite drift beside Evidently 0.7.23's DataDriftPreset on the air-quality split (the venv's
python: tools/venv.sh). Two references, so that every automatic test runs:

  full   the whole reference (4,679 rows, > 1000 values): Wasserstein (numeric) and
         Jensen-Shannon (categorical, and the numeric period with 4 values);
  small  its first 1,000 rows (<= 1000 values): KS (numeric), chi-square (weekday, 7 values,
         and period) and z (weekend, binary);

both against the whole current stream (4,678 rows, two sensors shifted), and

  big    the 1,000-row reference against 20,000 rows drawn with replacement from that stream
         (> 10,000 values a side: ks_2samp's asymptotic kstwo p-value instead of the exact one).
 Prints the per-column
table and fails unless, per column: the same test; statistic and p-value within 1e-6 relative
(z's p-value: within 1e-15 absolute where Evidently's 2 (1 - Phi(|z|)) cancels to 0); the same
drifted flag; and the same share of drifted columns. The one documented exception is
Wasserstein, binned by construction on kite's 256-quantile fine grid (README "Drift side by side
with Evidently"): there kite must equal the binned W1 recomputed here from the raw values on its
own edges (1e-6), and the difference from Evidently's raw-data value is printed, bounded by the
binning's own error (each bin's width times its two shares, plus the current's mass beyond the
outer edges)."""
import json
import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import drift_evidently_compare as dec  # noqa: E402
import kite_e2e  # noqa: E402

REL = 1e-6


def binned_wasserstein(profile_col, ref, cur):
    """kite's definition (engine/drift/drift_stats.h) on kite's fine edges from the raw values as kite
    reads them (float32), normed by the profile's std; and the binning's error bound."""
    edges = np.asarray(profile_col["fine_edges"], dtype=np.float32)
    r = ref.dropna().to_numpy(np.float32)
    c = cur.dropna().to_numpy(np.float32)
    nb = len(edges) + 1
    hr = np.bincount(np.searchsorted(edges, r, side="right"), minlength=nb) / len(r)
    hc = np.bincount(np.searchsorted(edges, c, side="right"), minlength=nb) / len(c)
    fr, fc = np.cumsum(hr), np.cumsum(hc)
    e = edges.astype(np.float64)
    width = np.diff(e)  # bin i (1..nb-2) spans [e[i-1], e[i])
    w = float(np.sum(np.abs(fr[1:nb - 1] - fc[1:nb - 1]) * width))
    sd = max(profile_col["std"], 0.001)
    # Inside the grid, the binned CDF of each side is off by at most its share of the bin; beyond
    # the outer edges kite counts values at the edge, the current's excess is the rest.
    inside = float(np.sum(width * (hr[1:nb - 1] + hc[1:nb - 1])))
    x = c.astype(np.float64)
    beyond = float(np.mean(np.maximum(e[0] - x, 0) + np.maximum(x - e[-1], 0)))
    return w / sd, (inside + beyond) / sd


def check_case(kite, ref_csv, cur_csv, workdir, tag):
    kcols, kinds, latest, _ = dec.run_kite(kite, ref_csv, cur_csv, workdir, tag)
    ref, cur = dec.read_uci(ref_csv), dec.read_uci(cur_csv)
    ev, ev_share, _ = dec.run_evidently(ref, cur, kinds)
    rows = dec.compare(kcols, ev, ref, cur)
    profile = {c["name"]: c for c in json.load(open(os.path.join(workdir, tag + "_ref.json")))["columns"]}
    print(f"\n== {tag}: reference {len(ref)} rows, current {len(cur)} rows ==")
    print(dec.table(rows))
    failures = []
    for r in rows:
        col, test = r["column"], r["kite_test"]
        if not r["same_test"]:
            failures.append(f"{tag} {col}: kite {test}, Evidently {r['ev_test']}")
        if r["kite_drifted"] != r["ev_drifted"]:
            failures.append(f"{tag} {col}: drifted kite {r['kite_drifted']}, Evidently {r['ev_drifted']}")
        if test in dec.P_TESTS:
            # The recomputed call is Evidently's own: it must give the report's p-value.
            if dec.rel(r["ev_p_recomputed"], r["ev_p"]) > 1e-12:
                failures.append(f"{tag} {col}: scipy recomputation p {r['ev_p_recomputed']} != "
                                f"Evidently's {r['ev_p']}")
            if dec.rel(r["kite_stat"], r["ev_stat"]) > REL:
                failures.append(f"{tag} {col}: {test} statistic kite {r['kite_stat']!r}, "
                                f"Evidently {r['ev_stat']!r}")
            p_ok = r["rel_p"] <= REL or (test == "z" and r["abs_p"] <= 1e-15)
            if not p_ok:
                failures.append(f"{tag} {col}: {test} p kite {r['kite_p']!r}, Evidently {r['ev_p']!r}")
        elif test == "wasserstein":
            binned, bound = binned_wasserstein(profile[col], ref[col], cur[col])
            diff = abs(r["kite_stat"] - r["ev_stat"])
            print(f"   {col}: kite {r['kite_stat']:.6g} = binned W1 {binned:.6g} "
                  f"(rel {dec.rel(r['kite_stat'], binned):.1e}); Evidently (raw) {r['ev_stat']:.6g}: "
                  f"|diff| {diff:.3g} ({100 * r['rel_stat']:.2f}%), binning bound {bound:.3g}")
            if dec.rel(r["kite_stat"], binned) > REL:
                failures.append(f"{tag} {col}: kite Wasserstein {r['kite_stat']!r} != binned "
                                f"{binned!r}")
            if not diff <= bound:
                failures.append(f"{tag} {col}: Wasserstein differs by {diff:.3g}, more than the "
                                f"binning explains ({bound:.3g})")
        elif r["rel_stat"] > REL:
            failures.append(f"{tag} {col}: {test} kite {r['kite_stat']!r}, Evidently {r['ev_stat']!r}")
    k_share = latest["drifted_share"]
    print(f"   drifted share: kite {k_share}, Evidently {ev_share}")
    if not math.isclose(k_share, ev_share, rel_tol=1e-12):
        failures.append(f"{tag}: drifted share kite {k_share}, Evidently {ev_share}")
    drifted = sum(r["kite_drifted"] for r in rows)
    if not 0 < drifted < len(rows):  # both verdicts must occur for the flags to mean anything
        failures.append(f"{tag}: {drifted} of {len(rows)} columns drifted; the case tests nothing")
    return failures


def main():
    args, w = kite_e2e.e2e_args("--kite", "--data", "--workdir")
    ref, cur = dec.airquality_split(args.data)
    dec.write_uci(ref, w("ref_full.csv"))
    dec.write_uci(ref.iloc[:1000], w("ref_small.csv"))
    dec.write_uci(cur, w("cur.csv"))
    big = cur.iloc[np.random.default_rng(3).integers(0, len(cur), 20000)]
    dec.write_uci(big.reset_index(drop=True), w("cur_big.csv"))
    failures = []
    failures += check_case(args.kite, w("ref_full.csv"), w("cur.csv"), args.workdir, "full")
    failures += check_case(args.kite, w("ref_small.csv"), w("cur.csv"), args.workdir, "small")
    failures += check_case(args.kite, w("ref_small.csv"), w("cur_big.csv"), args.workdir, "big")
    for f in failures:
        print("FAIL:", f, file=sys.stderr)
    print(f"drift_evidently: 3 cases x {len(dec.COLUMNS)} columns, {len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
