#!/usr/bin/env python3
"""Reference selections of scikit-activeml's greedy sampling for al's tests.

    python3 bench/gs_reference.py   # writes fixtures/gs_reference/

Data: rows 1-150 of fixtures/price_2k.csv; numeric columns coerced, mean
imputed and z-scored, dow one-hot (as bench/peer.py preprocesses). Rows 0-14
are labeled, the other 135 are candidates. Queries of batch 8 with
GreedySamplingX, GreedySamplingTarget(method="GSy") and ("GSi"), the target
strategies with SklearnRegressor(LinearRegression()) so that both sides fit
the same model exactly. Indices are positions in data.csv.
"""
import json
import pathlib

import numpy as np
import pandas as pd
from sklearn.linear_model import LinearRegression
from skactiveml import pool as P
from skactiveml.regressor import SklearnRegressor

out = pathlib.Path("fixtures/gs_reference")
df = pd.read_csv("fixtures/price_2k.csv", dtype=str).head(150)
y = pd.to_numeric(df.pop("price")).to_numpy(float)
cols = {}
for c in ["loc1", "loc2", "para1", "para2", "para3", "para4"]:
    v = pd.to_numeric(df[c], errors="coerce")
    v = v.fillna(v.mean())
    cols[c] = (v - v.mean()) / v.std(ddof=0)
x = pd.concat([pd.DataFrame(cols), pd.get_dummies(df["dow"], dtype=float)], axis=1)
data = x.copy()
data["y"] = y
data.to_csv(out / "data.csv", index=False, float_format="%.17g")

labeled = 15
y_masked = np.where(np.arange(len(y)) < labeled, y, np.nan)
X = x.to_numpy(float)
expected = {
    "labeled": labeled,
    "batch": 8,
    "gsx": P.GreedySamplingX(random_state=0).query(X, y_masked, batch_size=8).tolist(),
}
for name, method in [("gsy", "GSy"), ("igs", "GSi")]:
    qs = P.GreedySamplingTarget(method=method, random_state=0)
    reg = SklearnRegressor(LinearRegression(), random_state=0)
    expected[name] = qs.query(X, y_masked, reg=reg, batch_size=8).tolist()
(out / "expected.json").write_text(json.dumps(expected, indent=1) + "\n")
print(expected)
