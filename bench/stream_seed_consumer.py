#!/usr/bin/python3
"""The seed-style baseline: a Python consumer (confluent-kafka; Debian's links the same librdkafka
2.0.2 as kite, the venv's wheel bundles its own) that
polls batches, json.loads each event, builds the Titanic feature row, scores the batch with the
XGBoost Python package and produces one JSON prediction per event, auto-committing offsets, as
the seeds' consumers do. Prints events/s and CPU microseconds per event (user + sys of this
process, first event to last delivery).

  stream_seed_consumer.py --brokers B --topic events --events N [--batch 10]"""
import argparse
import json
import resource
import time

import numpy as np
import xgboost as xgb
import confluent_kafka
from confluent_kafka import Consumer, Producer

ap = argparse.ArgumentParser()
ap.add_argument("--brokers", required=True)
ap.add_argument("--topic", default="events")
ap.add_argument("--events", type=int, required=True)
ap.add_argument("--batch", type=int, default=10)
ap.add_argument("--model", default="models/titanic.json")
ap.add_argument("--group", default="seed-consumer")
args = ap.parse_args()

booster = xgb.Booster()
booster.load_model(args.model)
features = ["Pclass", "Sex", "Age", "SibSp", "Parch", "Fare"]
sex = {"male": 0.0, "female": 1.0}

consumer = Consumer({"bootstrap.servers": args.brokers, "group.id": args.group,
                     "auto.offset.reset": "earliest", "session.timeout.ms": 6000,
                     "fetch.wait.max.ms": 10})
producer = Producer({"bootstrap.servers": args.brokers, "linger.ms": 5})
consumer.subscribe([args.topic])


def num(v):
    if v is None:
        return np.nan
    if isinstance(v, str):
        return sex.get(v, np.nan)
    return float(v)


seen = 0
t0 = cpu0 = None
while seen < args.events:
    msgs = consumer.consume(num_messages=args.batch, timeout=1.0)
    if not msgs:
        continue
    if t0 is None:
        t0 = time.time()
        ru = resource.getrusage(resource.RUSAGE_SELF)
        cpu0 = ru.ru_utime + ru.ru_stime
    rows, keep = [], []
    for m in msgs:
        if m.error():
            continue
        ev = json.loads(m.value())
        rows.append([num(ev.get(f)) for f in features])
        keep.append(m)
    if rows:
        preds = booster.predict(xgb.DMatrix(np.array(rows, dtype=np.float32), feature_names=features))
        for m, p in zip(keep, preds):
            out = json.dumps({"key": m.key().decode() if m.key() else None, "partition": m.partition(),
                              "offset": m.offset(), "prediction": float(p)})
            while True:
                try:
                    producer.produce("seed-predictions", out.encode(), key=m.key())
                    break
                except BufferError:
                    producer.poll(0.01)
            producer.poll(0)
    seen += len(msgs)
producer.flush()
t1 = time.time()
ru = resource.getrusage(resource.RUSAGE_SELF)
cpu = ru.ru_utime + ru.ru_stime - cpu0
consumer.close()
ck = confluent_kafka.version()  # a (str, int) tuple in 1.x, a str in 2.x
print(f"seed-style consumer (batch {args.batch}; xgboost {xgb.__version__}, confluent-kafka "
      f"{ck[0] if isinstance(ck, tuple) else ck}, librdkafka {confluent_kafka.libversion()[0]}): "
      f"{seen} events in {t1 - t0:.3f} s = {seen / (t1 - t0):.0f} events/s, "
      f"{cpu / seen * 1e6:.2f} us CPU per event")
