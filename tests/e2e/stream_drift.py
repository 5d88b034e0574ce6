#!/usr/bin/python3
"""Drift monitoring under `kite serve`, end to end (issue 6, streaming acceptance).

The first ROWS hourly readings of AirQualityUCI.csv, featurized by kite profile with the model's
spec, are the reference. The stream through `kite serve` (a `kite broker` process, so the drift
topic can be read after serve exits) is those hours twice: copy A as they are, then copy B, the
same readings 364 days later (52 weeks: same hours and weekdays), with a sensor offset added to
two raw columns (PT08.S1(CO) +300, T +10) from B's row SHIFT_IN_B on, i.e. stream event
SHIFT_AT = ROWS + SHIFT_IN_B. The sliding window (WINDOW events, checked every STEP) then holds
the reference's readings (A's tail and B's head) at every check up to SHIFT_AT: no feature may
reach significant PSI there. After the shift, the columns fed by the shifted sensors (S1, S1_*,
T, T_*), and only those, must reach significant PSI within one window of the shift, at a check
whose window holds at most half shifted events (end_event <= SHIFT_AT + WINDOW / 2). Also
asserted: the status-change events are on the drift topic, the drift gauges are on the dumped
/metrics, and promtool accepts the dump."""
import datetime
import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.request

import kite_e2e

ROWS = 1000
SHIFT_IN_B = 500
SHIFT_AT = ROWS + SHIFT_IN_B
WINDOW = 1000
STEP = 100
STREAM = 2 * ROWS
SHIFT = {"PT08.S1(CO)": 300.0, "T": 10.0}
DERIVED = re.compile(r"^(S1|T)(_.*)?$")  # features the spec computes from the shifted inputs

args, w = kite_e2e.e2e_args(kafka_dir=True)
T = kite_e2e.Checks(stream=sys.stderr)
check, failures = T.check, T.failures


# The raw file as it is (';', decimal comma, -200 = missing): shift by editing fields.
lines = open(os.path.join(args.root, "data/AirQualityUCI.csv"), encoding="latin-1").read().splitlines()
header = lines[0].split(";")
cols = {name.rstrip(","): i for i, name in enumerate(header)}
data = [l for l in lines[1:] if l.split(";")[0].strip()][:ROWS]
with open(w("ref.csv"), "w") as f:
    f.write("\n".join([lines[0]] + data) + "\n")
out = [lines[0]] + data  # copy A
for r, line in enumerate(data):  # copy B: 52 weeks later, shifted from SHIFT_IN_B on
    fields = line.split(";")
    day = datetime.datetime.strptime(fields[cols["Date"]], "%d/%m/%Y") + datetime.timedelta(days=364)
    fields[cols["Date"]] = day.strftime("%d/%m/%Y")
    if r >= SHIFT_IN_B:
        for col, off in SHIFT.items():
            v = fields[cols[col]]
            if v.strip() and v.strip() != "-200":
                fields[cols[col]] = ("%.4f" % (float(v.replace(",", ".")) + off)).replace(".", ",")
    out.append(";".join(fields))
with open(w("cur.csv"), "w") as f:
    f.write("\n".join(out) + "\n")

subprocess.run([args.kite, "profile", "--model", "models/airquality.json", "--spec",
                "models/airquality.spec.json", "--input", w("ref.csv"), "--output", w("ref.json"),
                "-d", ";", "--decimal-comma", "--missing", "-200"], cwd=args.root, check=True)
profile = json.load(open(w("ref.json")))
print("profile written:", w("ref.json"))

broker = kite_e2e.Broker(args.kite, args.root, args.kafka_dir, partitions=1)
try:
    addr = broker.addr
    serve = subprocess.Popen(
        [args.kite, "serve", "--brokers", addr, "--model", "models/airquality.json",
         "--feature-spec", "models/airquality.spec.json", "--replay", w("cur.csv"),
         "--replay-delimiter", ";", "--replay-decimal-comma", "--replay-rate", "1000",
         "--exit-on-eof", "--metrics-addr", "127.0.0.1:0", "--metrics-dump", w("metrics.txt"),
         "--cores", "none", "--workers", "1", "--drift-profile", w("ref.json"),
         "--drift-windows", "sliding:%d:%d,tumbling:250" % (WINDOW, STEP),
         "--drift-topic", "drift-events", "-X", "consumer.session.timeout.ms=6000"],
        cwd=args.root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # Scrape /metrics while the workers publish drift texts (the race a TSan build would see).
    err_lines, port = [], None
    while port is None:
        line = serve.stderr.readline()
        if not line:
            break
        err_lines.append(line)
        m = re.search(r"metrics on .*\(port (\d+)\)", line)
        port = int(m.group(1)) if m else None
    drain = threading.Thread(target=lambda: err_lines.extend(serve.stderr))
    drain.start()
    scrapes, live_drift = 0, 0
    while port and serve.poll() is None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
                body = r.read().decode()
            scrapes += 1
            live_drift += "kite_drift_psi{" in body
        except OSError:
            pass
        time.sleep(0.01)
    stdout = serve.stdout.read()
    serve.wait(timeout=90)
    drain.join()
    serve.stderr_text = "".join(err_lines)
    print(f"{scrapes} live scrapes, {live_drift} with drift gauges")
    check(serve.returncode == 0, f"kite serve exit 0 ({serve.returncode}: {serve.stderr_text[-800:]})")
    check(re.search(r"^predictions +%d " % STREAM, stdout, re.M) is not None,
          f"{STREAM} predictions ({stdout})")
    check("drift monitoring against" in serve.stderr_text, "drift monitoring announced")

    # Every partition of the drift topic read to its high watermark.
    messages, total, want, parts = kite_e2e.read_topic(addr, "drift-events", "stream-drift-test")
    events = [json.loads(v) for _, v in messages]
    check(parts and total == want, f"drift topic read to its end ({total} of {want} in {len(parts)} partitions)")
    # Partitions interleave: put the events back in stream order (stable within a check).
    events.sort(key=lambda e: e.get("end_event", 0))
finally:
    broker.stop()

with open(w("drift_events.jsonl"), "w") as f:
    f.writelines(json.dumps(e) + "\n" for e in events)
# Events of the sliding window: nothing significant while it holds only the reference's
# readings; after the shift, the shifted sensors' features (and only those) go significant.
sliding = "sliding_%d" % WINDOW
sig_events = [e for e in events if e.get("kind") == "feature" and e.get("window") == sliding
              and e.get("to") == "significant"]
before = [(e["feature"], e["end_event"]) for e in sig_events if e["end_event"] <= SHIFT_AT]
check(not before, f"no feature significant at the {(SHIFT_AT - WINDOW) // STEP + 1} checks "
      f"before the shift ({before[:5]})")
to_sig = {e["feature"] for e in sig_events}
pred_names = {c["name"] for c in profile["columns"] if c.get("role") == "prediction"}
feat_sig = to_sig - pred_names
print(f"{len(events)} drift events; significant in {sliding}: {sorted(feat_sig)}")
check(events, "drift events on the drift topic")
check({"S1", "T", "S1_lag1", "T_lag1", "S1_mean24", "T_mean24"} <= feat_sig,
      f"the shifted sensors' features went significant ({sorted(feat_sig)})")
check(all(DERIVED.match(f) for f in feat_sig),
      f"only derived features of the shifted columns went significant ({sorted(feat_sig)})")
first_sig = {}
for e in sig_events:
    first_sig.setdefault(e["feature"], e["end_event"])
late = {f: at for f, at in first_sig.items() if f in ("S1", "T") and not SHIFT_AT < at <= SHIFT_AT + WINDOW // 2}
check(("S1" in first_sig and "T" in first_sig) and not late,
      f"S1 and T significant within half a window of the shift (first at {first_sig.get('S1')}, "
      f"{first_sig.get('T')}; shift at {SHIFT_AT})")
# The tumbling window (250 events) is there to run two windows at once; within 250 hours the
# season itself moves some sensors, so its verdicts are not asserted.
tumbling = [e for e in events if e.get("window") == "tumbling_250"]
check(tumbling, "events from the second window too")

text = open(w("metrics.txt")).read()
for col in ("S1", "T"):
    pat = r'^kite_drift_feature_status\{window="%s",feature="%s"\} 2$' % (sliding, col)
    check(re.search(pat, text, re.M) is not None, f"/metrics: {col} status 2 in {sliding}")
unshifted = re.findall(r'^kite_drift_feature_status\{window="%s",feature="([^"]+)"\} 2$'
                       % sliding, text, re.M)
check(all(DERIVED.match(f) or f in pred_names for f in unshifted),
      f"/metrics: only shifted features at status 2 ({unshifted})")
for family in ("kite_drift_psi", "kite_drift_drifted_features_ratio", "kite_drift_checks_total",
               "kite_drift_detection_events_total"):
    check(re.search(r"^%s\{" % family, text, re.M) is not None, f"/metrics has {family}")
check(len(re.findall(r"^# TYPE kite_drift_psi ", text, re.M)) == 1, "one TYPE line per family")
pt = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True)
check(pt.returncode == 0 and not pt.stdout.strip() and not pt.stderr.strip(),
      f"promtool check metrics reports nothing ({pt.stdout}{pt.stderr})")
print(f"stream_drift: {len(failures)} failed")
sys.exit(T.exit_code())
