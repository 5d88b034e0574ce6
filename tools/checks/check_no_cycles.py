#!/usr/bin/env python3
"""check_no_cycles: no strongly connected set of two or more files inside the libraries.

The graph, one node per file (.c or .h) of every kite library:
  - A -> H when A `#include`s the header H ("..." beside A or in its library, <kite/...> from
    any library's include/kite/);
  - A.c -> B.c when A.o has an undefined symbol that B.o defines (nm of the archives): A calls
    B (a static inline in a header that calls B.c shows up in A.o, so it counts too).
A header is a node of its own, not one with the .c of its stem: a library's public header
holds the types all of its files share (kite/drift.h, kite/forest.h), so "including x.h
depends on x.c" would make every library one cycle and hide the real ones. What the check
finds are files that call each other (directly or round a loop) and headers that include each
other. A strongly connected set of 2+ files (Tarjan) means none of them can be read, tested
or moved without the others: each set is printed with the edges inside it, and the check fails.

  check_no_cycles.py --root SRC --nm NM [--edges] LIB=ARCHIVE=SOURCE_DIR...
"""
import argparse
import collections
import pathlib
import re
import subprocess
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]', re.M)

NM_LINE = re.compile(r"^.*\[(.+)\]: (\S+) (\S)")


def nm_objects(nm, archive):
    """{member: (defined set, undefined set)} of one static archive."""
    out = subprocess.run([nm, "-P", "-A", "--extern-only", archive], check=True,
                         capture_output=True, text=True).stdout
    objs = collections.defaultdict(lambda: (set(), set()))
    for line in out.splitlines():
        m = NM_LINE.match(line)  # POSIX format: "lib.a[obj.o]: name T value size"
        if m:
            member, sym, kind = m.groups()
            objs[member][1 if kind == "U" else 0].add(sym)
    return objs


def tarjan(nodes, edges):
    index, low, stack, on, sccs, n = {}, {}, [], set(), [], [0]
    sys.setrecursionlimit(10000)

    def visit(v):
        index[v] = low[v] = n[0]
        n[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            scc = []
            while True:
                w = stack.pop()
                on.discard(w)
                scc.append(w)
                if w == v:
                    break
            sccs.append(sorted(scc))

    for v in sorted(nodes):
        if v not in index:
            visit(v)
    return sccs


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", required=True, type=pathlib.Path)
    ap.add_argument("--nm", default="nm")
    ap.add_argument("--edges", action="store_true", help="print every edge and why")
    ap.add_argument("libs", nargs="+", metavar="LIB=ARCHIVE=SOURCE_DIR")
    a = ap.parse_args()
    root = a.root.resolve()

    lib_dirs, objects = [], {}   # objects: source file -> (defined, undefined)
    for spec in a.libs:
        lib, archive, src = spec.split("=")
        src = pathlib.Path(src).resolve()
        lib_dirs.append(src)
        for member, syms in nm_objects(a.nm, archive).items():
            stem = member[:-2] if member.endswith(".o") else member
            hits = sorted(src.glob(f"**/{stem}"))
            if len(hits) != 1:
                print(f"check_no_cycles: {lib}: {member}: {len(hits)} sources match", file=sys.stderr)
                return 2
            objects[hits[0]] = syms

    files = set(objects)
    for d in lib_dirs:
        files.update(p.resolve() for p in d.glob("**/*.h"))
        files.update(p.resolve() for p in d.glob("**/*.c"))
    public = {}  # "kite/x.h" -> file
    for f in files:
        if f.parent.name == "kite" and f.parent.parent.name == "include":
            public["kite/" + f.name] = f

    def lib_of(f):
        return max((d for d in lib_dirs if d in f.parents), key=lambda d: len(d.parts))

    edges, why = collections.defaultdict(set), {}

    def add(x, y, reason):
        if x != y:
            edges[x].add(y)
            why.setdefault((x, y), reason)

    for f in files:
        text = f.read_text(errors="replace")
        for kind, name in INCLUDE.findall(text):
            target = None
            if kind == '"':
                for base in (f.parent, lib_of(f)):
                    if (base / name).resolve() in files:
                        target = (base / name).resolve()
                        break
            if target is None and name in public:
                target = public[name]
            if target is not None:
                add(f, target, "#include")
    providers = collections.defaultdict(set)
    for f, (defined, _) in objects.items():
        for s in defined:
            providers[s].add(f)
    for f, (_, undefined) in objects.items():
        for s in undefined:
            for g in providers.get(s, ()):
                add(f, g, f"calls {s}")

    rel = lambda p: str(p.relative_to(root)) if root in p.parents else str(p)
    if a.edges:
        for (x, y), r in sorted(why.items()):
            print(f"{rel(x)} -> {rel(y)}  ({r})")
    sccs = [s for s in tarjan(files, edges) if len(s) > 1]
    for s in sccs:
        members = set(s)
        print(f"cycle of {len(s)} files: " + " ".join(rel(x) for x in s))
        for x in s:
            for y in sorted(edges[x] & members):
                print(f"  {rel(x)} -> {rel(y)}  ({why[(x, y)]})")
    print(f"check_no_cycles: {len(files)} files, {sum(len(v) for v in edges.values())} edges, "
          f"{len(sccs)} strongly connected sets")
    return 1 if sccs else 0


if __name__ == "__main__":
    sys.exit(main())
