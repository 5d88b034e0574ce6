#!/usr/bin/python3
"""kite serve --http over real HTTP: predictions equal `kite score` on the same rows, every
bad-input class gets its 4xx with a JSON error, slow clients do not block others, keep-alive,
SO_REUSEPORT, /metrics passes promtool, reload swaps without a failed request, SIGTERM drains."""
import csv
import http.client
import io
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kite_e2e import Checks, Kite, e2e_args, field, post_json, read_response, request, wait_until  # noqa: E402

T = Checks()
check = T.check


def kite_score(kite, model, rows_csv, margin=False):
    args = [kite, "score", "--model", model, "--input", rows_csv, "--quiet"]
    if margin:
        args.append("--margin")
    r = subprocess.run(args, capture_output=True, text=True, check=True)
    return r.stdout.splitlines()


def test_exact(kite, model, rows_csv, port, names):
    """Single rows (object and array forms), many rows, CSV bodies, margins: same digits."""
    want = kite_score(kite, model, rows_csv)
    want_margin = kite_score(kite, model, rows_csv, margin=True)

    def js(line):  # a kite score CSV row as the JSON the server writes (arrays when k > 1)
        return line if "," not in line else "[" + line + "]"
    with open(rows_csv) as f:
        rd = csv.reader(f)
        header = next(rd)
        raw = [row for row in rd]
    cols = [header.index(n) for n in names]
    rows = [[r[c] for c in cols] for r in raw]

    def num(t):  # the CSV text itself as a JSON number, so both sides parse the same digits
        return "null" if t.strip() == "" else t.strip()

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    n_single = min(len(rows), 60)
    bad = 0
    for i in range(n_single):
        if i % 2:
            body = '{"features":[' + ",".join(num(v) for v in rows[i]) + "]}"
        else:
            body = "{" + ",".join('"%s":%s' % (n, num(v)) for n, v in zip(names, rows[i])) + "}"
        st, _, text = post_json(port, body, conn)
        if st != 200 or field(text, "prediction") != js(want[1 + i]):
            bad += 1
            if bad < 3:
                print("  row", i, "got", st, text.strip(), "want", want[1 + i])
    check(bad == 0, f"{n_single} single-row requests equal kite score ({bad} differ)")

    body = '{"margin":true,"rows":[' + ",".join(
        "[" + ",".join(num(v) for v in r) + "]" for r in rows) + "]}"
    st, _, text = post_json(port, body, conn)
    doc = json.loads(text) if st == 200 else {}
    check(st == 200 and doc.get("rows") == len(rows), f"{len(rows)} rows in one request: {st}")
    got_p = text[text.index('"predictions":') + 14:text.index(',"margins"')] if st == 200 else ""
    got_m = text[text.index('"margins":') + 10:text.index(',"rows"')] if st == 200 else ""
    check(got_p == "[" + ",".join(js(w) for w in want[1:]) + "]", "rows predictions equal kite score")
    check(got_m == "[" + ",".join(js(w) for w in want_margin[1:]) + "]",
          "rows margins equal kite score --margin")

    with open(rows_csv) as f:
        csv_body = f.read()
    st, h, text = request(port, "POST", "/predict", csv_body, {"Content-Type": "text/csv"}, conn)
    check(st == 200 and h.get("content-type", "").startswith("text/csv") and
          text.splitlines() == want, "text/csv body -> CSV identical to kite score output")
    st, h, text = request(port, "POST", "/predict?margin=1", csv_body,
                          {"Content-Type": "text/csv; charset=utf-8"}, conn)
    check(st == 200 and text.splitlines() == want_margin, "CSV with ?margin=1 equals kite score --margin")
    st, _, text = request(port, "POST", "/predict", '{"rows":[[' + ",".join(num(v) for v in rows[0]) + "]]}",
                          {"Content-Type": "application/json", "Accept": "text/csv"}, conn)
    check(st == 200 and text.splitlines() == want[:2], "Accept: text/csv on a JSON body")
    conn.close()


def test_bad_input(port, names):
    good = {n: 1.0 for n in names}
    cases = [
        # (what, status, content type, body, word the error must contain)
        ("text/plain", 415, "text/plain", json.dumps(good), "content type"),
        ("no content type", 415, None, json.dumps(good), "content type"),
        ("truncated JSON", 400, "application/json", '{"features":[1,2', "malformed JSON"),
        ("trailing garbage", 400, "application/json", json.dumps(good) + " x", "malformed JSON"),
        ("not an object", 400, "application/json", "[1,2,3]", "expected a JSON object"),
        ("bad literal", 400, "application/json", '{"features":[tru]}', "malformed JSON"),
        ("empty body", 400, "application/json", "", "empty body"),
        ("too few features", 422, "application/json", json.dumps({"features": [1] * (len(names) - 1)}), "the model takes"),
        ("too many features", 422, "application/json", json.dumps({"features": [1] * (len(names) + 1)}), "the model takes"),
        ("NaN", 422, "application/json", '{"features":[NaN' + ",1" * (len(names) - 1) + "]}", "NaN is not allowed"),
        ("Infinity", 422, "application/json", '{"features":[Infinity' + ",1" * (len(names) - 1) + "]}", "Infinity is not allowed"),
        ("float32 overflow", 422, "application/json", '{"features":[1e39' + ",1" * (len(names) - 1) + "]}", "float32 range"),
        ("string value", 422, "application/json", '{"features":["x3"' + ",1" * (len(names) - 1) + "]}", "is not a number"),
        ("string out of range", 422, "application/json", '{"features":["1e39"' + ",1" * (len(names) - 1) + "]}", "float32 range"),
        ("unknown field", 422, "application/json", json.dumps(dict(good, Bogus=1)), 'unknown field \\"Bogus\\"'),
        ("missing field", 422, "application/json", json.dumps({k: v for k, v in list(good.items())[1:]}), "is missing"),
        ("duplicate field", 422, "application/json", json.dumps(good)[:-1] + ',"%s":2}' % names[0], "given twice"),
        ("empty rows", 422, "application/json", '{"rows":[]}', "empty"),
        ("no row", 422, "application/json", '{"margin":true}', "no row"),
        ("bad margin", 422, "application/json", '{"margin":"yes","features":[]}', "margin"),
        ("CSV not a number", 422, "text/csv", ",".join(names) + "\n" + ",".join(["x"] * len(names)) + "\n", "is not a number"),
        ("CSV missing column", 422, "text/csv", ",".join(names[1:]) + "\n" + ",".join(["1"] * (len(names) - 1)) + "\n", "no column"),
        ("CSV header only", 422, "text/csv", ",".join(names) + "\n", "no data rows"),
    ]
    for what, status, ctype, body, word in cases:
        h = {"Content-Type": ctype} if ctype else {}
        st, rh, text = request(port, "POST", "/predict", body, h)
        ok = st == status and rh.get("content-type") == "application/json"
        try:
            doc = json.loads(text)
            ok = ok and doc.get("status") == status and word in json.dumps(doc["error"])
        except (ValueError, KeyError):
            ok = False
        check(ok, f"{what}: want {status} with '{word}', got {st} {text.strip()[:160]}")
    # body over --max-body (4096): declared length, and chunked without a length
    big = json.dumps({"rows": [[1.0] * len(names)] * 400})
    st, _, text = post_json(port, big)
    check(st == 413 and "limit" in text, f"body over the limit -> 413, got {st}")
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    c.putrequest("POST", "/predict")
    c.putheader("Content-Type", "application/json")
    c.putheader("Transfer-Encoding", "chunked")
    c.endheaders()
    chunk = big.encode()
    c.send(b"%x\r\n%s\r\n0\r\n\r\n" % (len(chunk), chunk))
    r = c.getresponse()
    check(r.status == 413, f"chunked body over the limit -> 413, got {r.status}")
    c.close()
    st, rh, _ = request(port, "GET", "/predict")
    check(st == 405 and rh.get("allow") == "POST", f"GET /predict -> 405 Allow: POST, got {st}")
    st, _, _ = request(port, "DELETE", "/health")
    check(st == 405, f"DELETE /health -> 405, got {st}")
    st, _, text = request(port, "GET", "/nope")
    check(st == 404 and "error" in text, f"unknown path -> 404, got {st}")
    st, _, text = request(port, "POST", "/admin/reload")
    check(st == 401, f"reload without token -> 401, got {st}")
    st, _, _ = request(port, "POST", "/admin/reload", headers={"Authorization": "Bearer wrong"})
    check(st == 401, f"reload with a wrong token -> 401, got {st}")
    # raw garbage on the socket: the server answers 400 or closes; it keeps serving
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    s.sendall(b"\x00\xffGARBAGE \r\n\r\n")
    try:
        s.recv(1024)
    except OSError:
        pass
    s.close()
    st, _, _ = request(port, "GET", "/health")
    check(st == 200, "still serving after garbage on a socket")


def test_slow_clients(port, threads, timeout_s, names):
    """More trickling clients than worker threads: others are still answered, and the server
    closes the slow sockets after --timeout-seconds."""
    slow = []
    for _ in range(threads * 4):
        s = socket.create_connection(("127.0.0.1", port), timeout=30)
        s.sendall(b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n")
        slow.append(s)
    body = {"features": [1.0] * len(names)}
    oks = sum(post_json(port, body)[0] == 200 for _ in range(20))
    check(oks == 20, f"20 requests answered while {len(slow)} clients trickle headers ({oks} ok)")
    s0 = slow[0]
    s0.settimeout(timeout_s + 20)
    try:
        closed = s0.recv(100) == b""  # server closes without answering a half request
    except OSError:
        closed = True
    check(closed, "a trickling client is disconnected after the connection timeout")
    for s in slow:
        s.close()


def test_trickling_body(port, timeout_s):
    """--timeout-seconds is a deadline for the body, not only libmicrohttpd's inactivity
    timeout: a client sending one body byte every 0.2 s (never idle) is cut timeout_s after its
    headers, without an answer, and counted as 408."""
    body = b'{"features":[1,1,1,1,1,1]}' + b" " * 200  # 45 s at 5 bytes/s
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    s.sendall(b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
              b"Content-Length: %d\r\n\r\n" % len(body))
    t0 = time.monotonic()
    cut_at, answer = None, b""
    for i in range(len(body)):
        if time.monotonic() - t0 > timeout_s + 15:
            break
        try:
            s.sendall(body[i:i + 1])
        except OSError:
            cut_at = time.monotonic() - t0
            break
        if select.select([s], [], [], 0.2)[0]:
            try:
                answer = s.recv(4096)
            except OSError:
                pass
            cut_at = time.monotonic() - t0
            break
    s.close()
    check(cut_at is not None and answer == b"" and timeout_s * 0.9 <= cut_at <= timeout_s + 10,
          f"a body trickling one byte per 0.2 s is cut after --timeout-seconds {timeout_s} "
          f"(cut at {cut_at}, answer {answer[:60]!r})")
    st, _, text = request(port, "GET", "/metrics")
    check('kite_http_requests_total{endpoint="predict",code="408"} 1' in text,
          "the cut upload is counted as code 408")


def test_keepalive_reuseport(kite, model, port, names):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    st1, _, _ = post_json(port, {"features": [1.0] * len(names)}, c)
    sock1 = c.sock
    st2, _, _ = post_json(port, {"features": [2.0] * len(names)}, c)
    check(st1 == st2 == 200 and c.sock is sock1 and sock1 is not None, "keep-alive: two requests, one socket")
    c.close()
    try:
        other = Kite(kite, model, port, ["--quiet"])
        check(other.port == port, "SO_REUSEPORT: a second process binds the same port")
        check(other.stop() == 0, "second process drains and exits 0")
    except RuntimeError as e:
        check(False, f"SO_REUSEPORT: second process failed: {e}")


def test_max_connections(kite, model, names):
    """--max-connections 3: however many clients connect, at most 3 connections stay open
    (libmicrohttpd closes idle keep-alive ones and answers with Connection: close at the limit),
    and every request gets an answer or a closed socket, never a hang."""
    srv = Kite(kite, model, 0, ["--max-connections", "3", "--quiet"])
    try:
        socks, answered = [], 0
        for _ in range(8):
            s = socket.create_connection(("127.0.0.1", srv.port), timeout=30)
            s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            try:
                answered += s.recv(200).startswith(b"HTTP/1.1 200")
            except OSError:
                pass
            socks.append(s)
        check(answered >= 3, f"clients past the limit do not hang ({answered} of 8 answered)")
        text = request(srv.port, "GET", "/metrics")[2]
        gauge = [l for l in text.splitlines() if l.startswith("kite_http_open_connections ")]
        n = float(gauge[0].split()[1]) if gauge else 99
        check(n <= 3, f"open connections stay within --max-connections 3 ({n})")
        for s in socks:
            s.close()
        check(wait_until(lambda: request(srv.port, "GET", "/health")[0] == 200, "health"),
              "still serving after the burst")
    finally:
        rc = srv.stop()
        check(rc == 0, "max-connections server exits 0 (exit %s; log:\n%s)" % (rc, srv.log()[-2000:]))


def test_metrics(port):
    st, h, text = request(port, "GET", "/metrics")
    check(st == 200 and h.get("content-type", "").startswith("text/plain"), "/metrics 200 text/plain")
    for s in ['kite_http_requests_total{endpoint="predict",code="200"}',
              'kite_http_requests_total{endpoint="predict",code="422"}',
              'kite_http_requests_total{endpoint="predict",code="415"}',
              'kite_http_request_duration_seconds_bucket{endpoint="predict",code="200",le="+Inf"}',
              "kite_http_model_info{version=", "kite_http_rows_scored_total"]:
        check(s in text, f"/metrics has {s}")
    if shutil.which("promtool"):
        r = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True)
        check(r.returncode == 0, "promtool check metrics: " + (r.stdout + r.stderr).strip()[:300])
    else:
        check(False, "promtool not installed (tools/setup.sh installs prometheus)")
    st, h, text = request(port, "GET", "/")
    check(st == 200 and h.get("content-type", "").startswith("text/html") and "<form" in text
          and "src=" not in text and "href=" not in text, "GET / is the self-contained form page")


def make_variant(model, path, base_score):
    with open(model) as f:
        doc = json.load(f)
    doc["learner"]["learner_model_param"]["base_score"] = base_score
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(doc, f)
    os.replace(tmp, path)  # atomic, as a deploy would do it


def test_reload(kite, model, tmpdir, names):
    path = os.path.join(tmpdir, "serving.json")
    shutil.copy(model, path)
    srv = Kite(kite, path, 0, ["--threads", "2", "--admin-token", "s3cret", "--quiet"])
    port, v0 = srv.port, srv.version
    stop = threading.Event()
    seen, failures, total = set(), [], [0]
    lock = threading.Lock()

    def load():
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        body = json.dumps({"features": [3, 0, 22, 1, 0, 7.25][:len(names)]})
        while not stop.is_set():
            try:
                st, _, text = post_json(port, body, c)
                with lock:
                    total[0] += 1
                    if st != 200:
                        failures.append((st, text))
                    else:
                        seen.add(json.loads(text)["model_version"])
            except (OSError, http.client.HTTPException) as e:
                with lock:
                    failures.append(("exception", repr(e)))
                c.close()
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        c.close()

    workers = [threading.Thread(target=load) for _ in range(3)]
    for w in workers:
        w.start()
    versions = [v0]
    for i in range(6):
        make_variant(model, path, "%.2f" % (0.3 + 0.05 * i))
        if i % 2 == 0:
            st, _, text = request(port, "POST", "/admin/reload", headers={"Authorization": "Bearer s3cret"})
            ok = st == 200 and json.loads(text)["model_version"] != versions[-1]
            versions.append(json.loads(text)["model_version"] if st == 200 else None)
            check(ok, f"/admin/reload {i}: {st} {text.strip()}")
        else:
            n = len([l for l in srv.lines if "model reloaded" in l])
            srv.signal(signal.SIGHUP)
            srv_lines_ok = wait_until(lambda: len([l for l in srv.lines if "model reloaded" in l]) > n,
                                      "SIGHUP reload log line")
            # --quiet suppresses the reload line? no: the CLI logs SIGHUP results always
            check(srv_lines_ok, f"SIGHUP reload {i}")
            st, _, text = request(port, "GET", "/model")
            versions.append(json.loads(text)["model_version"])
        time.sleep(0.15)
    # a bad file is refused; the old model keeps serving
    before = json.loads(request(port, "GET", "/model")[2])["model_version"]
    with open(path, "w") as f:
        f.write('{"learner": {"gradient_booster": ')
    st, _, text = request(port, "POST", "/admin/reload", headers={"Authorization": "Bearer s3cret"})
    check(st == 422 and "serving.json" in text and json.loads(text)["model_version"] == before,
          f"bad model refused with 422 naming the file: {st} {text.strip()[:200]}")
    n = len([l for l in srv.lines if "reload refused" in l])
    srv.signal(signal.SIGHUP)
    check(wait_until(lambda: len([l for l in srv.lines if "reload refused" in l]) > n, "refusal line"),
          "SIGHUP with a bad file is refused")
    after = json.loads(request(port, "GET", "/model")[2])["model_version"]
    check(after == before, "old model still serving after refused reloads")
    time.sleep(0.2)
    stop.set()
    for w in workers:
        w.join()
    check(not failures, f"no failed request during 6 reloads + 2 refused ({total[0]} requests, "
                        f"failures {failures[:3]})")
    check(total[0] > 50, f"load ran ({total[0]} requests)")
    check(len(seen) >= 3, f"responses carried several model versions across reloads ({len(seen)})")
    metrics = request(port, "GET", "/metrics")[2]
    check('kite_http_model_reloads_total{result="ok"} 6' in metrics, "metrics count 6 good reloads")
    check('kite_http_model_reloads_total{result="failed"} 2' in metrics, "metrics count 2 refused reloads")
    check(f'version="{after}"' in metrics, "metrics name the serving version")
    return srv


def test_drain(srv, names):
    """SIGTERM: /ready 503 at once, requests still answered, exit 0."""
    port = srv.port
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    check(request(port, "GET", "/ready")[0] == 200, "/ready 200 before SIGTERM")
    # a request in flight across the SIGTERM: headers and half its body before, the rest after
    body = json.dumps({"features": [1.0] * len(names)}).encode()
    slow = socket.create_connection(("127.0.0.1", port), timeout=30)
    slow.sendall(b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 b"Content-Length: %d\r\n\r\n" % len(body) + body[:10])
    # in flight: the slow request and this /metrics request itself
    wait_until(lambda: "kite_http_in_flight_requests 2" in request(port, "GET", "/metrics")[2],
               "the slow request in flight")
    srv.signal(signal.SIGTERM)
    check(wait_until(lambda: request(port, "GET", "/ready")[0] == 503, "/ready 503"), "/ready 503 after SIGTERM")
    st, h, _ = post_json(port, {"features": [1.0] * len(names)}, c)
    check(st == 200 and h.get("connection", "").lower() == "close",
          f"draining server still answers, with Connection: close ({st})")
    check(request(port, "GET", "/health")[0] == 200, "/health 200 while draining")
    slow.sendall(body[10:])
    answer = read_response(slow)
    slow.close()
    check(answer.startswith(b"HTTP/1.1 200") and b"prediction" in answer,
          f"the request in flight at SIGTERM is answered: {answer[:80]!r}")
    rc = srv.wait()
    check(rc == 0, f"exit 0 after drain (rc {rc}): {srv.log()[-300:]}")


LAG_SPEC = {"kite_feature_spec": 1, "name": "lagdemo", "inputs": [{"name": "x", "type": "number"}],
            "key": "k", "warmup": 2, "max_keys": 100,
            "features": [{"name": "x", "kind": "value", "input": "x"},
                         {"name": "lag1", "kind": "lag", "input": "x", "lag": 1}]}


def test_spec(kite, root, tmpdir):
    """--spec: raw Titanic passengers (JSON objects with "male"/"female", CSV with every column
    of data/titanic.csv) equal `kite score --spec`; stream keys keep their own lag state."""
    model = os.path.join(root, "models", "titanic.json")
    spec = os.path.join(root, "models", "titanic.spec.json")
    raw_csv = os.path.join(tmpdir, "raw.csv")
    with open(os.path.join(root, "data", "titanic.csv")) as f:
        lines = f.read().splitlines()
    with open(raw_csv, "w") as f:
        f.write("\n".join(lines[:61]) + "\n")
    want = subprocess.run([kite, "score", "--model", model, "--spec", spec, "--input", raw_csv, "--quiet"],
                          capture_output=True, text=True, check=True).stdout.splitlines()
    srv = Kite(kite, model, 0, ["--spec", spec, "--quiet"])
    try:
        with open(raw_csv) as f:
            csv_body = f.read()
        st, _, text = request(srv.port, "POST", "/predict", csv_body, {"Content-Type": "text/csv"})
        check(st == 200 and text.splitlines() == want, f"raw CSV through the spec equals kite score --spec ({st})")
        with open(raw_csv) as f:
            rows = list(csv.DictReader(f))
        inputs = ["Pclass", "Sex", "Age", "SibSp", "Parch", "Fare"]
        conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=30)
        bad = 0
        for i, r in enumerate(rows):
            parts = []
            for n in inputs:
                v = r[n].strip()
                parts.append('"%s":%s' % (n, "null" if v == "" else json.dumps(v) if n == "Sex" else v))
            st, _, text = post_json(srv.port, "{" + ",".join(parts) + "}", conn)
            if st != 200 or field(text, "prediction") != want[1 + i]:
                bad += 1
                if bad < 3:
                    print("  raw row", i, st, text.strip(), "want", want[1 + i])
        check(bad == 0, f"{len(rows)} raw JSON passengers equal kite score --spec ({bad} differ)")
        st, _, text = post_json(srv.port, '{"Pclass":3,"Sex":"male","Agx":22}', conn)
        check(st == 422 and "unknown field" in text and "spec" in text, f"unknown raw field -> 422 ({st})")
        st, _, text = post_json(srv.port, '{"Pclass":"first","Sex":"male"}', conn)
        check(st == 422 and "is not a number" in text, f"raw text where a number belongs -> 422 ({st})")
        st, _, text = post_json(srv.port, '{"Pclass":1e308,"Sex":"male"}', conn)
        check(st == 422 and "float32 range" in text, f"a raw value overflowing float32 -> 422 ({st})")
        conn.close()
    finally:
        check(srv.stop() == 0, "spec server exits 0")

    # stream keys: lag1 of key "a" is a's previous x, whatever other keys did in between
    import xgboost as xgb  # noqa: E402  (Debian python3-xgboost; only this part needs it)
    import numpy as np
    rng = np.random.default_rng(1)
    x = rng.normal(size=(400, 2))
    m = os.path.join(tmpdir, "lag.json")
    xgb.train({"max_depth": 3, "nthread": 1}, xgb.DMatrix(x, label=x[:, 0] - 0.5 * x[:, 1],
              feature_names=["x", "lag1"]), 8).save_model(m)
    sp = os.path.join(tmpdir, "lag.spec.json")
    with open(sp, "w") as f:
        json.dump(LAG_SPEC, f)
    srv = Kite(kite, m, 0, ["--spec", sp, "--quiet", "--admin-token", "t"])
    try:
        def pred(body):
            st, _, text = post_json(srv.port, body)
            return st, json.loads(text)

        st, a1 = pred('{"k":"a","x":1.5}')
        check(st == 200 and a1["warming_up"] is True, f"first event of a key is warming up: {a1}")
        pred('{"k":"b","x":-7}')
        st, a2 = pred('{"key":"a","x":0.25}')  # top-level "key" fills the key field
        st2, direct = pred('{"features":[0.25,1.5]}')
        check(st == 200 and a2["prediction"] == direct["prediction"],
              f"key a's lag1 is a's previous x (not b's): {a2} vs {direct}")
        st, rows = pred('{"key":"b","rows":[{"x":2},{"x":3,"k":"c"}]}')
        st2, direct = pred('{"rows":[[2,-7]]}')
        check(st == 200 and rows["predictions"][0] == direct["predictions"][0] and
              rows["warming_up"][1] is True, f"rows: default key b, row key c: {rows}")
        st, err = pred('{"x":1}')
        check(st == 422 and "key field" in err["error"], f"an event without its key -> 422: {err}")
        shutil.copy(model, m)  # a model that wants other features than the spec makes
        st, _, text = request(srv.port, "POST", "/admin/reload", headers={"Authorization": "Bearer t"})
        check(st == 422 and "does not fit the feature spec" in text, f"reload to a model the spec "
              f"does not fit is refused: {st} {text.strip()[:200]}")
        st, a3 = pred('{"k":"a","x":1}')
        check(st == 200 and a3["model_version"] == a1["model_version"], "old model keeps serving")
    finally:
        check(srv.stop() == 0, "lag server exits 0")


def main():
    a, _ = e2e_args("--kite", "--root")
    root, kite = a.root, a.kite
    model = os.path.join(root, "models", "titanic.json")
    names = ["Pclass", "Sex", "Age", "SibSp", "Parch", "Fare"]
    tmpdir = tempfile.mkdtemp(prefix="kite-http-")
    servers = []
    try:
        srv = Kite(kite, model, 0, ["--threads", "2", "--max-body", "4096", "--timeout-seconds", "1",
                                    "--admin-token", "tok", "--quiet"])
        servers.append(srv)
        rows = os.path.join(tmpdir, "rows.csv")
        with open(os.path.join(root, "data", "titanic_features.csv")) as f:
            lines = f.read().splitlines()
        with open(rows, "w") as f:  # 80 passengers: under --max-body 4096 as one CSV body
            f.write("\n".join(lines[:81]) + "\n")
        test_exact(kite, model, rows, srv.port, names)
        test_bad_input(srv.port, names)
        test_slow_clients(srv.port, 2, 1, names)
        test_trickling_body(srv.port, 1)
        test_keepalive_reuseport(kite, model, srv.port, names)
        test_max_connections(kite, model, names)
        test_metrics(srv.port)
        check(srv.stop() == 0, "first server exits 0 on SIGTERM")

        # a multi-class model without feature names: arrays of outputs, by-position CSV
        golden = os.path.join(root, "tests", "golden", "xgb1.7")
        mc = Kite(kite, os.path.join(golden, "multi_softprob4.json"), 0, ["--quiet"])
        servers.append(mc)
        mrows = os.path.join(tmpdir, "mrows.csv")
        with open(os.path.join(golden, "multi_softprob4.rows.csv")) as f:
            lines = f.read().splitlines()
        with open(mrows, "w") as f:
            f.write("\n".join(lines[:41]) + "\n")
        mnames = lines[0].split(",")
        model_names = json.loads(request(mc.port, "GET", "/model")[2])["features"]
        test_exact(kite, os.path.join(golden, "multi_softprob4.json"), mrows, mc.port, model_names
                   if model_names == mnames else mnames[:len(model_names)])
        check(mc.stop() == 0, "multi-class server exits 0")

        test_spec(kite, root, tmpdir)
        srv2 = test_reload(kite, model, tmpdir, names)
        servers.append(srv2)
        test_drain(srv2, names)
    finally:
        for s in servers:
            s.kill()
        shutil.rmtree(tmpdir, ignore_errors=True)
    return T.finish("http_api")


if __name__ == "__main__":
    sys.exit(main())
