#!/usr/bin/python3
"""The seed-style baseline: a Python consumer (confluent-kafka; Debian's links the same librdkafka
2.0.2 as kite, the venv's wheel bundles its own; or, --client kafka-python, the pure-Python
client the seeds themselves use) that
polls batches, json.loads each event, builds the Titanic feature row, scores the batch with the
XGBoost Python package and produces one JSON prediction per event, auto-committing offsets, as
the seeds' consumers do. Prints events/s and CPU microseconds per event (user + sys of this
process, first event to last delivery).

  stream_seed_consumer.py --brokers B --topic events --events N [--batch 10]
                          [--client confluent-kafka|kafka-python]"""
import argparse
import json
import resource
import time

import numpy as np
import xgboost as xgb

ap = argparse.ArgumentParser()
ap.add_argument("--brokers", required=True)
ap.add_argument("--topic", default="events")
ap.add_argument("--events", type=int, required=True)
ap.add_argument("--batch", type=int, default=10)
ap.add_argument("--model", default="models/titanic.json")
ap.add_argument("--group", default="seed-consumer")
ap.add_argument("--client", choices=("confluent-kafka", "kafka-python"), default="confluent-kafka")
args = ap.parse_args()

booster = xgb.Booster()
booster.load_model(args.model)
features = ["Pclass", "Sex", "Age", "SibSp", "Parch", "Fare"]
sex = {"male": 0.0, "female": 1.0}

if args.client == "confluent-kafka":
    import confluent_kafka
    from confluent_kafka import Consumer, Producer
    consumer = Consumer({"bootstrap.servers": args.brokers, "group.id": args.group,
                         "auto.offset.reset": "earliest", "session.timeout.ms": 6000,
                         "fetch.wait.max.ms": 10})
    producer = Producer({"bootstrap.servers": args.brokers, "linger.ms": 5})
    consumer.subscribe([args.topic])

    def poll_batch():  # [(key bytes, partition, offset, value bytes)]
        return [(m.key(), m.partition(), m.offset(), m.value())
                for m in consumer.consume(num_messages=args.batch, timeout=1.0) if not m.error()]

    def send(value, key):
        while True:
            try:
                producer.produce("seed-predictions", value, key=key)
                break
            except BufferError:
                producer.poll(0.01)
        producer.poll(0)

    ck = confluent_kafka.version()  # a (str, int) tuple in 1.x, a str in 2.x
    client = (f"confluent-kafka {ck[0] if isinstance(ck, tuple) else ck}, librdkafka "
              f"{confluent_kafka.libversion()[0]}")
else:
    import kafka
    from kafka import KafkaConsumer, KafkaProducer
    consumer = KafkaConsumer(args.topic, bootstrap_servers=args.brokers.split(","),
                             group_id=args.group, auto_offset_reset="earliest",
                             session_timeout_ms=6000, fetch_max_wait_ms=10)
    producer = KafkaProducer(bootstrap_servers=args.brokers.split(","), linger_ms=5)

    def poll_batch():
        out = []
        for recs in consumer.poll(timeout_ms=1000, max_records=args.batch).values():
            out += [(r.key, r.partition, r.offset, r.value) for r in recs]
        return out

    def send(value, key):
        producer.send("seed-predictions", value, key=key)

    client = f"kafka-python {kafka.__version__}"


def num(v):
    if v is None:
        return np.nan
    if isinstance(v, str):
        return sex.get(v, np.nan)
    return float(v)


seen = 0
t0 = cpu0 = None
while seen < args.events:
    msgs = poll_batch()
    if not msgs:
        continue
    if t0 is None:
        t0 = time.time()
        ru = resource.getrusage(resource.RUSAGE_SELF)
        cpu0 = ru.ru_utime + ru.ru_stime
    rows = []
    for _, _, _, value in msgs:
        ev = json.loads(value)
        rows.append([num(ev.get(f)) for f in features])
    preds = booster.predict(xgb.DMatrix(np.array(rows, dtype=np.float32), feature_names=features))
    for (key, part, off, _), p in zip(msgs, preds):
        out = json.dumps({"key": key.decode() if key else None, "partition": part,
                          "offset": off, "prediction": float(p)})
        send(out.encode(), key)
    seen += len(msgs)
producer.flush()
t1 = time.time()
ru = resource.getrusage(resource.RUSAGE_SELF)
cpu = ru.ru_utime + ru.ru_stime - cpu0
consumer.close()
print(f"seed-style consumer (batch {args.batch}; xgboost {xgb.__version__}, {client}): "
      f"{seen} events in {t1 - t0:.3f} s = {seen / (t1 - t0):.0f} events/s, "
      f"{cpu / seen * 1e6:.2f} us CPU per event")
