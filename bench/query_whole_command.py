#!/usr/bin/env python3
"""Whole commands, one query of batch 10: `al-cli query` against a Python
script doing the same job (read the CSV, encode, fit, query, write the picks)
with the article's scikit-learn code or scikit-activeml, on the same CSV.

    cargo build --release -p al-cli
    python3 bench/query_whole_command.py --al "$CARGO_TARGET_DIR/release/al-cli"

Data: sklearn make_friedman1 (26 features, 21 of them noise, seed 0); the
first 200 rows labeled, 100 000 unlabeled (`--pool` to change). Both sides
are timed by hyperfine around the whole process (start-up, reading and
encoding included); al's side copies the freshly initialised project before
each run (`--prepare`, not timed) because `query` records a round. Peak RSS
by /usr/bin/time -v. The Python side of gsx/gsy/igs uses scikit-activeml,
which builds a full pairwise distance matrix: at 100 000 rows that is
~74 GiB, so it runs on the first 7 500 pool rows and says so.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import pandas as pd
from sklearn.datasets import make_friedman1

HERE = os.path.dirname(os.path.abspath(__file__))
PY_SIDE = os.path.join(HERE, "query_python_side.py")

CASES = [
    # al strategy, al model, python strategy name, python pool limit
    ("committee", "forest", "committee", None),
    ("qbc", "forest", "qbc", None),
    ("tree-variance", "forest", "tree-variance", None),
    ("density", "forest", "density", None),
    ("cover", "forest", None, None),
    ("emc-retrain", "committee", "emc-retrain", None),
    ("gsx", "forest", "gsx", 7_500),
    ("gsy", "forest", "gsy", 7_500),
    ("igs", "forest", "igs", 7_500),
]


def hyperfine(cmd, prepare=None, runs=5):
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        args = ["hyperfine", "-N", "--runs", str(runs), "--warmup", "1", "--export-json", out.name]
        if prepare:
            args += ["--prepare", prepare]
        subprocess.run(args + [cmd], check=True, capture_output=True)
        result = json.load(open(out.name))["results"][0]
    return result["median"], result["min"], result["max"]


def peak_rss_mb(argv, prepare=None):
    if prepare:
        subprocess.run(prepare, shell=True, check=True)
    out = subprocess.run(["/usr/bin/time", "-v"] + argv, check=True, capture_output=True, text=True)
    return int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", out.stderr).group(1)) / 1024


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--al", required=True)
    ap.add_argument("--pool", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--only", help="comma-separated al strategies to run")
    args = ap.parse_args()
    only = set(args.only.split(",")) if args.only else None
    x, y = make_friedman1(n_samples=args.pool + 200, n_features=26, noise=1.0, random_state=0)
    frame = pd.DataFrame(x, columns=[f"x{i}" for i in range(26)])
    frame["y"] = y
    frame.loc[200:, "y"] = np.nan
    with tempfile.TemporaryDirectory() as tmp:
        data = os.path.join(tmp, "data.csv")
        frame.to_csv(data, index=False, float_format="%.17g")
        base = os.path.join(tmp, "base.db")
        subprocess.run([args.al, "-q", "-p", base, "init", data, "--target", "y", "--test-frac", "0"], check=True)
        run_db = os.path.join(tmp, "run.db")
        # The project closes cleanly (no WAL left), so a copy is a fresh project.
        prepare = f"cp {base} {run_db}"
        print(f"pool {args.pool} x 26, 200 labeled; median of {args.runs} whole runs (min-max)\n")
        print("| strategy | al-cli query s | al peak RSS MB | python side | python s | python peak RSS MB | speed-up |")
        print("|---|---:|---:|---|---:|---:|---:|")
        for strategy, model, py_name, py_limit in CASES:
            if only and strategy not in only:
                continue
            argv = [args.al, "-q", "-p", run_db, "query", "--strategy", strategy, "--model", model,
                    "--batch", "10", "-o", os.path.join(tmp, "batch.csv")]
            med, lo, hi = hyperfine(" ".join(argv), prepare=prepare, runs=args.runs)
            rss = peak_rss_mb(argv, prepare=prepare)
            row = f"| {strategy} ({model}) | {med:.3f} ({lo:.3f}-{hi:.3f}) | {rss:.0f} |"
            if py_name is None:
                row += " none (no peer) | - | - | - |"
            else:
                py_argv = [sys.executable, PY_SIDE, py_name, data, "y"]
                if py_limit:
                    py_argv += ["--limit", str(py_limit)]
                py_med, py_lo, py_hi = hyperfine(" ".join(py_argv), runs=max(1, args.runs // 2))
                py_rss = peak_rss_mb(py_argv)
                where = f"pool {py_limit}" if py_limit else "same pool"
                ratio = f"{py_med / med:.1f}x" if not py_limit else f"{py_med / med:.1f}x (python on {py_limit} rows)"
                row += f" {py_name} ({where}) | {py_med:.2f} ({py_lo:.2f}-{py_hi:.2f}) | {py_rss:.0f} | {ratio} |"
            print(row, flush=True)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
