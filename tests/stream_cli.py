#!/usr/bin/python3
"""kite broker + kite produce + kite serve as separate processes over loopback (the README's
"separate processes" recipe), a --config file, and the CLI's usage errors."""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

ap = argparse.ArgumentParser()
ap.add_argument("--kite", required=True)
ap.add_argument("--root", required=True)
args = ap.parse_args()
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what, file=sys.stderr)


def run(*argv, timeout=120):
    return subprocess.run([args.kite, *argv], cwd=args.root, capture_output=True, text=True,
                          timeout=timeout)


r = run("produce", "--topic", "t", "--input", "data/titanic.csv")
check(r.returncode == 2 and "--brokers" in r.stderr, f"produce without --brokers: usage error ({r.stderr})")
r = run("serve", "--no-such-flag", "1")
check(r.returncode == 2 and "unknown option" in r.stderr, "serve: unknown option is a usage error")
r = run("serve", "--model", "models/titanic.json", "--batch-size", "0")
check(r.returncode == 2 and "batch_size" in r.stderr, f"serve: bad batch size named ({r.stderr})")
r = run("serve", "--model", "models/nope.json", "--metrics-addr", "")
check(r.returncode == 1 and "nope.json" in r.stderr, "serve: missing model named, exit 1")

broker = subprocess.Popen([args.kite, "broker", "--partitions", "2"], cwd=args.root,
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
try:
    addr = broker.stdout.readline().strip()
    check(re.fullmatch(r"127\.0\.0\.1:\d+", addr) is not None, f"kite broker prints its address ({addr!r})")
    r = run("produce", "--brokers", addr, "--topic", "events", "--input", "data/titanic.csv",
            "--key", "PassengerId", "--limit", "300")
    check(r.returncode == 0 and "300 events" in r.stderr, f"kite produce sent 300 events ({r.stderr})")
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump({"brokers": addr, "model": "models/titanic.json",
                   "feature_spec": "models/titanic.spec.json", "exit_on_eof": True,
                   "metrics_addr": "", "cores": "none",
                   "kafka": {"consumer.session.timeout.ms": 6000}}, f)
        conf = f.name
    r = run("serve", "--config", conf, "--batch-size", "32")
    os.unlink(conf)
    check(r.returncode == 0, f"kite serve --config exit 0 ({r.returncode}: {r.stderr[-500:]})")
    check(re.search(r"^predictions +300 ", r.stdout, re.M) is not None,
          f"300 predictions in the summary ({r.stdout})")
    check("worker" in r.stderr, "worker start logged")
finally:
    broker.terminate()
    broker.wait(timeout=30)
check(broker.returncode == 0, f"kite broker exits 0 on SIGTERM ({broker.returncode})")
print(f"stream_cli: {len(failures)} failed")
sys.exit(1 if failures else 0)
