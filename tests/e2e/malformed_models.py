#!/usr/bin/python3
"""Malformed models: each case must make `kite score` exit 1 with one line naming the problem.

Cases are derived from a real golden model (JSON and UBJSON), so they are the mistakes a real
file can have: truncation, wrong types, out-of-range children, cycles, features past
num_feature, absurd sizes, unsupported objectives and boosters."""
import copy
import json
import os
import subprocess
import sys
import tempfile

import kite_e2e


def case_list(model):
    tree0 = lambda m: m["learner"]["gradient_booster"]["model"]["trees"][0]
    cases = []

    def mutate(name, expect, fn):
        m = copy.deepcopy(model)
        fn(m)
        cases.append((name, json.dumps(m).encode(), expect))

    def set_(path_fn, key, value):
        return lambda m: path_fn(m).__setitem__(key, value)

    mutate("child out of range", "out of range", set_(tree0, "left_children", [99] + tree0(model)["left_children"][1:]))
    def cycle(m):
        t = tree0(m)
        internal = [i for i, l in enumerate(t["left_children"]) if l != -1]
        t["left_children"][internal[1]] = 0  # points back to the root
    mutate("cycle", "reached twice", cycle)
    def bad_feature(m):
        tree0(m)["split_indices"][0] = 1000
    mutate("feature >= num_feature", "split feature 1000 >= num_feature", bad_feature)
    mutate("wrong type: split_conditions", "expected a number",
           lambda m: tree0(m)["split_conditions"].__setitem__(0, "abc"))
    mutate("wrong type: trees", "expected an array",
           lambda m: m["learner"]["gradient_booster"]["model"].__setitem__("trees", {"a": 1}))
    mutate("array length mismatch", "has 2 elements, num_nodes is",
           lambda m: tree0(m).__setitem__("right_children", [1, 2]))
    mutate("absurd num_nodes", "num_nodes",
           lambda m: tree0(m)["tree_param"].__setitem__("num_nodes", "99999999999"))
    mutate("absurd num_trees", "num_trees",
           lambda m: m["learner"]["gradient_booster"]["model"]["gbtree_model_param"].__setitem__("num_trees", "1000000000000"))
    mutate("num_trees disagrees", "num_trees is",
           lambda m: m["learner"]["gradient_booster"]["model"]["gbtree_model_param"].__setitem__("num_trees", "7"))
    mutate("unsupported objective", "objective \"reg:made_up\" is not supported",
           lambda m: m["learner"]["objective"].__setitem__("name", "reg:made_up"))
    mutate("unsupported booster", "booster \"gblinear\" is not supported",
           lambda m: m["learner"]["gradient_booster"].__setitem__("name", "gblinear"))
    mutate("missing learner", "missing field \"learner\"", lambda m: m.pop("learner"))
    mutate("tree_info out of range", "tree_info[0]",
           lambda m: m["learner"]["gradient_booster"]["model"]["tree_info"].__setitem__(0, 5))
    mutate("bad base_score", "base_score",
           lambda m: m["learner"]["learner_model_param"].__setitem__("base_score", "abc"))
    mutate("logistic base_score out of range", "must be in (0, 1)",
           lambda m: m["learner"]["learner_model_param"].__setitem__("base_score", "1.5"))
    mutate("multi-class multi-target", "multi-class multi-target",
           lambda m: m["learner"]["learner_model_param"].update(num_target="3", num_class="4"))
    mutate("base_score list length", "base_score has 2 values for 3 outputs",
           lambda m: m["learner"]["learner_model_param"].update(num_target="3", base_score="[1E-1,2E-1]"))
    mutate("vector leaf size", "size_leaf_vector 2, but the model has 1 outputs",
           lambda m: tree0(m)["tree_param"].__setitem__("size_leaf_vector", "2"))
    mutate("one child missing", "one child is -1",
           lambda m: tree0(m)["right_children"].__setitem__(0, -1))
    text = json.dumps(model).encode()
    cases.append(("truncated JSON", text[: len(text) // 2], "malformed or truncated JSON"))
    cases.append(("empty file", b"", "empty file"))
    cases.append(("not JSON", b"hello world\n", "malformed or truncated JSON"))
    cases.append(("top-level array", b"[1, 2, 3]", "top level is not an object"))
    return cases


def ubj_cases(ubj):
    cases = [("truncated UBJSON", ubj[: len(ubj) // 3], "UBJSON offset")]
    # An array header claiming 2^40 elements: must be refused, not allocated.
    huge = b"{L\x00\x00\x00\x00\x00\x00\x00\x07learner[$d#L\x00\x00\x01\x00\x00\x00\x00\x00"
    cases.append(("UBJSON absurd count", huge, "element count larger than the file"))
    cases.append(("UBJSON unknown marker", b"{L\x00\x00\x00\x00\x00\x00\x00\x01aQ}", "unknown type marker"))
    return cases


def main():
    args, _ = kite_e2e.e2e_args("--kite", "--golden")
    model = json.load(open(os.path.join(args.golden, "binary_logistic_d6.json")))
    ubj = open(os.path.join(args.golden, "binary_logistic_base.ubj"), "rb").read()
    rows = os.path.join(args.golden, "binary_logistic_d6.rows.csv")
    cases = case_list(model) + ubj_cases(ubj)
    cases.append(("no such file", None, "No such file or directory"))
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        for i, (name, data, expect) in enumerate(cases):
            path = os.path.join(tmp, "case%02d.model" % i)
            if data is not None:
                open(path, "wb").write(data)
            res = subprocess.run([args.kite, "score", "--model", path, "--input", rows, "--quiet"],
                                 capture_output=True, text=True)
            lines = [l for l in res.stderr.splitlines() if l.strip()]
            ok = (res.returncode == 1 and len(lines) == 1 and expect in lines[0]
                  and res.stdout == "")
            print("%-4s %-34s exit=%d  %s" % ("ok" if ok else "FAIL", name, res.returncode,
                                              lines[0] if lines else "(no message)"))
            if not ok:
                print("      expected exit 1 and one line containing %r; stderr was:\n%s" % (expect, res.stderr))
            failures += not ok
    print("%d passed, %d failed" % (len(cases) - failures, failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
