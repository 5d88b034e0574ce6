#!/usr/bin/python3
"""Trains the bundled Titanic model from raw passengers through its feature spec.

Spec (models/titanic.spec.json, written here): Pclass, SibSp, Parch as they are; Sex encoded
male 0 / female 1 (an unseen value is missing, so the trees' default branch takes it); Age
imputed with the median and standardized; Fare standardized (constants from data/titanic.csv).
The features come from `kite featurize` (the serving code), so scoring raw passengers with
`kite score --spec models/titanic.spec.json` gives the model exactly the training features.
Writes models/titanic.json, models/titanic.spec.json and data/titanic_features.csv (the
features plus Survived, which the main job scores). Prints train/validation accuracy.

  /usr/bin/python3 tools/train_titanic.py [--kite build/kite]
"""
import argparse
import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import xgboost as xgb

FEATURES = ["Pclass", "Sex", "Age", "SibSp", "Parch", "Fare"]


def spec_for(df):
    age, fare = df.Age.dropna(), df.Fare.dropna()
    r = lambda v: float("%.6g" % v)
    return {
        "kite_feature_spec": 1,
        "name": "titanic",
        "description": "raw Titanic passengers -> the six features of models/titanic.json "
                       "(written by tools/train_titanic.py)",
        "inputs": [
            {"name": "Pclass", "type": "number"},
            {"name": "Sex", "type": "category", "map": {"male": 0, "female": 1}, "unseen": None},
            {"name": "Age", "type": "number"},
            {"name": "SibSp", "type": "number"},
            {"name": "Parch", "type": "number"},
            {"name": "Fare", "type": "number"},
        ],
        "features": [
            {"name": "Pclass", "kind": "value", "input": "Pclass"},
            {"name": "Sex", "kind": "value", "input": "Sex"},
            {"name": "Age", "kind": "value", "input": "Age", "impute": r(age.median()),
             "standardize": {"mean": r(age.mean()), "std": r(age.std())}},
            {"name": "SibSp", "kind": "value", "input": "SibSp"},
            {"name": "Parch", "kind": "value", "input": "Parch"},
            {"name": "Fare", "kind": "value", "input": "Fare",
             "standardize": {"mean": r(fare.mean()), "std": r(fare.std())}},
        ],
    }


def main():
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--kite", default=os.path.join(root, "build", "kite"))
    ap.add_argument("--data", default=os.path.join(root, "data", "titanic.csv"))
    ap.add_argument("--model", default=os.path.join(root, "models", "titanic.json"))
    ap.add_argument("--spec", default=os.path.join(root, "models", "titanic.spec.json"))
    ap.add_argument("--features-out", default=os.path.join(root, "data", "titanic_features.csv"))
    args = ap.parse_args()

    df = pd.read_csv(args.data)
    with open(args.spec, "w") as fp:
        json.dump(spec_for(df), fp, indent=2)
        fp.write("\n")
    subprocess.run([args.kite, "featurize", "--spec", args.spec, "--input", args.data,
                    "--output", args.features_out, "--keep", "Survived", "--quiet"], check=True)
    feats = pd.read_csv(args.features_out)
    assert list(feats.columns) == FEATURES + ["Survived"]
    x = feats[FEATURES].astype(np.float32)
    y = feats.Survived.astype(np.float32)
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
    print("wrote", args.model, args.spec, "and", args.features_out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
