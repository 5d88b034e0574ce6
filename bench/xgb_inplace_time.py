#!/usr/bin/python3
"""XGBoost's own predictor, one thread: ns per tree per row of Booster.inplace_predict (margin) at
batch 256 and 4096, best of 5 runs of 0.5 s of process CPU each. For the ratios in bench/RESULTS.md
when the full peers run (bench/peers.py) is too long. Run with /usr/bin/python3 for XGBoost 1.7.4.
  bench/xgb_inplace_time.py MODEL.json ROWS.csv TREES"""
import sys, time, numpy as np, xgboost as xgb
m, rows = sys.argv[1], sys.argv[2]
x = np.loadtxt(rows, delimiter=",", skiprows=1, dtype=np.float32)
b = xgb.Booster(model_file=m); b.set_param({"nthread": 1})
trees = int(sys.argv[3])
for batch in (256, 4096):
    xb = x[:batch]
    best = 1e9
    for rep in range(5):
        t = time.process_time(); n = 0
        while time.process_time() - t < 0.5:
            b.inplace_predict(xb, predict_type="margin"); n += 1
        best = min(best, (time.process_time() - t) / n)
    print("xgboost %s batch %d: %.2f ns/tree/row (best of 5, process CPU)" % (xgb.__version__, batch, best / batch / trees * 1e9))
