#!/usr/bin/python3
"""kite capacity: measures the cost of an event through the real pipeline and plans for a rate.

Asserted: the measured sample is the requested number of events, all scored; the plan's
arithmetic holds (events per core = 1e6 / CPU us per event; usable = that x (1 - headroom);
cores = ceil(rate / usable); instances = ceil(cores / cores per instance); partitions = one per
worker); bad usage exits 2, a bad model or input
exits 1 with one line naming it."""
import json
import math
import subprocess
import sys

from kite_e2e import Broker, Checks, e2e_args

args, _ = e2e_args("--kite", "--root", kafka_dir="measure on the real Kafka cluster tools/kafka-cluster.sh "
                                              "started there (default: the embedded broker)")
# On the real cluster the latency sweep is on by default; capacity_sweep.py tests it, here the
# drain and the plan's arithmetic are the subject.
brokers = ["--brokers", Broker(args.kite, args.root, args.kafka_dir, partitions=1,
                              topics=("capacity-events",)).addr, "--no-sweep"] if args.kafka_dir else []
T = Checks(verbose=True)
check, failures = T.check, T.failures


def run(*extra):
    return subprocess.run([args.kite, "capacity", *extra, *brokers], cwd=args.root, capture_output=True,
                          text=True, timeout=120)


base = ["--model", "models/titanic.json", "--spec", "models/titanic.spec.json", "--input",
        "data/titanic.csv", "--key", "PassengerId", "--events", "3000", "--json"]
r = run(*base, "--rate", "250000", "--headroom", "0.25", "--cores-per-instance", "3")
check(r.returncode == 0, f"kite capacity exit 0 ({r.returncode}: {r.stderr[-400:]})")
plan = json.loads(r.stdout) if r.returncode == 0 else {}
check(plan.get("events_measured") == 3000 and plan.get("dead_letters") == 0,
      f"3000 events measured, none dead-lettered ({plan.get('events_measured')})")
cpu = plan.get("cpu_us_per_event", 0)
check(0 < cpu < 10000, f"a CPU cost per event was measured ({cpu} us)")
if cpu > 0:
    per_core = 1e6 / cpu
    usable = per_core * 0.75
    cores = math.ceil(250000 / usable)
    instances = math.ceil(cores / 3)
    check(abs(plan["events_per_core_second"] - per_core) <= 1 + 1e-3 * per_core,
          f"events per core = 1e6 / cpu ({plan['events_per_core_second']} vs {per_core:.0f})")
    check(abs(plan["usable_events_per_core_second"] - usable) <= 1 + 1e-3 * usable,
          "usable = per core x (1 - headroom)")
    # cpu is printed with 3 decimals: the ceiling may flip at an exact boundary, so allow one.
    check(abs(plan["cores"] - cores) <= 1 and plan["cores"] >= 1, f"cores = ceil(rate / usable) ({plan['cores']} vs {cores})")
    check(plan["instances"] == math.ceil(plan["cores"] / 3) and plan["cores_per_instance"] == 3,
          f"instances = ceil(cores / 3) ({plan['instances']})")
    check(plan["partitions"] == plan["instances"] * 3, f"one partition per worker ({plan['partitions']})")
# Text output names the plan.
r = run("--model", "models/titanic.json", "--spec", "models/titanic.spec.json", "--input",
        "data/titanic.csv", "--events", "500", "--rate", "1000")
check(r.returncode == 0 and "cores" in r.stdout and "partitions" in r.stdout and
      "us (process CPU" in r.stdout, f"text plan printed ({r.stdout[-300:]})")
# Usage and bad input.
r = run("--model", "models/titanic.json", "--input", "data/titanic.csv")
check(r.returncode == 2 and "--rate" in r.stderr, f"no --rate: exit 2 ({r.returncode})")
r = run("--model", "models/titanic.json", "--input", "data/titanic.csv", "--rate", "-5")
check(r.returncode == 2, f"negative rate: exit 2 ({r.returncode})")
r = run("--model", "no/such/model.json", "--input", "data/titanic.csv", "--rate", "1000",
        "--events", "200")
lines = [l for l in r.stderr.splitlines() if l.startswith("kite capacity:") and "loading" not in l]
check(r.returncode == 1 and len(lines) == 1 and "no/such/model.json" in lines[0],
      f"missing model: exit 1, one line naming it ({r.returncode}: {lines})")
r = run("--model", "models/titanic.json", "--input", "no/such.csv", "--rate", "1000")
check(r.returncode == 1 and "no/such.csv" in r.stderr, f"missing input: exit 1 ({r.returncode})")
print(f"capacity_cli: {len(failures)} failed")
sys.exit(T.exit_code())
