#!/usr/bin/env python3
"""Golden vectors from current XGBoost (3.x): trains varied models, records XGBoost's own output.

    $(tools/venv.sh) tools/gen_golden3.py                  # the 3.4 set -> tests/golden/xgb3/
    <python with xgboost X> tools/gen_golden3.py --set versions --out tests/golden/xgb3/vX
                                                           # the version-behaviour cases

Files per model as in tools/gen_golden.py (<name>.json|.ubj, .rows.csv, .margin.csv, .pred.csv)
plus manifest.json entries with "args" (extra `kite score` options, e.g. --best-iteration) and
"xgboost" (the version that wrote it). Every float is written with %.9g (reads back as the same
float32), so tests/golden/golden_check.py can demand margins and predictions equal bit for bit.
Categorical rows may hold the training DataFrame's category strings: kite codes them by the
model's own dictionary (learner.gradient_booster.model.cats, XGBoost 3.1+).
"""
import argparse
import json
import os
import sys
import warnings

import numpy as np
import pandas as pd
import xgboost as xgb

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gen_golden import N_FEAT, N_TEST, N_TRAIN, make_data, target, write_out  # noqa: E402

warnings.filterwarnings("ignore")
VERSION = tuple(int(p) for p in xgb.__version__.split(".")[:3] if p.isdigit())


def fmt_cell(v):
    if isinstance(v, str):
        return v
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return ""
    return "%.9g" % v


def write_table(path, names, rows):
    with open(path, "w") as f:
        f.write(",".join(names) + "\n")
        for row in rows:
            f.write(",".join(fmt_cell(v) for v in row) + "\n")


class Golden:
    def __init__(self, out):
        self.out = out
        self.manifest = []

    def add(self, name, bst, fmt_, names, rows, margin, pred, notes, args=()):
        model_file = "%s.%s" % (name, fmt_)
        bst.save_model(os.path.join(self.out, model_file))
        write_table(os.path.join(self.out, name + ".rows.csv"), names, rows)
        write_out(os.path.join(self.out, name + ".margin.csv"), "margin", margin)
        write_out(os.path.join(self.out, name + ".pred.csv"), "prediction", pred)
        cfg = json.loads(bst.save_config())
        self.manifest.append({
            "name": name, "model": model_file, "rows": name + ".rows.csv",
            "margin": name + ".margin.csv", "pred": name + ".pred.csv",
            "objective": cfg["learner"]["objective"]["name"], "trees": bst.num_boosted_rounds(),
            "notes": notes, "args": list(args), "xgboost": xgb.__version__,
        })
        print("%-28s %-22s %5d rounds %s %s" % (name, self.manifest[-1]["objective"],
                                                 bst.num_boosted_rounds(), model_file, " ".join(args)))

    def add_dense(self, name, bst, fmt_, names, x, notes, args=(), iteration_range=None, **dm):
        d = xgb.DMatrix(x, feature_names=names, **dm)
        kw = {"iteration_range": iteration_range} if iteration_range else {}
        margin = bst.predict(d, output_margin=True, **kw)
        pred = bst.predict(d, **kw)
        self.add(name, bst, fmt_, names, [list(r) for r in x], margin, pred, notes, args)

    def save(self):
        with open(os.path.join(self.out, "manifest.json"), "w") as f:
            json.dump({"xgboost": xgb.__version__, "models": self.manifest}, f, indent=1)


def train(params, x, y, rounds, names, **dm):
    d = xgb.DMatrix(x, label=y, feature_names=names, **dm)
    return xgb.train(dict(params, seed=1, nthread=1), d, rounds)


# name, label kind, params, rounds, save format, notes
PLAIN = [
    ("binary_logistic_d6", "binary", {"objective": "binary:logistic", "max_depth": 6}, 100, "json",
     "the common case; 3.x list intercept"),
    ("binary_logistic_base", "binary", {"objective": "binary:logistic", "max_depth": 4, "base_score": 0.3}, 20,
     "ubj", "base_score through logit; UBJSON"),
    ("binary_logistic_bs0", "binary", {"objective": "binary:logistic", "max_depth": 3, "base_score": 0.0}, 5,
     "json", "base_score 0: 3.2+ clamps it to 1e-6"),
    ("binary_logistic_bs1", "binary", {"objective": "binary:logistic", "max_depth": 3, "base_score": 1.0}, 5,
     "json", "base_score 1: 3.2+ clamps it to 1-1e-6"),
    ("binary_logistic_bs_tiny", "binary", {"objective": "binary:logistic", "max_depth": 3, "base_score": 1e-9}, 5,
     "ubj", "base_score 1e-9: clamped"),
    ("binary_logitraw", "binary", {"objective": "binary:logitraw", "max_depth": 3, "base_score": 0.2}, 10, "json", ""),
    ("binary_hinge", "binary", {"objective": "binary:hinge", "max_depth": 3}, 10, "json", ""),
    ("reg_logistic", "unit", {"objective": "reg:logistic", "max_depth": 5}, 30, "json", ""),
    ("reg_squarederror_d1", "reg", {"objective": "reg:squarederror", "max_depth": 1}, 50, "json", "stumps"),
    ("reg_squarederror_d3", "reg", {"objective": "reg:squarederror", "max_depth": 3}, 40, "ubj", ""),
    ("reg_squarederror_d8", "reg", {"objective": "reg:squarederror", "max_depth": 8}, 30, "json", ""),
    ("reg_squarederror_d12", "reg", {"objective": "reg:squarederror", "max_depth": 12, "min_child_weight": 0}, 20,
     "ubj", "deep trees"),
    ("reg_lossguide_255", "reg", {"objective": "reg:squarederror", "tree_method": "hist", "grow_policy": "lossguide",
                                  "max_leaves": 255, "max_depth": 0, "min_child_weight": 0}, 20, "json",
     "255-leaf lossguide trees"),
    ("reg_squaredlogerror", "positive", {"objective": "reg:squaredlogerror", "max_depth": 4}, 20, "json", ""),
    ("reg_pseudohubererror", "reg", {"objective": "reg:pseudohubererror", "max_depth": 4}, 20, "json", ""),
    ("reg_absoluteerror", "reg", {"objective": "reg:absoluteerror", "max_depth": 4}, 20, "json", ""),
    ("reg_quantile_one", "reg", {"objective": "reg:quantileerror", "quantile_alpha": 0.7, "max_depth": 4}, 20,
     "json", "one quantile"),
    ("reg_quantile_multi", "reg", {"objective": "reg:quantileerror", "quantile_alpha": [0.45, 0.5, 0.55],
                                   "max_depth": 6, "eta": 1.0}, 8, "json",
     "three quantiles (multi-target list intercept; 3.4 sorts the outputs per row)"),
    ("reg_expectile", "reg", {"objective": "reg:expectileerror", "expectile_alpha": [0.2, 0.8], "max_depth": 4}, 15,
     "ubj", "two expectiles"),
    ("count_poisson", "count", {"objective": "count:poisson", "max_depth": 4}, 30, "json", ""),
    ("reg_gamma", "positive", {"objective": "reg:gamma", "max_depth": 4, "base_score": 2.0}, 30, "ubj",
     "base_score through log"),
    ("reg_tweedie", "positive", {"objective": "reg:tweedie", "max_depth": 4, "tweedie_variance_power": 1.3}, 30,
     "json", ""),
    ("multi_softprob4", "multi4", {"objective": "multi:softprob", "num_class": 4, "max_depth": 4}, 25, "json",
     "per-class intercepts (log-frequencies minus their mean)"),
    ("multi_softmax3", "multi3", {"objective": "multi:softmax", "num_class": 3, "max_depth": 3}, 15, "ubj", ""),
    ("rank_pairwise", "rank", {"objective": "rank:pairwise", "max_depth": 4}, 20, "json", ""),
    ("rank_ndcg", "rank", {"objective": "rank:ndcg", "max_depth": 4}, 20, "json", ""),
    ("rank_map", "rankbin", {"objective": "rank:map", "max_depth": 4}, 20, "ubj", ""),
    ("dart_binary", "binary", {"booster": "dart", "objective": "binary:logistic", "max_depth": 4, "rate_drop": 0.3,
                               "skip_drop": 0.0, "eta": 0.3}, 30, "json", "dart: weight_drop (3.4: inside model)"),
    ("dart_gbtree_ubj", "reg", {"objective": "reg:squarederror", "max_depth": 3, "rate_drop": 0.5,
                                "normalize_type": "forest"}, 20, "ubj",
     "gbtree with dropout parameters (3.4's dart), forest normalisation, UBJSON"),
    ("one_tree", "binary", {"objective": "binary:logistic", "max_depth": 6}, 1, "json", "a single tree"),
    ("single_leaf", "reg", {"objective": "reg:squarederror", "max_depth": 6, "gamma": 1e9}, 5, "json",
     "0-depth trees: every tree is one leaf"),
    ("trees_5000", "binary", {"objective": "binary:logistic", "max_depth": 2, "eta": 0.01}, 5000, "ubj",
     "5,000 trees"),
    ("random_forest", "reg", {"objective": "reg:squarederror", "max_depth": 5, "num_parallel_tree": 4,
                              "subsample": 0.8, "colsample_bynode": 0.8}, 5, "json", "num_parallel_tree"),
    ("multi_forest", "multi3", {"objective": "multi:softprob", "num_class": 3, "max_depth": 3,
                                "num_parallel_tree": 2, "subsample": 0.8}, 6, "json",
     "num_parallel_tree x num_class trees per iteration"),
]


def labels(kind, x, rng):
    if kind == "rankbin":
        return (target(x, "binary", rng) > 0).astype(np.float32)
    return target(x, kind, rng)


def gen_plain(g, rng, names, x_train, x_test):
    for name, kind, params, rounds, fmt_, notes in PLAIN:
        y = labels(kind, x_train, rng)
        d = xgb.DMatrix(x_train, label=y, feature_names=names)
        if kind.startswith("rank"):
            d.set_group([20] * (N_TRAIN // 20))
        bst = xgb.train(dict(params, seed=1, nthread=1), d, rounds)
        g.add_dense(name, bst, fmt_, names, x_test, notes)


def gen_sigmoid_floor(g, rng, names, x_train, x_test):
    """Margins far below -88.7, where XGBoost's sigmoid floors (its expf argument is capped).
    Logistic loss never grows leaves that large, so the trees are fitted by a custom objective
    (squared error towards margins of +-150); the model is still binary:logistic as XGBoost
    saves and predicts it."""
    goal = np.where(np.nan_to_num(x_train[:, 0]) > 0, 150.0, -150.0)

    def obj(predt, dtrain):
        return predt - goal, np.ones_like(predt)

    d = xgb.DMatrix(x_train, label=(goal > 0).astype(np.float32), feature_names=names)
    bst = xgb.train({"objective": "binary:logistic", "max_depth": 3, "eta": 1.0, "seed": 1, "nthread": 1},
                    d, 10, obj=obj)
    m = bst.predict(xgb.DMatrix(x_test, feature_names=names), output_margin=True)
    print("  sigmoid_floor: margin range %.1f .. %.1f, %d below -88.7" % (m.min(), m.max(), (m < -88.7).sum()))
    assert (m < -88.7).sum() > 10
    g.add_dense("sigmoid_floor", bst, "json", names, x_test, "margins below -88.7 (sigmoid floor)")


def gen_multi_target(g, rng, names, x_train, x_test):
    x0 = np.nan_to_num(x_train[:, 0])
    x3 = np.nan_to_num(x_train[:, 3])
    y = np.stack([x0 + 0.1 * rng.normal(size=len(x0)), x3 - x0, np.abs(x3)], axis=1).astype(np.float32)
    bst = train({"objective": "reg:squarederror", "max_depth": 4, "tree_method": "hist"}, x_train, y, 10, names)
    g.add_dense("multi_target_reg", bst, "json", names, x_test, "3 targets, one output per tree")
    bst = train({"objective": "reg:squarederror", "max_depth": 4, "tree_method": "hist",
                 "multi_strategy": "multi_output_tree"}, x_train, y, 10, names)
    g.add_dense("vector_leaf_reg", bst, "json", names, x_test, "multi_output_tree: vector leaves, 3 targets")
    bst = train({"objective": "reg:squarederror", "max_depth": 3, "tree_method": "hist",
                 "multi_strategy": "multi_output_tree"}, x_train, y[:, :2], 8, names)
    g.add_dense("vector_leaf_ubj", bst, "ubj", names, x_test, "vector leaves, 2 targets, UBJSON")
    yk = target(x_train, "multi4", rng)
    bst = train({"objective": "multi:softprob", "num_class": 4, "max_depth": 3, "tree_method": "hist",
                 "multi_strategy": "multi_output_tree"}, x_train, yk, 8, names)
    g.add_dense("vector_leaf_softprob", bst, "json", names, x_test, "vector leaves, 4 classes")


def gen_survival(g, rng, names, x_train, x_test):
    x0 = np.nan_to_num(x_train[:, 0])
    t = np.exp(0.5 * x0 + 0.3 * rng.normal(size=len(x0))).astype(np.float32)
    event = rng.random(len(t)) < 0.7
    bst = train({"objective": "survival:cox", "max_depth": 3}, x_train, np.where(event, t, -t), 15, names)
    g.add_dense("survival_cox", bst, "json", names, x_test, "Cox: prediction exp(margin)")
    d = xgb.DMatrix(x_train, feature_names=names)
    d.set_float_info("label_lower_bound", t)
    d.set_float_info("label_upper_bound", np.where(event, t, np.inf))
    bst = xgb.train({"objective": "survival:aft", "max_depth": 3, "seed": 1, "nthread": 1,
                     "aft_loss_distribution": "logistic", "aft_loss_distribution_scale": 1.2}, d, 15)
    g.add_dense("survival_aft", bst, "ubj", names, x_test, "AFT: prediction exp(margin)")


def gen_early_stopping(g, rng, names, x_train, x_test):
    y = target(x_train, "binary", rng)
    yv = target(x_test, "binary", rng)
    dtr = xgb.DMatrix(x_train, label=y, feature_names=names)
    dv = xgb.DMatrix(x_test, label=yv, feature_names=names)
    bst = xgb.train({"objective": "binary:logistic", "max_depth": 6, "eta": 0.5, "seed": 1, "nthread": 1},
                    dtr, 300, evals=[(dv, "valid")], early_stopping_rounds=5, verbose_eval=False)
    best = bst.best_iteration
    print("  early stopping: best_iteration %d of %d" % (best, bst.num_boosted_rounds()))
    assert best + 1 < bst.num_boosted_rounds()
    # The sklearn wrapper's predict uses iteration_range (0, best_iteration + 1).
    g.add_dense("early_stop_best", bst, "json", names, x_test, "early stopping, scored to best_iteration",
                args=["--best-iteration"], iteration_range=(0, best + 1))
    g.add_dense("early_stop_all", bst, "json", names, x_test, "early stopping, every tree (the default)")
    g.add_dense("iteration_range", bst, "json", names, x_test, "--iteration-range 2:7",
                args=["--iteration-range", "2:7"], iteration_range=(2, 7))


COLORS = ["red", "green", "blue", "cyan", "magenta", "yellow", "black", "white", "grey", "navy", "olive", "teal"]


def cat_frame(rng, n):
    df = pd.DataFrame({
        "num_a": rng.normal(size=n).astype(np.float32),
        "color": pd.Categorical(rng.choice(COLORS, size=n), categories=sorted(COLORS)),
        "num_b": rng.normal(size=n).astype(np.float32),
        "size": pd.Categorical(rng.choice(["S", "M", "L"], size=n), categories=["L", "M", "S"]),
    })
    return df


def gen_categorical(g, rng):
    """Trained from pandas categoricals (so the model carries `cats`), with missing categories
    put where the right branch wins, so some categorical nodes default right."""
    n = N_TRAIN
    df = cat_frame(rng, n)
    good = np.isin(np.asarray(df.color, dtype=object), ["red", "blue", "white", "teal"])
    lin = df.num_a + good * 1.5 - (np.asarray(df["size"], dtype=object) == "S") + 0.2 * rng.normal(size=n)
    y = (lin > 0.5).astype(np.float32)
    miss = rng.random(n) < 0.15
    y[miss] = 1.0                           # missing colour: mostly positive -> default right
    df.loc[miss, "color"] = np.nan
    df.loc[rng.random(n) < 0.05, "num_b"] = np.nan
    params = {"objective": "binary:logistic", "tree_method": "hist", "max_depth": 5, "max_cat_to_onehot": 4,
              "seed": 1, "nthread": 1}
    bst = xgb.train(params, xgb.DMatrix(df, label=y, enable_categorical=True), 30)
    j = json.loads(bst.save_raw("json"))
    right = sum(1 for t in j["learner"]["gradient_booster"]["model"]["trees"]
                for st, dl, lc in zip(t["split_type"], t["default_left"], t["left_children"])
                if st == 1 and lc != -1 and not dl)
    print("  categorical: %d categorical nodes default right" % right)
    assert right > 0
    names = list(df.columns)
    m = N_TEST
    test = cat_frame(rng, m)
    test.loc[::17, "color"] = np.nan
    test.loc[::13, "num_b"] = np.nan
    # Strings as the user's DataFrame holds them; XGBoost re-codes them by its dictionary.
    d = xgb.DMatrix(test, enable_categorical=True)
    rows = [[r.num_a, (None if pd.isna(r.color) else str(r.color)), r.num_b, str(r.size)]
            for r in test.itertuples(index=False)]
    g.add("categorical_strings", bst, "json", names, rows, bst.predict(d, output_margin=True), bst.predict(d),
          "pandas categoricals (model carries cats); rows hold the category strings")
    # The same model fed codes, with invalid ones: negative, past the bitset, >= 2^24, fractional.
    codes = np.asarray(test.color.cat.codes, dtype=np.float32)
    codes[codes < 0] = np.nan
    codes[5::31] = -1.0
    codes[7::29] = 40.0
    codes[11::41] = 16777216.0
    codes[9::37] = 3.7
    size = np.asarray(test["size"].cat.codes, dtype=np.float32)
    size[3::23] = 7.0
    x = np.stack([test.num_a.to_numpy(np.float32), codes, test.num_b.to_numpy(np.float32), size], axis=1)
    g.add_dense("categorical_codes", bst, "ubj", names, x,
                "the same model fed codes: invalid categories go left in 1.7.3+, default right nodes",
                feature_types=["q", "c", "q", "c"], enable_categorical=True)
    return bst


def gen_versions(g, rng, names, x_train, x_test):
    """The cases whose behaviour depends on the XGBoost version that wrote the model."""
    y = target(x_train, "binary", rng)
    dart = {"booster": "dart", "objective": "binary:logistic", "max_depth": 3, "rate_drop": 0.4,
            "skip_drop": 0.0}
    bst = train(dart, x_train, y, 12, names)
    g.add_dense("dart", bst, "json", names, x_test, "dart layout of this version")
    yk = target(x_train, "multi3", rng)
    bst = train({"objective": "multi:softprob", "num_class": 3, "max_depth": 3}, x_train, yk, 8, names)
    g.add_dense("multi_softprob3", bst, "json", names, x_test, "multi-class intercept of this version")
    if VERSION >= (3, 2, 0):
        bst = train({"objective": "binary:logistic", "max_depth": 3, "base_score": 0.0}, x_train, y, 4, names)
        g.add_dense("logistic_bs0", bst, "json", names, x_test, "base_score 0 (clamped from 3.2)")
    # Categorical node defaulting right, fed invalid codes.
    n = N_TRAIN
    c = rng.integers(0, 12, size=n).astype(np.float32)
    a = rng.normal(size=n).astype(np.float32)
    yc = ((a + np.isin(c, [1, 4, 7, 9]) * 1.5) > 0.5).astype(np.float32)
    miss = rng.random(n) < 0.2
    c[miss] = np.nan
    yc[miss] = 1.0
    xc = np.stack([a, c], axis=1)
    fn = ["num_a", "color"]
    params = {"objective": "binary:logistic", "tree_method": "hist", "max_depth": 4, "max_cat_to_onehot": 1}
    bst = train(params, xc, yc, 10, fn, feature_types=["q", "c"], enable_categorical=True)
    xt = np.stack([rng.normal(size=N_TEST).astype(np.float32),
                   rng.integers(0, 12, size=N_TEST).astype(np.float32)], axis=1)
    xt[::11, 1] = -1.0
    xt[3::13, 1] = 40.0
    xt[5::17, 1] = 16777216.0
    xt[7::19, 1] = np.nan
    g.add_dense("categorical_default_right", bst, "json", fn, xt,
                "invalid categories at nodes defaulting right (default way before 1.7.3, left after)",
                feature_types=["q", "c"], enable_categorical=True)


def gen_refused(out, rng, names, x_train):
    """Model kinds kite refuses (tests/e2e/golden3_paths.py checks the one-line message)."""
    os.makedirs(out, exist_ok=True)
    y = target(x_train, "reg", rng)
    bst = train({"booster": "gblinear", "objective": "reg:squarederror"}, x_train, y, 5, names)
    bst.save_model(os.path.join(out, "gblinear.json"))
    print("refused: gblinear.json")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "tests", "golden",
                                                  "xgb3"))
    ap.add_argument("--set", choices=["full", "versions", "refused"], default="full")
    ap.add_argument("--seed", type=int, default=20261202)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    rng = np.random.default_rng(args.seed)
    names = ["f%02d" % i for i in range(N_FEAT)]
    x_train = make_data(rng, N_TRAIN)
    x_test = make_data(rng, N_TEST, missing=0.15)
    g = Golden(args.out)
    print("xgboost", xgb.__version__)
    if args.set == "refused":
        gen_refused(args.out, rng, names, x_train)
        return 0
    if args.set == "versions":
        gen_versions(g, rng, names, x_train, x_test)
    else:
        gen_plain(g, rng, names, x_train, x_test)
        gen_sigmoid_floor(g, rng, names, x_train, x_test)
        gen_multi_target(g, rng, names, x_train, x_test)
        gen_survival(g, rng, names, x_train, x_test)
        gen_early_stopping(g, rng, names, x_train, x_test)
        gen_categorical(g, rng)
        gen_versions(g, rng, names, x_train, x_test)
    g.save()
    return 0


if __name__ == "__main__":
    sys.exit(main())
