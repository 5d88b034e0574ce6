#!/usr/bin/python3
"""Hot reload in the Kafka pipeline (issue 16, deliverable 1): 20 model swaps while events flow.

Five Titanic models (same six spec features, different depth/rounds/seed, trained here with
XGBoost) become versions 1..21 of a plain versioned directory (reg/titanic/N/model.json). kite
serve (2 workers, 4 partitions, batches of 16) starts on version 1 of `--model reg/titanic`;
a producer thread sends 20 x 891 passengers (each with a unique key) at a steady rate, and
meanwhile the test adds version N+1 and makes kite reload it, alternately by SIGHUP and by
POST /admin/reload (bearer token), waiting for kite_model_generation to move each time. Between
swaps it offers two bad versions: a truncated model file and a model trained on five of the
six features (the spec check refuses it): each is refused with its reason in the reply and
the log, kite_model_reloads_total{result="refused"} counts it, and the old version keeps
scoring. Asserted:
  - every event has exactly one prediction (keys: no loss, no duplicate);
  - every prediction equals `kite score --spec` of that event with the model file of the
    version named on it (model_version), bit for bit as float32;
  - all 21 versions scored events; generation 21, 20 swaps, 2 refusals, 0 versions retained;
  - the admin endpoint refuses a wrong token (401);
  - SIGTERM: exit 0.
Then a second short run with model_watch_ms: replacing version files is picked up alone.
With --kafka-dir the same runs on the real Kafka cluster (tests/kite_e2e.Broker)."""
import csv
import json
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import xgboost as xgb
from confluent_kafka import Producer

import kite_e2e

SWAPS = 20
REPEAT = 20
TOKEN = "s3cret-reload"

args, w = kite_e2e.e2e_args(kafka_dir=True, fresh=True)
T = kite_e2e.Checks(verbose=True)
check, failures = T.check, T.failures
SPEC = os.path.join(args.root, "models/titanic.spec.json")


# --- models: five variants on the spec's features, one on five of them ---
names, X, y = kite_e2e.titanic_features(args.kite, args.root, SPEC, w("features.csv"))
variants = []
for v in range(5):
    b = xgb.train({"objective": "binary:logistic", "max_depth": 2 + v % 3, "eta": 0.3, "seed": v,
                   "subsample": 0.8}, xgb.DMatrix(X, y, feature_names=names), 4 + 3 * v)
    path = w("variant%d.json" % v)
    b.save_model(path)
    variants.append(path)
b = xgb.train({"objective": "binary:logistic", "max_depth": 3},
              xgb.DMatrix(X[:, :5], y, feature_names=names[:5]), 5)
b.save_model(w("five_features.json"))
reg = w("reg", "titanic")
version_file = {}


def add_version(n, src):
    d = os.path.join(reg, str(n))
    tmp = d + ".tmp"
    os.makedirs(tmp)
    shutil.copy(src, os.path.join(tmp, "model.json"))
    json.dump({"trained_on": "data/titanic.csv", "source": os.path.basename(src)},
              open(os.path.join(tmp, "meta.json"), "w"))
    os.rename(tmp, d)  # a version appears whole (".tmp" is not a number: never resolved)
    version_file["titanic/%d" % n] = src


add_version(1, variants[0])

rows, raw_fields = kite_e2e.titanic_rows(args.root)
events = {}
for r in range(REPEAT):
    for row in rows:
        events["%d-%s" % (r, row["PassengerId"])] = row

broker = kite_e2e.Broker(args.kite, args.root, args.kafka_dir, partitions=4)
serve = None


def start_serve(extra, log):
    return kite_e2e.start_serve(
        args.kite, args.root,
        ["--brokers", broker.addr, "--model", reg, "--feature-spec", SPEC,
         "--workers", "2", "--cores", "none", "--metrics-addr", "127.0.0.1:0", "--batch-size", "16",
         "--admin-token", TOKEN, "-X", "consumer.session.timeout.ms=30000", *extra], log)


def metric(port, name, labels=None):
    return kite_e2e.scrape(port, name, "{%s}" % labels if labels else "")


wait_metric = kite_e2e.wait_metric


def admin(port, token=TOKEN):
    req = urllib.request.Request(f"http://127.0.0.1:{port}/admin/reload", data=b"", method="POST",
                                 headers={"Authorization": "Bearer " + token})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read().decode())
    except urllib.error.HTTPError as e:
        body = e.read().decode()
        try:
            return e.code, json.loads(body)
        except ValueError:
            return e.code, {"message": body}


acked, failed = set(), []


def produce(keys, rate):
    """Sends keys at rate/s; acked gets each key whose delivery report succeeded (an event the
    broker never took is not kite's to score; the test asserts there is none)."""
    def report(err, msg):
        (failed.append(err) if err else acked.add(msg.key().decode()))
    p = Producer({"bootstrap.servers": broker.addr, "linger.ms": 5, "enable.idempotence": True,
                  "on_delivery": report})
    t0 = time.time()
    for i, k in enumerate(keys):
        row = events[k]
        ev = kite_e2e.titanic_event(row, raw_fields)
        while True:
            try:
                p.produce("events", key=k, value=json.dumps(ev))
                break
            except BufferError:
                p.poll(0.05)
        p.poll(0)
        ahead = (i + 1) / rate - (time.time() - t0)
        if ahead > 0:
            time.sleep(ahead)
    for _ in range(60):  # a loaded 3-node cluster can lag well behind the send rate
        if not p.flush(5):
            break


def read_all(topic):
    """Every message of topic, partition by partition, to the high watermark (kite_e2e.read_topic
    stops at 3000 per partition; this run has more)."""
    from confluent_kafka import Consumer, TopicPartition
    c = Consumer({"bootstrap.servers": broker.addr, "group.id": "reload-reader", "enable.auto.commit": False})
    meta = c.list_topics(topic, timeout=10).topics[topic]
    out, want = [], 0
    for part in sorted(meta.partitions):
        _, hi = c.get_watermark_offsets(TopicPartition(topic, part), timeout=10)
        want += hi
        c.assign([TopicPartition(topic, part, 0)])
        seen, idle = 0, 0
        while seen < hi and idle < 100:
            batch = c.consume(1000, 0.2)
            idle = idle + 1 if not batch else 0
            for m in batch:
                if not m.error():
                    out.append((m.key(), m.value()))
                    seen = m.offset() + 1
        c.unassign()
    c.close()
    return out, len(out), want


def verify(messages, keys, label):
    preds = {}
    dup = 0
    for k, v in messages:
        k = k.decode()
        if k in preds:
            dup += 1
        preds[k] = json.loads(v)
    check(dup == 0, f"{label}: no event scored twice ({dup} duplicates)")
    check(set(preds) == set(keys), f"{label}: every event has its prediction ({len(preds)} of {len(keys)})")
    by_version = {}
    for k, p in preds.items():
        by_version.setdefault(p.get("model_version"), []).append(k)
    unknown = [v for v in by_version if v not in version_file]
    check(not unknown, f"{label}: every prediction names a version kite was given ({unknown[:3]})")
    mismatches = 0
    for ver, ks in sorted(by_version.items(), key=lambda kv: str(kv[0])):
        if ver not in version_file:
            continue
        inp = w("score_%s.csv" % ver.replace("/", "_"))
        with open(inp, "w", newline="") as f:
            out = csv.DictWriter(f, fieldnames=raw_fields, extrasaction="ignore")
            out.writeheader()
            for k in ks:
                out.writerow(events[k])
        res = subprocess.run([args.kite, "score", "--model", version_file[ver], "--spec", SPEC,
                              "--input", inp, "-q"], cwd=args.root, check=True, capture_output=True,
                             text=True).stdout.splitlines()
        col = res[0].split(",").index("prediction")
        for k, line in zip(ks, res[1:]):
            want = struct.pack("<f", float(line.split(",")[col]))
            got = struct.pack("<f", float(preds[k]["prediction"]))
            fp_ok = preds[k]["model_fingerprint"] and True
            if want != got or not fp_ok:
                mismatches += 1
    check(mismatches == 0, f"{label}: each prediction equals kite score with the version named on it "
          f"({mismatches} differ, {len(by_version)} versions)")
    return by_version


try:
    # ---------------- run 1: 20 swaps by SIGHUP and POST /admin/reload ----------------
    serve, port = start_serve([], w("serve.log"))
    check(port is not None, "kite serve announced its metrics port")
    check(metric(port, "kite_model_generation") == 1, "generation 1 at start")
    code, _ = admin(port, token="wrong")
    check(code == 401, f"POST /admin/reload with a wrong token: 401 (got {code})")
    keys = list(events)
    check(wait_metric(port, "kite_ready", 1) == 1, "partitions assigned")
    producer = threading.Thread(target=produce, args=(keys, 800.0))
    producer.start()
    wait_metric(port, "kite_events_scored_total", 200)
    refusals = 0
    for i in range(1, SWAPS + 1):
        if i in (5, 12):  # a bad version first: refused, the old one keeps scoring
            bad = w("bad%d.json" % i)
            if i == 5:
                open(bad, "w").write(open(variants[1]).read()[:3000])  # truncated JSON
                why = "truncated"
            else:
                shutil.copy(w("five_features.json"), bad)
                why = "five features"
            add_version(i + 1, bad)
            code, body = admin(port)
            refusals += 1
            check(code == 422 and body.get("result") == "refused",
                  f"version {i + 1} ({why}) refused: {code} {body.get('message', '')[:160]}")
            scored = metric(port, "kite_events_scored_total")
            # Events scored after the refusal: wait for them (not a fixed sleep, which a loaded
            # machine's stalled consumer can outlast).
            check(wait_metric(port, "kite_events_scored_total", scored + 16, seconds=30) > scored and
                  metric(port, "kite_model_generation") == i,
                  f"after the refusal the old version keeps scoring (generation {i})")
            shutil.rmtree(os.path.join(reg, str(i + 1)))
            del version_file["titanic/%d" % (i + 1)]
        add_version(i + 1, variants[i % len(variants)])
        if i % 2:
            serve.send_signal(signal.SIGHUP)
        else:
            code, body = admin(port)
            check(code == 200 and body.get("result") == "swapped", f"admin reload {i}: {code} {body}")
        got = wait_metric(port, "kite_model_generation", i + 1, seconds=30)
        if got != i + 1:
            check(False, f"swap {i}: generation {got}, want {i + 1}")
        # Let the new version score a few batches before the next swap, however slowly the
        # machine runs, so every version names some events.
        scored = metric(port, "kite_events_scored_total") or 0
        wait_metric(port, "kite_events_scored_total", scored + 48, seconds=30)
    check(producer.is_alive(), "events were still flowing after the last swap")
    producer.join()
    check(len(acked) == len(keys) and not failed, f"every event acknowledged by the broker "
          f"({len(acked)} of {len(keys)}, {len(failed)} failed)")
    check(wait_metric(port, "kite_events_scored_total", len(keys), seconds=120) == len(keys),
          f"{len(keys)} events scored")
    check(metric(port, "kite_model_generation") == SWAPS + 1, f"generation {SWAPS + 1}")
    check(metric(port, "kite_model_reloads_total", labels='result="swapped"') == SWAPS, f"{SWAPS} swaps counted")
    check(metric(port, "kite_model_reloads_total", labels='result="refused"') == refusals,
          f"{refusals} refusals counted")
    check(metric(port, "kite_model_last_reload_ok") == 1, "last reload ok")
    time.sleep(0.3)
    check(metric(port, "kite_model_versions_retired") == 0, "every replaced version was freed")
    serve.send_signal(signal.SIGTERM)
    check(serve.wait(timeout=60) == 0, "SIGTERM: exit 0")
    log = open(w("serve.log")).read()
    check(len(re.findall(r"model reload \((SIGHUP|admin)\): swapped", log)) == SWAPS,
          "a log line per swap")
    refused_lines = re.findall(r"model reload \(admin\): refused: (.*)", log)
    check(len(refused_lines) == 2 and "five_features" not in refused_lines[0] and
          any("Fare" in l or "feature" in l for l in refused_lines), f"refusal log lines name why: {refused_lines}")
    messages, read, want = read_all("predictions")
    check(read == want, f"predictions topic read to its end ({read} of {want})")
    by_version = verify(messages, keys, "run 1")
    check(len(by_version) == SWAPS + 1, f"all {SWAPS + 1} versions scored events ({len(by_version)})")

    # ---------------- run 2: the watcher (model_watch_ms) alone ----------------
    if broker.real:
        broker._cluster("topics", "--partitions", "4", *kite_e2e.STANDARD_TOPICS)
    else:
        broker.stop()
        broker = kite_e2e.Broker(args.kite, args.root, None, partitions=4)
    serve, port = start_serve(["--model-watch-ms", "100"], w("serve2.log"))
    keys2 = keys[: 891 * 4]
    check(wait_metric(port, "kite_ready", 1) == 1, "run 2: partitions assigned")
    producer = threading.Thread(target=produce, args=(keys2, 1000.0))
    producer.start()
    wait_metric(port, "kite_events_scored_total", 100)
    gen0 = metric(port, "kite_model_generation")
    for j in range(3):
        add_version(SWAPS + 2 + j, variants[j])
        got = wait_metric(port, "kite_model_generation", gen0 + j + 1, seconds=10)
        check(got == gen0 + j + 1, f"watch: version {SWAPS + 2 + j} picked up without a signal (generation {got})")
        time.sleep(0.3)
    producer.join()
    wait_metric(port, "kite_events_scored_total", len(keys2), seconds=60)
    serve.send_signal(signal.SIGTERM)
    check(serve.wait(timeout=60) == 0, "run 2: SIGTERM: exit 0")
    check(len(re.findall(r"model reload \(watch\): swapped", open(w("serve2.log")).read())) == 3,
          "run 2: three swaps by the watcher")
    messages, read, want = read_all("predictions")
    by_version = verify(messages, keys2, "run 2")
    check(len(by_version) == 4, f"run 2: the four versions scored events ({sorted(by_version)})")
finally:
    if serve and serve.poll() is None:
        serve.kill()
    broker.stop()

print("%d failure(s)" % len(failures))
sys.exit(T.exit_code())
