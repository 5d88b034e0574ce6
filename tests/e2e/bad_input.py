#!/usr/bin/env python3
"""ctest bad_input: the same bad inputs through the three paths, one verdict and one set of reason
words per class (docs/bad-input.md):
  csv    `kite score` on a one-row CSV (refused: exit 1 and the reason on stderr)
  http   POST /predict of the event as a JSON object (refused: 4xx and the reason in "error")
  kafka  `kite serve` on the embedded mock broker (refused: a dead letter whose "reason" says it)
The model is the bundled Titanic model, mapped directly by its feature names (no spec). A class
whose input cannot be written in a format (a JSON token in CSV) leaves that path out."""
import base64
import http.client
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kite_e2e import Checks, Kite, e2e_args, post_json  # noqa: E402

NAMES = ["Pclass", "Sex", "Age", "SibSp", "Parch", "Fare"]
GOOD = {"Pclass": "3", "Sex": "0", "Age": "-0.53", "SibSp": "1", "Parch": "0", "Fare": "-0.502"}


def event(**change):
    """The good event as JSON text, with some values replaced by raw JSON text."""
    vals = {k: v for k, v in GOOD.items()}
    vals.update(change)
    return "{" + ",".join(f'"{k}":{v}' for k, v in vals.items()) + "}"


def csv_row(**change):
    vals = dict(GOOD)
    vals.update(change)
    return ",".join(vals) + "\n" + ",".join(vals.values()) + "\n"


# (class, JSON event text or None, CSV text or None, refused?, words every refusal must say)
CASES = [
    ("good event", event(), csv_row(), False, None),
    ("duplicate field", event()[:-1] + ',"Age":1}', ",".join(NAMES) + ",Age\n3,0,-0.53,1,0,-0.502,1\n",
     True, '"Age" given twice'),
    ("number beyond float32 (1e39)", event(Age="1e39"), csv_row(Age="1e39"), True, "out of float32 range"),
    ("number beyond double (1e999)", event(Age="1e999"), csv_row(Age="1e999"), True, "out of float32 range"),
    ("Infinity as text", event(Age='"Infinity"'), csv_row(Age="Infinity"), True, "out of float32 range"),
    ("-inf as text", event(Age='"-inf"'), csv_row(Age="-inf"), True, "out of float32 range"),
    ("NaN as text: a missing value", event(Age='"NaN"'), csv_row(Age="NaN"), False, None),
    ("null: a missing value", event(Age="null"), csv_row(Age=""), False, None),
    ("number as text", event(Age='"-0.53"'), csv_row(Age='"-0.53"'), False, None),
    ("non-numeric text", event(Age='"abc"'), csv_row(Age="abc"), True, '"abc" is not a number'),
    ("bad UTF-8 text", event(Age='"\xff\xfe"'), csv_row(Age="\xff\xfe"), True, "is not a number"),
    ("NaN token", event(Age="NaN"), None, True, "NaN is not allowed; send null for a missing value"),
    ("Infinity token", event(Age="Infinity"), None, True, "Infinity is not allowed; send null"),
    ("-Infinity token", event(Age="-Infinity"), None, True, "-Infinity is not allowed; send null"),
    ("array value", event(Age="[1]"), None, True, "expected a number"),
    ("object value", event(Age='{"a":1}'), None, True, "expected a number"),
    ("boolean value: 1/0", event(Sex="true"), None, False, None),
    ("malformed JSON", event()[:-1], None, True, "malformed JSON"),
    ("not an object", "[3,0,-0.53,1,0,-0.502]", None, True, "JSON object"),
    ("empty input", "", "", True, "empty"),
]


def to_bytes(text):
    return text.encode("latin-1")  # \xff stays the byte 0xff (invalid UTF-8)


def run_csv(kite, model, text):
    with tempfile.NamedTemporaryFile("wb", suffix=".csv", delete=False) as f:
        f.write(to_bytes(text))
        path = f.name
    r = subprocess.run([kite, "score", "--model", model, "--input", path, "--quiet"],
                       capture_output=True, timeout=60)
    os.unlink(path)
    err = r.stderr.decode("utf-8", "replace")
    return r.returncode != 0, err.strip(), r.returncode


def run_http(port, text):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        c.request("POST", "/predict", to_bytes(text), {"Content-Type": "application/json"})
        r = c.getresponse()
        body = r.read().decode("utf-8", "replace")
    finally:
        c.close()
    refused = r.status != 200
    reason = json.loads(body).get("error", "") if refused else ""
    return refused, reason, r.status


lossless = []  # per dead letter: its record gives back the event's exact bytes


def run_kafka(kite, root, model, events):
    """Every event into a fresh mock broker, one `kite serve --exit-on-eof` over them; returns
    per event index (refused, reason) from the predictions and dead-letters topics."""
    from confluent_kafka import Producer
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from kite_e2e import Broker, read_topic
    broker = Broker(kite, root, None, partitions=1, topics=("events", "predictions", "dead-letters"))
    try:
        p = Producer({"bootstrap.servers": broker.addr})
        for i, text in enumerate(events):
            p.produce("events", key=str(i).encode(), value=to_bytes(text))
        if p.flush(30):
            raise RuntimeError("events not delivered to the mock broker")
        r = subprocess.run([kite, "serve", "--brokers", broker.addr, "--topics", "events",
                            "--model", model, "--exit-on-eof", "--metrics-addr", "", "--cores", "none",
                            "--group-id", "bad-input", "-X", "consumer.session.timeout.ms=6000"],
                           cwd=root, capture_output=True, text=True, timeout=120)
        if r.returncode != 0:
            raise RuntimeError(f"kite serve exit {r.returncode}: {r.stderr[-800:]}")
        out = {}
        preds, _, _, _ = read_topic(broker.addr, "predictions", group="bad-input-p")
        for key, _ in preds:
            out.setdefault(int(key), []).append((False, ""))
        dead, _, _, _ = read_topic(broker.addr, "dead-letters", group="bad-input-d")
        for key, value in dead:
            # Every record is strict UTF-8 JSON; an event that is not UTF-8 comes back as text with
            # U+FFFD and, byte for byte, in payload_base64.
            doc = json.loads(value.decode("utf-8"))
            k = key if key is not None else doc.get("key", "").encode()
            sent = to_bytes(events[int(k)])
            if "payload_base64" in doc:
                kept = base64.b64decode(doc["payload_base64"])
                lossless.append(kept == sent and "\ufffd" in doc["payload"])
            else:
                lossless.append(doc["payload"].encode() == sent)
            out.setdefault(int(k), []).append((True, doc.get("reason", "")))
        return out
    finally:
        broker.stop()


def main():
    a, _ = e2e_args("--kite", "--root")
    model = os.path.join(a.root, "models", "titanic.json")
    t = Checks()
    srv = Kite(a.kite, model, 0, ["--quiet"])
    try:
        kafka = run_kafka(a.kite, a.root, model, [c[1] for c in CASES])
        t.check(lossless and all(lossless),
                f"kafka: every dead letter holds its event's exact bytes ({lossless.count(False)} do not)")
        for i, (what, js, csv, refused, words) in enumerate(CASES):
            got = {"http": run_http(srv.port, js)[:2]}
            k = kafka.get(i, [])
            t.check(len(k) == 1, f"{what}: kafka: exactly one prediction or dead letter ({k})")
            got["kafka"] = k[0] if k else (None, "")
            if csv is not None:
                got["csv"] = run_csv(a.kite, model, csv)[:2]
            for path, (ref, reason) in got.items():
                verdict = "refused" if ref else "accepted"
                want = "refused" if refused else "accepted"
                t.check(ref == refused, f"{what}: {path} {verdict}, want {want} ({reason})")
                if refused and ref:
                    t.check(words in reason, f"{what}: {path} says '{words}' ({reason})")
            print(f"{what:34s} " + "  ".join(f"{p}: {'refused' if r else 'accepted'}"
                                              for p, (r, _) in got.items()), flush=True)
        t.check(srv.stop() == 0, "HTTP server exits 0")
    finally:
        srv.kill()
    return t.finish("bad_input")


if __name__ == "__main__":
    sys.exit(main())
