#!/usr/bin/env python3
"""check_member_prefixes: one member prefix per struct, and no two structs share one.

Field prefixes that grep well (STYLE.md; librdkafka's rkq_lock, rkq_qlen; SQLite's pcache
fields): `grep -n 'kr_head'` finds the ring's head and nothing else only when no other struct
spells its fields `kr_`. The rule, over the C sources and headers of kernels/, loaders/,
engine/ and tools/ (tests/, bench/ and perf/ hold local helpers and are not checked):
  - a member's prefix is its name's word before the first `_` (`kr_head` -> `kr`; `text`
    has none);
  - a struct or union (named by its tag, or by its typedef or declarator name when anonymous)
    *uses prefixes* when it has 2+ members and all of them carry the same prefix; a struct
    where more than half of 3+ members share a prefix but not all is reported as mixed
    (a new field forgot the prefix);
  - two distinct structs that use prefixes never use the same one. One struct defined in two
    files (a header and a test's copy) counts once.
Only top-level members count: a nested struct is a struct of its own.
Each offence is printed on one line; the check fails if there is any.

  check_member_prefixes.py --root SRC [--list]
"""
import argparse
import collections
import pathlib
import re
import subprocess
import sys

DIRS = ("kernels", "loaders", "engine", "tools")


def strip(text):
    text = re.sub(r"/\*.*?\*/", lambda m: "\n" * m.group(0).count("\n"), text, flags=re.S)
    text = re.sub(r"//[^\n]*", "", text)
    text = re.sub(r'"(\\.|[^"\\\n])*"', '""', text)
    return re.sub(r"^[ \t]*#[^\n]*(\\\n[^\n]*)*", lambda m: "\n" * m.group(0).count("\n"), text,
                  flags=re.M)


def structs(path, text):
    """(name, [member names], line) of every struct/union body in the file."""
    for m in re.finditer(r"\b(?:struct|union)\s*(\w*)\s*\{", text):
        i, depth = m.end(), 1
        while depth and i < len(text):
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            i += 1
        body = text[m.end():i - 1]
        name = m.group(1)
        if not name:
            after = re.match(r"\s*(\w+)", text[i:])
            name = after.group(1) if after else "?"
        while re.search(r"\{[^{}]*\}", body):
            body = re.sub(r"\{[^{}]*\}", " ", body)
        members = []
        for decl in body.split(";"):
            decl = re.sub(r"\[[^\]]*\]", "", decl)
            decl = re.sub(r":\s*\w+\s*$", "", decl.strip())
            decl = re.sub(r"\([^()]*\)\s*$", "", decl)
            for part in decl.split(","):
                ids = re.findall(r"[A-Za-z_]\w*", part)
                if ids:
                    members.append(ids[-1])
        yield name, members, text.count("\n", 0, m.start()) + 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", required=True, type=pathlib.Path)
    ap.add_argument("--list", action="store_true", help="print every prefixed struct")
    a = ap.parse_args()
    files = subprocess.run(["git", "-C", str(a.root), "ls-files", "--", *[f"{d}/*.c" for d in DIRS],
                            *[f"{d}/*.h" for d in DIRS]], check=True, capture_output=True,
                           text=True).stdout.split()
    if not files:
        print(f"check_member_prefixes: no sources under {a.root}", file=sys.stderr)
        return 2
    owners = collections.defaultdict(dict)  # prefix -> {struct: "file:line"}
    bad = 0
    for f in files:
        text = strip((a.root / f).read_text(errors="replace"))
        for name, members, line in structs(f, text):
            words = collections.Counter(x.split("_")[0] for x in members if "_" in x[1:])
            if len(members) < 2 or not words:
                continue
            prefix, n = words.most_common(1)[0]
            if n == len(members) and all(x.split("_")[0] == prefix for x in members):
                owners[prefix].setdefault(name, f"{f}:{line}")
            elif len(members) >= 3 and n * 2 > len(members):
                odd = [x for x in members if x.split("_")[0] != prefix]
                print(f"mixed: struct {name} ({f}:{line}) prefix {prefix}_ but {', '.join(odd)}")
                bad += 1
    for prefix, users in sorted(owners.items()):
        if a.list:
            print(f"{prefix}_: " + ", ".join(f"{s} ({w})" for s, w in sorted(users.items())))
        if len(users) > 1:
            print(f"shared: {prefix}_ by " + ", ".join(f"{s} ({w})" for s, w in sorted(users.items())))
            bad += 1
    print(f"check_member_prefixes: {sum(map(len, owners.values()))} prefixed structs, "
          f"{len(owners)} prefixes, {bad} offences")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
