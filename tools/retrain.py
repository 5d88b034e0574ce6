#!/usr/bin/python3
"""Drift that retrains (issue 16): one flow step from a drift event to a new serving model.

  tools/retrain.py --brokers B --registry reg/airquality --spec models/airquality.spec.json \
      --label 'CO(GT)' [--drift-topic drift-events] [--events-topic events] [--window 600]
      [--alias production] [--timeout 120] [--kite build/kite]

1. Waits on the drift topic (kite serve's drift_topic) for a status change to "significant"
   (--no-wait: goes on at once, when a batch `kite drift --fail-on-drift` decided).
2. Reads the events topic to its end and keeps the last --window events that carry the label
   (plus the spec's warm-up before them: lags and rolling windows need their history).
3. Featurizes them with `kite featurize --spec` (the features kite serve computes), boosts on
   from the version the alias serves (--no-warm-start: from scratch) over them, and registers it as the next version of the plain versioned
   directory (REGISTRY/N/model.json + meta.json, written to REGISTRY/N.tmp then renamed).
4. Moves --alias to it (REGISTRY/aliases.json, replaced by a rename). kite serve with
   `--model REGISTRY@ALIAS --model-watch-ms MS` then swaps to it without a restart.
Prints one JSON line ({"result": ..., "version": ..., ...}) for the orchestrator. Exit codes:
0 registered; 3 no drift event before --timeout (nothing to do); 1 error (message on stderr)."""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

EXIT_OK, EXIT_ERROR, EXIT_NO_DRIFT = 0, 1, 3


def fail(msg):
    print(json.dumps({"result": "error", "message": msg}))
    print("retrain: " + msg, file=sys.stderr)
    sys.exit(EXIT_ERROR)


def wait_drift(consumer_cls, brokers, topic, group, timeout):
    c = consumer_cls({"bootstrap.servers": brokers, "group.id": group, "auto.offset.reset": "earliest",
                      "enable.auto.commit": True})
    c.subscribe([topic])
    deadline = time.time() + timeout
    try:
        while time.time() < deadline:
            m = c.poll(0.2)
            if m is None or m.error():
                continue
            try:
                ev = json.loads(m.value())
            except ValueError:
                continue
            if ev.get("to") == "significant":
                return ev
    finally:
        c.close()
    return None


def read_events(consumer_cls, topic_partition, brokers, topic):
    c = consumer_cls({"bootstrap.servers": brokers, "group.id": "kite-retrain-reader",
                      "enable.auto.commit": False})
    meta = c.list_topics(topic, timeout=10).topics[topic]
    out = []
    for p in sorted(meta.partitions):
        _, hi = c.get_watermark_offsets(topic_partition(topic, p), timeout=10)
        c.assign([topic_partition(topic, p, 0)])
        seen, idle = 0, 0
        while seen < hi and idle < 50:
            batch = c.consume(1000, 0.2)
            idle = idle + 1 if not batch else 0
            for m in batch:
                if not m.error():
                    out.append((m.timestamp()[1], p, m.offset(), json.loads(m.value())))
                    seen = m.offset() + 1
        c.unassign()
    c.close()
    out.sort(key=lambda e: (e[0], e[1], e[2]))  # one stream in time order
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--brokers", required=True)
    ap.add_argument("--registry", required=True, help="plain versioned directory (NAME/N/model.json)")
    ap.add_argument("--spec", required=True)
    ap.add_argument("--label", required=True, help="label field of the events")
    ap.add_argument("--drift-topic", default="drift-events")
    ap.add_argument("--events-topic", default="events")
    ap.add_argument("--group", default="kite-retrain")
    ap.add_argument("--window", type=int, default=600, help="labelled events to train on")
    ap.add_argument("--alias", default="production")
    ap.add_argument("--timeout", type=float, default=120)
    ap.add_argument("--rounds", type=int, default=80)
    ap.add_argument("--no-wait", dest="wait", action="store_false",
                    help="retrain now (a batch `kite drift --fail-on-drift` already decided)")
    ap.add_argument("--eta", type=float, default=0.1)
    ap.add_argument("--no-warm-start", dest="warm_start", action="store_false",
                    help="train from scratch instead of boosting on from the serving version")
    ap.add_argument("--kite", default="kite")
    args = ap.parse_args()
    try:
        from confluent_kafka import Consumer, TopicPartition
        import numpy as np
        import xgboost as xgb
    except ImportError as e:
        fail("needs confluent-kafka, numpy and xgboost: %s" % e)

    ev = wait_drift(Consumer, args.brokers, args.drift_topic, args.group, args.timeout) if args.wait \
        else {"trigger": "--no-wait"}
    if ev is None:
        print(json.dumps({"result": "no_drift", "timeout_s": args.timeout}))
        sys.exit(EXIT_NO_DRIFT)
    spec = json.load(open(args.spec))
    csv_opts = spec.get("csv", {})
    delim = csv_opts.get("delimiter", ",")
    comma = csv_opts.get("decimal_comma", False)
    inputs = [i["name"] for i in spec["inputs"]]
    tfields = spec.get("time", {}).get("fields", [])
    columns = tfields + [c for c in inputs if c not in tfields]
    events = read_events(Consumer, TopicPartition, args.brokers, args.events_topic)
    labelled = [i for i, e in enumerate(events) if isinstance(e[3].get(args.label), (int, float))
                and e[3][args.label] != -200]
    if len(labelled) < 50:
        fail("%d labelled events on %s: too few to train" % (len(labelled), args.events_topic))
    first = labelled[-args.window] if len(labelled) >= args.window else labelled[0]
    start = max(0, first - int(spec.get("warmup", 0)) - 1)
    rows = events[start:]

    def text(v):
        if v is None:
            return ""
        if isinstance(v, float):
            s = repr(v)
            return s.replace(".", ",") if comma else s
        return str(v)

    with tempfile.TemporaryDirectory() as tmp:
        raw = os.path.join(tmp, "window.csv")
        with open(raw, "w") as f:
            f.write(delim.join(columns) + "\n")
            for _, _, _, e in rows:
                f.write(delim.join(text(e.get(c)) for c in columns) + "\n")
        feats = os.path.join(tmp, "features.csv")
        r = subprocess.run([args.kite, "featurize", "--spec", args.spec, "--input", raw, "--output", feats,
                            "--keep", args.label, "--max-bad", str(len(rows))], capture_output=True, text=True)
        if r.returncode:
            fail("kite featurize: " + r.stderr.strip().splitlines()[-1] if r.stderr.strip() else "kite featurize failed")
        import csv
        table = list(csv.reader(open(feats)))
    header, body = table[0], table[1 + (first - start):]
    names = header[:-1]
    X = np.array([[float(v) if v != "" else np.nan for v in r[:-1]] for r in body], dtype=np.float32)
    y = np.array([float(r[-1]) if r[-1] != "" else np.nan for r in body])
    keep = ~np.isnan(y)
    X, y = X[keep], y[keep]
    if len(y) < 50:
        fail("%d labelled rows after featurizing: too few to train" % len(y))
    # Warm start: keep boosting the version the alias serves now on the recent window (a few
    # hundred rows cannot retrain a forest from scratch as well as the full history did).
    aliases_path = os.path.join(args.registry, "aliases.json")
    aliases = json.load(open(aliases_path)) if os.path.exists(aliases_path) else {}
    base = None
    if args.warm_start and args.alias in aliases:
        base = os.path.join(args.registry, str(aliases[args.alias]), "model.json")
        if not os.path.exists(base):
            fail("%s: serving version %s has no model.json" % (args.registry, aliases[args.alias]))
    booster = xgb.train({"objective": "reg:squarederror", "max_depth": 4, "eta": args.eta, "seed": 0},
                        xgb.DMatrix(X, y, feature_names=names), args.rounds, xgb_model=base)
    os.makedirs(args.registry, exist_ok=True)
    versions = [int(d) for d in os.listdir(args.registry) if d.isdigit()]
    version = max(versions, default=0) + 1
    vdir = os.path.join(args.registry, str(version))
    os.makedirs(vdir + ".tmp")
    booster.save_model(os.path.join(vdir + ".tmp", "model.json"))
    meta = {"version": version, "trigger": ev, "warm_start_from": base, "trained_rows": int(len(y)),
            "events": {"topic": args.events_topic, "from_offset": events[first][2], "to_offset": events[-1][2]},
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    json.dump(meta, open(os.path.join(vdir + ".tmp", "meta.json"), "w"), indent=1)
    os.rename(vdir + ".tmp", vdir)
    aliases[args.alias] = version
    json.dump(aliases, open(aliases_path + ".tmp", "w"))
    os.rename(aliases_path + ".tmp", aliases_path)
    print(json.dumps({"result": "registered", "version": version, "alias": args.alias,
                      "trained_rows": int(len(y)), "drift_event": ev}))
    sys.exit(EXIT_OK)


if __name__ == "__main__":
    main()
