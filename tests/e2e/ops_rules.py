#!/usr/bin/python3
"""kite's alert rules (ops/prometheus/kite-rules.yml) and their unit tests, through promtool.

  - promtool check rules: clean (no warnings), promtool test rules: SUCCESS;
  - coverage: every alert of the rules file has, in kite-rules.test.yml, an evaluation that
    expects it to fire and one that expects it not to;
  - and the tests can tell: for each alert, its must-fire cases fail on a copy of the rules in
    which it never fires, and its must-not-fire cases fail on a copy in which it fires at once;
  - the example Prometheus config (ops/prometheus/prometheus.example.yml, which loads the rules)
    passes promtool check config, and the example Alertmanager config amtool check-config."""
import argparse
import copy
import os
import shutil
import subprocess
import sys
import tempfile

import yaml

from kite_e2e import Checks

ap = argparse.ArgumentParser()
ap.add_argument("--root", required=True)
a = ap.parse_args()
prom_dir = os.path.join(a.root, "ops", "prometheus")
rules_path = os.path.join(prom_dir, "kite-rules.yml")
tests_path = os.path.join(prom_dir, "kite-rules.test.yml")
T = Checks(verbose=True)
check, failures = T.check, T.failures


def run(*cmd, cwd=None):
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd)
    return r.returncode, r.stdout + r.stderr


rc, out = run("promtool", "check", "rules", rules_path)
check(rc == 0 and "SUCCESS" in out and "WARNING" not in out.upper(), f"promtool check rules is clean ({out.strip()})")
rc, out = run("promtool", "test", "rules", tests_path)
check(rc == 0 and "SUCCESS" in out, f"promtool test rules passes ({out.strip()[-2000:]})")

rules = yaml.safe_load(open(rules_path))
alerts = [r["alert"] for g in rules["groups"] for r in g["rules"] if "alert" in r]
check(len(alerts) == len(set(alerts)), f"alert names are unique ({alerts})")
fires, silent = set(), set()
for t in yaml.safe_load(open(tests_path))["tests"]:
    for case in t.get("alert_rule_test", []):
        (fires if case.get("exp_alerts") else silent).add(case["alertname"])
for name in alerts:
    check(name in fires and name in silent,
          f"{name}: a case where it must fire ({name in fires}) and one where it must not ({name in silent})")
check(not (fires | silent) - set(alerts), f"tests name only existing alerts ({sorted((fires | silent) - set(alerts))})")

# Mutants. The cases that expect an alert, alone, must fail once that alert never fires
# (expr `vector(0) > 1`); the cases that expect none, alone, must fail once it fires at once
# (expr `vector(1)`, for: 0s).
tests_doc = yaml.safe_load(open(tests_path))


def only(expect_fire, alertname=None):
    """The test file cut to the cases that expect an alert (or none), of one alert or all."""
    doc = copy.deepcopy(tests_doc)
    for t in doc["tests"]:
        t["alert_rule_test"] = [c for c in t.get("alert_rule_test", [])
                                if bool(c.get("exp_alerts")) == expect_fire
                                and alertname in (None, c["alertname"])]
    doc["tests"] = [t for t in doc["tests"] if t["alert_rule_test"]]
    return doc


def write(doc, path):
    with open(path, "w") as f:
        yaml.safe_dump(doc, f, sort_keys=False)


work = tempfile.mkdtemp(prefix="kite-ops-rules-")
try:
    for part, doc in (("fire", only(True)), ("silent", only(False))):
        write(doc, os.path.join(work, part + ".test.yml"))
    shutil.copy(rules_path, work)
    for part in ("fire", "silent"):
        rc, out = run("promtool", "test", "rules", part + ".test.yml", cwd=work)
        check(rc == 0, f"the {part} cases alone pass on the shipped rules ({out.strip()[-500:]})")
    for name in alerts:  # each mutant against its own alert's cases only (fewer promtool runs' work)
        write(only(True, name), os.path.join(work, "fire.test.yml"))
        write(only(False, name), os.path.join(work, "silent.test.yml"))
        for part, mutant, expr, hold in (("fire", "never fires", "vector(0) > 1", None),
                                         ("silent", "fires at once", "vector(1)", "0s")):
            m = copy.deepcopy(rules)
            for g in m["groups"]:
                for r in g["rules"]:
                    if r.get("alert") == name:
                        r["expr"] = expr
                        if hold:
                            r["for"] = hold
            write(m, os.path.join(work, "kite-rules.yml"))
            rc, out = run("promtool", "test", "rules", part + ".test.yml", cwd=work)
            check(rc != 0 and name in out, f"{name} {mutant}: its {part} cases fail")
finally:
    shutil.rmtree(work)

rc, out = run("promtool", "check", "config", os.path.join(prom_dir, "prometheus.example.yml"))
check(rc == 0 and "SUCCESS" in out, f"promtool check config prometheus.example.yml ({out.strip()})")
rc, out = run("amtool", "check-config", os.path.join(a.root, "ops", "alertmanager", "alertmanager.example.yml"))
check(rc == 0 and "SUCCESS" in out, f"amtool check-config alertmanager.example.yml ({out.strip()})")
print(f"ops_rules: {len(failures)} failed")
sys.exit(T.exit_code())
