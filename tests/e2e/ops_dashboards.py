#!/usr/bin/python3
"""Every Grafana panel's query runs (issue 15): a real Prometheus (Debian's prometheus, 1 s
scrapes) scrapes two running `kite serve` pipelines and one `kite serve --http` server, and
every expression of every panel of ops/grafana/dashboards/*.json goes through its HTTP API
(/api/v1/query) the way Grafana sends it with the dashboard's defaults ("All" = .+ for each
variable, $__rate_interval = RATE): each must parse and return at least one series with a finite
value. The expressions are read from the JSON, so a panel added later is tested too.

The pipelines (embedded broker each, drift monitor, labels):
  - air quality (regression): the hourly readings replayed at 100 events/s, each event carrying
    its label CO(GT) (label_field), so RMSE and the reference's RMSE are there; HTTP beside it
    (--http) with /predict traffic, a 422 now and then and one model reload;
  - Titanic (classification): passengers with Survived as label_field (accuracy).
Also checked: each dashboard variable's own query (label_values) returns values, every kite_*
metric name in an expression is one that Prometheus scraped from kite, the dashboards' structure
(unique panel ids, a refId per query, the ${datasource} variable, grid within 24 columns), and
the provisioning files name the dashboards' folder and a Prometheus datasource."""
import json
import math
import os
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import yaml

import kite_e2e

RATE = "15s"  # $__rate_interval at 1 s scrapes: Grafana's max(4 x scrape, interval + scrape) and some
DASHBOARDS = ("overview", "drift", "http")

a, w = kite_e2e.e2e_args()
T = kite_e2e.Checks(verbose=True)
check, failures = T.check, T.failures


def panels_of(dash):
    """Every panel, rows' nested panels included (a collapsed row keeps its panels inside)."""
    for p in dash.get("panels", []):
        yield p
        yield from p.get("panels", [])


# --- structure of the JSON, before anything runs ---
boards = {n: json.load(open(os.path.join(a.root, "ops/grafana/dashboards", n + ".json"))) for n in DASHBOARDS}
uids = [d.get("uid") for d in boards.values()]
check(len(set(uids)) == len(uids) and all(uids), f"dashboards have distinct uids ({uids})")
for name, d in boards.items():
    ps = list(panels_of(d))
    ids = [p.get("id") for p in ps]
    variables = {v["name"]: v for v in d.get("templating", {}).get("list", [])}
    bad = []
    for p in ps:
        g = p.get("gridPos", {})
        if not (g.get("x", -1) >= 0 and g.get("w", 0) > 0 and g["x"] + g["w"] <= 24 and g.get("h", 0) > 0):
            bad.append(f"{p.get('title')}: gridPos {g}")
        if p.get("type") == "row":
            continue
        refs = [t.get("refId") for t in p.get("targets", [])]
        if not refs or len(set(refs)) != len(refs) or not all(refs):
            bad.append(f"{p.get('title')}: refIds {refs}")
        if not (p.get("datasource", {}).get("uid") == "${datasource}" and
                all(t.get("datasource", {}).get("uid") == "${datasource}" for t in p["targets"])):
            bad.append(f"{p.get('title')}: a datasource other than ${{datasource}}")
    check(len(ids) == len(set(ids)) and None not in ids and
          variables.get("datasource", {}).get("type") == "datasource" and not bad,
          f"{name}: {len(ps)} panels, unique ids, a datasource variable, every query on it with a "
          f"refId, grid inside 24 columns ({bad})")
prov_ds = yaml.safe_load(open(os.path.join(a.root, "ops/grafana/provisioning/datasources/kite.yaml")))
check(any(s.get("type") == "prometheus" for s in prov_ds.get("datasources", [])), "provisioned datasource is Prometheus")
prov_db = yaml.safe_load(open(os.path.join(a.root, "ops/grafana/provisioning/dashboards/kite.yaml")))
check(any(p.get("type") == "file" and p.get("options", {}).get("path") for p in prov_db.get("providers", [])),
      "dashboard provider reads files from a path")

# --- the running system ---
kite_e2e.airquality_stream(a.root, a.kite, a.workdir, copies=9)  # 90 s at 100/s
subprocess.run([a.kite, "profile", "--model", "models/titanic.json", "--spec", "models/titanic.spec.json",
                "--input", "data/titanic.csv", "--label", "Survived", "--output", w("titanic_ref.json")],
               cwd=a.root, check=True)
TOKEN = "ops-dashboards-token"
os.environ["KITE_ADMIN_TOKEN"] = TOKEN
aq = titanic = prom = None
stop_traffic = threading.Event()
try:
    aq = kite_e2e.KiteServe(a.kite, a.root, kite_e2e.AQ_REPLAY + [
        "--replay", w("cur.csv"), "--replay-rate", "100", "--drift-profile", w("ref.json"),
        "--drift-windows", "sliding:500:50,tumbling:250", "--labels-topic", "labels"],
        w("aq.log"), http=True)
    titanic = kite_e2e.KiteServe(a.kite, a.root, [
        "--model", "models/titanic.json", "--feature-spec", "models/titanic.spec.json",
        "--replay", "data/titanic.csv", "--replay-key", "PassengerId", "--replay-rate", "50",
        "--replay-repeat", "8", "--partitions", "1", "--drift-profile", w("titanic_ref.json"),
        "--drift-windows", "sliding:200:20", "--label-field", "Survived", "--labels-topic", "labels"],
        w("titanic.log"))
    print(f"kite serve air quality: metrics {aq.metrics_port}, http {aq.http_port}; "
          f"titanic: metrics {titanic.metrics_port}")
    prom = kite_e2e.Prometheus(w("prom"), {
        "kite": [f"127.0.0.1:{aq.metrics_port}", f"127.0.0.1:{titanic.metrics_port}"],
        "kite-http": [f"127.0.0.1:{aq.http_port}"]})

    # HTTP traffic: model-feature rows (the spec's time series would refuse repeated raw rows),
    # a wrong-length row now and then (422), one reload half way.
    base = f"http://127.0.0.1:{aq.http_port}"
    nfeat = len(json.loads(kite_e2e.http_get(base + "/model")[1])["features"])
    sent = {"ok": 0, "422": 0, "reload": 0, "other": 0, "timeout": 0}

    def post(path, body, headers=None):
        req = urllib.request.Request(base + path, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json", **(headers or {})})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status
        except urllib.error.HTTPError as e:
            return e.code
        except OSError:  # a timeout on a loaded machine: not what this test is about, but counted
            return None

    def traffic():
        i = 0
        while not stop_traffic.is_set():
            i += 1
            row = [float(i % 7)] * nfeat if i % 10 else [1.0] * (nfeat - 1)
            code = post("/predict", {"features": row})
            sent["ok" if code == 200 else "422" if code == 422 else "timeout" if code is None else "other"] += 1
            if i == 100:
                code = post("/admin/reload", {}, {"Authorization": "Bearer " + TOKEN})
                sent["reload" if code == 200 else "other"] += 1
            stop_traffic.wait(0.05)

    t = threading.Thread(target=traffic, daemon=True)
    t.start()

    # Wait for >= 12 scrapes of every target and for both quality kinds to be in Prometheus.
    deadline = time.time() + 120
    # (Cumulative: under load a 1 s scrape can time out now and then.)
    want = ['count(up) == 3 and min(sum_over_time(up[5m])) >= 12',
            'kite_drift_quality{metric="accuracy"}', 'kite_drift_quality{metric="rmse"}',
            'kite_drift_reference_quality{metric="rmse"}', 'kite_http_model_reloads_total{result="ok"} > 0']
    missing = want
    while time.time() < deadline and missing:
        missing = [e for e in want if prom.value(e) is None]
        time.sleep(1)
    check(not missing, f"Prometheus scraped every target 12 times and has quality, reference and a reload ({missing})")
    check(sent["ok"] > 0 and sent["422"] > 0 and sent["reload"] == 1 and sent["other"] == 0,
          f"HTTP traffic answered as sent ({sent})")

    ref_rmse = json.load(open(w("ref.json")))["quality"]["metrics"]["rmse"]
    got = prom.value('kite_drift_reference_quality{metric="rmse"}')
    check(got is not None and abs(got - ref_rmse) <= 1e-12 * ref_rmse,
          f"kite_drift_reference_quality{{metric=\"rmse\"}} {got} is the profile's {ref_rmse}")
    names = set(json.loads(kite_e2e.http_get(prom.url + "/api/v1/label/__name__/values")[1])["data"])
    # --- every panel expression, with the dashboard's defaults ---
    total = 0
    for name, d in boards.items():
        variables = {v["name"]: v for v in d.get("templating", {}).get("list", [])}
        for v in variables.values():
            if v["type"] != "query":
                continue
            m = re.fullmatch(r"label_values\((.+), (\w+)\)", v["query"])
            series = m.group(1) if m else ""
            for other, ov in variables.items():  # chained variables: their All value
                series = series.replace("$" + other, ov.get("allValue") or ".+")
            status, data = prom.query(f"count by ({m.group(2)}) ({series})" if m else "")
            check(m and status == "success" and data["result"],
                  f"{name}: variable {v['name']} ({v['query']}) has values "
                  f"{[r['metric'].get(m.group(2)) for r in data['result']] if status == 'success' else data}")
        for p in panels_of(d):
            for tgt in p.get("targets", []):
                expr = tgt["expr"].replace("$__rate_interval", RATE)
                for vn, v in variables.items():
                    if v["type"] == "query":
                        expr = expr.replace("$" + vn, v.get("allValue") or ".+")
                status, data = prom.query(expr)
                ok = status == "success"
                series = data["result"] if ok else []
                finite = [s for s in series if math.isfinite(float(s["value"][1]))]
                unknown = sorted(u for u in set(re.findall(r"\b(kite_[a-z0-9_]+)", tgt["expr"]))
                                 if u not in names)
                check(ok and "$" not in expr and finite and not unknown,
                      f"{name} / {p['title']} [{tgt['refId']}]: {len(series)} series, {len(finite)} finite"
                      f"{'' if ok else ': ' + str(data)}{'; not scraped from kite: %s' % unknown if unknown else ''}"
                      f"  <- {expr}")
                total += 1
    print(f"{total} panel queries run")
    check(total >= 40, f"all three dashboards' queries ran ({total})")
finally:
    stop_traffic.set()
    rcs = {}
    for what, proc in (("prometheus", prom), ("kite air quality", aq), ("kite titanic", titanic)):
        if proc is not None:
            rcs[what] = proc.stop()
for what, rc in rcs.items():
    check(rc == 0, f"{what} exits 0 on SIGTERM ({rc})")
print(f"ops_dashboards: {len(failures)} failed")
sys.exit(T.exit_code())
