"""Reading Kafka topics in the Python tests (confluent-kafka on the same librdkafka as kite)."""
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
        for _ in range(3000):
            if seen >= hi:
                break
            m = consumer.poll(0.2)
            if m is None or m.error():
                continue
            seen = m.offset() + 1
            total += 1
            messages.append((m.key(), m.value()))
        consumer.unassign()
    consumer.close()
    return messages, total, want, parts
