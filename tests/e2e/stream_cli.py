#!/usr/bin/python3
"""kite broker + kite produce + kite serve as separate processes over loopback (the README's
"separate processes" recipe), a --config file, the CLI's usage errors, kite produce --rate
(the rate is honoured and every event arrives) and kite produce stopped by SIGTERM/SIGINT
(exits promptly with a summary whose count is what the topic holds; against a dead broker
after a bounded 5 s, naming the undelivered events)."""
import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

from confluent_kafka import Consumer, TopicPartition

from kite_e2e import Broker, Checks, poll_to_eof

ap = argparse.ArgumentParser()
ap.add_argument("--kite", required=True)
ap.add_argument("--root", required=True)
ap.add_argument("--kafka-dir", help="run on the real Kafka cluster tools/kafka-cluster.sh started there (default: kite broker, the mock)")
args = ap.parse_args()
T = Checks(stream=sys.stderr)
check, failures = T.check, T.failures


def topic_keys(addr, topic, partitions=2):
    """Every message key in the topic, read from the beginning of each partition (assign, not
    subscribe: no group join, which takes ~3 s on the mock)."""
    c = Consumer({"bootstrap.servers": addr, "group.id": "stream-cli-count",
                  "enable.partition.eof": True, "enable.auto.commit": False})
    c.assign([TopicPartition(topic, p, 0) for p in range(partitions)])
    keys, eof = [], set()
    for m in poll_to_eof(c, partitions, eof, 30, poll=0.5):
        keys.append(m.key().decode() if m.key() is not None else None)
    c.close()
    return keys if len(eof) == partitions else None


def summary_count(stderr):
    m = re.search(r"kite produce: (\d+) events to \S+ in ([\d.]+) s", stderr)
    return (int(m.group(1)), float(m.group(2))) if m else (None, None)


def run(*argv, timeout=120):
    return subprocess.run([args.kite, *argv], cwd=args.root, capture_output=True, text=True,
                          timeout=timeout)


def signal_and_wait(p, sig, after):
    """Sends sig to process p `after` seconds from now; returns (its stderr, seconds it took to
    exit after the signal). A process still running 30 s later is killed."""
    time.sleep(after)
    p.send_signal(sig)
    t0 = time.monotonic()
    try:
        _, err = p.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        p.kill()
        _, err = p.communicate()
    return err, time.monotonic() - t0


r = run("produce", "--topic", "t", "--input", "data/titanic.csv")
check(r.returncode == 2 and "--brokers" in r.stderr, f"produce without --brokers: usage error ({r.stderr})")
r = run("serve", "--no-such-flag", "1")
check(r.returncode == 2 and "unknown option" in r.stderr, "serve: unknown option is a usage error")
r = run("serve", "--model", "models/titanic.json", "--batch-size", "0")
check(r.returncode == 2 and "batch_size" in r.stderr, f"serve: bad batch size named ({r.stderr})")
r = run("serve", "--model", "models/nope.json", "--metrics-addr", "")
check(r.returncode == 1 and "nope.json" in r.stderr, "serve: missing model named, exit 1")

broker = Broker(args.kite, args.root, args.kafka_dir, partitions=2,
                topics=("events", "predictions", "alerts", "dead-letters", "rated", "unrated",
                        "stop-SIGTERM", "stop-SIGINT", "timed"))
try:
    addr = broker.addr
    check(broker.real or re.fullmatch(r"127\.0\.0\.1:\d+", addr) is not None,
          f"kite broker prints its address ({addr!r})")
    r = run("produce", "--brokers", addr, "--topic", "events", "--input", "data/titanic.csv",
            "--key", "PassengerId", "--limit", "300")
    check(r.returncode == 0 and "300 events" in r.stderr, f"kite produce sent 300 events ({r.stderr})")
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump({"brokers": addr, "model": "models/titanic.json",
                   "feature_spec": "models/titanic.spec.json", "exit_on_eof": True,
                   "metrics_addr": "", "cores": "auto", "workers": 2,
                   "kafka": {"consumer.session.timeout.ms": 6000}}, f)
        conf = f.name
    dump = os.path.join(tempfile.gettempdir(), "kite_stream_cli_size.prom")
    r = run("serve", "--config", conf, "--batch-size", "32", "--metrics-dump", dump)
    os.unlink(conf)
    check(r.returncode == 0, f"kite serve --config exit 0 ({r.returncode}: {r.stderr[-500:]})")
    check(re.search(r"^predictions +300 ", r.stdout, re.M) is not None,
          f"300 predictions in the summary ({r.stdout})")
    # cores auto: worker i pinned to core i (modulo the cores), each pin logged by hwloc index.
    pins = {int(m.group(1)): (int(m.group(2)), int(m.group(3)))
            for m in re.finditer(r"worker (\d+) pinned to core (\d+) of (\d+)", r.stderr)}
    check(set(pins) == {0, 1} and all(core == w % n for w, (core, n) in pins.items()),
          f"both workers pinned, worker i to core i mod cores ({pins})")

    def metric(text, name):
        m = re.search(r"^%s (\S+)$" % re.escape(name), text, re.M)
        return float(m.group(1)) if m else None

    # Batches close at batch_size events: 300 preloaded events, batches of at most 32.
    text = open(dump).read() if os.path.exists(dump) else ""
    batches, le32 = metric(text, "kite_batches_total"), metric(text, 'kite_batch_events_bucket{le="32"}')
    check(batches is not None and batches >= 300 / 32 and le32 == batches,
          f"size-closed batches: {batches} batches, all <= 32 events ({le32})")
    # ... or batch_wait_us after their first event: events replayed at 200/s into a batch size
    # of 65,536 must still leave in batches of a few events (the 2 ms wait closes them).
    r = run("serve", "--brokers", addr, "--topics", "timed", "--model", "models/titanic.json",
            "--feature-spec", "models/titanic.spec.json", "--replay", "data/titanic.csv",
            "--replay-key", "PassengerId", "--replay-rate", "200", "--exit-on-eof",
            "--metrics-addr", "", "--cores", "none", "--batch-size", "65536",
            "--batch-wait-us", "2000", "--group-id", "timed", "--metrics-dump", dump,
            "-X", "consumer.session.timeout.ms=6000", timeout=90)
    text = open(dump).read() if os.path.exists(dump) else ""
    scored, batches = metric(text, "kite_events_scored_total"), metric(text, "kite_batches_total")
    # (The mock broker answers fetches every ~10 ms, so 2-3 events arrive together; a loaded
    # machine bunches more. Size-closed only, they would leave in a handful of huge batches.)
    # Closed by size alone the 891 events would leave as one batch; the bound below leaves room
    # for a loaded (sanitizer) run stalling a fetch or two.
    le64 = metric(text, 'kite_batch_events_bucket{le="64"}')
    check(r.returncode == 0 and scored == 891 and batches is not None and batches >= 891 / 64
          and le64 is not None and le64 >= 0.9 * batches,
          f"time-closed batches: {scored} events in {batches} batches, {le64} of <= 64 events "
          f"(exit {r.returncode})")

    # --rate: 200 events at 100/s are spaced 10 ms apart, so the first-to-last span alone is
    # 1.99 s; unthrottled the same 200 take well under that (checked too, so the timing check
    # can tell the two apart). Every key 1..200 must be on the topic exactly once.
    for topic, rate in (("rated", ["--rate", "100"]), ("unrated", [])):
        t0 = time.monotonic()
        r = run("produce", "--brokers", addr, "--topic", topic, "--input", "data/titanic.csv",
                "--key", "PassengerId", "--limit", "200", *rate, timeout=60)
        wall = time.monotonic() - t0
        n, secs = summary_count(r.stderr)
        check(r.returncode == 0 and n == 200, f"produce {rate}: 200 events delivered ({r.stderr})")
        if rate:
            check(secs is not None and secs >= 1.8,
                  f"--rate 100: 200 events took {secs} s, expected >= 1.8 s")
            check(wall < 8, f"--rate 100: 200 events took {wall:.2f} s of wall time, expected ~2 s")
        else:
            check(secs is not None and secs < 1.8,
                  f"no --rate: 200 events took {secs} s, expected well under 1.8 s")
        keys = topic_keys(addr, topic)
        check(keys is not None and sorted(keys, key=int) == [str(i) for i in range(1, 201)],
              f"{topic}: keys 1..200 once each on the topic "
              f"({None if keys is None else len(keys)} messages)")

    # A stop signal mid-stream: 891 rows at 20/s would take 44 s; the signal must end it
    # within a couple of seconds, exit 0, and say how many were delivered: the topic's count.
    for sig in (signal.SIGTERM, signal.SIGINT):
        topic = f"stop-{sig.name}"
        p = subprocess.Popen([args.kite, "produce", "--brokers", addr, "--topic", topic,
                              "--input", "data/titanic.csv", "--key", "PassengerId",
                              "--rate", "20"], cwd=args.root, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True)
        err, took = signal_and_wait(p, sig, 1.5)
        n, _ = summary_count(err)
        check(p.returncode == 0, f"produce stopped by {sig.name}: exit 0 ({p.returncode}: {err})")
        check(took < 3, f"produce stopped by {sig.name}: exited {took:.2f} s after the signal")
        check(f"stopped by {sig.name}" in err, f"produce summary names {sig.name} ({err!r})")
        check(n is not None and 10 <= n < 891,
              f"produce stopped by {sig.name}: {n} events sent in ~1.5 s at 20/s, not all 891")
        keys = topic_keys(addr, topic)
        check(keys is not None and len(keys) == n and len(set(keys)) == n,
              f"{topic}: the summary's {n} events are on the topic once each "
              f"({None if keys is None else len(keys)} messages)")

    # A stop with no broker to deliver to: the events wait in librdkafka's queue, which would
    # hold the process for message.timeout.ms (300 s); a stop gives them 5 s, then purges
    # them and reports them as not delivered (exit 1, nothing claimed as sent).
    p = subprocess.Popen([args.kite, "produce", "--brokers", "127.0.0.1:1", "--topic", "t",
                          "--input", "data/titanic.csv", "--limit", "5",
                          "-X", "log_level=0"], cwd=args.root,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    err, took = signal_and_wait(p, signal.SIGTERM, 1)
    check(4.5 <= took < 9, f"produce to a dead broker stopped by SIGTERM: exited {took:.2f} s "
                           "after the signal, expected the 5 s delivery grace")
    check(p.returncode == 1 and "5 event(s) not delivered" in err and "(0 events delivered)" in err,
          f"produce to a dead broker: exit 1 naming the 5 undelivered events ({p.returncode}: {err!r})")
finally:
    rc = broker.stop()
check(rc == 0, f"kite broker exits 0 on SIGTERM ({rc})")
print(f"stream_cli: {len(failures)} failed")
sys.exit(T.exit_code())
