#!/usr/bin/env python3
"""scikit-learn reference figures for the library models' parity tests
(crates/al-models/tests/sklearn_parity.rs). Run from the repository root:

    python3 bench/models_parity.py

Two datasets, fixed splits, test MAE printed per model:
- seed: fixtures/price_2k.csv (the Haensel AMS price sample), features as
  al's recipe builds them (loc1, loc2, para1-4 coerced to numbers, mean
  imputation over all rows, dow one-hot); rows 1-1500 train (1-300 for the
  Gaussian process, whose cost is cubic), rows 1501-2000 test.
- diabetes: fixtures/diabetes.csv (scikit-learn's bundled, unscaled);
  rows 1-332 train, 333-442 test.
Every model sees standardised features, as al's do.
"""
import numpy as np
import pandas as pd
import sklearn
from sklearn.compose import TransformedTargetRegressor
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import RBF, ConstantKernel, WhiteKernel
from sklearn.linear_model import ElasticNet, Lasso, TweedieRegressor
from sklearn.metrics import mean_absolute_error
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVR


def seed():
    df = pd.read_csv("fixtures/price_2k.csv", dtype=str)
    y = df.pop("price").astype(float).to_numpy()
    cols = {}
    for c in ["loc1", "loc2", "para1", "para2", "para3", "para4"]:
        v = pd.to_numeric(df[c], errors="coerce")
        cols[c] = v.fillna(v.mean())
    x = pd.concat([pd.DataFrame(cols), pd.get_dummies(df[["dow"]], dtype=float)], axis=1)
    return x.to_numpy(float), y, 1500


def diabetes():
    df = pd.read_csv("fixtures/diabetes.csv")
    y = df.pop("target").to_numpy(float)
    return df.to_numpy(float), y, 332


def scaled(model):
    return make_pipeline(StandardScaler(), model)


def models(p):
    gp_kernel = ConstantKernel() * RBF(length_scale=np.ones(p)) + WhiteKernel()
    return {
        "elasticnet": scaled(ElasticNet(alpha=1.0, l1_ratio=0.5)),
        "lasso": scaled(Lasso(alpha=1.0)),
        "svr": TransformedTargetRegressor(
            scaled(SVR(C=1.0, epsilon=0.1, gamma="scale")), transformer=StandardScaler()
        ),
        "glm": scaled(TweedieRegressor(power=2, alpha=1.0, link="log", max_iter=1000)),
        "gp": scaled(
            GaussianProcessRegressor(
                kernel=gp_kernel, normalize_y=True, n_restarts_optimizer=2, random_state=0
            )
        ),
        "gbm": HistGradientBoostingRegressor(random_state=0),
    }


def main():
    print(f"scikit-learn {sklearn.__version__}")
    for name, (x, y, n_train) in {"seed": seed(), "diabetes": diabetes()}.items():
        xtr, ytr, xte, yte = x[:n_train], y[:n_train], x[n_train:], y[n_train:]
        for model_name, model in models(x.shape[1]).items():
            k = 300 if model_name == "gp" and name == "seed" else n_train
            model.fit(xtr[:k], ytr[:k])
            mae = mean_absolute_error(yte, model.predict(xte))
            print(f"{name:9} {model_name:11} test MAE {mae:.3f}")


if __name__ == "__main__":
    main()
