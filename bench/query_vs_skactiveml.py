#!/usr/bin/env python3
"""One query of batch 10: al-query against scikit-activeml and the article's
scikit-learn code, on the same data, timing only the query step on both sides.

    cargo build --release -p al-query --example query_timing
    python3 bench/query_vs_skactiveml.py --al "$CARGO_TARGET_DIR/release/examples/query_timing"

Data: sklearn make_friedman1 (26 features, 21 of them noise, seed 0),
standardised; 200 labeled rows and a pool of 100 000 (7 500 for the greedy
strategies on the scikit-activeml side, which builds a full pairwise distance
matrix). Peak RSS of the al side is read by /usr/bin/time -v around the whole
process (loading the CSVs included).
"""
import argparse
import json
import os
import re
import subprocess
import tempfile
import time

import numpy as np
import pandas as pd
from sklearn.datasets import make_friedman1
from sklearn.ensemble import RandomForestRegressor
from sklearn.linear_model import LinearRegression
from sklearn.neighbors import NearestNeighbors
from sklearn.tree import DecisionTreeRegressor


def article_committee(xl, yl, seed=0):
    return [
        DecisionTreeRegressor(max_depth=5, random_state=seed).fit(xl, yl),
        RandomForestRegressor(n_estimators=10, random_state=seed).fit(xl, yl),
        LinearRegression().fit(xl, yl),
    ]


def py_committee(xl, yl, pool):
    preds = np.vstack([m.predict(pool) for m in article_committee(xl, yl)])
    return np.argsort(-preds.var(axis=0), kind="stable")[:10]


def py_tree_variance(xl, yl, pool):
    t = DecisionTreeRegressor(max_depth=5, random_state=0).fit(xl, yl)
    leaves_l, leaves_p = t.apply(xl), t.apply(pool)
    var = {leaf: yl[leaves_l == leaf].var() for leaf in np.unique(leaves_l)}
    return np.argsort(-np.array([var[v] for v in leaves_p]), kind="stable")[:10]


def py_qbc(xl, yl, pool):
    from skactiveml.pool import QueryByCommittee
    from skactiveml.regressor import SklearnRegressor
    from sklearn.ensemble import BaggingRegressor

    X = np.vstack([xl, pool])
    y = np.concatenate([yl, np.full(len(pool), np.nan)])
    ens = SklearnRegressor(RandomForestRegressor(n_estimators=100, random_state=0, n_jobs=2), random_state=0)
    try:
        return QueryByCommittee(random_state=0).query(X, y, ensemble=ens, batch_size=10)
    except Exception:  # versions without estimators_ support: bag 100 trees
        ens = SklearnRegressor(BaggingRegressor(DecisionTreeRegressor(), n_estimators=100, n_jobs=2, random_state=0))
        return QueryByCommittee(random_state=0).query(X, y, ensemble=ens, batch_size=10)


def py_density(xl, yl, pool):
    nn = NearestNeighbors(n_neighbors=6).fit(pool)
    dist, _ = nn.kneighbors(pool)
    density = 1.0 / dist[:, 1:].mean(axis=1)
    rf = RandomForestRegressor(n_estimators=100, random_state=0, n_jobs=2).fit(xl, yl)
    var = np.vstack([t.predict(pool) for t in rf.estimators_]).var(axis=0)
    return np.argsort(-(var * density), kind="stable")[:10]


def py_emc_retrain(xl, yl, pool):
    rng = np.random.RandomState(0)
    cand = rng.choice(len(pool), 500, replace=False)
    ref = pool[rng.choice(len(pool), 200, replace=False)]
    base = np.mean([m.predict(ref) for m in article_committee(xl, yl)], axis=0)
    guess = np.mean([m.predict(pool[cand]) for m in article_committee(xl, yl)], axis=0)
    change = []
    for c, g in zip(cand, guess):
        ms = article_committee(np.vstack([xl, pool[c]]), np.append(yl, g))
        change.append(np.abs(np.mean([m.predict(ref) for m in ms], axis=0) - base).mean())
    return cand[np.argsort(-np.array(change), kind="stable")[:10]]


def py_greedy(method):
    def run(xl, yl, pool):
        from skactiveml.pool import GreedySamplingTarget, GreedySamplingX
        from skactiveml.regressor import SklearnRegressor

        X = np.vstack([xl, pool])
        y = np.concatenate([yl, np.full(len(pool), np.nan)])
        if method == "x":
            return GreedySamplingX(random_state=0).query(X, y, batch_size=10)
        reg = SklearnRegressor(RandomForestRegressor(n_estimators=100, random_state=0, n_jobs=2), random_state=0)
        return GreedySamplingTarget(method=method, random_state=0).query(X, y, reg=reg, batch_size=10)

    return run


CASES = [
    # name, al strategy, al model, python side, python pool size
    ("committee", "committee", "forest", py_committee, 100_000),
    ("qbc (100-tree forest)", "qbc", "forest", py_qbc, 100_000),
    ("density (qbc x 5-NN density)", "density", "forest", py_density, 100_000),
    ("tree-variance", "tree-variance", "forest", py_tree_variance, 100_000),
    ("emc-retrain (committee, 500 candidates)", "emc-retrain", "committee", py_emc_retrain, 100_000),
    ("gsx", "gsx", "forest", py_greedy("x"), 7_500),
    ("gsy", "gsy", "forest", py_greedy("GSy"), 7_500),
    ("igs", "igs", "forest", py_greedy("GSi"), 7_500),
]


def al_run(exe, strategy, model, labeled_csv, pool_csv):
    out = subprocess.run(["/usr/bin/time", "-v", exe, labeled_csv, pool_csv, strategy, model, "10", "500"],
                         check=True, capture_output=True, text=True)
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", out.stderr).group(1)) / 1024
    return json.loads(out.stdout)["seconds"], rss


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--al", required=True)
    args = ap.parse_args()
    x, y = make_friedman1(n_samples=100_200, n_features=26, noise=1.0, random_state=0)
    x = (x - x.mean(0)) / x.std(0)
    xl, yl, pool = x[:200], y[:200], x[200:]
    print("| strategy | pool (al) | al s | al peak RSS MB | pool (python) | python s | speed-up |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        lab = os.path.join(tmp, "labeled.csv")
        pd.DataFrame(np.column_stack([xl, yl])).to_csv(lab, index=False, float_format="%.17g")
        pools = {}
        for n in (7_500, 100_000):
            pools[n] = os.path.join(tmp, f"pool{n}.csv")
            pd.DataFrame(pool[:n]).to_csv(pools[n], index=False, float_format="%.17g")
        for name, strategy, model, py, py_n in CASES:
            al_s, rss = al_run(args.al, strategy, model, lab, pools[100_000])
            t = time.perf_counter()
            py(xl, yl, pool[:py_n])
            py_s = time.perf_counter() - t
            same = f"{py_s / al_s:.0f}x" if py_n == 100_000 else "-"
            row = f"| {name} | 100000 | {al_s:.3f} | {rss:.0f} | {py_n} | {py_s:.2f} | {same} |"
            if py_n != 100_000:
                al_small, _ = al_run(args.al, strategy, model, lab, pools[py_n])
                row += f" al at {py_n}: {al_small:.3f} s ({py_s / al_small:.0f}x)"
            print(row, flush=True)


if __name__ == "__main__":
    main()
