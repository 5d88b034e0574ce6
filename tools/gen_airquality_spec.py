#!/usr/bin/python3
"""Writes models/airquality.spec.json: the air-quality feature spec (101 features).

Target: CO(GT) at hour t. Nothing computed from CO(GT) includes hour t itself: its lags start
at 1 and its rolling windows are shifted by one hour ("shift": 1), so the model never sees its
label. The other sensors are known at t and enter as values, lags, rolling windows, differences,
ratios and products; hour, weekday and month enter as sin/cos encodings. Warm-up: 168 hours
(the longest window). Hours missing from the file are filled as all-missing hours ("gaps":
"fill"), so a lag of 24 is always 24 hours ago.

  /usr/bin/python3 tools/gen_airquality_spec.py [--out models/airquality.spec.json]
"""
import argparse
import json
import os

# short feature-name stem -> AirQualityUCI.csv column
COLS = {
    "CO": "CO(GT)", "S1": "PT08.S1(CO)", "NMHC": "NMHC(GT)", "C6H6": "C6H6(GT)",
    "S2": "PT08.S2(NMHC)", "NOx": "NOx(GT)", "S3": "PT08.S3(NOx)", "NO2": "NO2(GT)",
    "S4": "PT08.S4(NO2)", "S5": "PT08.S5(O3)", "T": "T", "RH": "RH", "AH": "AH",
}


def build():
    f = []

    def add(name, kind, **kw):
        f.append(dict(name=name, kind=kind, **kw))

    for stem in ["S1", "NMHC", "C6H6", "S2", "NOx", "S3", "NO2", "S4", "S5", "T", "RH", "AH"]:
        add(stem, "value", input=COLS[stem])
    for lag in [1, 2, 3, 6, 12, 24, 48, 72]:
        add("CO_lag%d" % lag, "lag", input=COLS["CO"], lag=lag)
    for w in [3, 6, 12, 24, 168]:
        for stat in ["mean", "std", "min", "max"]:
            add("CO_%s%d" % (stat, w), "rolling_" + stat, input=COLS["CO"], window=w, shift=1)
    add("CO_sum24", "rolling_sum", input=COLS["CO"], window=24, shift=1)
    add("CO_count24", "rolling_count", input=COLS["CO"], window=24, shift=1)
    add("CO_diff1", "diff", input=COLS["CO"], shift=1)
    add("CO_diff2", "diff2", input=COLS["CO"], shift=1)
    for stem in ["S1", "NOx"]:
        for lag in [1, 24]:
            add("%s_lag%d" % (stem, lag), "lag", input=COLS[stem], lag=lag)
        for w in [6, 24]:
            for stat in ["mean", "std", "min", "max"]:
                add("%s_%s%d" % (stem, stat, w), "rolling_" + stat, input=COLS[stem], window=w)
    add("NO2_lag1", "lag", input=COLS["NO2"], lag=1)
    add("NO2_mean24", "rolling_mean", input=COLS["NO2"], window=24)
    add("NO2_std24", "rolling_std", input=COLS["NO2"], window=24)
    for lag in [1, 24]:
        add("C6H6_lag%d" % lag, "lag", input=COLS["C6H6"], lag=lag)
    for stat in ["mean", "std", "min", "max"]:
        add("C6H6_%s24" % stat, "rolling_" + stat, input=COLS["C6H6"], window=24)
    add("S2_mean24", "rolling_mean", input=COLS["S2"], window=24)
    for lag in [1, 24]:
        add("T_lag%d" % lag, "lag", input=COLS["T"], lag=lag)
    for stat in ["mean", "min", "max"]:
        add("T_%s24" % stat, "rolling_" + stat, input=COLS["T"], window=24)
    add("RH_lag1", "lag", input=COLS["RH"], lag=1)
    add("RH_mean24", "rolling_mean", input=COLS["RH"], window=24)
    for stem in ["S1", "NOx"]:
        add(stem + "_diff1", "diff", input=COLS[stem])
        add(stem + "_diff2", "diff2", input=COLS[stem])
    for stem in ["C6H6", "T", "RH", "AH"]:
        add(stem + "_diff1", "diff", input=COLS[stem])
    for a, b in [("NOx", "NO2"), ("S1", "S2"), ("C6H6", "S2"), ("S3", "S4")]:
        add("%s_per_%s" % (a, b), "ratio", inputs=[COLS[a], COLS[b]])
    for a, b in [("T", "RH"), ("T", "AH")]:
        add("%s_x_%s" % (a, b), "product", inputs=[COLS[a], COLS[b]])
    for unit in ["hour", "weekday", "month"]:
        for fn in ["sin", "cos"]:
            add("%s_%s" % (unit, fn), "cyclic", unit=unit, fn=fn)
    return {
        "kite_feature_spec": 1,
        "name": "airquality",
        "description": "AirQualityUCI.csv hourly readings -> features for CO(GT) at hour t "
                       "(written by tools/gen_airquality_spec.py)",
        "csv": {"delimiter": ";", "decimal_comma": True},
        "missing": ["-200"],
        "time": {"fields": ["Date", "Time"], "format": "%d/%m/%Y %H.%M.%S", "step_seconds": 3600,
                 "gaps": "fill", "duplicates": "reject", "out_of_order": "reject"},
        "warmup": 168,
        "max_keys": 10000,
        "inputs": [{"name": c, "type": "number"} for c in COLS.values()],
        "features": f,
    }


def main():
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(root, "models", "airquality.spec.json"))
    a = ap.parse_args()
    spec = build()
    with open(a.out, "w") as fp:
        fp.write("{\n")
        items = list(spec.items())
        for i, (k, v) in enumerate(items):
            if k in ("inputs", "features"):
                body = ",\n".join("    " + json.dumps(x) for x in v)
                fp.write('  "%s": [\n%s\n  ]' % (k, body))
            else:
                fp.write("  %s: %s" % (json.dumps(k), json.dumps(v)))
            fp.write(",\n" if i + 1 < len(items) else "\n")
        fp.write("}\n")
    print("wrote %s (%d features)" % (a.out, len(spec["features"])))


if __name__ == "__main__":
    main()
