#!/usr/bin/python3
"""Gives a test (or a benchmark) a clean slate on a real cluster: deletes every topic that is not
Kafka's own (`__...`), waits until they are gone (their committed offsets go with them), then
creates the named topics and waits until every partition has a leader.

  tools/kafka-cluster.sh topics [--partitions N] [--replication R] NAME... [--dir D]
  tools/kafka/topics.py BOOTSTRAP [--partitions N] [--replication R] NAME...

--replication defaults to min(3, brokers in the cluster). Exit 1 with one line on failure."""
import argparse
import sys
import time

from confluent_kafka.admin import AdminClient, NewTopic

ap = argparse.ArgumentParser()
ap.add_argument("bootstrap")
ap.add_argument("--partitions", type=int, default=4)
ap.add_argument("--replication", type=int, default=0)
ap.add_argument("names", nargs="*")
a = ap.parse_intermixed_args()
admin = AdminClient({"bootstrap.servers": a.bootstrap, "log_level": 2})


def fail(what):
    print(f"kafka topics: {what}", file=sys.stderr)
    sys.exit(1)


md = admin.list_topics(timeout=30)
rf = a.replication or min(3, len(md.brokers))
old = [t for t in md.topics if not t.startswith("__")]
if old:
    for t, f in admin.delete_topics(old, operation_timeout=30).items():
        try:
            f.result()
        except Exception as e:
            if "UNKNOWN_TOPIC" not in str(e):
                fail(f"delete {t}: {e}")
deadline = time.monotonic() + 60
while old and set(old) & set(admin.list_topics(timeout=30).topics):
    if time.monotonic() > deadline:
        fail(f"topics {sorted(set(old) & set(admin.list_topics(timeout=30).topics))} still listed 60 s after their deletion")
    time.sleep(0.1)
todo = list(dict.fromkeys(a.names))
while todo:
    left = []
    for t, f in admin.create_topics([NewTopic(t, a.partitions, rf) for t in todo], operation_timeout=30).items():
        try:
            f.result()
        except Exception as e:  # a deletion still settling on a broker answers TOPIC_ALREADY_EXISTS
            if time.monotonic() > deadline:
                fail(f"create {t}: {e}")
            left.append(t)
    todo = left
    if todo:
        time.sleep(0.2)
# Every broker's own metadata, not just one's: a broker lags the controller for a moment, and a
# client that asks it first would see the new topics missing.
each = [AdminClient({"bootstrap.servers": f"{b.host}:{b.port}", "log_level": 2}) for b in md.brokers.values()]
for one in each:
    while True:
        topics = one.list_topics(timeout=30).topics
        if all(t in topics and len(topics[t].partitions) == a.partitions and
               all(p.leader >= 0 for p in topics[t].partitions.values()) for t in a.names) and \
                not set(old) - set(a.names) & set(topics):
            break
        if time.monotonic() > deadline:
            fail("partitions without a leader 60 s after creation")
        time.sleep(0.05)
