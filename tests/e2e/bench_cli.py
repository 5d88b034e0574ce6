#!/usr/bin/python3
"""kite bench end to end: on a golden model with random rows, its table has one row per kernel
`kite info` lists as available and per batch size asked for, each with positive timings; the
chosen kernel it names is kite info's; a model that does not load exits 1 with one line.
--seconds 0.05 per kernel and batch keeps the whole test to about a second."""
import os
import sys

import kite_e2e

T = kite_e2e.Checks()
check = T.check


def run(*args):
    return kite_e2e.run(*args, timeout=60)


def main():
    a, _ = kite_e2e.e2e_args("--kite", "--root")
    k = a.kite
    model = os.path.join(a.root, "tests", "golden", "xgb1.7", "binary_logistic_d6.json")

    r = run(k, "bench", "--help")
    for flag in ("--model", "--rows", "--batch", "--seconds", "--kernel"):
        check(r.returncode == 0 and flag in r.stdout, "bench --help lists %s" % flag)

    r = run(k, "info")
    info = dict(l.split(": ", 1) for l in r.stdout.splitlines() if ": " in l)
    available = info.get("kernels available", "").split()
    chosen = info.get("kernel chosen", "")
    check(r.returncode == 0 and "scalar" in available and chosen in available,
          "kite info lists the kernels: %r" % r.stdout)

    batches = [1, 16]
    r = run(k, "bench", "--model", model, "--rows", "256", "--batch", "1,16", "--seconds", "0.05")
    print(r.stdout, end="")
    check(r.returncode == 0 and r.stderr == "",
          "bench exits 0 with nothing on stderr: %d %r" % (r.returncode, r.stderr))
    lines = r.stdout.splitlines()
    check(len(lines) >= 2 and lines[0].startswith("model ") and "100 trees" in lines[0]
          and "256 rows (random)" in lines[0], "bench names the model and rows: %r" % lines[:1])
    check(len(lines) >= 1 and lines[0].endswith("kernel chosen: " + chosen),
          "bench's chosen kernel is kite info's (%s): %r" % (chosen, lines[:1]))
    header = [l for l in lines if l.split()[:1] == ["kernel"]]
    check(len(header) == 1 and header[0].split() == ["kernel", "batch", "ns/tree/row", "rows/s",
                                                     "us/call"], "one table header: %r" % header)
    rows = {}
    for l in lines[lines.index(header[0]) + 1:] if header else []:
        f = l.split()
        try:
            key, values = (f[0], int(f[1])), [float(v) for v in f[2:]]
        except (IndexError, ValueError):
            check(False, "table row does not parse: %r" % l)
            continue
        check(key not in rows, "one row per kernel and batch: %r twice" % (key,))
        check(len(values) == 3 and all(v > 0 for v in values),
              "kernel %s batch %d: ns/tree/row, rows/s, us/call all positive: %r" % (key + (l,)))
        rows[key] = values
    want = {(isa, b) for isa in available for b in batches}
    check(set(rows) == want, "rows for exactly every available kernel x batch: got %s, want %s"
          % (sorted(rows), sorted(want)))

    r = run(k, "bench", "--model", model, "--rows", "256", "--batch", "16", "--seconds", "0.05",
            "--kernel", "scalar")
    picked = [l.split()[0] for l in r.stdout.splitlines()[2:]]
    check(r.returncode == 0 and picked == ["scalar"],
          "--kernel scalar times scalar only: %r" % picked)

    missing = os.path.join(a.root, "tests", "golden", "xgb1.7", "no_such_model.json")
    r = run(k, "bench", "--model", missing, "--rows", "256", "--batch", "1,16", "--seconds", "0.05")
    lines = r.stderr.splitlines()
    check(r.returncode == 1 and len(lines) == 1 and "no_such_model.json" in lines[0]
          and r.stdout == "", "bad model: exit 1, one line naming it: %d %r %r"
          % (r.returncode, r.stderr, r.stdout))

    print("bench_cli: %d passed, %d failed" % (T.passed, len(T.failures)))
    return T.exit_code()


if __name__ == "__main__":
    sys.exit(main())
