#!/usr/bin/env python3
"""check_symbols: every global symbol a kite library defines says whether it is public.

Rule (STYLE.md "Names explain themselves", libuv's uv__): each GLOBAL defined symbol of each
kite library's static archive (nm --extern-only --defined-only) is either
  - `kite_<...>` and declared in some `<folder>/include/kite/*.h` header (the public API), or
  - `kite__<...>` (a cross-file internal of its library).
Anything else -- a `kite_` name no public header declares, a generic `kf_` name, a missing
`static` -- is printed as one line `symbol  library  object` and the check fails.
"Declared" means the name appears as a word in a public header once comments are removed.

  check_symbols.py --root SRC --nm NM LIB=ARCHIVE...
"""
import argparse
import pathlib
import re
import subprocess
import sys

NM_LINE = re.compile(r"^.*\[(.+)\]: (\S+) (\S)")


def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    return re.sub(r"//[^\n]*", " ", text)


def public_words(root):
    words = set()
    for h in sorted(root.glob("**/include/kite/*.h")):
        if "build" in h.relative_to(root).parts[:1]:
            continue
        words.update(re.findall(r"\bkite_\w+", strip_comments(h.read_text(errors="replace"))))
    return words


def defined_globals(nm, archive):
    """(symbol, object) for each global defined symbol of the archive."""
    out = subprocess.run([nm, "-P", "-A", "--extern-only", "--defined-only", archive],
                         check=True, capture_output=True, text=True).stdout
    syms = []
    for line in out.splitlines():
        m = NM_LINE.match(line)  # POSIX format: "lib.a[obj.o]: name T value size"
        if m:
            syms.append((m.group(2), m.group(1)))
    return syms


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", required=True, type=pathlib.Path)
    ap.add_argument("--nm", default="nm")
    ap.add_argument("libs", nargs="+", metavar="LIB=ARCHIVE")
    a = ap.parse_args()
    public = public_words(a.root)
    if not public:
        print(f"check_symbols: no public header under {a.root}/**/include/kite/", file=sys.stderr)
        return 2
    bad = 0
    total = 0
    for spec in a.libs:
        lib, _, archive = spec.partition("=")
        for sym, obj in defined_globals(a.nm, archive):
            # The sanitizers' own globals (ASan's one-definition-rule markers, coverage
            # counters) are the compiler's, not ours.
            if sym.startswith(("__odr_asan", "__asan_", "__ubsan_", "__tsan_", "__sancov_")):
                continue
            total += 1
            if sym.startswith("kite__"):
                continue
            if sym.startswith("kite_") and sym in public:
                continue
            why = ("kite_ but in no include/kite/ header" if sym.startswith("kite_")
                   else "neither kite_ nor kite__")
            print(f"{sym}  {lib}  {obj}  ({why})")
            bad += 1
    if total == 0:
        print("check_symbols: no symbols read: wrong archives?", file=sys.stderr)
        return 2
    print(f"check_symbols: {total} global symbols in {len(a.libs)} libraries, {bad} offenders")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
