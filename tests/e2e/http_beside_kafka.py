#!/usr/bin/python3
"""`kite serve --brokers B --model M --feature-spec S --http ADDR:PORT`: HTTP /predict beside
the Kafka pipeline, on the pipeline's model and feature spec, with the HTTP options of the
standalone mode, and the combined SIGTERM drain.

Asserted:
- raw Titanic passengers (Sex "male", empty Age) POSTed to /predict (one-row objects, a
  "rows" batch, a CSV body) get exactly `kite score --model M --spec S` on the same rows
  (float32 text, %.9g), and so do the pipeline's own predictions of the same passengers on
  the predictions topic (same model fingerprint);
- the HTTP flags reach the server beside Kafka: --threads (the workers gauge), --max-body
  (413), --admin-token (401 / 200), --timeout-seconds (a trickling body is cut);
- /ready is 200 while running; after SIGTERM, with the broker frozen so that the pipeline's
  drain cannot finish, /ready answers 503 and the request in flight is answered; once the
  broker resumes, the pipeline drains and commits (100 predictions, committed offset 100) and
  kite exits 0 within --grace-seconds; afterwards the port refuses connections;
- a request held past a short --grace-seconds is cut at that grace (not at a fixed 10 s) and
  the exit status is 1.
Every wait has a deadline that only guards against a hang."""
import csv
import http.client
import io
import json
import os
import re
import select
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kite_e2e import (HANG_GUARD_S, Broker, Checks, Kite, e2e_args, field, post_json,  # noqa: E402
                      read_response, request, wait_until)

T = Checks()
check = T.check
N_KAFKA = 100   # passengers produced to the input topic
N_HTTP = 120    # passengers POSTed (the first N_KAFKA of them are the same rows)
GRACE_S = 20
INPUTS = ["Pclass", "Sex", "Age", "SibSp", "Parch", "Fare"]


def kite_score(kite, root, rows_csv):
    r = subprocess.run([kite, "score", "--model", "models/titanic.json", "--spec",
                        "models/titanic.spec.json", "--input", rows_csv, "--quiet"],
                       cwd=root, capture_output=True, text=True, check=True)
    return r.stdout.splitlines()


def raw_object(row):
    """A passenger as the JSON object of the spec's raw inputs, numbers as the CSV's digits."""
    parts = []
    for name in INPUTS:
        v = row[name].strip()
        if v == "":
            parts.append('"%s":null' % name)
        elif name == "Sex":
            parts.append('"%s":%s' % (name, json.dumps(v)))
        else:
            parts.append('"%s":%s' % (name, v))
    return "{" + ",".join(parts) + "}"


def usage_checks(kite, root):
    """The shared option parser beside Kafka: a bad HTTP value is a usage error naming its
    range (not 'unknown option'); --model/--spec stay the pipeline's, so --spec is its alias."""
    r = subprocess.run([kite, "serve", "--brokers", "127.0.0.1:1", "--model", "models/titanic.json",
                        "--http", "127.0.0.1:0", "--threads", "0"], cwd=root, capture_output=True,
                       text=True, timeout=60)
    check(r.returncode == 2 and "--threads" in r.stderr and "[1, 128]" in r.stderr,
          f"beside Kafka, --threads 0 is a usage error with its range ({r.returncode}: {r.stderr.strip()})")
    r = subprocess.run([kite, "serve", "--brokers", "127.0.0.1:1", "--model", "models/titanic.json",
                        "--http", "127.0.0.1:0", "--pin=yes"], cwd=root, capture_output=True,
                       text=True, timeout=60)
    check(r.returncode == 2 and "--pin takes no value" in r.stderr,
          f"--pin=yes refused like the standalone mode ({r.returncode}: {r.stderr.strip()})")
    r = subprocess.run([kite, "serve", "--brokers", "127.0.0.1:1", "--help"], cwd=root,
                       capture_output=True, text=True, timeout=60)
    for flag in ("--threads", "--max-body", "--timeout-seconds", "--max-connections",
                 "--admin-token", "--grace-seconds", "--drain-idle-seconds", "--pin"):
        check(r.returncode == 0 and flag in r.stdout, f"kite serve --brokers --help lists {flag}")


def trickle(port, seconds):
    """POST /predict whose body comes one byte per 0.2 s; returns (seconds until the server
    closed the connection or None, bytes answered)."""
    body = b'{"features":[1,1,1,1,1,1]}' + b" " * 400
    s = socket.create_connection(("127.0.0.1", port), timeout=HANG_GUARD_S)
    s.sendall(b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
              b"Content-Length: %d\r\n\r\n" % len(body))
    t0 = time.monotonic()
    try:
        for i in range(len(body)):
            if time.monotonic() - t0 > seconds:
                return None, b""
            try:
                s.sendall(body[i:i + 1])
            except OSError:
                return time.monotonic() - t0, b""
            if select.select([s], [], [], 0.2)[0]:
                try:
                    data = s.recv(4096)
                except OSError:
                    data = b""
                return time.monotonic() - t0, data
        return None, b""
    finally:
        s.close()


def consume_predictions(addr, n):
    from confluent_kafka import Consumer
    c = Consumer({"bootstrap.servers": addr, "group.id": "http-beside-kafka-test",
                  "auto.offset.reset": "earliest", "enable.auto.commit": False})
    c.subscribe(["predictions"])
    got, end = {}, time.monotonic() + 60
    try:
        while len(got) < n and time.monotonic() < end:
            m = c.poll(0.2)
            if m is None or m.error():
                continue
            text = m.value().decode()
            key = m.key().decode() if m.key() else None
            got[key] = text
    finally:
        c.close()
    return got


def committed_offset(addr, group, topic):
    from confluent_kafka import Consumer, TopicPartition
    c = Consumer({"bootstrap.servers": addr, "group.id": group, "enable.auto.commit": False})
    try:
        parts = c.committed([TopicPartition(topic, 0)], timeout=10)
        return parts[0].offset
    finally:
        c.close()


def main():
    a, _ = e2e_args(kafka_dir=True)
    kite, root = os.path.abspath(a.kite), os.path.abspath(a.root)
    rows_csv = os.path.join(a.workdir, "passengers.csv")
    with open(os.path.join(root, "data", "titanic.csv"), newline="") as f:
        text = f.read()
    rd = csv.DictReader(io.StringIO(text))
    rows = [r for _, r in zip(range(N_HTTP), rd)]
    lines = text.splitlines()
    with open(rows_csv, "w") as f:  # no quoted newlines in titanic.csv: lines are rows
        f.write("\n".join(lines[:N_HTTP + 1]) + "\n")
    want = kite_score(kite, root, rows_csv)
    check(len(want) == N_HTTP + 1 and want[0] == "prediction", f"kite score --spec: {len(want)} lines")
    check(any(r["Age"] == "" for r in rows) and any(r["Sex"] == "male" for r in rows),
          "the rows have raw categories and missing values")

    usage_checks(kite, root)

    broker = Broker(kite, root, a.kafka_dir, partitions=1)
    servers = []
    frozen = False
    try:
        addr = broker.addr
        check(broker.real or re.fullmatch(r"127\.0\.0\.1:\d+", addr) is not None, f"kite broker address {addr!r}")
        r = subprocess.run([kite, "produce", "--brokers", addr, "--topic", "events", "--input",
                            rows_csv, "--key", "PassengerId", "--limit", str(N_KAFKA)],
                           cwd=root, capture_output=True, text=True, timeout=120)
        check(r.returncode == 0, f"kite produce exit 0 ({r.stderr.strip()[-300:]})")

        srv = Kite(kite, "models/titanic.json", 0,
                   ["--brokers", addr, "--feature-spec", "models/titanic.spec.json",
                    "--metrics-addr", "", "--cores", "none", "--workers", "1",
                    "-X", "consumer.session.timeout.ms=6000",
                    "--threads", "3", "--max-body", "65536", "--timeout-seconds", "5",
                    "--admin-token", "tok", "--grace-seconds", str(GRACE_S),
                    "--drain-idle-seconds", "0.5", "--pin"],
                   stdout=subprocess.PIPE, cwd=root)
        servers.append(srv)
        port = srv.port
        check("beside the Kafka pipeline" in srv.log(), "the HTTP server says it runs beside Kafka")
        check("sharing its loaded model" in srv.log(),
              "HTTP scores with the pipeline's loaded model (one copy, not a second load)")

        st, _, body = request(port, "GET", "/ready")
        check(st == 200 and '"ready":true' in body, f"/ready 200 while running ({st} {body.strip()})")
        st, _, body = request(port, "GET", "/model")
        doc = json.loads(body) if st == 200 else {}
        check(doc.get("inputs") == INPUTS, f"/model lists the spec's raw inputs ({body.strip()[:200]})")
        st, _, body = request(port, "GET", "/metrics")
        check(st == 200 and re.search(r"^kite_http_workers 3$", body, re.M) is not None,
              "--threads 3 reached the server (kite_http_workers 3)")

        # raw passengers, one request each (a keep-alive connection)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=HANG_GUARD_S)
        bad = 0
        for i, row in enumerate(rows):
            st, _, body = post_json(port, raw_object(row), conn)
            if st != 200 or field(body, "prediction") != want[1 + i]:
                bad += 1
                if bad <= 3:
                    print(f"  row {i}: {st} {body.strip()} want {want[1 + i]}")
        check(bad == 0, f"{len(rows)} raw one-row requests equal kite score --spec ({bad} differ)")
        st, _, body = post_json(port, '{"rows":[' + ",".join(raw_object(r) for r in rows) + "]}", conn)
        got = body[body.index('"predictions":') + 14:body.index('],') + 1] if st == 200 else ""
        check(got == "[" + ",".join(want[1:]) + "]", f"a rows batch equals kite score --spec ({st})")
        with open(rows_csv) as f:
            csv_body = f.read()
        st, _, body = request(port, "POST", "/predict", csv_body, {"Content-Type": "text/csv"}, conn)
        check(st == 200 and body.splitlines() == want, f"a raw CSV body equals kite score --spec ({st})")
        conn.close()
        http_version = json.loads(post_json(port, raw_object(rows[0]))[2]).get("model_version")

        st, _, _ = post_json(port, '{"features":[1,1,1,1,1,1]}' + " " * 70000)
        check(st == 413, f"--max-body 65536 beside Kafka: a 70 kB body is 413 ({st})")
        st, _, _ = request(port, "POST", "/admin/reload")
        check(st == 401, f"--admin-token beside Kafka: reload without the token is 401 ({st})")
        st, _, body = request(port, "POST", "/admin/reload", headers={"Authorization": "Bearer tok"})
        check(st == 200 and '"reloaded":true' in body, f"reload with the token is 200 ({st} {body.strip()})")
        cut_at, answer = trickle(port, 25)
        check(cut_at is not None and answer == b"" and 4.8 <= cut_at <= 20,
              f"--timeout-seconds 5: a body trickling a byte per 0.2 s is cut after ~5 s "
              f"(cut at {cut_at}, answered {answer[:60]!r})")

        # the pipeline's predictions of the same passengers
        kafka = consume_predictions(addr, N_KAFKA)
        check(len(kafka) == N_KAFKA, f"{N_KAFKA} predictions on the topic ({len(kafka)})")
        bad = 0
        for i in range(N_KAFKA):
            t = kafka.get(rows[i]["PassengerId"], "")
            if field(t, "prediction") != want[1 + i] or field(t, "model_fingerprint") != '"%s"' % http_version:
                bad += 1
                if bad <= 3:
                    print(f"  passenger {rows[i]['PassengerId']}: {t[:200]} want {want[1 + i]}")
        check(bad == 0, f"the Kafka path's predictions equal HTTP's and kite score's, same model "
                        f"fingerprint {http_version} ({bad} differ)")

        # SIGTERM with a request in flight (headers and half a body sent) and the broker frozen
        # (SIGSTOP): the pipeline's drain cannot finish (its consumer close needs the broker),
        # so a 503 seen now was set at the signal, before the pipeline drain, not after it.
        body = raw_object(rows[0]).encode()
        held = socket.create_connection(("127.0.0.1", port), timeout=HANG_GUARD_S)
        held.sendall(b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: %d\r\n\r\n" % len(body) + body[:10])
        time.sleep(0.2)  # let the server read the headers: the request is in flight now
        broker.pause()
        frozen = True
        t_sig = time.monotonic()
        srv.signal(signal.SIGTERM)
        ready = []
        wait_until(lambda: ready.append(request(port, "GET", "/ready")) or ready[-1][0] == 503,
                   "/ready 503 after SIGTERM", timeout=5, step=0.01)
        alive = srv.proc.poll() is None
        pipeline_done = "Kafka pipeline stopped" in srv.log()
        check(ready and ready[-1][0] == 503 and '"draining"' in ready[-1][2] and alive and
              not pipeline_done,
              f"/ready 503 after SIGTERM while the pipeline is still draining ({ready[-1][:1] if ready else None}, "
              f"alive {alive}, pipeline stopped {pipeline_done})")
        held.sendall(body[10:])
        held.settimeout(HANG_GUARD_S)
        resp = read_response(held)
        pipeline_done = "Kafka pipeline stopped" in srv.log()
        held.close()
        text = resp.decode("utf-8", "replace")
        check(text.startswith("HTTP/1.1 200") and field(text, "prediction") == want[1] and
              not pipeline_done,
              f"the request in flight at SIGTERM is answered during the pipeline's drain "
              f"({text[:120]!r}, pipeline stopped {pipeline_done})")
        broker.resume()
        frozen = False
        rc = srv.wait(GRACE_S + 30)
        took = time.monotonic() - t_sig
        out = srv.proc.stdout.read() if srv.proc.stdout else ""
        log = srv.log()
        check(rc == 0, f"exit 0 after SIGTERM ({rc}): {log[-600:]}")
        check(took <= GRACE_S, f"exited within --grace-seconds {GRACE_S} ({took:.2f} s)")
        check("(drained, offsets committed)" in log, "the log says the pipeline drained and committed")
        check(re.search(r"^predictions +%d " % N_KAFKA, out, re.M) is not None,
              f"the pipeline scored {N_KAFKA} events ({out.strip()[:300]})")
        off = committed_offset(addr, "kite", "events")
        check(off == N_KAFKA, f"committed offset of group kite is {N_KAFKA} ({off})")
        try:
            st = request(port, "GET", "/ready")[0]
        except OSError:
            st = "refused"
        check(st in ("refused", 503), f"after exit /ready is refused or 503 ({st})")

        # a short grace beside Kafka cuts a request held open (not a fixed 10 s)
        short = Kite(kite, "models/titanic.json", 0,
                     ["--brokers", addr, "--group-id", "short-grace",
                      "--metrics-addr", "", "--cores", "none", "--grace-seconds", "2",
                      "--timeout-seconds", "60", "-X", "consumer.session.timeout.ms=6000",
                      "--feature-spec", "models/titanic.spec.json"], cwd=root)
        servers.append(short)
        held = socket.create_connection(("127.0.0.1", short.port), timeout=HANG_GUARD_S)
        held.sendall(b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 100\r\n\r\n{")
        time.sleep(0.2)
        t_sig = time.monotonic()
        short.signal(signal.SIGTERM)
        rc = short.wait(GRACE_S + 30)
        took = time.monotonic() - t_sig
        held.close()
        check(rc == 1 and 1.8 <= took <= 8 and "1 HTTP request cut" in short.log(),
              f"--grace-seconds 2 with a request held open: cut after ~2 s, exit 1 "
              f"({rc}, {took:.2f} s): {short.log()[-400:]}")
    finally:
        if frozen:
            broker.resume()
        for s in servers:
            s.kill()
        broker.stop()
    return T.finish("http_beside_kafka")


if __name__ == "__main__":
    sys.exit(main())
