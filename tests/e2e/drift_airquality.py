#!/usr/bin/python3
"""End-to-end drift check on the UCI air-quality data with an injected sensor offset.

Reference: the even rows. Current stream: the odd rows in a fixed random order (so a window of
1000 events is a sample of the whole year, not six weeks of one season), with an offset added
to two sensors from stream row SHIFT_AT on. Both files keep the original dialect (';', decimal
comma, -200 = missing). `kite profile` + `kite drift --window sliding:1000:100` must put the
shifted columns, and only those, at significant PSI within one window of the shift; the events
file must carry those transitions and the metrics file must pass promtool."""
import warnings
import json
import subprocess
import sys

import pandas as pd

import kite_e2e

warnings.simplefilter("ignore")  # pandas: the UCI rows carry more fields than the header

FEATURES = ["PT08.S1(CO)", "PT08.S2(NMHC)", "PT08.S3(NOx)", "PT08.S4(NO2)", "PT08.S5(O3)",
            "T", "RH", "AH"]
SHIFT = {"PT08.S1(CO)": 300.0, "T": 10.0}
SHIFT_AT = 2000
WINDOW = 1000


def write_uci(df, path):
    out = df.copy()
    for c in FEATURES:
        out[c] = out[c].map(lambda v: "-200" if pd.isna(v) else ("%.4f" % v).replace(".", ","))
    out.to_csv(path, sep=";", index=False)


def main():
    args, w = kite_e2e.e2e_args("--kite", "--data", "--workdir")
    df = kite_e2e.airquality_frame(args.data, FEATURES)
    ref, cur = df.iloc[0::2], df.iloc[1::2]
    cur = cur.sample(frac=1.0, random_state=7).reset_index(drop=True)
    for col, off in SHIFT.items():
        cur.loc[SHIFT_AT:, col] = cur.loc[SHIFT_AT:, col] + off
    write_uci(ref, w("aq_reference.csv"))
    write_uci(cur, w("aq_current.csv"))
    dialect = ["-d", ";", "--decimal-comma", "--missing", "-200"]
    subprocess.run([args.kite, "profile", "--columns", ",".join(FEATURES), "--input",
                    w("aq_reference.csv"), "--output", w("aq_ref.json")] + dialect, check=True)
    subprocess.run([args.kite, "drift", "--reference", w("aq_ref.json"), "--input",
                    w("aq_current.csv"), "--window", "sliding:%d:100" % WINDOW,
                    "--report-window", "sliding_%d" % WINDOW, "--report", w("aq_report.html"),
                    "--json", w("aq_report.json"), "--events", w("aq_events.jsonl"),
                    "--metrics", w("aq_metrics.prom"), "-q"] + dialect, check=True)
    report = json.load(open(w("aq_report.json")))
    sliding = [x for x in report["windows"] if x["name"] == "sliding_%d" % WINDOW][0]
    failures = []
    first_sig = {}
    for check in sliding["history"]:
        end = check["end_event"]
        for col, psi in check["psi"].items():
            sig = psi is not None and psi >= 0.25
            if sig and col not in SHIFT:
                failures.append(f"{col} significant (PSI {psi:.3f}) at event {end} but not shifted")
            if sig and col in SHIFT and end <= SHIFT_AT:
                failures.append(f"{col} significant (PSI {psi:.3f}) at event {end}, before the shift")
            if sig and col in SHIFT and col not in first_sig:
                first_sig[col] = end
    for col in SHIFT:
        if col not in first_sig:
            failures.append(f"{col} never reached significant drift")
        elif first_sig[col] > SHIFT_AT + WINDOW:
            failures.append(f"{col} significant only at event {first_sig[col]}, > one window after")
        else:
            print(f"{col}: significant at event {first_sig[col]} (shift at {SHIFT_AT})")
    events = [json.loads(line) for line in open(w("aq_events.jsonl"))]
    to_sig = {e["feature"] for e in events if e["kind"] == "feature" and e["to"] == "significant"
              and e["window"] == "sliding_%d" % WINDOW}
    if to_sig != set(SHIFT):
        failures.append(f"significant events for {sorted(to_sig)}, expected {sorted(SHIFT)}")
    prom = subprocess.run(["promtool", "check", "metrics"], stdin=open(w("aq_metrics.prom")),
                          capture_output=True, text=True)
    if prom.returncode != 0:
        failures.append("promtool: " + prom.stdout + prom.stderr)
    text = open(w("aq_metrics.prom")).read()
    for col in SHIFT:
        key = 'kite_drift_feature_status{window="sliding_%d",feature="%s"} 2' % (WINDOW, col)
        if key not in text:
            failures.append("metrics lack " + key)
    html = open(w("aq_report.html")).read()
    if "<svg" not in html or "http" in html.replace("http-equiv", ""):
        failures.append("HTML report lacks SVG or references an external asset")
    for f in failures:
        print("FAIL:", f, file=sys.stderr)
    print(f"drift_airquality: {len(sliding['history'])} checks, {len(events)} events, "
          f"{len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
