#!/usr/bin/env python3
"""rename.py REPO [--dry-run] [--public-members] [--more-internal FILE]: issue 14's names, re-runnable.

Applies a fixed, explicit mapping old -> new to the tracked files of REPO (a git checkout),
word for word (regex word boundaries), and is idempotent: a second run changes nothing, and a
run after merging someone's branch renames only what the merge brought back.

  (a) INTERNAL: non-static functions and globals named kite_* that no `*/include/kite/*.h`
      header declares are cross-file internals: kite_X -> kite__X (libuv's uv__). Taken from
      nm of every object of the build (libraries, CLI, tests) plus kite_margins_neon (built
      on AArch64 only). Public names (declared in include/kite/) are never in it. After a
      merge brings new ones, `ctest -R check_symbols` lists them: save its output and pass
      it as --more-internal FILE (or add the names here).
  (b) KF: the generic kf_* functions engine/features exports -> kite__features_*.
  (c) STRUCTS: structs whose member prefix another, unrelated struct also uses get a prefix of
      their own, per struct: (type name, old prefix, new prefix). The members are read from
      the struct's definition in REPO at run time (so a member added by a merge is included);
      a member is renamed only where it is one: in the struct's definition, after `.` or `->`
      (designated initializers `.x =` included), in offsetof(T, x), and in the comments of
      files that use the struct (that mention its type or include, directly or not, its
      header). A member name some other struct also declares is refused, not renamed.
      PUBLIC_STRUCTS (members of structs in include/kite/ headers) only with --public-members:
      the public API is not renamed by default.

Where names are replaced:
  - C/H: code and comments; never inside string or character literals (metric names, JSON
    keys and messages stay). Names in USER_FACING (also a Prometheus metric name) only in code.
  - CMake (*.cmake, CMakeLists.txt), *.py, *.sh: everywhere except USER_FACING names.
  - ARCHITECTURE.md: only inside code (`spans` and fenced blocks); other .md files are left
    (user-facing or dated records).
  - SPECIAL: literal edits for names built from a prefix: perf/perf_check.sh's callgrind
    toggle on kite_margins_<kernel> also takes kite__margins_<kernel> (scalar is public, the
    vector kernels are internal); the kite_json_ prefix in bench/event_path_callgrind.sh;
    the "add a kernel" recipe in ARCHITECTURE.md.

Refuses (exit 1, nothing written) when an old and its new name both occur (two things would
become one). Prints the mapping count, then per file the replacements made (or to be made).
"""
import argparse
import collections
import pathlib
import re
import subprocess
import sys

INTERNAL = [
    "kite_chi2_sf",
    "kite_cli_delimiter",
    "kite_cli_json_begin",
    "kite_cli_json_end",
    "kite_cli_json_result",
    "kite_cli_json_string",
    "kite_cli_load_forest",
    "kite_cli_load_forest_rounds",
    "kite_cli_now",
    "kite_cli_number",
    "kite_cmd_bench",
    "kite_cmd_broker",
    "kite_cmd_capacity",
    "kite_cmd_drift",
    "kite_cmd_featurize",
    "kite_cmd_info",
    "kite_cmd_produce",
    "kite_cmd_profile",
    "kite_cmd_score",
    "kite_cmd_serve",
    "kite_drift_chi2",
    "kite_drift_cli_featurize",
    "kite_drift_cli_predict",
    "kite_drift_cli_split",
    "kite_drift_cli_task",
    "kite_drift_cli_times",
    "kite_drift_js",
    "kite_drift_ks",
    "kite_drift_ks_totals",
    "kite_drift_psi",
    "kite_drift_psi_prepare",
    "kite_drift_psi_prepared",
    "kite_drift_push_event",
    "kite_drift_wasserstein",
    "kite_drift_wasserstein_totals",
    "kite_drift_window_check",
    "kite_drift_ztest",
    "kite_event_json_free",
    "kite_event_json_get",
    "kite_event_json_parse",
    "kite_event_map_free",
    "kite_event_map_keeps_state",
    "kite_event_map_new",
    "kite_event_map_num_features",
    "kite_event_map_parse",
    "kite_event_map_row",
    "kite_event_state_evicted",
    "kite_event_state_free",
    "kite_event_state_new",
    "kite_feature_spec_parse_features",
    "kite_featurizer_close",
    "kite_featurizer_load_matrix",
    "kite_featurizer_next",
    "kite_featurizer_open",
    "kite_featurizer_write_raw",
    "kite_gamma_q",
    "kite_http_conn_append",
    "kite_http_conn_error",
    "kite_http_conn_json_string",
    "kite_http_conn_printf",
    "kite_http_conn_reset_resp",
    "kite_http_counters_add",
    "kite_http_metrics_prom",
    "kite_http_metrics_render",
    "kite_http_metrics_status_render",
    "kite_http_model_acquire",
    "kite_http_model_feature",
    "kite_http_model_free",
    "kite_http_model_load",
    "kite_http_model_release",
    "kite_http_now_ns",
    "kite_http_page_html",
    "kite_http_page_html_len",
    "kite_http_predict",
    "kite_http_server_new_id",
    "kite_http_slot_get",
    "kite_http_slot_get_unpinned",
    "kite_http_status_index",
    "kite_json_end",
    "kite_json_expect",
    "kite_json_init",
    "kite_json_offset",
    "kite_json_peek",
    "kite_json_skip",
    "kite_json_string",
    "kite_json_unescape",
    "kite_json_unescape_in_place",
    "kite_json_value",
    "kite_kafka_conf_apply_user",
    "kite_kafka_conf_set",
    "kite_kolmogorov_sf",
    "kite_kstwo_sf",
    "kite_label_buffer_free",
    "kite_label_buffer_init",
    "kite_label_buffer_put",
    "kite_label_buffer_take",
    "kite_margins_avx2",
    "kite_margins_avx512",
    "kite_margins_avx512vbmi",
    "kite_margins_neon",
    "kite_model_swap_changed",
    "kite_model_swap_describe",
    "kite_model_swap_free",
    "kite_model_swap_initial",
    "kite_model_swap_leave",
    "kite_model_swap_new",
    "kite_model_swap_reclaim",
    "kite_model_swap_reload",
    "kite_model_swap_render",
    "kite_now_us",
    "kite_offsets_done",
    "kite_offsets_free",
    "kite_offsets_new",
    "kite_output_alert",
    "kite_output_dead_letter",
    "kite_output_prediction",
    "kite_output_shadow",
    "kite_output_text",
    "kite_process_cpu_us",
    "kite_row_margins",
    "kite_serve_http_arg",
    "kite_serve_http_help",
    "kite_serve_http_listen",
    "kite_serve_http_main",
    "kite_serve_http_opts_init",
    "kite_shadow_free",
    "kite_shadow_new",
    "kite_shadow_observe",
    "kite_shadow_render",
    "kite_sink_produce",
    "kite_sink_start",
    "kite_sink_stop",
    "kite_sink_wait_empty",
    "kite_source_close",
    "kite_source_drain_all",
    "kite_source_start",
    "kite_source_store_offsets",
    "kite_spec_json_check_keys",
    "kite_spec_json_int",
    "kite_spec_json_number",
    "kite_spec_json_string",
    "kite_tree_value_scalar",
    "kite_txn_consumer_conf",
    "kite_txn_failed",
    "kite_txn_finish",
    "kite_txn_free",
    "kite_txn_new",
    "kite_txn_producer_conf",
    "kite_txn_start",
    "kite_txn_tick",
    "kite_ubjson_parse",
    "kite_worker_apply_deliveries",
    "kite_worker_apply_labels",
    "kite_worker_main",
    "kite_worker_park",
    "kite_worker_unpark",
]

KF = {
    "kf_compute": "kite__features_compute",
    "kf_eval_build": "kite__features_eval_build",
    "kf_fill_gap": "kite__features_fill_gap",
    "kf_prefetch": "kite__features_prefetch",
    "kf_push": "kite__features_push",
}

# Also a metric name (kite_drift_psi{feature=...}): the function is renamed in C code only.
USER_FACING = {"kite_drift_psi"}

# (type, old prefix, new prefix): the first struct keeps the shared prefix, these move.
STRUCTS = [
    ("kite_http_counters", "hc", "hct"),        # kite_http_conn keeps hc_
    ("kf_accop", "kfa", "kao"),                 # kf_acc keeps kfa_
    ("kite_retry", "kr", "krt"),                # kite_ring (public) keeps kr_
    ("kite_feature_spec", "ks", "ksp"),         # kite_stats (public) keeps ks_
    ("kite_json_scalar", "ks", "kjs"),
    ("kite_served", "ks", "ksv"),
    ("kite_txn", "kt", "ktx"),                  # kite_tree (public) keeps kt_
    ("map_seen", "ms", "msn"),                  # kite_metrics_server keeps ms_
    ("simd_rows", "sr", "srw"),                 # kite__status_series keeps sr_
    ("sweep_run", "sr", "swp"),
    ("kite_swap_seen", "ss", "sws"),            # kite__status_sample keeps ss_
    ("kite_model_swap_reader", "sw", "swr"),    # kite_model_swap keeps sw_
]
# Shared prefixes between two public structs: renaming changes the public API.
PUBLIC_STRUCTS = [
    ("kite_cat_ref", "kc", "kct"),              # kite_config keeps kc_
    ("kite_matrix", "km", "kmx"),               # kite_model keeps km_
    ("kite_profile", "kp", "kpf"),              # kite_perfect keeps kp_
    ("kite_prom", "kp", "kpr"),
    ("kite_pipeline_totals", "kpt", "ktl"),     # kite_ptree keeps kpt_
]

SPECIAL = [  # (path, old text, new text): literal edits the word mapping cannot make
    ("perf/perf_check.sh", '--toggle-collect="kite_margins_$1" ',
     '--toggle-collect="kite_margins_$1" --toggle-collect="kite__margins_$1" '),
    ("bench/event_path_callgrind.sh", "|kite_json_|", "|kite__json_|"),  # a prefix, not a word
    ("ARCHITECTURE.md", "Declare `kite_margins_<isa>` in `traverse.h`",
     "Declare `kite__margins_<isa>` in `traverse.h`"),
]

C_EXT = (".c", ".h")
WHOLE_EXT = (".cmake", ".py", ".sh")


def c_segments(text):
    """Splits C text into (kind, text) with kind "code", "comment" or "literal"."""
    out, i, n, start = [], 0, len(text), 0
    while i < n:
        c = text[i]
        if c == "/" and text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
        elif c == "/" and text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            j = min(j + 1, n)
        else:
            i += 1
            continue
        if start < i:
            out.append(("code", text[start:i]))
        out.append(("comment" if c == "/" else "literal", text[i:j]))
        start = i = j
    if start < n:
        out.append(("code", text[start:]))
    return out


def strip_c(text):
    return "".join(s if k == "code" else re.sub(r"[^\n]", " ", s) for k, s in c_segments(text))


def strip_literals(text):
    return "".join(s if k != "literal" else '""' for k, s in c_segments(text))


def struct_bodies(text, name):
    """(start, end) spans of the definitions of struct `name` (tag or typedef name)."""
    clean = strip_c(text)
    spans = []
    for m in re.finditer(r"\b(?:struct|union)\s*(\w*)\s*\{", clean):
        i, depth = m.end(), 1
        while depth and i < len(clean):
            depth += {"{": 1, "}": -1}.get(clean[i], 0)
            i += 1
        after = re.match(r"\s*(\w+)", clean[i:])
        if m.group(1) == name or (after and after.group(1) == name and m.group(1) in ("", name)):
            spans.append((m.end(), i - 1))
    return spans


def top_members(body):
    body = strip_c(body)
    while re.search(r"\{[^{}]*\}", body):
        body = re.sub(r"\{[^{}]*\}", " ", body)
    names = []
    for decl in body.split(";"):
        decl = re.sub(r"\[[^\]]*\]", "", decl)
        decl = re.sub(r":\s*\w+\s*$", "", decl.strip())
        decl = re.sub(r"\([^()]*\)\s*$", "", decl)
        for part in decl.split(","):
            ids = re.findall(r"[A-Za-z_]\w*", part)
            if ids:
                names.append(ids[-1])
    return names


def word_re(names):
    if not names:
        return None
    return re.compile(r"\b(" + "|".join(sorted(map(re.escape, names), key=len, reverse=True)) + r")\b")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("repo", type=pathlib.Path)
    ap.add_argument("--dry-run", action="store_true", help="print what would change, write nothing")
    ap.add_argument("--public-members", action="store_true",
                    help="also rename the members of public structs in PUBLIC_STRUCTS")
    ap.add_argument("--more-internal", type=pathlib.Path, metavar="FILE",
                    help="more kite_ internals, the first word of each line (check_symbols' "
                         "output can be passed as is): each kite_X -> kite__X")
    a = ap.parse_args()
    repo = a.repo.resolve()
    internal = list(INTERNAL)
    if a.more_internal:
        for line in a.more_internal.read_text().splitlines():
            w = line.split()
            if w and re.fullmatch(r"kite_(?!_)\w+", w[0]) and w[0] not in internal:
                internal.append(w[0])
    files = subprocess.run(["git", "-C", str(repo), "ls-files"], check=True, capture_output=True,
                           text=True).stdout.split()
    text = {}
    for f in files:
        p = repo / f
        if f.startswith("tools/migrate/"):
            continue  # this script's own mapping, and any later migration's, is not renamed
        if p.is_file() and not p.is_symlink() and (f.endswith(C_EXT + WHOLE_EXT) or
                                                 p.name == "CMakeLists.txt" or f == "ARCHITECTURE.md"):
            text[f] = p.read_text(errors="surrogateescape")
    cfiles = [f for f in text if f.endswith(C_EXT)]

    funcs = {n: "kite__" + n[len("kite_"):] for n in internal}
    funcs.update(KF)

    # Members of each struct to rename, from its definition(s).
    structs = STRUCTS + (PUBLIC_STRUCTS if a.public_members else [])
    all_members = collections.defaultdict(set)  # member name -> structs declaring it
    for f in cfiles:
        clean = strip_c(text[f])
        for m in re.finditer(r"\b(?:struct|union)\s*(\w*)\s*\{", clean):
            i, depth = m.end(), 1
            while depth and i < len(clean):
                depth += {"{": 1, "}": -1}.get(clean[i], 0)
                i += 1
            after = re.match(r"\s*(\w+)", clean[i:])
            sname = m.group(1) or (after.group(1) if after else "?")
            for mem in top_members(clean[m.end():i - 1]):
                all_members[mem].add(sname)
    members = {}   # struct -> {old: new}
    done = set()   # (struct, member) already carrying the new prefix (an earlier run)
    homes = {}     # struct -> [(file, span)]
    problems = []
    for sname, old, new in structs:
        defs = [(f, sp) for f in cfiles for sp in struct_bodies(text[f], sname)]
        homes[sname] = defs
        mm = {}
        for f, (s, e) in defs:
            for mem in top_members(text[f][s:e]):
                if mem.startswith(new + "_"):
                    done.add((sname, mem))
                if mem.startswith(old + "_"):
                    others = all_members[mem] - {sname}
                    if others:
                        problems.append(f"{sname}.{mem}: also a member of {', '.join(sorted(others))}")
                        continue
                    mm[mem] = new + mem[len(old):]
        members[sname] = mm

    # An old name and its new one both present: refuse.
    # (Identifiers only: words in C string literals, and USER_FACING names outside C code, are
    # never renamed, so they do not count.)
    present, present_code = set(), set()
    for f, t in text.items():
        if f.endswith(C_EXT):
            present.update(re.findall(r"\b\w+\b", strip_literals(t)))
            present_code.update(re.findall(r"\b\w+\b", strip_c(t)))
        else:
            present.update(re.findall(r"\b\w+\b", t))
    for old, new in list(funcs.items()) + [kv for mm in members.values() for kv in mm.items()]:
        if (old in present_code if old in USER_FACING else old in present) and new in present:
            problems.append(f"{old} -> {new}: both names occur already")
    if problems:
        for p in problems:
            print("rename.py: refused: " + p, file=sys.stderr)
        return 1

    # Files that use each struct: define it, name its type, or include its header (transitively).
    by_base = collections.defaultdict(list)
    for f in cfiles:
        by_base[pathlib.PurePath(f).name].append(f)
    includes = {f: set(re.findall(r'^\s*#\s*include\s*[<"](?:kite/)?([^>"/]+)[>"]', text[f], re.M))
                for f in cfiles}

    def closure(f):
        seen, todo = set(), [f]
        while todo:
            g = todo.pop()
            for base in includes.get(g, ()):
                for h in by_base.get(base, ()):
                    if h not in seen:
                        seen.add(h)
                        todo.append(h)
        return seen

    closures = {f: closure(f) for f in cfiles}
    users = {}
    for sname, mm in members.items():
        home_files = {f for f, _ in homes[sname]}
        users[sname] = {f for f in cfiles if f in home_files or re.search(r"\b%s\b" % sname, text[f])
                        or (closures[f] & home_files)}

    fre_all = word_re(funcs)
    fre_plain = word_re([n for n in funcs if n not in USER_FACING])
    changed = {}
    for f, t in text.items():
        new = t
        n = 0
        if f.endswith(C_EXT):
            # (c) the struct definitions first (whole bodies, comments included).
            # Last body first: the spans are offsets into the text as read.
            bodies = [(s, e, mm) for sname, mm in members.items() if mm
                      for hf, (s, e) in homes[sname] if hf == f]
            for s, e, mm in sorted(bodies, key=lambda x: -x[0]):
                body2, k = word_re(mm).subn(lambda m, mm=mm: mm[m.group(1)], new[s:e])
                new, n = new[:s] + body2 + new[e:], n + k
            parts = []
            for kind, seg in c_segments(new):
                if kind == "code":
                    seg, k = fre_all.subn(lambda m: funcs[m.group(1)], seg)
                    n += k
                    for sname, mm in members.items():
                        if mm and f in users[sname]:
                            names = "|".join(sorted(map(re.escape, mm), key=len, reverse=True))
                            seg, k = re.subn(r"(\.|->)(\s*)(%s)\b" % names,
                                             lambda m: m.group(1) + m.group(2) + mm[m.group(3)], seg)
                            n += k
                            seg, k = re.subn(r"(offsetof\s*\([^,()]*,\s*)(%s)\b" % names,
                                             lambda m: m.group(1) + mm[m.group(2)], seg)
                            n += k
                elif kind == "comment":
                    if fre_plain:
                        seg, k = fre_plain.subn(lambda m: funcs[m.group(1)], seg)
                        n += k
                    for sname, mm in members.items():
                        if mm and f in users[sname]:
                            seg, k = word_re(mm).subn(lambda m: mm[m.group(1)], seg)
                            n += k
                parts.append(seg)
            new = "".join(parts)
        elif f == "ARCHITECTURE.md":
            allm = {o: nw for mm in members.values() for o, nw in mm.items()}
            rx = word_re(list(funcs) + list(allm))
            table = dict(funcs, **allm)

            def code(m):
                nonlocal n
                s, k = rx.subn(lambda w: table[w.group(1)], m.group(0))
                n += k
                return s
            new = re.sub(r"```.*?```|`[^`\n]+`", code, new, flags=re.S)
        else:
            new, n = fre_plain.subn(lambda m: funcs[m.group(1)], new)
        for path, old, repl in SPECIAL:
            if f == path and old in new and repl not in new:
                new = new.replace(old, repl)
                n += 1
        if new != t:
            changed[f] = (new, n)

    nmem = sum(len(mm) for mm in members.values())
    print(f"rename.py: {len(funcs) + nmem} mappings: {len(internal)} kite_ internals -> kite__, "
          f"{len(KF)} kf_ -> kite__features_, {nmem} members of {len(structs)} structs"
          f" ({len(done)} more members carry their new prefix already)")
    for f in sorted(changed):
        print(f"  {f}: {changed[f][1]} replacements")
    print(f"rename.py: {len(changed)} files, {sum(n for _, n in changed.values())} replacements"
          + (" (dry run: nothing written)" if a.dry_run else ""))
    if not a.dry_run:
        for f, (new, _) in changed.items():
            (repo / f).write_text(new, errors="surrogateescape")
    return 0


if __name__ == "__main__":
    sys.exit(main())
