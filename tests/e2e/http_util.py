"""Shared helpers of the HTTP tests: start/stop `kite serve --http`, small request helpers.

Everything runs on 127.0.0.1 with ephemeral ports; every wait has a deadline that only guards
against a hang (no assertion depends on timing)."""
import http.client
import os
import re
import signal
import socket
import subprocess
import threading
import time

HANG_GUARD_S = 30


class Checks:
    def __init__(self):
        self.failures = 0
        self.count = 0

    def check(self, cond, what):
        self.count += 1
        if not cond:
            self.failures += 1
            print("FAIL:", what, flush=True)
        return cond

    def finish(self, name):
        print(f"{name}: {self.count - self.failures}/{self.count} checks passed", flush=True)
        return 1 if self.failures or not self.count else 0


class Kite:
    """A `kite serve --http 127.0.0.1:PORT` child; port 0 picks a free one."""

    def __init__(self, kite, model, port=0, extra=(), env=None, stdout=subprocess.DEVNULL, cwd=None):
        self.args = [kite, "serve", "--http", f"127.0.0.1:{port}", "--model", model, *extra]
        self.lines = []
        self.proc = subprocess.Popen(self.args, stdout=stdout, stderr=subprocess.PIPE,
                                     text=True, env=env, cwd=cwd)
        self.port = None
        self.version = None
        self._ready = threading.Event()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        if not self._ready.wait(HANG_GUARD_S) or self.port is None:
            self.kill()
            raise RuntimeError("kite did not start: " + " ".join(self.lines))

    def _read(self):
        for line in self.proc.stderr:
            self.lines.append(line.rstrip("\n"))
            m = re.search(r"listening on http://127\.0\.0\.1:(\d+) .*version ([0-9a-f]{16})", line)
            if m:
                self.port = int(m.group(1))
                self.version = m.group(2)
                self._ready.set()
        self._ready.set()

    def log(self):
        return "\n".join(self.lines)

    def signal(self, sig):
        self.proc.send_signal(sig)

    def wait(self, timeout=HANG_GUARD_S):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.wait()

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def request(port, method, path, body=None, headers=None, conn=None):
    """One request; returns (status, headers dict, body text). Reuses conn when given."""
    own = conn is None
    c = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=HANG_GUARD_S)
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        data = r.read().decode("utf-8", "replace")
        return r.status, {k.lower(): v for k, v in r.getheaders()}, data
    finally:
        if own:
            c.close()


def post_json(port, body, conn=None, path="/predict"):
    if not isinstance(body, (str, bytes)):
        import json
        body = json.dumps(body)
    return request(port, "POST", path, body, {"Content-Type": "application/json"}, conn)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def wait_until(cond, what, timeout=HANG_GUARD_S, step=0.02):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            if cond():
                return True
        except (OSError, http.client.HTTPException):
            pass  # not listening yet
        time.sleep(step)
    print("timed out waiting for", what, flush=True)
    return False


def field(text, name):
    """The raw text of a JSON member's value (numbers exactly as the server printed them)."""
    m = re.search(r'"%s":(\[[^\]]*\]|[^,}]+)' % re.escape(name), text)
    return m.group(1) if m else None
