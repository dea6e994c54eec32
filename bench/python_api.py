#!/usr/bin/env python3
"""al.query against scikit-activeml and modAL in one Python process, on the
same NumPy arrays, and al.query's picks against al-cli's on a project made
from the same table.

    pip install ./crates/al-py scikit-activeml modAL-python scikit-learn
    python3 bench/python_api.py --al-cli target/release/al-cli

Data: sklearn make_friedman1 (26 features, 21 of them noise, seed 0),
100 000 rows of which the first 1 000 are labeled (y NaN for the rest).
Timed: the query call alone, best of --repeats, wall clock, in this
process (al's is a whole call through the bindings: argument conversion,
scaling, fit, scoring). Pairs:

- qbc: al `qbc` with its default 100-tree forest (the variance across the
  trees) / scikit-activeml QueryByCommittee with a SklearnRegressor over
  the same forest / modAL max_std_sampling over a forest that returns the
  standard deviation across its trees (what a modAL user writes).
- gsx: al `gsx` / scikit-activeml GreedySamplingX. scikit-activeml builds
  the full pairwise distance matrix of the pool (80 GB at 100 000 rows), so
  both sides also run on the first 7 500 rows, and the speed-up is read there.
"""
import argparse
import json
import os

# scikit-learn's OpenMP threads otherwise spin on both cores for a while
# after each of its calls, slowing the next al call in this process by a
# third; passive waiting leaves the peers' own times unchanged
# (docs/benchmarks.md). Read when OpenMP starts, so set before the imports.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
import subprocess
import tempfile
import time

import numpy as np
import pandas as pd
from sklearn.datasets import make_friedman1
from sklearn.ensemble import RandomForestRegressor

import al


def best_of(repeats, call):
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - start)
    return min(times), result


class ForestStd(RandomForestRegressor):
    """A forest whose predict can return the spread of its trees (modAL's
    max_std_sampling asks for return_std)."""

    def predict(self, X, return_std=False):
        if not return_std:
            return super().predict(X)
        per_tree = np.vstack([t.predict(X) for t in self.estimators_])
        return per_tree.mean(axis=0), per_tree.std(axis=0)


def skactiveml_qbc(x, y, batch):
    from skactiveml.pool import QueryByCommittee
    from skactiveml.regressor import SklearnRegressor

    ensemble = SklearnRegressor(RandomForestRegressor(n_estimators=100, random_state=0, n_jobs=2), random_state=0)
    return QueryByCommittee(random_state=0).query(x, y, ensemble=ensemble, batch_size=batch)


def skactiveml_gsx(x, y, batch):
    from skactiveml.pool import GreedySamplingX

    return GreedySamplingX(random_state=0).query(x, y, batch_size=batch)


def modal_max_std(x, y, batch):
    from modAL.models import ActiveLearner
    from modAL.disagreement import max_std_sampling

    labeled = ~np.isnan(y)
    learner = ActiveLearner(
        estimator=ForestStd(n_estimators=100, random_state=0, n_jobs=2),
        query_strategy=max_std_sampling,
        X_training=x[labeled],
        y_training=y[labeled],
    )
    pool = np.flatnonzero(~labeled)
    picked, _ = learner.query(x[pool], n_instances=batch)
    return pool[picked]


def same_as_cli(al_cli, x, y, strategy, batch):
    """Picks of al.query and of `al-cli query` on a project made from the
    same table (row ids count from 1)."""
    with tempfile.TemporaryDirectory() as tmp:
        csv = os.path.join(tmp, "t.csv")
        pd.DataFrame(np.column_stack([x, y]), columns=[f"x{i}" for i in range(x.shape[1])] + ["y"]).to_csv(
            csv, index=False, float_format="%.17g", na_rep=""
        )
        db = os.path.join(tmp, "t.db")
        subprocess.run([al_cli, "-p", db, "--quiet", "init", csv, "--target", "y", "--test-frac", "0"], check=True)
        out = subprocess.run(
            [al_cli, "-p", db, "--json", "query", "--strategy", strategy, "--batch", str(batch), "--seed", "0",
             "--out", os.path.join(tmp, "b.csv")],
            check=True, capture_output=True, text=True,
        )
        cli_ids = [r["row_id"] for r in json.loads(out.stdout)["rows"]]
    py_ids = [int(i) + 1 for i in al.query(x, y, batch_size=batch, strategy=strategy, seed=0)]
    return py_ids == cli_ids


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--al-cli", required=True)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--batch", type=int, default=10)
    args = ap.parse_args()
    x, y_full = make_friedman1(n_samples=100_000, n_features=26, noise=1.0, random_state=0)
    y = y_full.copy()
    y[1_000:] = np.nan
    small_x, small_y = x[:7_500], y[:7_500]
    b = args.batch
    rows = []

    al_s, _ = best_of(args.repeats, lambda: al.query(x, y, batch_size=b, strategy="qbc", seed=0))
    ska_s, _ = best_of(args.repeats, lambda: skactiveml_qbc(x, y, b))
    modal_s, _ = best_of(args.repeats, lambda: modal_max_std(x, y, b))
    rows.append(("qbc, 100-tree forest", "100 000", al_s, "scikit-activeml QueryByCommittee", ska_s))
    rows.append(("qbc, 100-tree forest", "100 000", al_s, "modAL max_std_sampling", modal_s))

    al_big, _ = best_of(args.repeats, lambda: al.query(x, y, batch_size=b, strategy="gsx", seed=0))
    al_small, _ = best_of(args.repeats, lambda: al.query(small_x, small_y, batch_size=b, strategy="gsx", seed=0))
    ska_small, _ = best_of(args.repeats, lambda: skactiveml_gsx(small_x, small_y, b))
    rows.append(("gsx", "7 500", al_small, "scikit-activeml GreedySamplingX", ska_small))
    rows.append(("gsx (al only)", "100 000", al_big, "scikit-activeml: 80 GB distance matrix", float("nan")))

    print("| strategy | rows | al.query s | peer | peer s | speed-up |")
    print("|---|---:|---:|---|---:|---:|")
    for name, n, a, peer, p in rows:
        speed = f"{p / a:.0f}×" if p == p else "–"
        peer_s = f"{p:.2f}" if p == p else "–"
        print(f"| {name} | {n} | {a:.3f} | {peer} | {peer_s} | {speed} |")
    for strategy in ("qbc", "gsx", "cover:hedge=0.2"):
        print(f"same picks as al-cli ({strategy}, 100 000 rows): {same_as_cli(args.al_cli, x, y, strategy, b)}")


if __name__ == "__main__":
    main()
