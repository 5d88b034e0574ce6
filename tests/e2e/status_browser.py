#!/usr/bin/python3
"""The live status page (GET /status) in headless Chromium, for `kite serve` and `kite serve --http`.

kite serve streams AirQualityUCI.csv through the embedded broker with drift monitoring (two
windows) and labels (CO(GT) carried by the events); from the middle of the second copy a
sensor offset is injected (as tests/e2e/stream_drift.py does), so features drift. Chromium loads
the page over the DevTools protocol (tests/e2e/http_browser.py's Chrome) and the test asserts:
  - the page loads and refreshes itself with no console message, exception or failed request;
  - while events flow, every counter on the page lies between a /metrics scrape taken just
    before the page's refresh and one just after, and the events-in rate is positive;
  - once the stream is quiet, every number on the page equals /metrics taken at the same time:
    samples exactly (data-metric, data-labels, data-value), sums of a family, and latency
    quantiles recomputed here with Prometheus's histogram_quantile; after 10 quiet seconds the
    rates read 0;
  - the charts are there: line charts with points, one PSI sparkline per feature and window,
    drift events naming the shifted sensors' features, quality (RMSE) from the labels;
  - a screenshot shows them (chart colours counted in the decoded PNG; saved with --screenshot).
For `kite serve --http` the /predict series on the page equal /metrics, and the page's own
request counters lie below a later scrape."""
import json
import math
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from http_browser import Chrome  # noqa: E402
from kite_e2e import Checks, Kite, airquality_moved, e2e_args, post_json  # noqa: E402

T = Checks()
check = T.check
ROWS, SHIFT_IN_B = 1000, 500
SHIFT = {"PT08.S1(CO)": 300.0, "T": 10.0}
DERIVED = re.compile(r"^(S1|T)(_.*)?$")  # features computed from the shifted inputs
HANG_GUARD_S = 90


def make_stream(root, work):
    """ref.csv (the reference hours) and cur.csv (them twice, the copy shifted from its middle)."""
    lines = open(os.path.join(root, "data/AirQualityUCI.csv"), encoding="latin-1").read().splitlines()
    cols = {name.rstrip(","): i for i, name in enumerate(lines[0].split(";"))}
    data = [l for l in lines[1:] if l.split(";")[0].strip()][:ROWS]
    with open(os.path.join(work, "ref.csv"), "w") as f:
        f.write("\n".join([lines[0]] + data) + "\n")
    out = [lines[0]] + data
    for r, line in enumerate(data):
        out.append(airquality_moved(line, cols, 364, SHIFT if r >= SHIFT_IN_B else None))
    with open(os.path.join(work, "cur.csv"), "w") as f:
        f.write("\n".join(out) + "\n")
    return 2 * ROWS


def get(port, path):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=30) as r:
        return r.read().decode()


def parse_metrics(text):
    """{"name{labels}": value} and {name: [(labels, value)]} of a /metrics text."""
    exact, families = {}, {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.match(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$', line)
        if not m:
            raise ValueError("unparsable /metrics line: " + line)
        name, labels, value = m.group(1), m.group(2) or "", float(m.group(3))
        exact[name + ("{%s}" % labels if labels else "")] = value
        families.setdefault(name, []).append((labels, value))
    return exact, families


def histogram_quantile(q, buckets):
    """Prometheus promql/quantile.go bucketQuantile on [(le, cumulative count)] sorted by le."""
    if len(buckets) < 2 or not math.isinf(buckets[-1][0]):
        return math.nan
    total = buckets[-1][1]
    if total == 0:
        return math.nan
    rank = q * total
    b = next((i for i in range(len(buckets) - 1) if buckets[i][1] >= rank), len(buckets) - 1)
    if b == len(buckets) - 1:
        return buckets[-2][0]
    if b == 0 and buckets[0][0] <= 0:
        return buckets[0][0]
    start, count = 0.0, buckets[b][1]
    if b > 0:
        start = buckets[b - 1][0]
        count -= buckets[b - 1][1]
        rank -= buckets[b - 1][1]
    return start + (buckets[b][0] - start) * (rank / count)


def expected(span, exact, families):
    """What /metrics says a page number should be (None: not derivable from /metrics alone)."""
    name, labels, derived = span["metric"], span["labels"], span.get("derived")
    if not derived:
        return exact.get(name + ("{%s}" % labels if labels else ""), "absent")
    if derived == "sum":
        vals = [v for _, v in families.get(name, [])]
        return sum(vals) if vals else math.nan
    if derived == "quantile":
        buckets = []
        for lab, v in families.get(name + "_bucket", []):
            m = re.match(r'^(?:(.*),)?le="([^"]*)"$', lab)
            if m and (m.group(1) or "") == labels:
                buckets.append((float(m.group(2)), v))
        return histogram_quantile(float(span["q"]), sorted(buckets))
    return None  # rates: checked against time, not one scrape


def same(a, b):
    return (isinstance(a, float) and isinstance(b, float) and
            (a == b or (math.isnan(a) and math.isnan(b)) or abs(a - b) <= 1e-12 * max(abs(a), abs(b))))


PAGE_NUMBERS = """Array.from(document.querySelectorAll('#status .num')).map(e => ({
  metric: e.dataset.metric, labels: e.dataset.labels, derived: e.dataset.derived || '',
  q: e.dataset.q || '', value: e.dataset.value, text: e.textContent}))"""


def page_numbers(chrome):
    """Refreshes the page once (its own refresh(), awaited) and returns its numbers."""
    before = int(chrome.eval("document.getElementById('status').dataset.refreshes"))
    chrome.send("Runtime.evaluate", {"expression": "refresh()", "awaitPromise": True})
    after = int(chrome.eval("document.getElementById('status').dataset.refreshes"))
    if after <= before:
        raise RuntimeError("refresh() did not swap in a new rendering: " +
                           str(chrome.eval("document.getElementById('status').dataset.error")))
    spans = chrome.eval(PAGE_NUMBERS)
    for s in spans:
        s["value"] = float(s["value"])
    return spans


def compare_quiet(chrome, port, ignore=lambda s: False):
    """Every page number equals /metrics scraped right after the page's refresh; a quiet server
    does not move in between, so up to 3 tries must give one exact match."""
    for attempt in range(3):
        spans = page_numbers(chrome)
        exact, families = parse_metrics(get(port, "/metrics"))
        wrong = []
        for s in spans:
            if ignore(s):
                continue
            want = expected(s, exact, families)
            if want is not None and not same(s["value"], want):
                wrong.append((s["metric"], s["labels"], s["derived"], s["value"], want))
        if not wrong:
            return spans, exact
        time.sleep(1)
    check(False, f"page numbers equal /metrics: {len(wrong)} differ, e.g. {wrong[:5]}")
    return spans, exact


def console_problems(chrome):
    bad = []
    for e in chrome.events:
        m, p = e["method"], e.get("params", {})
        if m == "Runtime.exceptionThrown":
            bad.append("exception: " + json.dumps(p.get("exceptionDetails", {}))[:300])
        elif m == "Runtime.consoleAPICalled":
            bad.append(f"console.{p.get('type')}: " + json.dumps(p.get("args", []))[:300])
        elif m == "Log.entryAdded":
            bad.append("log: " + json.dumps(p.get("entry", {}))[:300])
        elif m == "Network.loadingFailed":
            bad.append("failed request: " + json.dumps(p)[:300])
        elif m == "Network.responseReceived" and p.get("response", {}).get("status", 200) >= 400:
            bad.append("HTTP %s: %s" % (p["response"]["status"], p["response"].get("url")))
    return bad


def png_pixels(data):
    """Decodes an 8-bit RGB/RGBA non-interlaced PNG (what Chromium writes): (w, h, rows of bytes, bpp)."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, idat, w = 8, b"", 0
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
            if depth != 8 or ctype not in (2, 6) or interlace:
                raise ValueError(f"PNG type {ctype} depth {depth} interlace {interlace}")
            bpp = 3 if ctype == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw, stride, rows, prev = zlib.decompress(idat), w * bpp, [], bytearray(w * bpp)
    for y in range(h):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return w, h, rows, bpp


def screenshot(chrome, path, height):
    chrome.send("Emulation.setDeviceMetricsOverride",
                {"width": 1300, "height": height, "deviceScaleFactor": 1, "mobile": False})
    import base64
    png = base64.b64decode(chrome.send("Page.captureScreenshot", {"format": "png"})["data"])
    with open(path, "wb") as f:
        f.write(png)
    w, h, rows, bpp = png_pixels(png)
    # the chart lines' colours (engine/runtime/html_svg.c palette): blue, red, green, orange
    colours = {(0x1f, 0x77, 0xb4): 0, (0xd6, 0x27, 0x28): 0, (0x2c, 0xa0, 0x2c): 0, (0xff, 0x7f, 0x0e): 0}
    for row in rows:
        for x in range(0, w * bpp, bpp):
            px = (row[x], row[x + 1], row[x + 2])
            if px in colours:
                colours[px] += 1
    return w, h, colours


def open_page(chrome, url):
    chrome.events.clear()
    chrome.send("Page.navigate", {"url": url})
    chrome.wait_for("document.getElementById('status') && document.getElementById('status').dataset.loaded === '1'",
                    "status page loaded")
    # one refresh by the page's own timer (2 s), so the script's swap has run without errors
    chrome.wait_for("Number(document.getElementById('status').dataset.refreshes) >= 1", "a refresh")


def stream_part(a, chrome, work):
    total = make_stream(a.root, work)
    subprocess.run([a.kite, "profile", "--model", "models/airquality.json", "--spec",
                    "models/airquality.spec.json", "--input", os.path.join(work, "ref.csv"),
                    "--output", os.path.join(work, "ref.json"), "-d", ";", "--decimal-comma",
                    "--missing", "-200", "--label", "CO(GT)"], cwd=a.root, check=True,
                   stderr=subprocess.DEVNULL)
    serve = subprocess.Popen(
        [a.kite, "serve", "--model", "models/airquality.json", "--feature-spec",
         "models/airquality.spec.json", "--replay", os.path.join(work, "cur.csv"),
         "--replay-delimiter", ";", "--replay-decimal-comma", "--replay-missing", "-200",
         "--replay-rate", "200", "--metrics-addr", "127.0.0.1:0", "--cores", "none",
         "--workers", "1", "--drift-profile", os.path.join(work, "ref.json"),
         "--drift-windows", "sliding:1000:100,tumbling:250", "--label-field", "CO(GT)",
         "-X", "consumer.session.timeout.ms=6000"],
        cwd=a.root, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    err, port = [], None
    try:
        while port is None:
            line = serve.stderr.readline()
            if not line:
                raise RuntimeError("kite serve exited: " + "".join(err))
            err.append(line)
            m = re.search(r"metrics on .*\(port (\d+)\)", line)
            port = int(m.group(1)) if m else None
        threading.Thread(target=lambda: err.extend(serve.stderr), daemon=True).start()
        chrome.send("Runtime.enable")
        chrome.send("Log.enable")
        chrome.send("Network.enable")
        open_page(chrome, f"http://127.0.0.1:{port}/status")

        # while events flow: counters on the page lie between the scrapes around its refresh
        flowing_checked, flowing_rates, shot = 0, [], None
        deadline = time.monotonic() + HANG_GUARD_S
        while time.monotonic() < deadline:
            before, _ = parse_metrics(get(port, "/metrics"))
            spans = page_numbers(chrome)
            after, _ = parse_metrics(get(port, "/metrics"))
            if after.get("kite_events_consumed_total", 0) >= total:
                break
            if before.get("kite_events_consumed_total", 0) == after.get("kite_events_consumed_total", 0):
                time.sleep(0.5)
                continue
            for s in spans:
                key = s["metric"] + ("{%s}" % s["labels"] if s["labels"] else "")
                if not s["derived"] and s["metric"].endswith("_total") and key in before:
                    check(before[key] <= s["value"] <= after.get(key, math.inf),
                          f"while flowing, {key}: {before[key]} <= page {s['value']} <= {after.get(key)}")
            rate = [s for s in spans if s["derived"] == "rate" and s["metric"] == "kite_events_consumed_total"]
            flowing_rates += [s["value"] for s in rate]
            # the screenshot while events still flow and the shift has shown up
            if not shot and after.get("kite_events_consumed_total", 0) >= 0.85 * total:
                shot = screenshot(chrome, os.path.join(work, "status_page.png"), 1800)
            flowing_checked += 1
            time.sleep(1)
        check(flowing_checked >= 1, f"compared the page with /metrics while events flowed ({flowing_checked} times)")
        check(flowing_rates and max(flowing_rates) > 0, f"while flowing, the events-in rate went above 0: {flowing_rates}")

        # quiet: every event consumed, two scrapes a second apart agree
        last = None
        while time.monotonic() < deadline:
            text = get(port, "/metrics")
            now = {k: v for k, v in parse_metrics(text)[0].items() if k.endswith("_total")}
            if now.get("kite_events_consumed_total", 0) >= total and now == last:
                break
            last = now
            time.sleep(1)
        check(last is not None and last.get("kite_events_consumed_total") == total,
              f"all {total} events consumed ({last and last.get('kite_events_consumed_total')})")
        spans, exact = compare_quiet(chrome, port)
        kinds = {s["derived"] for s in spans}
        check(len(spans) > 250 and {"", "sum", "quantile", "rate"} <= kinds,
              f"page numbers compared: {len(spans)}, kinds {sorted(kinds)}")
        psi = [s for s in spans if s["metric"] == "kite_drift_psi"]
        check(len(psi) == 2 * 101, f"one PSI per feature and window on the page: {len(psi)}")

        dom = chrome.eval("""(() => { const m = document.getElementById('status');
          const charts = Array.from(m.querySelectorAll('svg.chart')).map(s =>
            Array.from(s.querySelectorAll('polyline')).map(p => p.getAttribute('points').trim().split(/\\s+/).filter(x => x).length));
          return {charts, sparks: m.querySelectorAll('table.psi svg.spark').length,
            events: Array.from(m.querySelectorAll('table.events tr.worse td:last-child')).map(t => t.textContent),
            quality: Array.from(m.querySelectorAll('table.quality tr')).map(r => r.textContent)}; })()""")
        charts = dom["charts"]
        check(len(charts) >= 4 and all(any(n >= 2 for n in c) for c in charts[:2]),
              f"line charts (events/s, latency, lag, PSI) with points: {charts}")
        check(dom["sparks"] == 2 * 101, f"one PSI sparkline per feature and window: {dom['sparks']}")
        check(len(dom["events"]) >= 1, f"recent drift events listed on the page: {dom['events'][:3]}")
        events = json.loads(get(port, "/status.json"))["events"]
        # the sliding window holds reference readings except for the shifted sensors (as in
        # tests/e2e/stream_drift.py): mostly their features turn significant there (a few long
        # rolling windows spanning the copies' seam may too)
        feats = {re.search(r'feature "([^"]+)"', e["change"]).group(1) for e in events
                 if e["window"] == "sliding_1000" and e["change"].endswith("-> significant")}
        shifted = {f for f in feats if DERIVED.match(f)}
        check("T" in feats and len(shifted) >= 5 and len(shifted) > 2 * len(feats - shifted),
              f"drift events (sliding window): the shifted sensors' features went significant: "
              f"{sorted(shifted)}; others {sorted(feats - shifted)}")
        rmse = [q for q in dom["quality"] if "rmse" in q]
        check(len(rmse) >= 1, f"quality from the labels (rmse per window) shown: {dom['quality'][:3]}")
        for s in spans:
            if s["metric"] == "kite_drift_quality" and 'metric="rmse"' in s["labels"]:
                check(math.isfinite(s["value"]) and s["value"] > 0, f"RMSE on the page is a number: {s}")

        # 10 quiet seconds: the rates (means over the last 10 samples) read 0
        time.sleep(11)
        spans = page_numbers(chrome)
        rates = [s for s in spans if s["derived"] == "rate"]
        check(rates and all(s["value"] == 0 for s in rates),
              f"rates are 0 after 10 quiet seconds: {[(s['metric'], s['value']) for s in rates if s['value'] != 0][:5]}")
        status = json.loads(get(port, "/status.json"))
        check(status["samples_taken"] >= 10 and status["current"]["kite_events_consumed_total"] == total and
              len(status["series"]["kite_events_consumed_total"]["values"]) >= 10,
              "/status.json: samples, current values and series")

        w, h, colours = shot or screenshot(chrome, os.path.join(work, "status_page.png"), 1800)
        check(w == 1300 and h == 1800 and all(n >= 200 for n in colours.values()),
              f"screenshot {w}x{h} shows the charts' colours: {colours}")
        if a.screenshot:
            shutil.copyfile(os.path.join(work, "status_page.png"), a.screenshot)
        bad = console_problems(chrome)
        check(not bad, f"no console messages, exceptions or failed requests: {bad[:5]}")
    finally:
        chrome.send("Page.navigate", {"url": "about:blank"})  # no more refreshes against it
        serve.terminate()
        try:
            rc = serve.wait(60)
        except subprocess.TimeoutExpired:
            serve.kill()
            rc = serve.wait()
        check(rc == 0, f"kite serve exit 0 on SIGTERM ({rc}): {''.join(err)[-500:]}")


def http_part(a, chrome):
    model = os.path.join(a.root, "models", "titanic.json")
    srv = Kite(a.kite, model, 0, ["--quiet"])
    try:
        codes = [post_json(srv.port, {"Pclass": 3, "Sex": i % 2, "Age": 20 + i, "SibSp": 0,
                                      "Parch": 0, "Fare": 7.25})[0] for i in range(40)]
        check(codes == [200] * 40, f"40 /predict requests answered 200: {set(codes)}")
        st, _, _ = post_json(srv.port, "{not json")
        check(st == 400, f"a bad body is a 400: {st}")
        time.sleep(2)  # two samples after the requests
        open_page(chrome, f"http://127.0.0.1:{srv.port}/status")
        # The page's own requests and /metrics itself move the non-predict series: those are
        # checked to lie below a later scrape; everything about /predict must be equal.
        moving = lambda s: (s["metric"] in ("kite_http_in_flight_requests", "kite_http_open_connections") or
                            (s["metric"].startswith("kite_http_request") and 'endpoint="predict"' not in s["labels"]))
        spans, exact = compare_quiet(chrome, srv.port, ignore=moving)
        pred = [s for s in spans if 'endpoint="predict"' in s["labels"]]
        check(any(s["derived"] == "quantile" for s in pred) and
              any(s["metric"] == "kite_http_requests_total" and 'code="200"' in s["labels"] and s["value"] == 40
                  for s in pred) and
              any('code="400"' in s["labels"] and s["value"] == 1 for s in pred),
              f"/predict counts (40 x 200, 1 x 400) and latency quantiles on the page: {[(s['labels'], s['value']) for s in pred][:6]}")
        later, _ = parse_metrics(get(srv.port, "/metrics"))
        for s in spans:
            key = s["metric"] + ("{%s}" % s["labels"] if s["labels"] else "")
            if moving(s) and s["metric"] == "kite_http_requests_total":
                check(s["value"] <= later.get(key, -1), f"{key}: page {s['value']} <= later scrape {later.get(key)}")
        check(any(s["metric"] == "kite_http_model_info" and srv.version in s["text"] for s in spans),
              f"model version {srv.version} on the page")
        bad = console_problems(chrome)
        check(not bad, f"HTTP status page: no console messages, exceptions or failed requests: {bad[:5]}")
    finally:
        check(srv.stop() == 0, "kite serve --http exit 0 on SIGTERM")


def main():
    a, _ = e2e_args(extra=lambda ap: ap.add_argument(
        "--screenshot", help="also copy the screenshot here (docs/status_page.png)"))
    binary = shutil.which("chromium")
    if not binary:
        check(False, "chromium is not installed (tools/setup.sh installs it)")
        return T.finish("status_browser")
    profile = tempfile.mkdtemp(prefix="kite-status-chromium-")
    chrome = None
    try:
        chrome = Chrome(binary, profile)
        target = chrome.send("Target.createTarget", {"url": "about:blank"}, session=False)
        chrome.session = chrome.send("Target.attachToTarget", {"targetId": target["targetId"], "flatten": True},
                                     session=False)["sessionId"]
        stream_part(a, chrome, a.workdir)
        http_part(a, chrome)
    except RuntimeError as e:
        check(False, str(e))
    finally:
        if chrome:
            chrome.close()
        shutil.rmtree(profile, ignore_errors=True)
    return T.finish("status_browser")


if __name__ == "__main__":
    sys.exit(main())
