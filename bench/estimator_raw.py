#!/usr/bin/env python3
"""What `raw=True` costs: `Project.query(model=pipe, raw=True,
strategy="qbc:members=5")`, where a scikit-learn Pipeline with its own
ColumnTransformer gets the rows as read (al reads their cells from the
project file and builds a DataFrame per chunk of the pool), against the same
member fits and pool predictions in a plain Python loop on a DataFrame
already in memory, and against the same query with raw=False (a Ridge on
al's encoded matrix), in one process on the same project.

    pip install ./crates/al-py scikit-learn
    python3 bench/estimator_raw.py --rows 100000 --labels 1000

A cheap model (a ridge) on purpose: the fits are small, so what al adds
around them shows. The loop's picks are not expected to equal al's
(different resamples), only the work to be the same.
"""
import argparse
import os
import statistics
import tempfile
import time

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.compose import make_column_transformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder

import al

NUMERIC = [f"x{i}" for i in range(10)]
TEXT = ["city", "kind", "grade"]


def table(rows, labels, seed):
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(rng.normal(size=(rows, len(NUMERIC))), columns=NUMERIC)
    frame["city"] = rng.choice([f"c{i}" for i in range(30)], rows)
    frame["kind"] = rng.choice(["a", "b", "c"], rows)
    frame["grade"] = rng.choice(["low", "mid", "high", None], rows)
    frame.loc[rng.random(rows) < 0.05, "x0"] = np.nan
    y = frame["x1"] * 3 + np.nan_to_num(frame["x0"]) + frame["kind"].map({"a": 0, "b": 1, "c": 4})
    frame["y"] = np.where(np.arange(rows) < labels, y + rng.normal(scale=0.3, size=rows), np.nan)
    frame.insert(0, "id", np.arange(rows))
    return frame


def pipeline():
    return make_pipeline(
        make_column_transformer(
            (SimpleImputer(), NUMERIC),
            (make_pipeline(SimpleImputer(strategy="constant", fill_value="none"),
                           OneHotEncoder(handle_unknown="ignore")), TEXT),
        ),
        Ridge(),
    )


def plain_loop(frame, members, batch, seed):
    labeled = frame[frame.y.notna()]
    pool = frame[frame.y.isna()]
    rng = np.random.default_rng(seed)
    preds = []
    for _ in range(members):
        idx = rng.integers(0, len(labeled), len(labeled))
        rows = labeled.iloc[idx]
        preds.append(clone(pipeline()).fit(rows[NUMERIC + TEXT], rows.y).predict(pool[NUMERIC + TEXT]))
    variance = np.var(np.stack(preds), axis=0)
    return pool.id.to_numpy()[np.argsort(-variance)[:batch]]


def timed(f, runs):
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        f()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), times


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--labels", type=int, default=1_000)
    ap.add_argument("--members", type=int, default=5)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    frame = table(args.rows, args.labels, 0)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "t.csv")
        frame.to_csv(path, index=False)
        project = al.Project.init(path, "y", os.path.join(tmp, "p.db"), id_col="id", test_frac=0)
        strategy = f"qbc:members={args.members}"
        query = lambda raw: project.query(batch=10, strategy=strategy, model=pipeline() if raw else Ridge(),
                                          raw=raw, include_pending=True, coverage=0.9)
        runs = {
            "raw=True (Pipeline on the cells as read)": lambda: query(True),
            "raw=False (Ridge on al's encoding)": lambda: query(False),
            "plain loop (Pipeline, frame in memory)": lambda: plain_loop(frame, args.members, 10, 0),
        }
        print(f"{args.rows} rows, {args.labels} labeled, {strategy}, medians of {args.runs}")
        for name, f in runs.items():
            median, times = timed(f, args.runs)
            print(f"{name}: {median:.2f} s  ({', '.join(f'{t:.2f}' for t in times)})")


if __name__ == "__main__":
    main()
