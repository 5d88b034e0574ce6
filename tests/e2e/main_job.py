#!/usr/bin/python3
"""The README's main job (tools/run-main.sh) on the kite under test: KITE_SKIP_SETUP=1 runs the
same commands the job runs after its build (no apt-get, no rebuild), then its printed summary is
checked: Titanic rows and accuracy (recomputed from the written predictions), and the stream
summary: every replayed row consumed, events = predictions + dead letters, every output
delivered, throughput and latency percentiles present, /metrics agreeing, promtool clean."""
import csv
import os
import re
import subprocess
import sys
import time

from kite_e2e import Broker, Checks, e2e_args

args, _ = e2e_args(kafka_dir="run on the real Kafka cluster tools/kafka-cluster.sh started there "
                            "(default: the embedded mock)")
T = Checks(stream=sys.stderr)
check, failures = T.check, T.failures
LIMIT_S = 60


def number(pattern, text, what, cast=int):
    m = re.search(pattern, text, re.M)
    check(m is not None, f"{what}: /{pattern}/ in the output")
    return cast(m.group(1)) if m else None


env = dict(os.environ, KITE_SKIP_SETUP="1", KITE_BUILD_DIR=os.path.dirname(os.path.abspath(args.kite)),
           KITE_OUT_DIR=os.path.abspath(args.workdir))
if args.kafka_dir:  # the job's stream on the real cluster: one input partition, as embedded
    env["KITE_BROKERS"] = Broker(args.kite, args.root, args.kafka_dir, partitions=1).addr
t0 = time.monotonic()
r = subprocess.run([os.path.join(args.root, "tools", "run-main.sh")], cwd=args.root, env=env,
                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=LIMIT_S * 2)
took = time.monotonic() - t0
out = r.stdout
print(out)
check(r.returncode == 0, f"tools/run-main.sh exit 0 ({r.returncode})")
check(took < LIMIT_S, f"main job took {took:.1f} s, expected under {LIMIT_S} s")
check(re.search(r"^kernel chosen: \w+$", out, re.M) is not None, "kite info's kernel line")

# --- Titanic: 891 passengers scored, accuracy line consistent with the predictions file ---
rows = number(r"^kite: (\d+) rows, \d+ trees", out, "score summary rows")
check(rows == 891, f"Titanic rows scored: {rows}, expected 891")
m = re.search(r"^kite: accuracy ([\d.]+) \((\d+) of (\d+) labelled rows\)", out, re.M)
check(m is not None, "accuracy line printed")
written = number(r"^predictions written to .*titanic_predictions\.csv \((\d+) rows\)", out,
                 "predictions file line")
check(written == 891, f"predictions file rows: {written}, expected 891")
pred_path = os.path.join(args.workdir, "titanic_predictions.csv")
with open(os.path.join(args.root, "data", "titanic_features.csv")) as f:
    labels = [int(float(row["Survived"])) for row in csv.DictReader(f)]
preds = []
if os.path.exists(pred_path):
    with open(pred_path) as f:
        preds = [float(row["prediction"]) for row in csv.DictReader(f)]
check(len(preds) == len(labels) == 891, f"{len(preds)} predictions for {len(labels)} labels")
if m and len(preds) == len(labels):
    # kite score counts a prediction above 0.5 as "survived" (tools/cmd_score.c).
    correct = sum((p > 0.5) == bool(y) for p, y in zip(preds, labels))
    acc, hits, labelled = float(m.group(1)), int(m.group(2)), int(m.group(3))
    check(labelled == 891 and hits == correct,
          f"accuracy line says {hits} of {labelled}; the predictions file gives {correct} of 891")
    check(abs(acc - correct / 891) < 5e-5, f"accuracy {acc} vs {correct}/891")
    check(acc > 0.8, f"accuracy {acc}: the bundled model validates at 0.837, so > 0.8")

# --- stream: the replay's rows all consumed, each a prediction or a dead letter ---
with open(os.path.join(args.root, "data", "AirQualityUCI.csv"), encoding="latin-1") as f:
    # kite's CSV reader skips blank rows (UCI's trailing ";;;;;;;;;;;;;;;;,,,,,").
    expected = sum(1 for line in f.read().splitlines()[1:] if line.strip(";, \r"))
check("== kite serve summary ==" in out, "stream summary printed")
replayed = number(r"^events replayed +(\d+)$", out, "events replayed")
consumed = number(r"^events consumed +(\d+)$", out, "events consumed")
predictions = number(r"^predictions +(\d+) ", out, "predictions")
dead = number(r"^dead letters +(\d+)$", out, "dead letters")
alerts = number(r"^alerts +(\d+)$", out, "alerts")
delivered = number(r"^outputs delivered +(\d+) ", out, "outputs delivered")
check(replayed == expected, f"events replayed {replayed}, the CSV has {expected} rows")
check(consumed == replayed, f"zero lost: consumed {consumed} of {replayed} replayed")
if None not in (consumed, predictions, dead, alerts, delivered):
    check(consumed == predictions + dead,
          f"events {consumed} == predictions {predictions} + dead letters {dead}")
    check(delivered == predictions + alerts + dead,
          f"zero lost: outputs delivered {delivered} == predictions + alerts + dead letters "
          f"({predictions} + {alerts} + {dead})")
check(predictions is not None and predictions > 0, "some predictions")
throughput = number(r"^throughput +(\d+) events/s", out, "throughput")
check(throughput is not None and throughput > 0, f"throughput {throughput} events/s")
lat = re.search(r"^latency, .*: p50 ([\d.]+) ms, p99 ([\d.]+) ms, p99\.9 ([\d.]+) ms$", out, re.M)
check(lat is not None, "latency percentiles line")
if lat:
    p50, p99, p999 = map(float, lat.groups())
    check(0 < p50 <= p99 <= p999, f"latency percentiles ordered and positive: {p50} {p99} {p999}")

# --- metrics at exit: promtool clean and the same counts as the summary ---
promtool = number(r"promtool check metrics: (\d+) problems", out, "promtool count")
check(promtool == 0, f"promtool reports {promtool} problems in the metrics dump")
for metric, want in (("kite_events_consumed_total", consumed),
                     ("kite_events_scored_total", predictions),
                     ("kite_dead_letters_total", dead), ("kite_alerts_total", alerts),
                     ("kite_event_latency_seconds_count", predictions)):
    got = number(rf"^  {metric} (\d+)$", out, metric)
    check(got is not None and got == want, f"{metric} {got} == summary's {want}")
print(f"main_job: {took:.1f} s, {len(failures)} failed")
sys.exit(T.exit_code())
