#!/usr/bin/env python3
"""ctest http_flood: 5,000 idle connections with half-sent requests from one address, then
/health and /predict from a new client (another address) must still answer quickly.

The mechanism under test is --max-per-address (docs/http.md "Limits"): libmicrohttpd closes a
connection from an address that already holds that many, right after accept(), so the flood
holds at most --max-per-address of the --max-connections slots and the rest stay free.

What is asserted:
  - at most --max-per-address flood connections stay open (the server's
    kite_http_open_connections gauge, and the flood's own sockets: the others read EOF/RST);
  - every /health and /predict from the new client answers 200 with the right body, each on a
    fresh connection, while the flood holds its connections;
  - the median latency is under the issue's 50 ms and the worst under 2 s (the box is shared and
    loaded; without the limit the same requests wait for the flood's --timeout-seconds, 30 s
    here, or are refused). The measured figures are printed.
  - control run, --max-per-address 0 (no limit) and --max-connections 1024: the same flood takes
    900 or more of the 1024 slots (the one-address limit is what kept them free; the new client's
    /health there is printed, not asserted: libmicrohttpd leaves a few slots free).

The flood connects from 127.0.0.2 (any 127/8 address is loopback on Linux), the new client from
127.0.0.1. RLIMIT_NOFILE is raised for this process and the server it starts."""
import errno
import http.client
import os
import re
import resource
import selectors
import socket
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kite_e2e import Checks, Kite, e2e_args, request, wait_until  # noqa: E402

FLOOD = 5000
FLOOD_ADDR = "127.0.0.2"
PER_ADDRESS = 256  # the default of --max-per-address, passed explicitly to document it
HALF_REQUEST = (b"POST /predict HTTP/1.1\r\nHost: kite\r\nContent-Type: application/json\r\n"
                b"Content-Length: 40\r\n")  # headers never finished
PREDICT = '{"features":[3,0,-0.53,1,0,-0.502]}'
SAMPLES = 200


def raise_nofile(need):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = need if hard == resource.RLIM_INFINITY else min(need, hard)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def open_flood(port, n, settle_s=60):
    """n non-blocking connections from FLOOD_ADDR, each sending half a request. Returns the
    sockets (connected or not yet; refused ones are closed and left out) and how many the kernel
    refused outright. Connections still in the kernel's queues after settle_s get no request."""
    socks, refused = [], 0
    for _ in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\0" * 8)
        s.bind((FLOOD_ADDR, 0))
        s.setblocking(False)
        rc = s.connect_ex(("127.0.0.1", port))
        if rc not in (0, errno.EINPROGRESS):
            s.close()
            refused += 1
            continue
        socks.append(s)
    # send the half request once each socket is writable (connected)
    sel = selectors.DefaultSelector()
    for s in socks:
        sel.register(s, selectors.EVENT_WRITE)
    pending, deadline = len(socks), time.monotonic() + settle_s
    while pending and time.monotonic() < deadline:
        for key, _ in sel.select(1):
            s = key.fileobj
            sel.unregister(s)
            pending -= 1
            try:
                s.send(HALF_REQUEST)
            except OSError:
                pass  # closed by the server already: counted by count_closed
    sel.close()
    return socks, refused


def count_closed(socks):
    """Flood sockets the server has closed (EOF or reset); the others are still held."""
    closed = 0
    for s in socks:
        try:
            data = s.recv(4096)
            if data == b"":
                closed += 1
            # data: an answer (e.g. 4xx), then the server closes: count it next round
        except BlockingIOError:
            pass
        except OSError:
            closed += 1
    return closed


def gauge(port, name):
    st, _, body = request(port, "GET", "/metrics")
    m = re.search(r"^%s (\S+)$" % re.escape(name), body, re.M)
    return float(m.group(1)) if st == 200 and m else None


def timed(port, method, path, body=None, headers=None, timeout=30):
    """One request on a fresh connection: (status, body, seconds); status None on failure."""
    t0 = time.perf_counter()
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        data = r.read().decode()
        return r.status, data, time.perf_counter() - t0
    except (OSError, http.client.HTTPException):
        return None, "", time.perf_counter() - t0
    finally:
        c.close()


def close_all(socks):
    for s in socks:
        s.close()


def flooded_run(t, kite, model):
    srv = Kite(kite, model, 0, ["--max-per-address", str(PER_ADDRESS), "--timeout-seconds", "30",
                                "--quiet"])
    try:
        t0 = time.monotonic()
        socks, refused = open_flood(srv.port, FLOOD)
        print(f"flood: {len(socks)} connections opened from {FLOOD_ADDR} in "
              f"{time.monotonic() - t0:.1f} s ({refused} refused by the kernel)", flush=True)
        closed = 0

        # closed sockets are closed on our side too, so each is counted once
        def sweep():
            nonlocal closed
            still = []
            for s in socks:
                try:
                    data = s.recv(4096)
                    if data == b"":
                        closed += 1
                        s.close()
                        continue
                except BlockingIOError:
                    pass
                except OSError:
                    closed += 1
                    s.close()
                    continue
                still.append(s)
            socks[:] = still
            return len(socks) <= PER_ADDRESS

        wait_until(sweep, "the server to close the flood's connections past the limit",
                   timeout=90, step=0.2)
        held = len(socks)
        open_gauge = gauge(srv.port, "kite_http_open_connections")
        print(f"flood: {closed} closed by the server, {held} held; kite_http_open_connections "
              f"{open_gauge}", flush=True)
        t.check(held <= PER_ADDRESS,
                f"the flood holds at most --max-per-address {PER_ADDRESS} connections ({held})")
        t.check(held >= PER_ADDRESS // 2,
                f"the flood's connections up to the limit are held, not all refused ({held})")
        t.check(open_gauge is not None and open_gauge <= PER_ADDRESS + 2,
                f"kite_http_open_connections within the limit plus this scrape ({open_gauge})")

        lat = {"/health": [], "/predict": []}
        bad = []
        for i in range(SAMPLES):
            st, body, s = timed(srv.port, "GET", "/health")
            lat["/health"].append(s)
            if st != 200 or '"ok"' not in body:
                bad.append(("/health", st, body))
            st, body, s = timed(srv.port, "POST", "/predict", PREDICT,
                                {"Content-Type": "application/json"})
            lat["/predict"].append(s)
            if st != 200 or '"prediction":0.0505' not in body:
                bad.append(("/predict", st, body))
        t.check(not bad, f"every request of the new client answers 200 with the right body "
                         f"({len(bad)} bad, first {bad[:1]})")
        for path, xs in lat.items():
            xs_ms = sorted(x * 1000 for x in xs)
            med, p99, worst = statistics.median(xs_ms), xs_ms[int(len(xs_ms) * 0.99) - 1], xs_ms[-1]
            print(f"{path} beside {held} held flood connections: median {med:.2f} ms, "
                  f"p99 {p99:.2f} ms, max {worst:.2f} ms ({len(xs_ms)} fresh connections)",
                  flush=True)
            t.check(med < 50, f"{path}: median latency {med:.2f} ms < 50 ms")
            t.check(worst < 2000, f"{path}: worst latency {worst:.2f} ms < 2000 ms")
        still = len([s for s in socks if count_closed([s]) == 0])
        t.check(still == held, f"the held flood connections stayed open through the measurement "
                               f"({still} of {held}; --timeout-seconds 30)")
        close_all(socks)
        t.check(srv.stop() == 0, "server exits 0 after SIGTERM")
    finally:
        srv.kill()


def control_run(t, kite, model):
    """No per-address limit: the same flood takes (nearly) every slot of --max-connections."""
    srv = Kite(kite, model, 0, ["--max-per-address", "0", "--max-connections", "1024",
                                "--timeout-seconds", "30", "--quiet"])
    socks = []
    try:
        socks, _ = open_flood(srv.port, FLOOD, settle_s=5)  # the server stops accepting at 1024
        held = []
        wait_until(lambda: held.append(gauge_noconn(srv.port)) or held[-1] is None or held[-1] >= 900,
                   "the flood to fill the connection slots", timeout=60, step=0.2)
        st, _, s = timed(srv.port, "GET", "/health", timeout=2)
        print(f"control (--max-per-address 0): the flood holds {held[-1]} of 1024 slots; /health "
              f"from a new client: status {st} after {s * 1000:.0f} ms", flush=True)
        t.check(held[-1] is None or held[-1] >= 900,
                f"without the limit the flood holds nearly all 1024 slots ({held[-1]}): the "
                f"limit is what keeps them free")
    finally:
        close_all(socks)
        srv.kill()


def gauge_noconn(port):
    """The open-connections gauge, or None when the server cannot answer in 1 s (full)."""
    st, body, _ = timed(port, "GET", "/metrics", timeout=1)
    m = re.search(r"^kite_http_open_connections (\S+)$", body, re.M) if st == 200 else None
    return float(m.group(1)) if m else None


def main():
    a, _ = e2e_args("--kite", "--root")
    model = os.path.join(a.root, "models", "titanic.json")
    limit = raise_nofile(2 * FLOOD + 2000)
    t = Checks()
    if not t.check(limit >= FLOOD + 500, f"RLIMIT_NOFILE raised to {limit} (need {FLOOD + 500})"):
        return t.finish("http_flood")
    flooded_run(t, a.kite, model)
    control_run(t, a.kite, model)
    return t.finish("http_flood")


if __name__ == "__main__":
    sys.exit(main())
