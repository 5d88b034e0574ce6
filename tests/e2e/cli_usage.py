#!/usr/bin/python3
"""CLI contract: --help texts, exit codes for usage errors, bad input rows, kite info."""
import os
import signal
import subprocess
import sys
import tempfile

from kite_e2e import Checks, e2e_args, run

T = Checks()
check = T.check


def main():
    a, _ = e2e_args("--kite", "--root")
    k = a.kite
    model = os.path.join(a.root, "models", "titanic.json")
    feats = os.path.join(a.root, "data", "titanic_features.csv")

    r = run(k, "--help")
    check(r.returncode == 0 and "score" in r.stdout and "info" in r.stdout, "kite --help")
    r = run(k)
    check(r.returncode == 2 and "usage" in r.stderr, "kite with no command exits 2")
    r = run(k, "frobnicate")
    check(r.returncode == 2 and "unknown command" in r.stderr, "unknown command exits 2")
    r = run(k, "score", "--help")
    check(r.returncode == 0 and "--model" in r.stdout and "--margin" in r.stdout, "score --help")
    r = run(k, "score", "--model", model)
    check(r.returncode == 2 and "--input" in r.stderr, "score without --input exits 2")
    r = run(k, "score", "--model", model, "--input", feats, "--threads", "zero")
    check(r.returncode == 2 and "--threads" in r.stderr, "bad --threads exits 2")
    r = run(k, "info")
    check(r.returncode == 0 and "kernel chosen:" in r.stdout and "build type:" in r.stdout, "kite info")

    with tempfile.TemporaryDirectory() as tmp:
        bad = os.path.join(tmp, "bad.csv")
        with open(bad, "w") as f:
            f.write("Pclass,Sex,Age,SibSp,Parch,Fare\n3,0,22,1,0,7.25\n1,1,abc,1,0,71.3\n")
        r = run(k, "score", "--model", model, "--input", bad)
        lines = [l for l in r.stderr.splitlines() if l]
        check(r.returncode == 1 and len(lines) == 1 and "bad.csv:3:5: column \"Age\"" in lines[0],
              "bad row gives file:line:column: %r" % r.stderr)
        out = os.path.join(tmp, "p.csv")
        r = run(k, "score", "--model", model, "--input", feats, "--output", out, "--threads", "2",
                "--label", "Survived")
        check(r.returncode == 0 and "accuracy" in r.stderr, "score with label prints accuracy")
        rows = open(out).read().splitlines()
        check(rows[0] == "prediction" and len(rows) == 892, "one prediction per Titanic row")
        r1 = run(k, "score", "--model", model, "--input", feats, "--quiet")
        check(r1.returncode == 0 and r1.stdout.splitlines() == rows, "threads=2 equals threads=1")
        r = run(k, "score", "--model", model, "--input", feats, "--margin", "--quiet")
        check(r.stdout.splitlines()[0] == "margin", "--margin header")
    # A fatal signal names itself and its frames, then kills kite as before (status -11). Under
    # ASan the sanitizer's own report stands instead (kite does not install its handler there).
    b = subprocess.Popen([k, "broker"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    addr = b.stdout.readline().strip()
    b.send_signal(signal.SIGSEGV)
    _, err = b.communicate(timeout=30)
    if "Sanitizer" in err:
        check("SEGV" in err, "a SIGSEGV is reported by the sanitizer: %r" % err[-300:])
    else:
        first = err.splitlines()[0] if err else ""
        check(addr and b.returncode == -signal.SIGSEGV and first.startswith("kite: crashed: SIGSEGV, sent by pid")
              and "kite(+0x" in err, "a SIGSEGV prints one line and a backtrace, then kills kite (%s): %r"
              % (b.returncode, err[:300]))
    print("%d passed, %d failed" % (T.passed, len(T.failures)))
    return T.exit_code()


if __name__ == "__main__":
    sys.exit(main())
