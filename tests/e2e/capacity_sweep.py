#!/usr/bin/python3
"""kite capacity's latency sweep on the real Kafka cluster: a short sweep (3 rates, 2 s each),
--json and --plot. Correctness of the curve, not speed (the machine is shared):

- the steps run are the planned ones (or fewer, ending at the one that fell behind), at rates
  strictly increasing and equally spaced up to --sweep-max; each step's events were all
  acknowledged by the load producer and consumed, except a last step that fell behind;
- per step p50 <= p99 <= p99.9, all > 0;
- floor = the lower p99 of the two lowest rates, threshold = factor x floor + 1 ms; the knee is
  the last step of the leading run at or under the threshold and kept up, "beyond" when that run
  is every planned step, "below" when it is empty; the plan's latency workers are
  ceil(rate / knee rate) and its cores at least that and the CPU's;
- the SVG parses as XML, has the SVG namespace, and one polyline per percentile with one point
  per step run, the values' order matching (p50 drawn at or below p99 at or below p99.9);
- --plot without the sweep is a usage error (exit 2); an unwritable --plot exits 1 naming it."""
import argparse
import json
import math
import os
import subprocess
import sys
import xml.etree.ElementTree as ET

from kite_e2e import Broker, Checks

ap = argparse.ArgumentParser()
ap.add_argument("--kite", required=True)
ap.add_argument("--root", required=True)
ap.add_argument("--workdir", required=True)
ap.add_argument("--kafka-dir", required=True)
args = ap.parse_args()
os.makedirs(args.workdir, exist_ok=True)
broker = Broker(args.kite, args.root, args.kafka_dir, partitions=1, topics=("capacity-events",))
T = Checks(verbose=True)
check, failures = T.check, T.failures


base = ["--model", "models/titanic.json", "--spec", "models/titanic.spec.json", "--input",
        "data/titanic.csv", "--key", "PassengerId", "--events", "2000", "--brokers", broker.addr]
plot = os.path.join(args.workdir, "curve.svg")
if os.path.exists(plot):
    os.remove(plot)
top, steps, factor, rate = 3000.0, 3, 2.0, 20000
r = subprocess.run([args.kite, "capacity", *base, "--rate", str(rate), "--sweep-max", str(top),
                    "--sweep-steps", str(steps), "--step-seconds", "2", "--knee-factor",
                    str(factor), "--json", "--plot", plot],
                   cwd=args.root, capture_output=True, text=True, timeout=150)
check(r.returncode == 0, f"kite capacity --json --plot exit 0 ({r.returncode}: {r.stderr[-600:]})")
plan = json.loads(r.stdout) if r.returncode == 0 else {}
sw = plan.get("sweep", {})
st = sw.get("steps", [])
print(json.dumps(sw, indent=1))
check(sw.get("planned") == steps and 1 <= len(st) <= steps, f"{steps} steps planned, 1..{steps} run ({len(st)})")
for i, s in enumerate(st):
    want = top * (i + 1) / steps
    check(abs(s["rate"] - want) <= 1e-3 * want, f"step {i}: rate {s['rate']} = {want:.1f}")
    check(s["events"] == max(50, round(want * 2)) and s["achieved"] > 0,
          f"step {i}: the producer sent rate x 2 s events ({s['events']}), achieved {s['achieved']}")
    last = i == len(st) - 1
    check(s["kept_up"] or last, f"step {i}: only the last step may have fallen behind")
    if s["kept_up"]:
        check(s["consumed"] == s["events"], f"step {i}: every event consumed ({s['consumed']})")
    check(0 < s["p50_ms"] <= s["p99_ms"] <= s["p999_ms"],
          f"step {i}: 0 < p50 {s['p50_ms']} <= p99 {s['p99_ms']} <= p99.9 {s['p999_ms']}")
if len(st) < steps:
    check(not st[-1]["kept_up"], "the sweep stopped early only after a step that fell behind")
if st:
    floor = st[0]["p99_ms"]
    if len(st) > 1 and st[1]["kept_up"]:
        floor = min(floor, st[1]["p99_ms"])
    thr = factor * floor + 1
    knee = -1
    for i, s in enumerate(st):
        if not s["kept_up"] or s["p99_ms"] > thr:
            break
        knee = i
    check(abs(sw.get("floor_p99_ms", -1) - floor) < 1e-3 and abs(sw.get("threshold_ms", -1) - thr) < 1e-2,
          f"floor {sw.get('floor_p99_ms')} = {floor}, threshold {sw.get('threshold_ms')} = {thr:.3f}")
    check(sw.get("knee_index") == knee, f"knee index {sw.get('knee_index')} = {knee}")
    where = "beyond" if knee == steps - 1 else "within" if knee >= 0 else "below"
    check(sw.get("knee") == where, f"knee {sw.get('knee')} ({where})")
    if knee >= 0:
        kr = st[knee]["rate"]
        check(abs(sw["knee_rate"] - kr) < 1e-2 and sw["knee_workers"] == math.ceil(rate / kr),
              f"knee rate {sw['knee_rate']}, workers {sw['knee_workers']} = ceil({rate} / {kr:.0f})")
        check(plan["cores"] == max(plan["cpu_cores"], sw["knee_workers"]),
              f"cores {plan['cores']} = max(cpu {plan['cpu_cores']}, latency {sw['knee_workers']})")
    else:
        check(plan.get("cores") == plan.get("cpu_cores"), "no knee: cores by CPU alone")
# The SVG: well-formed, namespaced, a polyline per percentile with a point per step.
try:
    root = ET.parse(plot).getroot()
except (OSError, ET.ParseError) as e:
    root = None
    check(False, f"the SVG parses ({e})")
if root is not None:
    ns = "{http://www.w3.org/2000/svg}"
    check(root.tag == ns + "svg", f"root element is SVG-namespaced svg ({root.tag})")
    lines = [[tuple(map(float, p.split(","))) for p in pl.get("points").split()]
             for pl in root.iter(ns + "polyline")]
    check(len(lines) == 3 and all(len(l) == len(st) for l in lines),
          f"3 polylines of {len(st)} points ({[len(l) for l in lines]})")
    if len(lines) == 3 and all(len(l) == len(st) for l in lines):
        xs = [p[0] for p in lines[0]]
        check(all(a < b for a, b in zip(xs, xs[1:])), f"x increases with the rate ({xs})")
        # SVG y grows downwards: p50 at or below p99 on the page means y50 >= y99 >= y999.
        check(all(lines[0][i][1] >= lines[1][i][1] - 0.11 >= lines[2][i][1] - 0.22 for i in range(len(st))),
              "each step's p50 drawn at or under its p99, p99 at or under p99.9")
    text = "".join(root.itertext())
    check("knee" in text, "the knee is named in the chart")
# Usage and a bad --plot.
r = subprocess.run([args.kite, "capacity", *base, "--rate", "1000", "--no-sweep", "--plot", plot],
                   cwd=args.root, capture_output=True, text=True, timeout=60)
check(r.returncode == 2 and "--plot" in r.stderr, f"--plot with --no-sweep: exit 2 ({r.returncode})")
bad = os.path.join(args.workdir, "no", "such", "dir", "c.svg")
r = subprocess.run([args.kite, "capacity", *base, "--rate", "1000", "--sweep-max", "500",
                    "--sweep-steps", "2", "--step-seconds", "1", "--plot", bad],
                   cwd=args.root, capture_output=True, text=True, timeout=120)
check(r.returncode == 1 and bad in r.stderr, f"unwritable --plot: exit 1 naming it ({r.returncode}: {r.stderr[-200:]})")
broker.stop()
print(f"capacity_sweep: {len(failures)} failed")
sys.exit(T.exit_code())
