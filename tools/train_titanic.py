#!/usr/bin/python3
"""Trains the bundled Titanic model on the seeds' six features.

Features: Pclass, Sex (male 0, female 1), Age (missing stays missing: XGBoost learns a default
direction), SibSp, Parch, Fare. Writes models/titanic.json and data/titanic_features.csv (the
six features plus Survived), which the main job scores. Prints train/validation accuracy.

  /usr/bin/python3 tools/train_titanic.py [--data data/titanic.csv]
"""
import argparse
import os
import sys

import numpy as np
import pandas as pd
import xgboost as xgb

FEATURES = ["Pclass", "Sex", "Age", "SibSp", "Parch", "Fare"]


def main():
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default=os.path.join(root, "data", "titanic.csv"))
    ap.add_argument("--model", default=os.path.join(root, "models", "titanic.json"))
    ap.add_argument("--features-out", default=os.path.join(root, "data", "titanic_features.csv"))
    args = ap.parse_args()

    df = pd.read_csv(args.data)
    x = pd.DataFrame({
        "Pclass": df.Pclass.astype(np.float32),
        "Sex": (df.Sex == "female").astype(np.float32),
        "Age": df.Age.astype(np.float32),
        "SibSp": df.SibSp.astype(np.float32),
        "Parch": df.Parch.astype(np.float32),
        "Fare": df.Fare.astype(np.float32),
    })
    y = df.Survived.astype(np.float32)
    rng = np.random.default_rng(42)
    idx = rng.permutation(len(x))
    n_val = len(x) // 5
    val, tr = idx[:n_val], idx[n_val:]
    params = {"objective": "binary:logistic", "max_depth": 6, "eta": 0.1, "seed": 1, "nthread": 1,
              "eval_metric": "logloss"}
    dtr = xgb.DMatrix(x.iloc[tr], label=y.iloc[tr])
    dval = xgb.DMatrix(x.iloc[val], label=y.iloc[val])
    bst = xgb.train(params, dtr, 100)
    acc = lambda d, yy: float(((bst.predict(d) > 0.5) == yy).mean())
    print("titanic: train accuracy %.4f, validation accuracy %.4f (%d / %d rows)" %
          (acc(dtr, y.iloc[tr].values), acc(dval, y.iloc[val].values), len(tr), len(val)))
    os.makedirs(os.path.dirname(args.model), exist_ok=True)
    bst.save_model(args.model)
    out = x.copy()
    out["Survived"] = df.Survived
    out.to_csv(args.features_out, index=False, float_format="%.9g", na_rep="")
    print("wrote", args.model, "and", args.features_out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
