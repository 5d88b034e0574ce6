#!/usr/bin/python3
"""Drift that retrains, end to end (issue 16, deliverable 4).

The air-quality stream of tests/e2e/stream_drift.py with its labels (CO(GT) is in each event):
copy A (ROWS hourly readings), copy B 52 weeks later with a sensor shift from its row
SHIFT_IN_B on (PT08.S1(CO) x SCALE, C6H6(GT) x 2, T + 10), then copy C 52 weeks after B, all shifted.
kite serve runs `--model REG@production --model-watch-ms 200` with the drift monitor;
tools/retrain.py runs beside it as the flow step. Asserted:
  - retrain.py sees the drift event, trains on the recent labelled window, registers version 2
    and moves the alias (exit 0, its JSON line says so);
  - kite serve swaps to airquality/2 by itself; C's predictions carry it, and every prediction
    equals `kite score --spec` of the whole stream with the version named on it;
  - on C (shifted data after the swap), version 2's RMSE beats version 1's;
  - no event is lost or scored twice (3 x ROWS predictions, one per offset)."""
import datetime
import json
import math
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import time

from confluent_kafka import Consumer, TopicPartition

import kite_e2e

ROWS = 1000
SHIFT_IN_B = 400
SCALE = 1.5
args, w = kite_e2e.e2e_args(fresh=True)
SPEC = os.path.join(args.root, "models/airquality.spec.json")
T = kite_e2e.Checks(verbose=True)
check, failures = T.check, T.failures


lines = open(os.path.join(args.root, "data/AirQualityUCI.csv"), encoding="latin-1").read().splitlines()
header = lines[0].split(";")
cols = {n.rstrip(","): i for i, n in enumerate(header)}
data = [l for l in lines[1:] if l.split(";")[0].strip()][:ROWS]


def copy(days, shift_from):
    out = []
    for r, line in enumerate(data):
        f = line.split(";")
        d = datetime.datetime.strptime(f[cols["Date"]], "%d/%m/%Y") + datetime.timedelta(days=days)
        f[cols["Date"]] = d.strftime("%d/%m/%Y")
        if r >= shift_from:
            for col, fn in (("PT08.S1(CO)", lambda v: v * SCALE), ("T", lambda v: v + 10),
                            ("C6H6(GT)", lambda v: v * 2)):
                v = f[cols[col]].strip()
                if v and v != "-200":
                    f[cols[col]] = ("%.4f" % fn(float(v.replace(",", ".")))).replace(".", ",")
        out.append(";".join(f))
    return out


a, b, c = data, copy(364, SHIFT_IN_B), copy(728, 0)
for name, part in (("ref.csv", a), ("ab.csv", a + b), ("c.csv", c), ("all.csv", a + b + c)):
    open(w(name), "w").write("\n".join([lines[0]] + part) + "\n")
subprocess.run([args.kite, "profile", "--model", "models/airquality.json", "--spec", SPEC, "--input", w("ref.csv"),
                "--output", w("ref.json"), "-d", ";", "--decimal-comma", "--missing", "-200"],
               cwd=args.root, check=True)
reg = w("reg", "airquality")
os.makedirs(os.path.join(reg, "1"))
shutil.copy(os.path.join(args.root, "models/airquality.json"), os.path.join(reg, "1", "model.json"))
json.dump({"production": 1}, open(os.path.join(reg, "aliases.json"), "w"))

broker = kite_e2e.Broker(args.kite, args.root, None, partitions=1)
log = w("serve.log")
serve, port = kite_e2e.start_serve(
    args.kite, args.root,
    ["--brokers", broker.addr, "--model", reg + "@production", "--feature-spec", SPEC,
     "--model-watch-ms", "200", "--drift-profile", w("ref.json"), "--drift-windows", "sliding:500:100",
     "--drift-topic", "drift-events", "--label-field", "CO(GT)", "--workers", "1", "--cores", "none",
     "--metrics-addr", "127.0.0.1:0", "-X", "consumer.session.timeout.ms=6000"], log)
retrain = None
try:
    wait = lambda name, want, seconds=60: kite_e2e.wait_metric(port, name, want, seconds)

    def produce(f):
        subprocess.run([args.kite, "produce", "--brokers", broker.addr, "--topic", "events", "--input", w(f),
                        "-d", ";", "--decimal-comma", "--missing", "-200", "-q"], cwd=args.root, check=True)

    check(wait("kite_ready", 1) == 1, "kite serve on reg/airquality@production is ready")
    t0 = time.time()
    retrain = subprocess.Popen([sys.executable, os.path.join(args.root, "tools/retrain.py"), "--brokers", broker.addr,
                                "--registry", reg, "--spec", SPEC, "--label", "CO(GT)", "--window", "500",
                                "--timeout", "90", "--kite", args.kite],
                               cwd=args.root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    produce("ab.csv")
    check(wait("kite_events_scored_total", 2 * ROWS) == 2 * ROWS, f"A and B scored ({2 * ROWS})")
    out, err = retrain.communicate(timeout=120)
    res = json.loads(out.strip().splitlines()[-1]) if out.strip() else {}
    check(retrain.returncode == 0 and res.get("result") == "registered" and res.get("version") == 2,
          f"retrain.py: drift event -> version 2 registered, alias moved (exit {retrain.returncode}, "
          f"{out.strip()[:300]} {err.strip()[-300:]})")
    check(wait("kite_model_generation", 2, 20) == 2, "kite serve swapped to it by the alias")
    print(f"drift event to serving version 2: {time.time() - t0:.1f} s", flush=True)
    produce("c.csv")
    check(wait("kite_events_scored_total", 3 * ROWS) == 3 * ROWS, f"C scored too ({3 * ROWS})")
    serve.send_signal(signal.SIGTERM)
    check(serve.wait(timeout=60) == 0, "SIGTERM: exit 0")
    text = open(log).read()
    check(re.search(r"model reload \(watch\): swapped airquality/1 .*-> airquality/2", text) is not None,
          "log: swapped airquality/1 -> airquality/2")

    cons = Consumer({"bootstrap.servers": broker.addr, "group.id": "rd", "enable.auto.commit": False})
    _, hi = cons.get_watermark_offsets(TopicPartition("predictions", 0), timeout=10)
    cons.assign([TopicPartition("predictions", 0, 0)])
    preds, idle = {}, 0
    dup = 0
    while sum(1 for _ in preds) < hi and idle < 50:
        ms = cons.consume(1000, 0.2)
        idle = idle + 1 if not ms else 0
        for m in ms:
            if not m.error():
                p = json.loads(m.value())
                dup += p["offset"] in preds
                preds[p["offset"]] = p
    cons.close()
    check(dup == 0 and sorted(preds) == list(range(3 * ROWS)),
          f"one prediction per event ({len(preds)} of {3 * ROWS}, {dup} duplicates)")

    def score(version):
        r = subprocess.run([args.kite, "score", "--model", os.path.join(reg, str(version), "model.json"), "--spec", SPEC,
                            "--input", w("all.csv"), "-q"], cwd=args.root, check=True, capture_output=True, text=True)
        return [float(v) if v != "" else math.nan for v in kite_e2e.predictions(r.stdout)]

    s = {1: score(1), 2: score(2)}
    f32 = lambda v: struct.pack("<f", v)
    mism, versions = 0, {}
    for off, p in preds.items():
        v = int(p["model_version"].split("/")[1])
        versions.setdefault(v, []).append(off)
        if f32(p["prediction"]) != f32(s[v][off]):
            mism += 1
    check(mism == 0, f"every prediction = kite score of the whole stream with its version ({mism} differ)")
    check(all(preds[o]["model_version"] == "airquality/2" for o in range(2 * ROWS, 3 * ROWS)),
          "C's predictions carry airquality/2")
    labels = [None if l.split(";")[cols["CO(GT)"]].strip() in ("", "-200") else
              float(l.split(";")[cols["CO(GT)"]].replace(",", ".")) for l in c]
    def rmse(v):
        e = [(s[v][2 * ROWS + i] - y) ** 2 for i, y in enumerate(labels)
             if y is not None and not math.isnan(s[v][2 * ROWS + i])]
        return math.sqrt(sum(e) / len(e)), len(e)
    (r1, n1), (r2, _) = rmse(1), rmse(2)
    print(f"RMSE on C (shifted, {n1} labelled): version 1 {r1:.4f}, version 2 {r2:.4f}")
    check(r2 < r1, f"on the shifted data version 2 beats version 1 (RMSE {r2:.4f} < {r1:.4f})")
finally:
    for p in (serve, retrain):
        if p and p.poll() is None:
            p.kill()
    broker.stop()
print("%d failure(s)" % len(failures))
sys.exit(T.exit_code())
