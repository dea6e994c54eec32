"""Pinned reference figures for al's CV+ intervals (crates/al-models/src/conformal.rs).

MAPIE's CrossConformalRegressor (method "plus", Barber et al. 2021) with
ordinary least squares and five contiguous folds (KFold without shuffling)
on twelve fixed points; al's test fits its `linear` model on the same folds
and must give the same bounds. Prints the MAPIE version and the bounds.

    pip install mapie==1.6.0 scikit-learn
    python3 bench/conformal_reference.py
"""
import mapie
import numpy as np
from mapie.regression import CrossConformalRegressor
from sklearn.linear_model import LinearRegression
from sklearn.model_selection import KFold

X = np.array([[0.0], [1.0], [2.0], [3.0], [4.0], [5.0], [6.0], [7.0], [8.0], [9.0], [10.0], [11.0]])
NOISE = np.array([0.3, -1.1, 0.8, 2.0, -0.4, -1.7, 0.9, 0.1, -0.6, 1.4, -2.2, 0.5])
Y = 2.0 * X[:, 0] + 1.0 + NOISE
PROBE = np.array([[-1.0], [5.5], [14.0]])

print("mapie", mapie.__version__)
for level in (0.8, 0.9):
    model = CrossConformalRegressor(
        LinearRegression(), confidence_level=level, method="plus", cv=KFold(n_splits=5)
    )
    model.fit_conformalize(X, Y)
    _, bounds = model.predict_interval(PROBE)
    print(level, [(float(lo), float(hi)) for lo, hi in zip(bounds[:, 0, 0], bounds[:, 1, 0])])
