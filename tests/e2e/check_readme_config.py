#!/usr/bin/env python3
"""The README's configuration table is the code's: `kite serve --help-config=markdown` prints the
table generated from engine/stream/config.c's key table, and the README holds that text verbatim between
the markers below. Fails naming the first line that differs.

  check_readme_config.py --kite K --readme README.md     README table == generated table
  check_readme_config.py --kite K --flag                 the flag's exit codes and errors
"""
import argparse
import subprocess
import sys

BEGIN = "<!-- config-table:begin (generated: kite serve --help-config=markdown) -->"
END = "<!-- config-table:end -->"


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def generated(kite):
    r = subprocess.run([kite, "serve", "--help-config=markdown"], capture_output=True, text=True,
                       timeout=60)
    if r.returncode != 0:
        fail("kite serve --help-config=markdown exited %d: %s" % (r.returncode, r.stderr.strip()))
    return r.stdout.splitlines()


def check_readme(kite, readme):
    code = generated(kite)
    with open(readme, encoding="utf-8") as f:
        lines = f.read().splitlines()
    begins = [i for i, l in enumerate(lines) if l == BEGIN]
    ends = [i for i, l in enumerate(lines) if l == END]
    if len(begins) != 1 or len(ends) != 1 or ends[0] < begins[0]:
        fail("%s: expected one %r line followed by one %r line (found %d and %d)"
             % (readme, BEGIN, END, len(begins), len(ends)))
    start = begins[0] + 1
    table = lines[start:ends[0]]
    for n in range(max(len(table), len(code))):
        have = table[n] if n < len(table) else "<end of the README's table>"
        want = code[n] if n < len(code) else "<end of the generated table>"
        if have != want:
            fail("%s:%d differs from line %d of `kite serve --help-config=markdown`:\n"
                 "  README: %s\n  code:   %s\n"
                 "(paste the command's output between the markers)"
                 % (readme, start + n + 1, n + 1, have, want))
    print("README config table: %d lines, equal to the generated table" % len(code))


def check_flag(kite):
    code = generated(kite)
    # A header, the separator, then one row per key; each row is a 4-column Markdown row.
    if len(code) < 3 or code[0] != "| key | type | default | meaning |" or code[1] != "|---|---|---|---|":
        fail("unexpected table head: %r" % code[:2])
    for row in code[2:]:
        cells = row.replace("\\|", "").split("|")
        if not (row.startswith("| `") and row.endswith(" |") and len(cells) == 6):
            fail("not a 4-column table row: %r" % row)
    keys = [row.split("`")[1] for row in code[2:]]
    if "batch_size" not in keys or "brokers" not in keys or len(set(keys)) != len(keys):
        fail("expected unique keys including brokers and batch_size: %r" % keys)
    r = subprocess.run([kite, "serve", "--help-config"], capture_output=True, text=True, timeout=60)
    if r.returncode != 0 or r.stdout.splitlines() != code:
        fail("--help-config without a format should print the Markdown table (exit %d)" % r.returncode)
    r = subprocess.run([kite, "serve", "--help-config=xyz"], capture_output=True, text=True,
                       timeout=60)
    err = r.stderr.splitlines()
    if r.returncode != 2 or r.stdout or len(err) != 1 or '"xyz"' not in err[0] \
            or "unknown format" not in err[0]:
        fail("--help-config=xyz: expected exit 2, no stdout and one line naming \"xyz\"; got exit "
             "%d, stdout %r, stderr %r" % (r.returncode, r.stdout, r.stderr))
    print("--help-config: %d keys, exit 0; --help-config=xyz: exit 2: %s" % (len(keys), err[0]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kite", required=True)
    ap.add_argument("--readme")
    ap.add_argument("--flag", action="store_true")
    a = ap.parse_args()
    if a.flag:
        check_flag(a.kite)
    if a.readme:
        check_readme(a.kite, a.readme)
    if not a.flag and not a.readme:
        ap.error("give --readme FILE and/or --flag")


if __name__ == "__main__":
    main()
