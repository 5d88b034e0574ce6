#!/usr/bin/python3
"""Trains the /predict benchmark model: binary:logistic, 100 trees, depth 6, 32 features
(synthetic data, fixed seed) and writes one request body for wrk.
    http_train.py OUT_DIR   ->  OUT_DIR/model.json, OUT_DIR/body.json"""
import json
import os
import sys

import numpy as np
import xgboost as xgb

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(7)
n, f = 20000, 32
x = rng.normal(size=(n, f)).astype(np.float32)
y = ((x[:, 0] + 0.5 * x[:, 1] * x[:, 2] - x[:, 3] + rng.normal(scale=0.5, size=n)) > 0).astype(int)
names = ["f%02d" % i for i in range(f)]
d = xgb.DMatrix(x, label=y, feature_names=names)
bst = xgb.train({"objective": "binary:logistic", "max_depth": 6, "eta": 0.1, "seed": 7,
                 "nthread": 1}, d, num_boost_round=100)
bst.save_model(os.path.join(out, "model.json"))
with open(os.path.join(out, "body.json"), "w") as fp:
    json.dump({"features": [round(float(v), 6) for v in x[0]]}, fp)
