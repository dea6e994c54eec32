#!/usr/bin/env python3
"""The Python side of bench/query_whole_command.py: one whole query as a
data scientist would script it — read the CSV with pandas, encode, split the
labeled rows from the pool, run the article's scikit-learn code or
scikit-activeml (functions shared with bench/query_vs_skactiveml.py), write
the 10 picks to stdout.

    python3 bench/query_python_side.py committee data.csv y [--limit N]
"""
import argparse
import os
import sys

import numpy as np
import pandas as pd

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import query_vs_skactiveml as peers  # noqa: E402

STRATEGIES = {
    "committee": peers.py_committee,
    "qbc": peers.py_qbc,
    "tree-variance": peers.py_tree_variance,
    "density": peers.py_density,
    "emc-retrain": peers.py_emc_retrain,
    "gsx": peers.py_greedy("x"),
    "gsy": peers.py_greedy("GSy"),
    "igs": peers.py_greedy("GSi"),
}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("strategy", choices=sorted(STRATEGIES))
    ap.add_argument("csv")
    ap.add_argument("target")
    ap.add_argument("--limit", type=int, help="use only the first N pool rows")
    args = ap.parse_args()
    frame = pd.read_csv(args.csv)
    y = frame.pop(args.target).to_numpy()
    x = pd.get_dummies(frame).to_numpy(dtype=float)
    x = (x - x.mean(0)) / np.where(x.std(0) > 0, x.std(0), 1.0)
    labeled = ~np.isnan(y)
    pool = x[~labeled][: args.limit]
    picks = STRATEGIES[args.strategy](x[labeled], y[labeled], pool)
    print(" ".join(str(int(i)) for i in picks))


if __name__ == "__main__":
    main()
