#!/usr/bin/python3
"""Feature state survives kill -9 and partition moves (issue 12; engine/stream/pipeline_state.c).

The air-quality readings become SENSORS keyed streams (sensor s reads the hours from row
s * STRIDE on; key = the message key = the spec's key field, so a sensor lives in one of the
4 partitions). They are produced at a steady rate while `kite serve` instances of one group are
killed with SIGKILL at random moments (seeded; several times), restarted, and joined by a second
instance so partitions move between the two; at the end one instance drains the rest and stops
with SIGTERM. Then one uninterrupted instance (another group) scores the same log into its own
topic. Asserted:
  - every event produced is delivered (each delivery report without error), and the events
    compared are the (partition, offset) set read back from the topic: an event the producer
    failed to deliver is a failed produce, not an event kite lost;
  - every input event has a prediction in the interrupted run (nothing lost);
  - every prediction of the interrupted run, redelivered duplicates included, whose event is past
    its key's warm-up in the uninterrupted run has the same prediction and margin text (float32
    shortest round trip: bit for bit) and no "warming_up" flag;
  - the run really needed recovery: instances rebuilt partitions from their logs at offsets
    past the warm-up, and killed instances left duplicates;
  - with --control, the same events in a fresh topic (so the same partitions and offsets), half
    of them scored, kill -9, the rest, a restart with KITE_STATE_REBUILD=off (no recovery): it
    must show differing and warming-up predictions (so the comparison can fail).
Figures (rebuild seconds per partition, events replayed) are printed for bench/RESULTS.md."""
import json
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time

from confluent_kafka import Producer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kite_e2e  # noqa: E402

SENSORS, STRIDE, ROWS = 8, 97, 420
RATE = 100.0          # events per second produced: the kills happen while it flows
WARMUP = 168
HANG_S = 240


def options(ap):
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--kills", type=int, default=4)
    ap.add_argument("--control", action="store_true", help="also run without recovery and expect differences")


args, w = kite_e2e.e2e_args(kafka_dir="the real cluster tools/kafka-cluster.sh started there (default: the mock)",
                            extra=options)
seed = args.seed if args.seed is not None else int(time.time())
print(f"seed {seed}", flush=True)
T = kite_e2e.Checks(verbose=True)
check, failures = T.check, T.failures


def make_events():
    lines = open(os.path.join(args.root, "data/AirQualityUCI.csv"), encoding="latin-1").read().splitlines()
    names = [n for n in lines[0].split(";") if n]
    data = [l.split(";") for l in lines[1:] if l.split(";")[0].strip()]
    events = []
    for s in range(SENSORS):
        for r in data[s * STRIDE: s * STRIDE + ROWS]:
            ev = {"sensor": f"sensor-{s}"}
            for n, v in zip(names, r):
                v = v.strip()
                if n in ("Date", "Time"):
                    ev[n] = v
                elif v:
                    ev[n] = float(v.replace(",", "."))
            events.append(ev)
    # Interleave the sensors hour by hour, as a fleet would report.
    events.sort(key=lambda e: (e["Date"][6:10], e["Date"][3:5], e["Date"][0:2], e["Time"], e["sensor"]))
    return events


spec = json.load(open(os.path.join(args.root, "models/airquality.spec.json")))
spec["key"] = "sensor"
json.dump(spec, open(w("spec.json"), "w"))
events = make_events()
TAIL = 64  # held back: the drift phase below produces them after the comparison
events, tail = events[:-TAIL], events[-TAIL:]
broker = kite_e2e.Broker(args.kite, args.root, args.kafka_dir, partitions=4,
                         topics=("events", "events-ctl", "predictions", "predictions-ref", "predictions-ctl"))
addr = broker.addr


def serve(group, topic, tag, exit_on_eof=False, env=None, source="events", extra=()):
    argv = [args.kite, "serve", "--brokers", addr, "--model", "models/airquality.json",
            "--feature-spec", w("spec.json"), "--topics", source, "--group-id", group,
            "--predictions-topic", topic, "--alert-threshold", "1e30", "--workers", "2",
            "--cores", "none", "--batch-size", "16",
            "-X", "consumer.session.timeout.ms=3000", "-X", "consumer.heartbeat.interval.ms=300"]
    if exit_on_eof:
        argv += ["--exit-on-eof", "true"]
    argv += list(extra) or ["--metrics-addr", ""]
    log = open(w(f"serve-{tag}.log"), "w")
    return subprocess.Popen(argv, cwd=args.root, stdout=subprocess.DEVNULL, stderr=log,
                            env=env), w(f"serve-{tag}.log")


def produce_all(done, source, rate):
    # flush() == 0 says only that nothing is queued: a message that failed (a timeout, a
    # refused produce) leaves the queue too, with an error in its delivery report.
    delivered, errors = [0], []

    def on_delivery(err, msg):
        if err is None:
            delivered[0] += 1
        else:
            errors.append(str(err))

    p = Producer({"bootstrap.servers": addr, "enable.idempotence": True, "linger.ms": 2,
                  "on_delivery": on_delivery})
    t0 = time.monotonic()
    for i, ev in enumerate(events):
        while time.monotonic() < t0 + i / rate:
            time.sleep(0.002)
        while True:
            try:
                p.produce(source, key=ev["sensor"], value=json.dumps(ev))
                break
            except BufferError:
                p.poll(0.05)
        p.poll(0)
    left = p.flush(60)
    ok = left == 0 and not errors and delivered[0] == len(events)
    check(ok, f"{len(events)} events produced" + ("" if ok else f" ({delivered[0]} delivered, "
          f"{len(errors)} delivery errors {errors[:3]}, {left} still queued)"))
    done.set()


def read(topic):
    msgs, total, want, _ = kite_e2e.read_topic(addr, topic, group="recovery-reader")
    check(total == want, f"{topic} read to its end ({total} of {want})")
    out = []
    for _, v in msgs:
        j = json.loads(v)
        out.append(j)
    return out


def positions(topic):
    """The (partition, offset) of every message in topic: the events a run must score."""
    msgs, total, want, _ = kite_e2e.read_topic(addr, topic, group="recovery-reader", positions=True)
    check(total == want, f"{topic} read to its end ({total} of {want})")
    return {(p, o) for p, o, _, _ in msgs}


def interrupted_run(group, topic, env, rng, want_kills, want_both=True, source="events", rate=RATE):
    """The kill schedule; returns the logs of every instance and the events' positions."""
    done = threading.Event()
    prod = threading.Thread(target=produce_all, args=(done, source, rate))
    prod.start()
    running, logs, kills, tags, both = [], [], 0, 0, False
    log_of = {}

    def assigned(p):
        return open(log_of[p]).read().count("kite: assigned")

    def wait_assigned(p, before):
        """Until p logs a new assignment (a kill before it would test nothing)."""
        end = time.monotonic() + 60
        while assigned(p) <= before and time.monotonic() < end and p.poll() is None:
            time.sleep(0.05)

    def start():
        nonlocal tags
        tags += 1
        p, log = serve(group, topic, f"{group}-{tags}", env=env, source=source)
        running.append(p)
        logs.append(log)
        log_of[p] = log
        return p

    def kill(p):
        nonlocal kills
        running.remove(p)
        p.send_signal(signal.SIGKILL)
        p.wait()
        kills += 1

    wait_assigned(start(), 0)
    deadline = time.monotonic() + HANG_S
    while (not done.is_set() or kills < want_kills or (want_both and not both)) and time.monotonic() < deadline:
        time.sleep(rng.uniform(0.3, 1.2))  # a random point of the stream
        if len(running) == 2:
            survivor = running[1 - rng.randrange(2)]
            before = assigned(survivor)
            kill(running[0] if running[0] is not survivor else running[1])
            wait_assigned(survivor, before)  # it takes the dead one's partitions
        elif rng.random() < 0.5 or (both or not want_both) and kills < want_kills:
            kill(running[0])
            wait_assigned(start(), 0)
        else:
            first = running[0]
            before = assigned(first)
            wait_assigned(start(), 0)
            wait_assigned(first, before)  # partitions split between the two
            both = True
    prod.join()
    produced = positions(source)
    if not running:
        start()
    # Let the survivors finish: every event has a prediction, then a graceful stop.
    want = {}
    for p in range(4):
        want[p] = 0
    deadline = time.monotonic() + HANG_S
    while time.monotonic() < deadline:
        got = {(j["partition"], j["offset"]) for j in read_quiet(topic)}
        if got >= produced:
            break
        time.sleep(1)
    for p in running:
        p.send_signal(signal.SIGTERM)
    for p in running:
        rc = p.wait(timeout=120)
        tail = "" if rc == 0 else "; its log ends:\n" + kite_e2e.log_tail(log_of[p])
        check(rc == 0, f"the last instance stops with exit 0 on SIGTERM (exit {rc}){tail}")
    check(kills >= want_kills, f"{kills} instances killed with SIGKILL")
    check(both or not want_both, "a second instance joined and partitions moved between the two")
    return logs, produced


def read_quiet(topic):
    msgs, _, _, _ = kite_e2e.read_topic(addr, topic, group="recovery-reader")
    return [json.loads(v) for _, v in msgs]


def compare(ref, got, label):
    """(differing predictions, warming_up flags, compared) over events past warm-up."""
    diff = warm = compared = 0
    for j in got:
        r = ref.get((j["partition"], j["offset"]))
        if r is None or r.get("warming_up"):
            continue
        compared += 1
        if j["prediction"] != r["prediction"] or j["margin"] != r["margin"]:
            diff += 1
            if diff <= 3:
                print(f"{label}: differs at {j['partition']}/{j['offset']}: {j['prediction']} vs {r['prediction']}")
        warm += bool(j.get("warming_up"))
    return diff, warm, compared


try:
    rng = random.Random(seed)
    t0 = time.monotonic()
    logs, produced = interrupted_run("recovery", "predictions", None, rng, args.kills)
    run_s = time.monotonic() - t0
    ref_proc, _ = serve("reference", "predictions-ref", "reference", exit_on_eof=True)
    check(ref_proc.wait(timeout=HANG_S) == 0, "the uninterrupted run exits 0 at the end of the log")
    ref_list = read("predictions-ref")
    ref = {(j["partition"], j["offset"]): j for j in ref_list}
    check(set(ref) == produced, f"uninterrupted run: one prediction per event ({len(ref)} of {len(produced)})")
    got = read("predictions")
    keys = {(j["partition"], j["offset"]) for j in got}
    check(keys == set(ref), f"interrupted run: every event has a prediction ({len(keys)} of {len(ref)})")
    dups = len(got) - len(keys)
    diff, warm, compared = compare(ref, got, "recovery")
    past = sum(1 for r in ref.values() if not r.get("warming_up"))
    check(compared >= past and past > 0, f"{compared} predictions past warm-up compared ({past} events, {dups} duplicates)")
    check(dups > 0, f"killed instances left redelivered duplicates ({dups})")
    check(diff == 0, f"every prediction past warm-up equals the uninterrupted run bit for bit ({diff} differ)")
    check(warm == 0, f"no event past warm-up flagged warming_up ({warm})")
    rebuilds = []
    for log in logs:
        for m in re.finditer(r"state of (\S+) rebuilt from its log up to offset (\d+) in ([0-9.]+) s", open(log).read()):
            rebuilds.append((m.group(1), int(m.group(2)), float(m.group(3))))
    deep = [r for r in rebuilds if r[1] > WARMUP * SENSORS // 4]
    check(len(deep) >= 2, f"{len(deep)} partition states rebuilt from offsets past a warm-up ({len(rebuilds)} rebuilds)")
    if rebuilds:
        secs = sorted(r[2] for r in rebuilds)
        upto = sum(r[1] for r in rebuilds)
        print(f"rebuilds: {len(rebuilds)}, events replayed <= {upto}, seconds per partition: "
              f"median {secs[len(secs) // 2]:.3f} max {secs[-1]:.3f}; run {run_s:.1f} s", flush=True)
    # Drift windows and the label buffer restart empty (docs/streaming.md "State across restarts"): the
    # reference group resumes at the end of the log, rebuilds every partition from offset 0
    # without scoring, then scores the held-back tail; its drift window holds the tail only.
    subprocess.run([args.kite, "profile", "--model", "models/airquality.json", "--spec",
                    "models/airquality.spec.json", "--input", "data/AirQualityUCI.csv",
                    "--output", w("ref.json"), "-d", ";", "--decimal-comma", "--missing", "-200"],
                   cwd=args.root, check=True, stderr=subprocess.DEVNULL)
    drift_proc, drift_log = serve("reference", "predictions-ref", "drift", extra=[
        "--metrics-addr", "127.0.0.1:0", "--drift-profile", w("ref.json"),
        "--drift-windows", f"tumbling:{TAIL}"])
    port = None
    for _ in range(600):
        m = re.search(r"metrics on .*\(port (\d+)\)", open(drift_log).read())
        if m:
            port = int(m.group(1))
            break
        time.sleep(0.1)
    check(port is not None, "the drift instance announced its metrics port")

    def metrics():
        import urllib.request
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
                text = r.read().decode()
        except OSError:
            return {}
        return {m.group(1): float(m.group(2)) for m in re.finditer(r"^(\S+) (\S+)$", text, re.M)}

    p = Producer({"bootstrap.servers": addr, "enable.idempotence": True})
    for ev in tail:
        p.produce("events", key=ev["sensor"], value=json.dumps(ev))
    p.flush(60)
    got_m = {}
    end = time.monotonic() + HANG_S
    while time.monotonic() < end and port:
        got_m = metrics()
        if got_m.get("kite_events_scored_total", 0) >= TAIL and any(
                k.startswith("kite_drift_checks_total") and v >= 1 for k, v in got_m.items()):
            break
        time.sleep(0.2)
    drift_proc.send_signal(signal.SIGTERM)
    check(drift_proc.wait(timeout=120) == 0, "the drift instance stops with exit 0")
    scored = got_m.get("kite_events_scored_total")
    replayed = got_m.get("kite_state_replayed_events_total")
    window = [v for k, v in got_m.items() if k.startswith("kite_drift_window_events")]
    checks = sum(v for k, v in got_m.items() if k.startswith("kite_drift_checks_total"))
    warm = got_m.get("kite_events_warming_up_total")
    check(scored == TAIL, f"the drift instance scored the {TAIL} new events ({scored})")
    # Partitions that got tail events were rebuilt from all their earlier events (the others
    # saw no event, so had nothing to rebuild for).
    part_of = {j["key"]: j["partition"] for j in ref_list}
    per_part = {}
    for j in ref_list:
        per_part[j["partition"]] = per_part.get(j["partition"], 0) + 1
    want = sum(per_part[p] for p in {part_of[e["sensor"]] for e in tail})
    check(replayed == want, f"it rebuilt the tail's partitions from all {want} earlier events ({replayed})")
    check(window == [TAIL] and checks == 1,
          f"its drift window holds only the events it scored: {window}, {checks} check(s)")
    check(warm == 0, f"none of the new events warmed up again ({warm})")
    if args.control:
        # Deterministic: the first half scored, kill -9, the second half, a restart without
        # recovery. Its keys start cold where the uninterrupted run had them warm.
        env = dict(os.environ, KITE_STATE_REBUILD="off")
        half = len(events) // 2
        p = Producer({"bootstrap.servers": addr, "enable.idempotence": True})
        send = lambda evs: [p.produce("events-ctl", key=e["sensor"], value=json.dumps(e)) for e in evs] and p.flush(60)
        send(events[:half])
        ctl, _ = serve("control", "predictions-ctl", "control-1", env=env, source="events-ctl")
        end = time.monotonic() + HANG_S
        while len({(j["partition"], j["offset"]) for j in read_quiet("predictions-ctl")}) < half and time.monotonic() < end:
            time.sleep(0.5)
        time.sleep(1.5)  # an auto-commit (every 1 s) covers the first half
        ctl.send_signal(signal.SIGKILL)
        ctl.wait()
        send(events[half:])
        ctl, _ = serve("control", "predictions-ctl", "control-2", exit_on_eof=True, env=env, source="events-ctl")
        check(ctl.wait(timeout=HANG_S) == 0, "control: the restarted instance exits 0 at the end of the log")
        diff, warm, compared = compare(ref, read("predictions-ctl"), "control")
        print(f"control (no recovery): {diff} of {compared} differ, {warm} flagged warming_up")
        check(diff > 0 and warm > 0, "without recovery a restart gives differing, warming-up predictions")
finally:
    broker.stop()

print(f"stream_recovery: {'FAIL' if failures else 'ok'} ({len(failures)} failed)")
sys.exit(T.exit_code())
