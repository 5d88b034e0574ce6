#!/usr/bin/python3
"""Golden-vector generator: trains varied XGBoost models and records XGBoost's own predictions.

Writes into --out (default tests/golden/xgb1.7):
  <name>.json | <name>.ubj     the model, saved by Booster.save_model
  <name>.rows.csv              the rows to score (header = feature names, empty = missing)
  <name>.margin.csv            XGBoost's margins (predict(output_margin=True)), %.9g float32
  <name>.pred.csv              XGBoost's predictions (predict()), %.9g float32
  manifest.json                one entry per model: files, objective, groups, notes

Every float is written with %.9g, which reads back as the same float32, so the test can demand
margins equal bit for bit. Run with Debian's python3-xgboost: /usr/bin/python3 tools/gen_golden.py
"""
import argparse
import json
import os
import sys

import numpy as np
import pandas as pd
import xgboost as xgb

N_TRAIN = 2000
N_TEST = 500
N_FEAT = 32


def make_data(rng, n, n_feat=N_FEAT, missing=0.1):
    x = rng.normal(size=(n, n_feat)).astype(np.float32)
    x[:, 1] = rng.integers(0, 5, size=n)            # small integers: many ties on thresholds
    x[:, 2] = np.round(x[:, 2], 1)                  # values equal to split thresholds happen
    mask = rng.random(size=(n, n_feat)) < missing
    mask[:, 0] = False
    x[mask] = np.nan
    return x


def target(x, kind, rng):
    x0 = np.nan_to_num(x[:, 0])
    x3 = np.nan_to_num(x[:, 3])
    lin = x0 + 0.5 * np.nan_to_num(x[:, 1]) - 0.7 * x3 + 0.3 * rng.normal(size=len(x))
    if kind == "binary":
        return (lin > 0.5).astype(np.float32)
    if kind == "positive":
        return np.exp(0.3 * lin).astype(np.float32) + 0.01
    if kind == "count":
        return rng.poisson(np.exp(0.3 * lin)).astype(np.float32)
    if kind == "unit":
        return (1 / (1 + np.exp(-lin))).astype(np.float32)
    if kind.startswith("multi"):
        k = int(kind[5:])
        return np.clip(np.floor(lin + 1.5), 0, k - 1).astype(np.float32)
    if kind == "rank":
        return np.clip(np.floor(lin + 2), 0, 4).astype(np.float32)
    return lin.astype(np.float32)


def fmt(v):
    return "" if np.isnan(v) else "%.9g" % v


def write_rows(path, names, x):
    with open(path, "w") as f:
        f.write(",".join(names) + "\n")
        for row in x:
            f.write(",".join(fmt(v) for v in row) + "\n")


def write_out(path, prefix, values):
    values = np.asarray(values, dtype=np.float32)
    if values.ndim == 1:
        values = values[:, None]
    k = values.shape[1]
    with open(path, "w") as f:
        f.write((prefix if k == 1 else ",".join("%s_%d" % (prefix, i) for i in range(k))) + "\n")
        for row in values:
            f.write(",".join("%.9g" % v for v in row) + "\n")


# name, label kind, params, rounds, save format, notes
MODELS = [
    ("binary_logistic_d6", "binary", {"objective": "binary:logistic", "max_depth": 6}, 100, "json",
     "the common case; 10% missing values"),
    ("binary_logistic_base", "binary", {"objective": "binary:logistic", "max_depth": 4, "base_score": 0.3}, 20, "ubj",
     "non-default base_score through ProbToMargin (logit); UBJSON"),
    ("binary_logitraw", "binary", {"objective": "binary:logitraw", "max_depth": 3, "base_score": 0.2}, 10, "json", ""),
    ("binary_hinge", "binary", {"objective": "binary:hinge", "max_depth": 3}, 10, "json", ""),
    ("reg_logistic", "unit", {"objective": "reg:logistic", "max_depth": 5}, 30, "json", ""),
    ("reg_squarederror_d1", "reg", {"objective": "reg:squarederror", "max_depth": 1}, 50, "json", "stumps"),
    ("reg_squarederror_d12", "reg", {"objective": "reg:squarederror", "max_depth": 12, "min_child_weight": 0}, 20, "ubj",
     "deep trees"),
    ("reg_lossguide_255", "reg", {"objective": "reg:squarederror", "tree_method": "hist", "grow_policy": "lossguide",
                                  "max_leaves": 255, "max_depth": 0, "min_child_weight": 0}, 20, "json",
     "255-leaf lossguide trees"),
    ("reg_squaredlogerror", "positive", {"objective": "reg:squaredlogerror", "max_depth": 4}, 20, "json", ""),
    ("reg_pseudohubererror", "reg", {"objective": "reg:pseudohubererror", "max_depth": 4}, 20, "json", ""),
    ("reg_absoluteerror", "reg", {"objective": "reg:absoluteerror", "max_depth": 4}, 20, "json", ""),
    ("count_poisson", "count", {"objective": "count:poisson", "max_depth": 4}, 30, "json", ""),
    ("reg_gamma", "positive", {"objective": "reg:gamma", "max_depth": 4, "base_score": 2.0}, 30, "ubj",
     "base_score through log"),
    ("reg_tweedie", "positive", {"objective": "reg:tweedie", "max_depth": 4, "tweedie_variance_power": 1.3}, 30, "json", ""),
    ("multi_softprob4", "multi4", {"objective": "multi:softprob", "num_class": 4, "max_depth": 4}, 25, "json",
     "tree_info groups"),
    ("multi_softmax3", "multi3", {"objective": "multi:softmax", "num_class": 3, "max_depth": 3}, 15, "ubj", ""),
    ("rank_pairwise", "rank", {"objective": "rank:pairwise", "max_depth": 4}, 20, "json", ""),
    ("rank_ndcg", "rank", {"objective": "rank:ndcg", "max_depth": 4}, 20, "json", ""),
    ("dart_binary", "binary", {"booster": "dart", "objective": "binary:logistic", "max_depth": 4, "rate_drop": 0.3,
                               "skip_drop": 0.0, "eta": 0.3}, 30, "json", "dart weight_drop"),
    ("dart_reg_ubj", "reg", {"booster": "dart", "objective": "reg:squarederror", "max_depth": 3, "rate_drop": 0.5,
                             "normalize_type": "forest"}, 20, "ubj", "dart, forest normalisation, UBJSON"),
    ("one_tree", "binary", {"objective": "binary:logistic", "max_depth": 6}, 1, "json", "a single tree"),
    ("single_leaf", "reg", {"objective": "reg:squarederror", "max_depth": 6, "gamma": 1e9}, 5, "json",
     "0-depth trees: every tree is one leaf"),
    ("trees_5000", "binary", {"objective": "binary:logistic", "max_depth": 2, "eta": 0.01}, 5000, "ubj",
     "5,000 trees"),
    ("random_forest", "reg", {"objective": "reg:squarederror", "max_depth": 5, "num_parallel_tree": 4,
                              "subsample": 0.8, "colsample_bynode": 0.8}, 5, "json", "num_parallel_tree"),
]


def train_categorical(rng, out, manifest):
    """Categorical splits: partition-based (many categories) and one-hot (few)."""
    n = N_TRAIN
    df = pd.DataFrame({
        "num_a": rng.normal(size=n).astype(np.float32),
        "color": pd.Categorical(rng.integers(0, 12, size=n), categories=list(range(12))),
        "num_b": rng.normal(size=n).astype(np.float32),
        "flag": pd.Categorical(rng.integers(0, 3, size=n), categories=[0, 1, 2]),
    })
    lin = df.num_a + np.isin(df.color.astype(int), [1, 4, 7, 9]) * 1.5 - (df.flag.astype(int) == 2) + 0.2 * rng.normal(size=n)
    y = (lin > 0.5).astype(np.float32)
    df.loc[rng.random(n) < 0.05, "num_b"] = np.nan
    params = {"objective": "binary:logistic", "tree_method": "hist", "max_depth": 5, "max_cat_to_onehot": 4}
    d = xgb.DMatrix(df, label=y, enable_categorical=True)
    bst = xgb.train(params, d, 30)
    # Test rows: valid categories, missing, negative, beyond the bitset, fractional.
    m = N_TEST
    codes = rng.integers(0, 12, size=m).astype(np.float32)
    codes[::17] = np.nan
    codes[5::31] = -1.0
    codes[7::29] = 40.0
    codes[9::37] = 3.7
    flag = rng.integers(0, 3, size=m).astype(np.float32)
    flag[3::23] = 7.0
    x = np.stack([rng.normal(size=m).astype(np.float32), codes, rng.normal(size=m).astype(np.float32), flag], axis=1)
    x[::13, 2] = np.nan
    names = list(df.columns)
    dt = xgb.DMatrix(x, feature_names=names, feature_types=["q", "c", "q", "c"], enable_categorical=True)
    finish(out, manifest, "categorical", bst, "json", names, x, dt,
           "categorical splits (partition and one-hot), invalid and missing categories")


def train_wide_bins(out, manifest):
    """More than 255 distinct split values on a feature (the 16-bit-code kernel's case): the
    exact method on 8 features, 6 levels. Its own generator, so the models above keep theirs."""
    rng = np.random.default_rng(20261202)
    names = ["f%d" % i for i in range(8)]
    x = make_data(rng, N_TRAIN, n_feat=8)
    y = target(x, "reg", rng)
    params = {"objective": "reg:squarederror", "tree_method": "exact", "max_depth": 6,
              "min_child_weight": 0, "seed": 1, "nthread": 1}
    bst = xgb.train(params, xgb.DMatrix(x, label=y, feature_names=names), 150)
    xt = make_data(rng, N_TEST, n_feat=8, missing=0.3)
    finish(out, manifest, "reg_exact_wide_bins", bst, "json", names, xt,
           xgb.DMatrix(xt, feature_names=names),
           "exact method: features with more than 255 distinct split values; 30% missing")


def finish(out, manifest, name, bst, fmt_, names, x, dtest, notes):
    model_file = "%s.%s" % (name, fmt_)
    bst.save_model(os.path.join(out, model_file))
    margin = bst.predict(dtest, output_margin=True)
    pred = bst.predict(dtest)
    write_rows(os.path.join(out, name + ".rows.csv"), names, x)
    write_out(os.path.join(out, name + ".margin.csv"), "margin", margin)
    write_out(os.path.join(out, name + ".pred.csv"), "prediction", pred)
    cfg = json.loads(bst.save_config())
    manifest.append({
        "name": name, "model": model_file, "rows": name + ".rows.csv",
        "margin": name + ".margin.csv", "pred": name + ".pred.csv",
        "objective": cfg["learner"]["objective"]["name"], "trees": len(bst.get_dump()),
        "notes": notes,
    })
    print("%-24s %-22s %5d trees  %s" % (name, manifest[-1]["objective"], manifest[-1]["trees"], model_file))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "tests", "golden",
                                                  "xgb1.7"))
    ap.add_argument("--seed", type=int, default=20261123)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    rng = np.random.default_rng(args.seed)
    names = ["f%02d" % i for i in range(N_FEAT)]
    x_train = make_data(rng, N_TRAIN)
    x_test = make_data(rng, N_TEST, missing=0.15)
    manifest = []
    print("xgboost", xgb.__version__)
    for name, kind, params, rounds, fmt_, notes in MODELS:
        params = dict(params, seed=1, nthread=1)
        y = target(x_train, kind, rng)
        dtrain = xgb.DMatrix(x_train, label=y, feature_names=names)
        if kind == "rank":
            dtrain.set_group([20] * (N_TRAIN // 20))
        bst = xgb.train(params, dtrain, rounds)
        dtest = xgb.DMatrix(x_test, feature_names=names)
        finish(args.out, manifest, name, bst, fmt_, names, x_test, dtest, notes)
    train_categorical(rng, args.out, manifest)
    train_wide_bins(args.out, manifest)
    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump({"xgboost": xgb.__version__, "models": manifest}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
