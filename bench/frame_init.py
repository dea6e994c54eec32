#!/usr/bin/env python3
"""How long `al.Project.init` takes on a data frame against the same data
as a CSV file (issue: your own model from Python, frames through Arrow).

    python3 bench/frame_init.py [--rows 300000] [--dir /tmp/al-frame-bench]

Writes a synthetic table (50 normal columns rounded to 4 decimals and a
target, numpy seed 0, the first 24 000 rows labeled) as CSV, reads it into
pandas once, then runs, three times each in this one process:
`init(path)`, `init(frame)` as the package does it (Arrow buffers), and
`init(frame)` through the temporary CSV the package wrote before (its
fallback, forced). Needs the package (`maturin develop`) and pyarrow.
"""
import argparse
import os
import statistics
import time

import numpy as np
import pandas as pd

import al


def table(path, rows):
    rng = np.random.default_rng(0)
    df = pd.DataFrame({f"x{j}": rng.normal(size=rows).round(4) for j in range(50)})
    df["y"] = df.x0 * 3 + df.x1 - df.x2 * 2 + rng.normal(size=rows)
    df.loc[24000:, "y"] = np.nan
    df.to_csv(path, index=False)


def timed(label, init, where, repeats=3):
    times = []
    for i in range(repeats):
        path = os.path.join(where, f"run{i}.db")
        if os.path.exists(path):
            os.remove(path)
        start = time.perf_counter()
        init(path)
        times.append(time.perf_counter() - start)
    runs = ", ".join(f"{t:.2f}" for t in times)
    print(f"{label}: median {statistics.median(times):.2f} s ({runs})", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=300_000)
    ap.add_argument("--dir", default="/tmp/al-frame-bench")
    args = ap.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    csv = os.path.join(args.dir, "big.csv")
    if not os.path.exists(csv):
        table(csv, args.rows)
    frame = pd.read_csv(csv)
    options = dict(target="y", test_frac=0)
    timed("init(path)", lambda p: al.Project.init(csv, path=p, **options), args.dir)
    timed("init(frame), Arrow", lambda p: al.Project.init(frame, path=p, **options), args.dir)
    arrow = al._arrow_text_columns
    al._arrow_text_columns = lambda _frame: None
    try:
        timed("init(frame), temporary CSV (before)", lambda p: al.Project.init(frame, path=p, **options), args.dir)
    finally:
        al._arrow_text_columns = arrow


if __name__ == "__main__":
    main()
