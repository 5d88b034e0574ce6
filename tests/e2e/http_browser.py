#!/usr/bin/python3
"""The HTML form at / in headless Chromium: type a passenger into the inputs, press Score, read
the prediction from the page; it must equal `kite score` on the same row.

Chromium is driven over the DevTools protocol on a pipe (--remote-debugging-pipe: JSON
messages ending in NUL on fds 3 and 4), so no websocket library is needed. Each step polls
the page's state (data attributes the page sets) instead of sleeping."""
import fcntl
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kite_e2e import Checks, Kite, e2e_args  # noqa: E402

T = Checks()
check = T.check
HANG_GUARD_S = 60


class Chrome:
    def __init__(self, binary, profile):
        to_chrome_r, self.to_chrome = os.pipe()
        self.from_chrome, from_chrome_w = os.pipe()
        # the child must see the pipe ends as fds 3 (commands in) and 4 (replies out)
        def fds():  # via fds >= 10 first, in case a pipe end already is 3 or 4
            r, w = fcntl.fcntl(to_chrome_r, fcntl.F_DUPFD, 10), fcntl.fcntl(from_chrome_w, fcntl.F_DUPFD, 10)
            os.dup2(r, 3)
            os.dup2(w, 4)
        self.proc = subprocess.Popen(
            [binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run",
             "--disable-extensions", "--disable-dev-shm-usage", f"--user-data-dir={profile}",
             "--remote-debugging-pipe", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            preexec_fn=fds, pass_fds=(3, 4))
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self.buf = b""
        self.next_id = 0
        self.session = None
        self.events = []  # protocol events (console, exceptions, network) seen while waiting

    def send(self, method, params=None, session=True):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session and self.session:
            msg["sessionId"] = self.session
        os.write(self.to_chrome, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + HANG_GUARD_S
        while time.monotonic() < deadline:
            while b"\0" in self.buf:
                raw, self.buf = self.buf.split(b"\0", 1)
                reply = json.loads(raw)
                if "method" in reply:
                    self.events.append(reply)
                if reply.get("id") == self.next_id:
                    if "error" in reply:
                        raise RuntimeError(f"{method}: {reply['error']}")
                    return reply.get("result", {})
            chunk = os.read(self.from_chrome, 65536)
            if not chunk:
                raise RuntimeError("chromium closed the pipe")
            self.buf += chunk
        raise RuntimeError(f"{method}: no reply")

    def eval(self, js):
        r = self.send("Runtime.evaluate", {"expression": js, "returnByValue": True})
        return r.get("result", {}).get("value")

    def wait_for(self, js, what):
        deadline = time.monotonic() + HANG_GUARD_S
        while time.monotonic() < deadline:
            v = self.eval(js)
            if v:
                return v
            time.sleep(0.05)
        raise RuntimeError(f"page never reached: {what}")

    def close(self):
        try:
            self.send("Browser.close", session=False)
        except (RuntimeError, OSError):
            pass
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self.to_chrome)
        os.close(self.from_chrome)


def fill_form(chrome, port, names, rows, want):
    """Opens the form, types each row into the inputs, presses Score, reads the prediction."""
    chrome.send("Page.navigate", {"url": f"http://127.0.0.1:{port}/"})
    chrome.wait_for("document.body && document.body.dataset.ready === '1'", "form built")
    labels = chrome.eval("Array.from(document.querySelectorAll('#fields label span')).map(s => s.textContent)")
    check(labels == names, f"form has one input per field: {labels}")
    for row, expect in zip(rows, want):
        fill = ";".join(
            "(e => { e.focus(); e.value = %s; e.dispatchEvent(new Event('input', {bubbles: true})); })"
            "(document.getElementById('f%d'))" % (json.dumps(v), i) for i, v in enumerate(row))
        chrome.eval(fill + "; document.getElementById('prediction').dataset.state = '';"
                    "document.getElementById('score').click(); true")
        state = chrome.wait_for("document.getElementById('prediction').dataset.state", "a result")
        got = chrome.eval("document.getElementById('prediction').textContent")
        err = chrome.eval("document.getElementById('error').textContent")
        check(state == "done" and got == expect,
              f"row {row}: page shows {got!r} ({state} {err}), kite score says {expect!r}")


def main():
    a, _ = e2e_args("--kite", "--root")
    binary = shutil.which("chromium")
    if not binary:
        check(False, "chromium is not installed (tools/setup.sh installs it)")
        return T.finish("http_browser")
    model = os.path.join(a.root, "models", "titanic.json")
    tmp = tempfile.mkdtemp(prefix="kite-browser-")
    # Two passengers of data/titanic_features.csv (one with a missing Age) and kite score's answer.
    rows = [["3", "0", "22", "1", "0", "7.25"], ["1", "1", "", "1", "0", "71.2833023"]]
    names = ["Pclass", "Sex", "Age", "SibSp", "Parch", "Fare"]
    rows_csv = os.path.join(tmp, "rows.csv")
    with open(rows_csv, "w") as f:
        f.write(",".join(names) + "\n" + "\n".join(",".join(r) for r in rows) + "\n")
    want = subprocess.run([a.kite, "score", "--model", model, "--input", rows_csv, "--quiet"],
                          capture_output=True, text=True, check=True).stdout.split()[1:]
    srv = Kite(a.kite, model, 0, ["--quiet"])
    chrome = None
    try:
        chrome = Chrome(binary, os.path.join(tmp, "profile"))
        target = chrome.send("Target.createTarget", {"url": "about:blank"}, session=False)
        chrome.session = chrome.send("Target.attachToTarget",
                                     {"targetId": target["targetId"], "flatten": True},
                                     session=False)["sessionId"]
        fill_form(chrome, srv.port, names, rows, want)
        # a typo in a field is reported on the page, not sent
        chrome.eval("document.getElementById('f2').value = 'abc';"
                    "document.getElementById('prediction').dataset.state = '';"
                    "document.getElementById('score').click(); true")
        err = chrome.wait_for("document.getElementById('error').textContent", "an error")
        check("not a number" in err, f"a non-number is refused on the page: {err!r}")
        # with --spec the form asks for raw inputs: Sex as text, Age left empty (missing)
        spec = os.path.join(a.root, "models", "titanic.spec.json")
        raw = [["3", "male", "22", "1", "0", "7.25"], ["1", "female", "", "1", "0", "71.2833"]]
        with open(rows_csv, "w") as f:
            f.write(",".join(names) + "\n" + "\n".join(",".join(r) for r in raw) + "\n")
        want_raw = subprocess.run([a.kite, "score", "--model", model, "--spec", spec, "--input", rows_csv,
                                   "--quiet"], capture_output=True, text=True, check=True).stdout.split()[1:]
        spec_srv = Kite(a.kite, model, 0, ["--quiet", "--spec", spec])
        try:
            fill_form(chrome, spec_srv.port, names, raw, want_raw)
        finally:
            spec_srv.stop()
    except RuntimeError as e:
        check(False, str(e))
    finally:
        if chrome:
            chrome.close()
        srv.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return T.finish("http_browser")


if __name__ == "__main__":
    sys.exit(main())
