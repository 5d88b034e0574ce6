#!/usr/bin/python3
"""kite featurize / kite score --spec from the command line:
  - scoring raw air-quality rows through the spec equals scoring the featurized CSV (every
    prediction, as text), and the same for raw Titanic passengers against titanic_features.csv;
  - bad specs, bad rows, a spec that does not match the model: one clear line each, exit 1.
"""
import os
import sys
import tempfile

from kite_e2e import Checks, e2e_args, run

T = Checks()
check = T.check


def lines(text):
    return [l for l in text.splitlines() if l]


def main():
    a, _ = e2e_args("--kite", "--root")
    k, root = a.kite, a.root
    aq_spec = os.path.join(root, "models", "airquality.spec.json")
    aq_model = os.path.join(root, "models", "airquality.json")
    aq_data = os.path.join(root, "data", "AirQualityUCI.csv")
    ti_spec = os.path.join(root, "models", "titanic.spec.json")
    ti_model = os.path.join(root, "models", "titanic.json")
    ti_data = os.path.join(root, "data", "titanic.csv")
    ti_feats = os.path.join(root, "data", "titanic_features.csv")

    r = run(k, "featurize", "--help")
    check(r.returncode == 0 and "--spec" in r.stdout and "--keep" in r.stdout, "featurize --help")
    r = run(k, "featurize", "--spec", aq_spec)
    check(r.returncode == 2 and "--input" in r.stderr, "featurize without --input exits 2")
    r = run(k, "score", "--help")
    check(r.returncode == 0 and "--spec" in r.stdout, "score --help lists --spec")

    with tempfile.TemporaryDirectory() as tmp:
        # 1. air quality: score --spec on raw rows == score on the featurized CSV
        feats = os.path.join(tmp, "aq_features.csv")
        r = run(k, "featurize", "--spec", aq_spec, "--input", aq_data, "--output", feats)
        check(r.returncode == 0 and "9357 rows" in r.stderr, "featurize air quality: %s" % r.stderr)
        p1 = run(k, "score", "--model", aq_model, "--input", feats, "--quiet")
        p2 = run(k, "score", "--model", aq_model, "--spec", aq_spec, "--input", aq_data, "--quiet")
        check(p1.returncode == 0 and p2.returncode == 0, "score both ways: %s %s" % (p1.stderr, p2.stderr))
        check(len(lines(p1.stdout)) == 9358 and p1.stdout == p2.stdout,
              "air quality: score --spec of raw rows equals scoring the featurized CSV")
        r = run(k, "score", "--model", aq_model, "--spec", aq_spec, "--input", aq_data, "--label", "CO(GT)")
        check(r.returncode == 0 and "rmse" in r.stderr, "score --spec --label prints rmse: %s" % r.stderr)

        # 2. titanic: raw passengers through the spec == the bundled feature file
        p1 = run(k, "score", "--model", ti_model, "--input", ti_feats, "--quiet")
        p2 = run(k, "score", "--model", ti_model, "--spec", ti_spec, "--input", ti_data, "--quiet")
        check(p1.returncode == 0 and p2.returncode == 0 and len(lines(p1.stdout)) == 892 and
              p1.stdout == p2.stdout, "titanic: raw rows through the spec equal titanic_features.csv "
              "(%s %s)" % (p1.stderr, p2.stderr))

        # 3. the spec's feature order must be the model's
        r = run(k, "score", "--model", ti_model, "--spec", aq_spec, "--input", aq_data)
        check(r.returncode == 1 and len(lines(r.stderr)) == 1 and
              "the spec has 101 features, the model expects 6" in r.stderr, "spec/model mismatch: %r" % r.stderr)

        # 4. bad specs: one line naming the file, the place and why
        bad_spec = os.path.join(tmp, "bad.spec.json")
        with open(bad_spec, "w") as f:
            f.write('{"inputs": [{"name": "x"}], "features": [{"name": "m", "kind": "rolling_mean", '
                    '"input": "x", "window": -3}]}')
        r = run(k, "featurize", "--spec", bad_spec, "--input", aq_data)
        check(r.returncode == 1 and len(lines(r.stderr)) == 1 and
              'bad.spec.json: features[0] ("m"): "window" must be an integer' in r.stderr,
              "bad spec: %r" % r.stderr)
        with open(bad_spec, "w") as f:
            f.write('{"inputs": [{"name": "x"}], ')
        r = run(k, "featurize", "--spec", bad_spec, "--input", aq_data)
        check(r.returncode == 1 and len(lines(r.stderr)) == 1 and "not valid JSON" in r.stderr,
              "truncated spec: %r" % r.stderr)
        with open(bad_spec, "w") as f:
            f.write('{"inputs": [{"name": "nope"}], "features": [{"name": "v", "kind": "value", "input": "nope"}]}')
        r = run(k, "featurize", "--spec", bad_spec, "--input", aq_data)
        check(r.returncode == 1 and len(lines(r.stderr)) == 1 and 'no column "nope"' in r.stderr,
              "spec input missing from the CSV: %r" % r.stderr)

        # 5. bad rows: one line each with file:line, the field and why; good rows still written
        raw = open(aq_data).read().splitlines()
        bad_rows = os.path.join(tmp, "bad_rows.csv")
        rows = raw[:6]
        rows[2] = rows[2].replace(";1292;", ";12x2;")        # line 3: not a number
        rows[4] = rows[4].replace("10/03/2004", "32/03/2004")  # line 5: bad date
        rows.append(raw[5])                                 # line 7: duplicate of line 6's time
        with open(bad_rows, "w") as f:
            f.write("\n".join(rows) + "\n")
        out = os.path.join(tmp, "bad_out.csv")
        r = run(k, "featurize", "--spec", aq_spec, "--input", bad_rows, "--output", out)
        errs = [l for l in lines(r.stderr) if "bad_rows.csv:" in l]
        check(r.returncode == 1 and len(errs) == 3, "three bad rows, exit 1: %r" % r.stderr)
        check(any('bad_rows.csv:3: field "PT08.S1(CO)": "12x2" is not a number' in l for l in errs) and
              any('bad_rows.csv:5: event time fields "Date" + "Time": "32/03/2004 21.00.00" day out of range'
                  in l for l in errs) and
              any("bad_rows.csv:7: duplicate event time 2004-03-10T22:00:00Z (duplicates: reject)" in l
                  for l in errs), "bad row messages: %r" % errs)
        check(len(lines(open(out).read())) == 1 + 3, "the three good rows are written")
        r = run(k, "featurize", "--spec", aq_spec, "--input", bad_rows, "--output", out, "--max-bad", "3")
        check(r.returncode == 0, "--max-bad 3 tolerates them")
        r = run(k, "score", "--model", aq_model, "--spec", aq_spec, "--input", bad_rows)
        check(r.returncode == 1 and len(lines(r.stderr)) == 1 and "bad_rows.csv:3:" in r.stderr,
              "score --spec stops at the first bad row with one line: %r" % r.stderr)
    print("%d passed, %d failed" % (T.passed, len(T.failures)))
    return T.exit_code()


if __name__ == "__main__":
    sys.exit(main())
