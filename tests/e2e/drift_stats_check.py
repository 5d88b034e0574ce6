#!/usr/bin/python3
"""Compares kite's drift statistics (tests/support/drift_stats_io.c) with numpy/scipy on the same bins:
PSI (numpy, epsilon 1e-4 for empty shares as Evidently), Jensen-Shannon distance
(scipy.spatial.distance.jensenshannon), chi-square (scipy.stats.chisquare against reference
shares, as Evidently's chi-square test), KS statistic (scipy.stats.ks_2samp on raw samples whose
distinct values each have a bin) and its p-value (ks_2samp's: exact for sizes <= 10000, else
scipy.stats.kstwo.sf at the rounded effective size), binned
Wasserstein (scipy.stats.wasserstein_distance on bin masses at their lower edges) and the
two-proportion z-test (scipy.stats.norm). Tolerance: 1e-9 relative."""
import argparse
import math
import subprocess
import sys

import numpy as np
from scipy import special, stats
from scipy.spatial import distance
from scipy.stats._stats_py import _attempt_exact_2kssamp  # ks_2samp's exact p-value

REL = 1e-9


def close(a, b):
    if np.isnan(a) and np.isnan(b):
        return True
    if np.isinf(a) or np.isinf(b):
        return a == b
    return abs(a - b) <= REL * max(abs(a), abs(b)) or abs(a - b) < 1e-280


def ks_pvalue(tr, tc, d):
    """ks_2samp's method="auto" p-value: exact for sizes <= 10000 (scipy's own routine), else
    "asymp": kstwo.sf(d, round(nm / (n + m)))."""
    if max(tr, tc) <= 10000:
        ok, _, p = _attempt_exact_2kssamp(int(tr), int(tc), math.gcd(int(tr), int(tc)), d,
                                          "two-sided")
        if ok:
            return float(p)
    m, n = sorted([float(tr), float(tc)], reverse=True)
    return float(stats.kstwo.sf(d, np.round(m * n / (m + n))))


def reference(r, c, edges, zbin):
    tr, tc = r.sum(), c.sum()
    keep = (r > 0) | (c > 0)
    q, p = r[keep] / tr, c[keep] / tc
    q = np.where(q == 0, 1e-4, q)
    p = np.where(p == 0, 1e-4, p)
    psi = float(np.sum((p - q) * np.log(p / q)))
    js = float(distance.jensenshannon(r, c))
    m = r > 0
    if np.any(c[~m] > 0):
        chi, chi_p, dof = np.inf, 0.0, int(m.sum()) - 1
    else:
        res = stats.chisquare(c[m], f_exp=r[m] / tr * tc)
        chi, chi_p, dof = float(res.statistic), float(res.pvalue), int(m.sum()) - 1
    d = float(np.max(np.abs(np.cumsum(r) / tr - np.cumsum(c) / tc)))
    ks_p = ks_pvalue(tr, tc, d)
    pos = np.concatenate([[edges[0]], edges])  # bin 0 at edges[0], bin i at edges[i-1]
    w = float(stats.wasserstein_distance(pos, pos, r, c))
    p1, p2 = r[zbin] / tr, c[zbin] / tc
    pp = (r[zbin] + c[zbin]) / (tr + tc)
    se = np.sqrt(pp * (1 - pp) * (1 / tr + 1 / tc))
    z = (p2 - p1) / se if se > 0 else 0.0  # kite: a category absent on both sides is no evidence
    z_p = float(2 * stats.norm.sf(abs(z)))
    return [psi, js, chi, chi_p, dof, d, ks_p, w, float(z), z_p, psi]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--io", required=True)
    args = ap.parse_args()
    rng = np.random.default_rng(20261123)
    cases = []
    for t in range(300):
        n = int(rng.integers(2, 300)) if t % 3 else 12
        r = rng.integers(0, 200, n).astype(float)
        c = rng.integers(0, 200, n).astype(float)
        if t % 4 == 0:  # empty bins on either side (PSI epsilon, chi-square inf)
            r[rng.integers(0, n, max(1, n // 5))] = 0
            c[rng.integers(0, n, max(1, n // 5))] = 0
        if t % 5 == 0:  # a shifted current histogram: large statistics, tiny p-values
            c = np.roll(c, 1) * 3
        r[0] += 1
        c[0] += 1
        edges = np.sort(rng.choice(np.arange(-5000, 5000), n - 1, replace=False)).astype(np.float32) / 8
        cases.append((r, c, edges.astype(float), int(rng.integers(0, n))))
    # Two-bin cases for the KS p-value beyond 10000 values a side (kstwo.sf, every branch of its
    # method choice: n <= 140 and above, D from ~0 to far in the tail).
    for tr in (12, 60, 139, 141, 300, 1000, 5000, 20000, 400000):
        for tc in (10001, 30000, 2000000):
            for _ in range(8):
                # Both bins filled on both sides and unequal shares, so that the other
                # statistics stay off their degenerate cases (one bin, PSI of equal shares).
                a = int(rng.integers(1, tr))
                b = round((a / tr + (rng.random() ** 3) * rng.choice([-0.3, 0.3])) * tc)
                b = min(max(b, 1), tc - 1)
                if b * tr == a * tc:
                    b += 1
                r, c = np.array([a, tr - a], float), np.array([b, tc - b], float)
                cases.append((r, c, np.array([0.5]), 0))
    text = "".join(
        f"{len(r)} {' '.join('%d' % v for v in r)} {' '.join('%d' % v for v in c)} "
        f"{' '.join(repr(float(e)) for e in edges)} {z}\n"
        for r, c, edges, z in cases)
    out = subprocess.run([args.io], input=text, capture_output=True, text=True, check=True).stdout
    names = ["psi", "js", "chi2", "chi2_p", "dof", "ks", "ks_p", "wasserstein", "z", "z_p",
             "psi_prepared"]
    failures = 0
    for k, (line, (r, c, edges, z)) in enumerate(zip(out.splitlines(), cases)):
        got = [float(v) for v in line.split()]
        want = reference(r, c, edges, z)
        for name, g, w in zip(names, got, want):
            if not close(g, w):
                failures += 1
                print(f"case {k} (n={len(r)}): {name}: kite {g!r} scipy {w!r}", file=sys.stderr)
    if len(out.splitlines()) != len(cases):
        print("drift_stats_io answered %d of %d cases" % (len(out.splitlines()), len(cases)))
        failures += 1

    # The binned KS statistic and p-value equal ks_2samp's on raw data when every distinct value
    # has a bin.
    for t in range(50):
        a = rng.integers(0, 40, int(rng.integers(20, 2000)))
        b = rng.integers(3, 45, int(rng.integers(20, 2000)))
        vals = np.union1d(a, b)
        r = np.array([np.sum(a == v) for v in vals], float)
        c = np.array([np.sum(b == v) for v in vals], float)
        line = f"{len(vals)} {' '.join('%d' % v for v in r)} {' '.join('%d' % v for v in c)} " \
               f"{' '.join(str(float(v)) for v in vals[1:])} 0\n"
        got = subprocess.run([args.io], input=line, capture_output=True, text=True,
                             check=True).stdout.split()
        want = stats.ks_2samp(a, b)  # and the p-value: exact here (sizes <= 10000)
        if not close(float(got[5]), float(want.statistic)) or not close(float(got[6]),
                                                                         float(want.pvalue)):
            failures += 1
            print(f"raw KS case {t}: kite {got[5]} p {got[6]} scipy ks_2samp {want!r}",
                  file=sys.stderr)
    print(f"drift_stats_check: {len(cases) * len(names) + 50} comparisons, {failures} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
