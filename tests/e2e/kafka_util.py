"""Reading Kafka topics in the Python tests (confluent-kafka on the same librdkafka as kite)."""
import time

from confluent_kafka import Consumer, TopicPartition


def read_topic(addr, topic, group="kite-test-reader"):
    """Every partition of topic read from offset 0 to the high watermark it has now (assigned,
    no group membership, nothing committed; the mock broker creates a topic on first produce
    with its default partition count, so the partitions are looked up, not assumed).
    Returns (messages as (key bytes or None, value bytes), messages read, sum of the high
    watermarks, partitions); a caller asserts read == watermarks."""
    consumer = Consumer({"bootstrap.servers": addr, "group.id": group, "enable.auto.commit": False})
    meta = consumer.list_topics(topic, timeout=10).topics.get(topic)
    parts = sorted(meta.partitions) if meta and not meta.error else []
    messages, total, want = [], 0, 0
    for p in parts:
        _, hi = consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)
        want += hi
        consumer.assign([TopicPartition(topic, p, 0)])
        seen = 0
        # Bounded by time without progress, not by a count of polls: a partition may hold
        # many more messages than any fixed count (redelivered duplicates under load).
        idle_until = time.monotonic() + 60
        while seen < hi and time.monotonic() < idle_until:
            m = consumer.poll(0.2)
            if m is None or m.error():
                continue
            idle_until = time.monotonic() + 60
            seen = m.offset() + 1
            total += 1
            messages.append((m.key(), m.value()))
        consumer.unassign()
    consumer.close()
    return messages, total, want, parts


# Topics every stream test may write: created up front on the real cluster (where an
# auto-created topic would get the cluster's 4 partitions, not the test's count).
STANDARD_TOPICS = ("events", "predictions", "alerts", "dead-letters", "drift-events")


class Broker:
    """The broker a stream test runs on: `kite broker` (librdkafka's mock cluster, the default)
    or, when the test is given --kafka-dir D, the real Kafka cluster that tools/kafka-cluster.sh
    started in D (ctest label `kafka`). On the real cluster every non-internal topic is deleted
    first (their committed offsets go with them), then `topics` and STANDARD_TOPICS are created
    with `partitions` each, so the test starts as it does on a fresh mock.
    addr is the bootstrap list; pause()/resume() freeze and thaw the broker (SIGSTOP/SIGCONT of
    the mock process, or of every node); stop() returns the mock's exit status (0 for the
    cluster, which stays up for the next test)."""

    def __init__(self, kite, root, kafka_dir=None, partitions=4, topics=()):
        import subprocess
        self._sp, self.root, self.kafka_dir, self.proc = subprocess, root, kafka_dir, None
        self.real = bool(kafka_dir)
        if self.real:
            with open(f"{kafka_dir}/bootstrap") as f:
                self.addr = f.read().strip()
            self._cluster("topics", "--partitions", str(partitions),
                          *dict.fromkeys((*topics, *STANDARD_TOPICS)))
        else:
            argv = [kite, "broker", "--partitions", str(partitions)]
            if topics:
                argv += ["--topics", ",".join(topics)]
            self.proc = subprocess.Popen(argv, cwd=root, stdout=subprocess.PIPE,
                                         stderr=subprocess.DEVNULL, text=True)
            self.addr = self.proc.stdout.readline().strip()

    def _cluster(self, *argv):
        self._sp.run([f"{self.root}/tools/kafka-cluster.sh", *argv, "--dir", self.kafka_dir],
                     check=True, timeout=120)

    def pause(self):
        if self.real:
            self._cluster("pause", "all")
        else:
            import signal
            self.proc.send_signal(signal.SIGSTOP)

    def resume(self):
        if self.real:
            self._cluster("resume", "all")
        else:
            import signal
            self.proc.send_signal(signal.SIGCONT)

    def stop(self):
        if self.real:
            return 0
        self.proc.terminate()
        self.proc.wait(timeout=30)
        return self.proc.returncode
