#!/usr/bin/python3
"""Live metrics endpoint of `kite serve`: /health, /ready, /metrics while events stream, checked
by `promtool check metrics` (which must print nothing); then SIGTERM must drain, commit and exit 0
with the summary printed."""
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

from kite_e2e import Broker, Checks, e2e_args

args, _ = e2e_args("--kite", "--root", kafka_dir="run on the real Kafka cluster tools/kafka-cluster.sh "
                                              "started there (default: the embedded mock)")
# With --kafka-dir, --replay goes to the real cluster instead of kite's embedded broker.
brokers = ["--brokers", Broker(args.kite, args.root, args.kafka_dir).addr] if args.kafka_dir else []

T = Checks(stream=sys.stderr)
check, failures = T.check, T.failures


def get(port, path):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


proc = subprocess.Popen(
    [args.kite, "serve", "--model", "models/titanic.json", "--feature-spec", "models/titanic.spec.json",
     "--replay", "data/titanic.csv", "--replay-key", "PassengerId", "--metrics-addr", "127.0.0.1:0",
     "--cores", "none", "-X", "consumer.session.timeout.ms=6000", *brokers],
    cwd=args.root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
port = None
deadline = time.time() + 30
stderr_lines = []
while time.time() < deadline and port is None:
    line = proc.stderr.readline()
    if not line:
        break
    stderr_lines.append(line)
    m = re.search(r"metrics on .*\(port (\d+)\)", line)
    if m:
        port = int(m.group(1))
check(port is not None, "kite serve printed its metrics port")
if port is None:
    proc.kill()
    print("".join(stderr_lines), file=sys.stderr)
    sys.exit(1)

status, body = get(port, "/health")
check(status == 200 and body.strip() == "ok", f"/health 200 ok (got {status} {body!r})")
# Wait until all 891 Titanic rows are scored.
consumed = 0
for _ in range(300):
    status, text = get(port, "/metrics")
    m = re.search(r"^kite_events_consumed_total (\d+)$", text, re.M)
    consumed = int(m.group(1)) if m else 0
    if consumed >= 891:
        break
    time.sleep(0.1)
check(consumed == 891, f"891 events consumed (got {consumed})")
status, _ = get(port, "/ready")
check(status == 200, f"/ready 200 once partitions are assigned (got {status})")
status, _ = get(port, "/nope")
check(status == 404, "unknown path 404")
status, text = get(port, "/metrics")
check(status == 200, "/metrics 200")
for family in ["kite_events_consumed_total", "kite_events_scored_total", "kite_dead_letters_total",
               "kite_alerts_total", "kite_event_latency_seconds_bucket",
               "kite_scoring_latency_seconds_count", "kite_batch_events_bucket",
               "kite_prediction_value_bucket", "kite_missing_feature_values_total",
               "kite_inference_errors_total", "kite_consumer_lag_messages",
               "kite_outputs_in_flight"]:
    check(re.search(rf"^{family}[ {{]", text, re.M) is not None, f"/metrics has {family}")
pt = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True)
check(pt.returncode == 0 and pt.stdout.strip() == "" and pt.stderr.strip() == "",
      f"promtool check metrics reports nothing (rc {pt.returncode}: {pt.stdout}{pt.stderr})")

proc.send_signal(signal.SIGTERM)
try:
    out, err = proc.communicate(timeout=60)
except subprocess.TimeoutExpired:
    proc.kill()
    out, err = proc.communicate()
check(proc.returncode == 0, f"SIGTERM: exit 0 (got {proc.returncode})")
check(re.search(r"^predictions +891 ", out, re.M) is not None, "summary printed with 891 predictions")
check("offsets committed" in err or "revoked" in err, "offsets committed on the way out")
if failures:
    print(out, err, file=sys.stderr)
print(f"stream_metrics: {len(failures)} failed")
sys.exit(T.exit_code())
