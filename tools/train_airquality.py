#!/usr/bin/python3
"""Trains the bundled air-quality model: CO(GT) at hour t from the spec's 101 features.

Features come from `kite featurize` (the serving code itself, so there is no train/serve skew)
with models/airquality.spec.json; the first 168 hours (warm-up) and rows without a CO(GT)
reading are left out. The split is by time: the first 80% of the hours train, the last 20%
test (the last 10% of the training hours are the early-stopping validation set). Writes
models/airquality.json and prints test RMSE, MAE and R^2 next to two baselines.

  /usr/bin/python3 tools/train_airquality.py [--kite build/kite]
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
import pandas as pd
import xgboost as xgb

LABEL = "CO(GT)"


def main():
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--kite", default=os.path.join(root, "build", "kite"))
    ap.add_argument("--data", default=os.path.join(root, "data", "AirQualityUCI.csv"))
    ap.add_argument("--spec", default=os.path.join(root, "models", "airquality.spec.json"))
    ap.add_argument("--model", default=os.path.join(root, "models", "airquality.json"))
    a = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        feats = os.path.join(tmp, "features.csv")
        subprocess.run([a.kite, "featurize", "--spec", a.spec, "--input", a.data, "--output", feats,
                        "--keep", LABEL, "--drop-warmup"], check=True)
        df = pd.read_csv(feats)
    y = df.pop(LABEL)
    x = df.astype(np.float32)
    labelled = y.notna().values
    n = len(x)
    cut = int(n * 0.8)
    val_cut = int(cut * 0.9)
    idx = np.arange(n)
    tr = idx[(idx < val_cut) & labelled]
    va = idx[(idx >= val_cut) & (idx < cut) & labelled]
    te = idx[(idx >= cut) & labelled]
    params = {"objective": "reg:squarederror", "max_depth": 6, "eta": 0.05, "subsample": 0.8,
              "colsample_bytree": 0.8, "min_child_weight": 3, "seed": 1, "nthread": 2}
    dtr = xgb.DMatrix(x.iloc[tr], label=y.iloc[tr])
    dva = xgb.DMatrix(x.iloc[va], label=y.iloc[va])
    dte = xgb.DMatrix(x.iloc[te], label=y.iloc[te])
    bst = xgb.train(params, dtr, 600, evals=[(dva, "val")], early_stopping_rounds=40,
                    verbose_eval=False)
    best = bst.best_iteration + 1
    bst = xgb.train(params, dtr, best)  # keep exactly the trees the early stop chose
    pred = bst.predict(dte)
    yt = y.iloc[te].values
    rmse = float(np.sqrt(np.mean((pred - yt) ** 2)))
    mae = float(np.mean(np.abs(pred - yt)))
    r2 = 1.0 - float(np.sum((pred - yt) ** 2) / np.sum((yt - yt.mean()) ** 2))
    lag1 = x["CO_lag1"].iloc[te].values
    ok = ~np.isnan(lag1)
    print("airquality: %d hours after warm-up, %d labelled; train %d, validation %d, test %d "
          "(time-ordered); %d trees" % (n, int(labelled.sum()), len(tr), len(va), len(te), best))
    print("airquality: test RMSE %.4f  MAE %.4f  R^2 %.4f   (CO(GT), mg/m^3)" % (rmse, mae, r2))
    print("airquality: baselines on the test hours: train mean RMSE %.4f; previous hour RMSE %.4f "
          "(%d hours with one)" % (float(np.sqrt(np.mean((y.iloc[tr].mean() - yt) ** 2))),
                                   float(np.sqrt(np.mean((lag1[ok] - yt[ok]) ** 2))), int(ok.sum())))
    bst.save_model(a.model)
    print("wrote", a.model)
    return 0


if __name__ == "__main__":
    sys.exit(main())
