#!/usr/bin/python3
"""Rolling restart behind HAProxy: two kite processes, steady load through the balancer, each
restarted in turn with SIGTERM; zero failed requests.

HAProxy checks GET /ready every 100 ms (fall 1, rise 1) and is told not to retry (retries 0,
no redispatch), so a request that kite dropped would reach the client as a failure."""
import http.client
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kite_e2e import Checks, Kite, e2e_args, free_port, post_json, request, wait_until  # noqa: E402

T = Checks()
check = T.check

HAPROXY_CFG = """
global
    maxconn 512
defaults
    mode http
    timeout connect 2s
    timeout client 30s
    timeout server 30s
    retries 0
    option redispatch 0
frontend fe
    bind 127.0.0.1:{front}
    default_backend kites
backend kites
    balance roundrobin
    option httpchk GET /ready
    http-check expect status 200
    default-server inter 100ms fastinter 100ms downinter 100ms fall 1 rise 1
    server a 127.0.0.1:{pa} check
    server b 127.0.0.1:{pb} check
"""


def served(port):
    """predict/200 count of a kite process (from its /metrics)."""
    try:
        text = request(port, "GET", "/metrics")[2]
    except OSError:
        return -1
    for line in text.splitlines():
        if line.startswith('kite_http_requests_total{endpoint="predict",code="200"}'):
            return int(float(line.split()[-1]))
    return 0


def main():
    a, _ = e2e_args("--kite", "--root")
    haproxy = shutil.which("haproxy") or "/usr/sbin/haproxy"
    if not os.path.exists(haproxy):
        check(False, "haproxy is not installed (tools/setup.sh installs it)")
        return T.finish("http_lb")
    model = os.path.join(a.root, "models", "titanic.json")
    args = ["--threads", "2", "--drain-idle-seconds", "0.5", "--grace-seconds", "10"]
    tmp = tempfile.mkdtemp(prefix="kite-lb-")
    kites = {}
    hp = None
    stop = threading.Event()
    stats = {"ok": 0, "fail": []}
    lock = threading.Lock()
    try:
        kites["a"] = Kite(a.kite, model, 0, args)
        kites["b"] = Kite(a.kite, model, 0, args)
        front = free_port()
        cfg = os.path.join(tmp, "haproxy.cfg")
        with open(cfg, "w") as f:
            f.write(HAPROXY_CFG.format(front=front, pa=kites["a"].port, pb=kites["b"].port))
        hp = subprocess.Popen([haproxy, "-db", "-f", cfg], stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True)
        check(wait_until(lambda: request(front, "GET", "/ready")[0] == 200
                         if hp.poll() is None else True, "haproxy up"), "haproxy forwards /ready")

        body = json.dumps({"features": [3, 0, -0.53, 1, 0, -0.5]})
        want = json.loads(post_json(kites["a"].port, body)[2])["prediction"]

        def load():
            c = http.client.HTTPConnection("127.0.0.1", front, timeout=30)
            while not stop.is_set():
                try:
                    st, _, text = post_json(front, body, c)
                    with lock:
                        if st == 200 and json.loads(text)["prediction"] == want:
                            stats["ok"] += 1
                        else:
                            stats["fail"].append((st, text[:200]))
                except (OSError, http.client.HTTPException) as e:
                    with lock:
                        stats["fail"].append(("exception", repr(e)))
                    c.close()
                    c = http.client.HTTPConnection("127.0.0.1", front, timeout=30)
                time.sleep(0.002)  # steady, not saturating: 4 clients, ~a few hundred req/s
            c.close()

        workers = [threading.Thread(target=load) for _ in range(4)]
        for w in workers:
            w.start()
        check(wait_until(lambda: served(kites["a"].port) > 20 and served(kites["b"].port) > 20,
                         "traffic on both"), "load reaches both kite processes")
        for name in ("a", "b"):
            old = kites[name]
            port = old.port
            t0 = time.monotonic()
            old.signal(15)
            rc = old.wait()
            print(f"http_lb: kite {name} drained in {time.monotonic() - t0:.2f} s", flush=True)
            check(rc == 0, f"kite {name} drained and exited 0 on SIGTERM (rc {rc}): {old.log()[-200:]}")
            with lock:
                before = stats["ok"]
            check(before > 0, "requests kept succeeding")
            t0 = time.monotonic()
            kites[name] = Kite(a.kite, model, port, args)
            check(wait_until(lambda: served(port) > 20, f"traffic back on {name}"),
                  f"kite {name} restarted on port {port} and takes traffic again")
            print(f"http_lb: kite {name} back in rotation in {time.monotonic() - t0:.2f} s", flush=True)
            time.sleep(0.5)  # both serving again before the next restart
        time.sleep(0.3)
        stop.set()
        for w in workers:
            w.join()
        with lock:
            ok, fail = stats["ok"], stats["fail"]
        check(ok > 200, f"steady load ran: {ok} requests answered")
        check(not fail, f"zero failed requests during two rolling restarts ({len(fail)} failed: {fail[:3]})")
        print(f"http_lb: {ok} requests through haproxy, {len(fail)} failed", flush=True)
    finally:
        stop.set()
        if hp and hp.poll() is None:
            hp.terminate()
            try:
                hp.wait(10)
            except subprocess.TimeoutExpired:
                hp.kill()
        for k in kites.values():
            k.kill()
        shutil.rmtree(tmp, ignore_errors=True)
    return T.finish("http_lb")


if __name__ == "__main__":
    sys.exit(main())
