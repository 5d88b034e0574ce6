"""kite drift beside Evidently 0.7's DataDriftPreset on the same reference/current CSV files:
the shared part of tests/e2e/drift_evidently.py (the ctest) and bench/drift_vs_evidently.py.

The split is tests/e2e/drift_airquality.py's (reference: the even rows of the UCI air-quality data;
current: the odd rows in a fixed random order, PT08.S1(CO) + 300 and T + 10 from current row
2000 on), plus two columns derived from Date so that the categorical tests run too: weekday
(0-6, seven categories) and weekend (0/1, binary), and one from Time, period (the quarter of the
day as 0.5 .. 3.5: numeric with four values). Both files keep the UCI dialect (';', decimal
comma, -200 = missing). Each tool reads the same files: kite through `kite profile` + `kite
drift`, Evidently through pandas.read_csv, with the column kinds kite's profile chose."""
import json
import math
import os
import resource
import subprocess
import time
import warnings

import numpy as np
import pandas as pd
from scipy import stats

import kite_e2e

FEATURES = ["PT08.S1(CO)", "PT08.S2(NMHC)", "PT08.S3(NOx)", "PT08.S4(NO2)", "PT08.S5(O3)",
            "T", "RH", "AH"]
DERIVED = ["weekday", "weekend", "period"]
COLUMNS = FEATURES + DERIVED
SHIFT = {"PT08.S1(CO)": 300.0, "T": 10.0}
SHIFT_AT = 2000
DIALECT = ["-d", ";", "--decimal-comma", "--missing", "-200"]

# Evidently's display names (StatTest.display_name, what ValueDrift's `method` resolves to)
# for kite's test names (engine/drift/drift_config.c).
EVIDENTLY_TEST = {"ks": "K-S p_value", "chisquare": "chi-square p_value", "z": "Z-test p_value",
                  "jensenshannon": "Jensen-Shannon distance",
                  "wasserstein": "Wasserstein distance (normed)"}
P_TESTS = ("ks", "chisquare", "z")


def airquality_split(data):
    """(reference, current) DataFrames of COLUMNS, NaN for missing, as drift_airquality.py."""
    warnings.simplefilter("ignore")  # the UCI rows carry more fields than the header
    df = kite_e2e.airquality_frame(data, FEATURES)
    day = pd.to_datetime(df["Date"], format="%d/%m/%Y").dt.dayofweek
    df["weekday"] = day.astype(float)
    df["weekend"] = (day >= 5).astype(float)
    # Quarter of the day as 0.5, 1.5, 2.5, 3.5: numeric (not integer-valued) with 4 values, the
    # branch where Evidently gives a numeric column chi-square / Jensen-Shannon.
    hour = pd.to_numeric(df["Time"].str.slice(0, 2))
    df["period"] = (hour // 6).astype(float) + 0.5
    ref, cur = df.iloc[0::2], df.iloc[1::2]
    cur = cur.sample(frac=1.0, random_state=7).reset_index(drop=True)
    for col, off in SHIFT.items():
        cur.loc[SHIFT_AT:, col] = cur.loc[SHIFT_AT:, col] + off
    return ref[COLUMNS].reset_index(drop=True), cur[COLUMNS]


def write_uci(df, path):
    """The UCI dialect; values with 4 decimals (the data's own precision: integers, one decimal,
    AH's four), integers for the derived columns."""
    out = pd.DataFrame(index=df.index)
    for c in COLUMNS:
        fmt = "%.0f" if c in ("weekday", "weekend") else "%.4f"
        v = df[c].to_numpy()
        text = np.char.mod(fmt, np.nan_to_num(v, nan=0.0))
        text = np.char.replace(text, ".", ",")
        out[c] = np.where(np.isnan(v), "-200", text)
    out.to_csv(path, sep=";", index=False)


def read_uci(path):
    """The file as Evidently gets it: float64 from the text, -200 as NaN."""
    return pd.read_csv(path, sep=";", decimal=",", na_values=["-200"])


def run_kite(kite, ref_csv, cur_csv, workdir, tag):
    """kite profile + kite drift; returns ({column: result}, profile kinds, latest,
    (profile s, drift s, profile CPU s, drift CPU s))."""
    prof, out = os.path.join(workdir, tag + "_ref.json"), os.path.join(workdir, tag + "_drift.json")
    cpu = lambda: (lambda r: r.ru_utime + r.ru_stime)(resource.getrusage(resource.RUSAGE_CHILDREN))
    t0, c0 = time.perf_counter(), cpu()
    subprocess.run([kite, "profile", "--columns", ",".join(COLUMNS), "--input", ref_csv,
                    "--output", prof] + DIALECT, check=True)
    t1, c1 = time.perf_counter(), cpu()
    subprocess.run([kite, "drift", "--reference", prof, "--input", cur_csv, "--json", out, "-q"]
                   + DIALECT, check=True)
    t2, c2 = time.perf_counter(), cpu()
    kinds = {c["name"]: c["kind"] for c in json.load(open(prof))["columns"]}
    latest = [w for w in json.load(open(out))["windows"] if w["name"] == "all"][0]["latest"]
    return ({c["name"]: c for c in latest["columns"]}, kinds, latest,
            (t1 - t0, t2 - t1, c1 - c0, c2 - c1))


def run_evidently(ref, cur, kinds):
    """DataDriftPreset with include_tests (a FAIL test = drifted); returns
    ({column: (method, drift score, threshold, drifted)}, drifted share, (seconds, CPU
    seconds of this process))."""
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset
    dd = DataDefinition(numerical_columns=[c for c in COLUMNS if kinds[c] == "numeric"],
                        categorical_columns=[c for c in COLUMNS if kinds[c] == "categorical"])
    t0, c0 = time.perf_counter(), time.process_time()
    snap = Report([DataDriftPreset()], include_tests=True).run(
        Dataset.from_pandas(cur, data_definition=dd), Dataset.from_pandas(ref, data_definition=dd))
    seconds = (time.perf_counter() - t0, time.process_time() - c0)
    d = snap.dict()
    res, share = {}, None
    for m in d["metrics"]:
        cfg = m["config"]
        if cfg["type"].endswith("ValueDrift"):
            res[cfg["column"]] = [cfg["method"], float(m["value"]), cfg["threshold"], None]
        elif cfg["type"].endswith("DriftedColumnsCount"):
            share = m["value"]["share"]
    for t in d["tests"]:
        col = t.get("metric_config", {}).get("params", {}).get("column")
        if t["id"] == "drift" and col in res:
            res[col][3] = t["status"] == "FAIL"
    return {c: tuple(v) for c, v in res.items()}, share, seconds


def evidently_statistic(test, ref, cur):
    """The statistic behind Evidently's p-value (its report carries only the p-value), from the
    scipy call Evidently's stattest makes on the same NaN-dropped series; with that call's
    p-value, which must equal the report's."""
    r, c = ref.dropna(), cur.dropna()
    if test == "ks":
        res = stats.ks_2samp(r, c)
        return float(res.statistic), float(res.pvalue)
    keys = sorted(set(r.unique()) | set(c.unique()))
    if test == "chisquare":  # evidently/legacy/calculations/stattests/chisquare_stattest.py
        rv, cv = r.value_counts(), c.value_counts()
        f_exp = [rv.get(k, 0) * (len(c) / len(r)) for k in keys]
        f_obs = [cv.get(k, 0) for k in keys]
        res = stats.chisquare(f_obs, f_exp)
        return float(res.statistic), float(res.pvalue)
    if test == "z":  # z_stattest.py: shares of "not keys[0]", (p_ref - p_cur) / se
        from evidently.legacy.calculations.stattests.z_stattest import (
            proportions_diff_z_stat_ind, proportions_diff_z_test)
        z = proportions_diff_z_stat_ind((r != keys[0]).astype(int), (c != keys[0]).astype(int))
        return float(z), float(proportions_diff_z_test(z))
    return None, None


def rel(a, b):
    """|a - b| / max(|a|, |b|); 0 when both are 0 (or both infinite with the same sign)."""
    if a == b:
        return 0.0
    if a is None or b is None or math.isnan(a) or math.isnan(b):
        return math.inf
    return abs(a - b) / max(abs(a), abs(b))


def compare(kite_cols, ev, ref, cur):
    """One row per column: kite's and Evidently's test, statistic, p-value, drifted flag."""
    rows = []
    for col in COLUMNS:
        k = kite_cols[col]
        method, score, threshold, ev_drifted = ev[col]
        row = {"column": col, "kite_test": k["test"], "ev_test": method,
               "same_test": EVIDENTLY_TEST.get(k["test"]) == method,
               "kite_stat": k["statistic"], "kite_p": k["p_value"],
               "kite_drifted": k["drifted"], "ev_drifted": ev_drifted, "ev_threshold": threshold}
        if k["test"] in P_TESTS:
            stat, p = evidently_statistic(k["test"], ref[col], cur[col])
            row.update(ev_stat=stat, ev_p=score, ev_p_recomputed=p,
                       rel_stat=rel(k["statistic"], stat), rel_p=rel(k["p_value"], score),
                       abs_p=abs(k["p_value"] - score))
        else:
            row.update(ev_stat=score, ev_p=None, ev_p_recomputed=None,
                       rel_stat=rel(k["statistic"], score), rel_p=0.0, abs_p=0.0)
        rows.append(row)
    return rows


def fmt(x, w=12):
    if x is None:
        return "-".rjust(w)
    if isinstance(x, bool):
        return ("yes" if x else "no").rjust(w)
    if isinstance(x, float):
        return ("%.6g" % x).rjust(w)
    return str(x).rjust(w)


def table(rows):
    """The per-column agreement table as text."""
    head = ("column", "kite test", "evidently test", "kite stat", "evid stat", "rel diff",
            "kite p", "evid p", "rel diff p", "drifted k/e")
    lines = ["%-14s %-13s %-30s %12s %12s %10s %12s %12s %10s %12s" % head]
    for r in rows:
        lines.append("%-14s %-13s %-30s %s %s %s %s %s %s %12s" % (
            r["column"], r["kite_test"], r["ev_test"], fmt(r["kite_stat"]), fmt(r["ev_stat"]),
            fmt(r["rel_stat"], 10), fmt(r["kite_p"]), fmt(r["ev_p"]), fmt(r["rel_p"], 10),
            "%s/%s" % ("yes" if r["kite_drifted"] else "no", "yes" if r["ev_drifted"] else "no")))
    return "\n".join(lines)
