#!/usr/bin/python3
"""Recovery time per partition and its cost (engine/stream/pipeline_state.c; bench/RESULTS.md).

EVENTS air-quality events (SENSORS sensors, keyed by sensor) go to a 1-partition topic. Run 1:
`kite serve --exit-on-eof` scores them all (group g, offsets committed at the end): its scoring
rate is the reference. Then one more event arrives and run 2 (same group) starts: before it
scores that event it rebuilds the partition's state from offset 0 to the committed offset; the
log line gives the rebuild's seconds, so its rate is events replayed / seconds. Printed as a
table row. Usage:
  bench/state_rebuild.py --kite build/kite --root . [--kafka-dir D] [--events 100000]
(without --kafka-dir: the mock, which keeps at most ~5 MiB per partition, so stay <= 10000)."""
import argparse
import json
import os
import re
import subprocess
import sys
import time

from confluent_kafka import Producer

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "e2e"))
import kite_e2e  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--kite", required=True)
ap.add_argument("--root", required=True)
ap.add_argument("--kafka-dir")
ap.add_argument("--events", type=int, default=100000)
ap.add_argument("--workdir", default="/tmp/kite-state-bench")
args = ap.parse_args()
os.makedirs(args.workdir, exist_ok=True)
w = lambda n: os.path.join(args.workdir, n)

lines = open(os.path.join(args.root, "data/AirQualityUCI.csv"), encoding="latin-1").read().splitlines()
names = [n for n in lines[0].split(";") if n]
data = [l.split(";") for l in lines[1:] if l.split(";")[0].strip()]
per = min(len(data), 9000)
sensors = (args.events + per - 1) // per
events = []
for s in range(sensors):
    for r in data[:per]:
        ev = {"sensor": f"s{s}"}
        for n, v in zip(names, r):
            v = v.strip()
            ev[n] = v if n in ("Date", "Time") else (float(v.replace(",", ".")) if v else None)
        events.append(ev)
events = events[:args.events]
spec = json.load(open(os.path.join(args.root, "models/airquality.spec.json")))
spec["key"] = "sensor"
json.dump(spec, open(w("spec.json"), "w"))

broker = kite_e2e.Broker(args.kite, args.root, args.kafka_dir, partitions=1, topics=("events",))
try:
    p = Producer({"bootstrap.servers": broker.addr, "linger.ms": 20, "enable.idempotence": True})
    for ev in events + [None]:
        if ev is None:
            break
        while True:
            try:
                p.produce("events", key=ev["sensor"], value=json.dumps(ev))
                break
            except BufferError:
                p.poll(0.05)
    p.flush(120)

    def run(tag):
        argv = [args.kite, "serve", "--brokers", broker.addr, "--model", "models/airquality.json",
                "--feature-spec", w("spec.json"), "--group-id", "bench", "--workers", "1",
                "--cores", "none", "--metrics-addr", "", "--exit-on-eof", "true"]
        t0 = time.monotonic()
        out = subprocess.run(argv, cwd=args.root, capture_output=True, text=True, timeout=3600)
        open(w(f"{tag}.log"), "w").write(out.stderr + out.stdout)
        return time.monotonic() - t0, out.stderr + out.stdout

    secs1, log1 = run("run1")
    consumed = int(re.search(r"events consumed\s+(\d+)", log1).group(1))
    rate1 = float(re.search(r"throughput\s+([0-9.]+) events/s", log1).group(1))
    cpu1 = float(re.search(r"cpu\s+([0-9.]+) us per event", log1).group(1))
    p.produce("events", key=events[-1]["sensor"], value=json.dumps(dict(events[-1], Time="23.59.59")))
    p.flush(60)
    secs2, log2 = run("run2")
    m = re.search(r"state of \S+ rebuilt from its log up to offset (\d+) in ([0-9.]+) s", log2)
    upto, rebuild = int(m.group(1)), float(m.group(2))
    print("| events in the partition | run 1 scoring: events/s, CPU us/event | rebuild up to offset | rebuild s | replay events/s |")
    print(f"| {len(events)} | {rate1:,.0f}, {cpu1:.1f} | {upto} | {rebuild:.3f} | {upto / rebuild:,.0f} |")
finally:
    broker.stop()
