#!/usr/bin/python3
"""Trains the benchmark models (XGBoost, 32 features) into OUT_DIR, once.

Each model NAME gets OUT_DIR/NAME.json; OUT_DIR/rows.csv holds 4096 scoring rows (header f0..f31,
no missing values) drawn from the training distribution. Existing files are kept, so a second
run costs nothing. Usage: bench/train_models.py OUT_DIR [NAME ...]
"""
import os
import sys

import numpy as np
import xgboost as xgb

MODELS = {
    # name: (trees, params)
    "d4_t20": (20, {"max_depth": 4}),  # ctest bench_peers_smoke's tiny model
    "d3_t100": (100, {"max_depth": 3}),
    "d6_t100": (100, {"max_depth": 6}),
    "d6_t500": (500, {"max_depth": 6}),
    "d6_t1000": (1000, {"max_depth": 6}),
    "d8_t300": (300, {"max_depth": 8}),
    "d8_t500": (500, {"max_depth": 8}),
    "lossguide255_t500": (500, {"grow_policy": "lossguide", "max_leaves": 255, "max_depth": 0}),
    # hist with 1024 bins: features with more than 255 split values (the 16-bit-code kernel)
    "d6_t500_bin1024": (500, {"max_depth": 6, "max_bin": 1024}),
}
FEATURES = 32
TRAIN_ROWS = 20000
SCORE_ROWS = 4096


def data(n, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, FEATURES)).astype(np.float32)
    y = (np.sin(x[:, 0] * 2) + x[:, 1] * x[:, 2] + np.abs(x[:, 3]) - 0.5 * x[:, 4] ** 2
         + 0.3 * np.sign(x[:, 5] * x[:, 6]) + 0.1 * x[:, 7:].sum(axis=1)
         + rng.normal(scale=0.3, size=n))
    return x, y


def main():
    out = sys.argv[1]
    names = sys.argv[2:] or list(MODELS)
    os.makedirs(out, exist_ok=True)
    rows = os.path.join(out, "rows.csv")
    if not os.path.exists(rows):
        x, _ = data(SCORE_ROWS, 2)
        header = ",".join("f%d" % i for i in range(FEATURES))
        np.savetxt(rows + ".tmp", x, delimiter=",", fmt="%.9g", header=header, comments="")
        os.replace(rows + ".tmp", rows)
    x, y = data(TRAIN_ROWS, 1)
    dtrain = None
    for name in names:
        path = os.path.join(out, name + ".json")
        if os.path.exists(path):
            continue
        trees, extra = MODELS[name]
        if dtrain is None:
            dtrain = xgb.DMatrix(x, label=y, feature_names=["f%d" % i for i in range(FEATURES)])
        params = {"objective": "reg:squarederror", "tree_method": "hist", "eta": 0.05,
                  "nthread": 2, "seed": 0, "min_child_weight": 0.0, "lambda": 0.1}
        params.update(extra)
        print("training %s (%d trees)" % (name, trees), file=sys.stderr)
        booster = xgb.train(params, dtrain, num_boost_round=trees)
        booster.save_model(path + ".tmp.json")
        os.replace(path + ".tmp.json", path)


if __name__ == "__main__":
    main()
