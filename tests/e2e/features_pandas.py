#!/usr/bin/python3
"""kite featurize against pandas: every feature of a spec, every row, within 1e-6 relative.

Reads the spec itself and computes each feature kind with pandas (an independent reading of the
documented semantics):
  value            x
  lag k            x.shift(k)
  diff  (shift s)  x.shift(s).diff()
  diff2 (shift s)  x.shift(s).diff().diff()
  rolling_<stat>   x.shift(s).rolling(w, min_periods=1).<stat>()   (NaN skipped; std ddof=1)
  rolling_count    x.shift(s).rolling(w, min_periods=0).count()
  ratio            a / b, inf -> missing      product  a * b
  cyclic           sin/cos(2*pi*u/period), u = hour (24), weekday Monday=0 (7), month-1 (12)
  impute c         fillna(c)         standardize  (v - mean) / std
Event time: with "gaps": "fill" the series is reindexed to the step grid (missing hours are
all-missing rows) before computing and only the file's rows are compared; rows kite rejects
(duplicate or earlier times, policy "reject") are dropped from the reference first.

  features_pandas.py --kite build/kite --spec models/airquality.spec.json --data data/AirQualityUCI.csv
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import warnings

import numpy as np
import pandas as pd

PERIODS = {"hour": 24, "weekday": 7, "month": 12}


def load_raw(spec, path):
    warnings.simplefilter("ignore", pd.errors.ParserWarning)  # AirQualityUCI.csv: extra ";;"
    csv = spec.get("csv", {})
    df = pd.read_csv(path, sep=csv.get("delimiter", ","),
                     decimal="," if csv.get("decimal_comma") else ".", dtype=str,
                     keep_default_na=False, index_col=False)
    # AirQualityUCI.csv's header ends "AH,,,,,": kite drops trailing commas of header names.
    df.columns = [c.rstrip(",") if csv.get("delimiter", ",") != "," else c for c in df.columns]
    df = df[~(df == "").all(axis=1)].reset_index(drop=True)  # blank rows
    return df


def to_number(spec, s):
    miss = set(spec.get("missing", [])) | {"", "NA", "NaN", "nan", "null", "NULL"}
    dc = spec.get("csv", {}).get("decimal_comma", False)
    out = s.map(lambda t: np.nan if t.strip() in miss else
                float(t.replace(",", ".") if dc else t))
    for m in spec.get("missing", []):
        try:
            out = out.mask(out == float(m))
        except ValueError:
            pass
    return out.astype(np.float64)


def reference(spec, df):
    inputs = {}
    for inp in spec["inputs"]:
        col = df[inp["name"]]
        if inp.get("type") == "category":
            m = inp["map"]
            unseen = inp["unseen"] if inp["unseen"] is not None else np.nan
            miss = set(spec.get("missing", [])) | {"", "NA", "NaN", "nan", "null", "NULL"}
            inputs[inp["name"]] = col.map(lambda t: np.nan if t in miss else m.get(t, unseen)).astype(float)
        elif inp.get("type", "number") == "number":
            inputs[inp["name"]] = to_number(spec, col)
    x = pd.DataFrame(inputs)
    t = spec.get("time")
    keep = np.ones(len(df), dtype=bool)
    times = None
    if t:
        fields = t.get("fields") or [t["field"]]
        text = df[fields[0]] if len(fields) == 1 else df[fields[0]] + " " + df[fields[1]]
        if t["format"] == "iso8601":
            times = pd.to_datetime(text, utc=True).dt.tz_localize(None)
        elif t["format"] in ("epoch", "epoch_ms"):
            times = pd.to_datetime(text.astype(float), unit="s" if t["format"] == "epoch" else "ms")
        else:
            times = pd.to_datetime(text, format=t["format"])
        # policy "reject": a row not later than every earlier kept row is dropped
        prev = pd.Series(times).cummax().shift(1)
        keep = ~(pd.Series(times) <= prev).fillna(False).values
        if t.get("duplicates") == "accept" or t.get("out_of_order") == "accept":
            raise SystemExit("reference implements the reject policies only")
        x = x[keep].copy()
        times = pd.Series(times[keep].values)
        x.index = times
        if t.get("gaps") == "fill":
            grid = pd.date_range(times.iloc[0], times.iloc[-1], freq="%ds" % t["step_seconds"])
            x = x.reindex(grid.union(x.index))
    out = {}
    for f in spec["features"]:
        k = f["kind"]
        s = f.get("shift", 0)
        if k in ("ratio", "product"):
            a, b = x[f["inputs"][0]], x[f["inputs"][1]]
            v = a / b if k == "ratio" else a * b
            v = v.replace([np.inf, -np.inf], np.nan)
            if k == "ratio":
                v = v.mask(b == 0)
        elif k == "cyclic":
            idx = x.index
            u = {"hour": idx.hour, "weekday": idx.weekday, "month": idx.month - 1}[f["unit"]]
            ang = 2 * np.pi * np.asarray(u, dtype=np.float64) / PERIODS[f["unit"]]
            v = pd.Series(np.sin(ang) if f["fn"] == "sin" else np.cos(ang), index=idx)
        else:
            xi = x[f["input"]]
            if k == "value":
                v = xi
            elif k == "lag":
                v = xi.shift(f["lag"])
            elif k == "diff":
                v = xi.shift(s).diff()
            elif k == "diff2":
                v = xi.shift(s).diff().diff()
            elif k == "rolling_count":
                v = xi.shift(s).rolling(f["window"], min_periods=0).count()
            elif k.startswith("rolling_"):
                v = getattr(xi.shift(s).rolling(f["window"], min_periods=1), k[8:])()
            else:
                raise SystemExit("unknown kind " + k)
        if "impute" in f and f["impute"] is not None:
            v = v.fillna(f["impute"])
        if "standardize" in f:
            v = (v - f["standardize"]["mean"]) / f["standardize"]["std"]
        out[f["name"]] = v
    ref = pd.DataFrame(out)
    if times is not None:
        ref = ref.loc[times.values]
    return ref.reset_index(drop=True), int(keep.sum())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kite", required=True)
    ap.add_argument("--spec", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--rtol", type=float, default=1e-6)
    a = ap.parse_args()
    spec = json.load(open(a.spec))
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "features.csv")
        r = subprocess.run([a.kite, "featurize", "--spec", a.spec, "--input", a.data, "--output", out,
                            "--max-bad", "1000000000"], capture_output=True, text=True)
        if r.returncode:
            print("FAIL: kite featurize exited %d: %s" % (r.returncode, r.stderr))
            return 1
        got = pd.read_csv(out, dtype=np.float64)
    ref, nrows = reference(spec, load_raw(spec, a.data))
    names = [f["name"] for f in spec["features"]]
    failures = 0
    if list(got.columns) != names:
        print("FAIL: columns differ from the spec's feature order")
        return 1
    if len(got) != len(ref):
        print("FAIL: kite wrote %d rows, the reference has %d" % (len(got), len(ref)))
        return 1
    compared = 0
    for name in names:
        g = got[name].values
        e = ref[name].values.astype(np.float64)
        both_nan = np.isnan(g) & np.isnan(e)
        close = np.abs(g - e) <= a.rtol * np.maximum(np.abs(g), np.abs(e))
        bad = ~(both_nan | close)
        compared += len(g)
        if bad.any():
            i = int(np.argmax(bad))
            failures += int(bad.sum())
            print("FAIL: %s: %d rows differ, first at data row %d: kite %r pandas %r" %
                  (name, int(bad.sum()), i, g[i], e[i]))
    print("%s: %d rows x %d features = %d values compared, %d differ (rtol %g)" %
          (os.path.basename(a.spec), len(got), len(names), compared, failures, a.rtol))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
