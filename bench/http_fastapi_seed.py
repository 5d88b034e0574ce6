"""The FastAPI anchor: what the seed system ran (FastAPI + XGBoost, one uvicorn worker).
POST /predict {"features": [...]} -> {"prediction": p}. Model path from KITE_BENCH_MODEL.
Run: /usr/bin/python3 -m uvicorn --app-dir bench http_fastapi_seed:app --port P --workers 1"""
import os
from typing import List

import numpy as np
import xgboost as xgb
from fastapi import FastAPI
from pydantic import BaseModel

booster = xgb.Booster()
booster.load_model(os.environ["KITE_BENCH_MODEL"])
booster.set_param({"nthread": 1})
app = FastAPI()


class Row(BaseModel):
    features: List[float]


@app.post("/predict")
def predict(row: Row):
    d = xgb.DMatrix(np.asarray([row.features], dtype=np.float32),
                    feature_names=booster.feature_names)
    return {"prediction": float(booster.predict(d)[0])}
